//! A session's actions — cancel, redact, test-mode verify and unverify, a fresh link — through
//! the same domain transitions and store call as the API (`vouch_api::handlers::mutate`), and
//! its uploaded images, whose every viewing is recorded in the store (`file_views`: file,
//! session, who, when) before the image is served, and logged (target `vouch::audit`).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use vouch_domain::event::RequestInfo;
use vouch_domain::ids::{random_alnum, FileId, SessionId};
use vouch_domain::session::{ErrorCode, Session, Status, WireEnum};
use vouch_domain::transition::Command;
use vouch_store::{FileView, ReportFilter};

use super::auth::{me, me_with_csrf, principal, read_form, see_other, Me};
use super::sessions::{detail_page, failure_codes, Flash};
use super::view::post_button;
use super::{secure_headers, Dash, DashError, DashPage, Section};
use crate::html::Html;

/// The action buttons the session's state allows (the domain has the last word).
pub(crate) fn buttons(me: &Me, s: &Session) -> Html {
    let base = format!("/dashboard/sessions/{}", s.id.as_str());
    let mut out = Html::trusted("<div class=\"actions\">");
    let waiting = s.status == Status::RequiresInput;
    if !me.account.livemode && waiting {
        out.push(post_button(
            me,
            &format!("{base}/verify"),
            "Verify (test mode)",
            "primary",
            Html::default(),
        ));
        let mut choice = Html::trusted(
            "<label for=\"unverify-code\">Error</label> <select id=\"unverify-code\" name=\"code\">",
        );
        for code in failure_codes(s) {
            choice.push(Html::trusted(format!(
                "<option value=\"{c}\">{c}</option>",
                c = code.as_str()
            )));
        }
        choice.push(Html::trusted("</select> "));
        out.push(post_button(
            me,
            &format!("{base}/unverify"),
            "Fail verification (test mode)",
            "secondary",
            choice,
        ));
    }
    if waiting {
        out.push(post_button(
            me,
            &format!("{base}/cancel"),
            "Cancel session",
            "danger",
            Html::default(),
        ));
    }
    if !s.is_redacted() && s.status != Status::Processing {
        out.push(post_button(
            me,
            &format!("{base}/redact"),
            "Redact personal data",
            "danger",
            Html::default(),
        ));
    }
    out.push(Html::trusted("</div>"));
    out
}

/// `POST /dashboard/sessions/{id}/{action}`.
pub(crate) async fn act(
    State(dash): State<Dash>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: Body,
) -> Result<Response, DashError> {
    let fields = read_form(body).await?;
    let me = me_with_csrf(&dash, &headers, &fields).await?;
    let session_id = SessionId::parse(&id).ok_or(DashError::NotFound)?;
    let app = &dash.app;
    let command = match action.as_str() {
        "cancel" => Command::Cancel,
        "redact" => Command::Redact {
            due_ms: app.clock.now_ms() + app.config.redaction_delay_ms,
        },
        "verify" => Command::TestVerify {
            person: Box::new(app.config.test_person.clone()),
            delay_ms: None,
        },
        "unverify" => {
            let code = fields
                .get("code")
                .and_then(ErrorCode::from_wire)
                .ok_or_else(|| DashError::BadRequest("Choose an error code.".into()))?;
            Command::TestUnverify {
                code: Some(code),
                delay_ms: None,
            }
        }
        "refresh_link" => Command::RefreshSecrets,
        _ => return Err(DashError::NotFound),
    };
    // Events record the change like an API request's, with a request id of its own.
    let request = RequestInfo {
        id: Some(format!("req_{}", random_alnum(&mut rand::thread_rng(), 14))),
        idempotency_key: None,
    };
    let result =
        vouch_api::handlers::mutate(app, &me.account.id, &session_id, request, command).await;
    match result {
        Ok(_) => {
            tracing::info!(
                target: "vouch::audit",
                account = %me.account.id,
                session = %session_id,
                action = %action,
                by = %principal(&dash, &me),
                "dashboard: session action"
            );
            Ok(see_other(&format!(
                "/dashboard/sessions/{}?done={action}",
                session_id.as_str()
            )))
        }
        Err(e) => {
            let (status, message) = e.status_and_message();
            if status == StatusCode::NOT_FOUND {
                return Err(DashError::NotFound);
            }
            let flash = Flash {
                ok: false,
                text: message,
            };
            Ok(detail_page(&dash, &me, &id, Some(flash), status)
                .await?
                .into_response())
        }
    }
}

/// The session's uploaded files, from its reports: (label, file id).
async fn files_of(dash: &Dash, me: &Me, s: &Session) -> Result<Vec<(String, String)>, DashError> {
    let reports = dash
        .app
        .store
        .list_reports(
            &me.account.id,
            &ReportFilter {
                verification_session: Some(s.id.to_string()),
                ..ReportFilter::default()
            },
            None,
            20,
        )
        .await?
        .items;
    let mut out: Vec<(String, String)> = Vec::new();
    for r in &reports {
        if let Some(d) = &r.document {
            for (i, f) in d.files.iter().enumerate() {
                let side = if i == 0 { "front" } else { "back" };
                out.push((format!("Document {side} ({})", r.id.as_str()), f.clone()));
            }
        }
        if let Some(f) = r.selfie.as_ref().and_then(|sf| sf.selfie.clone()) {
            out.push((format!("Selfie ({})", r.id.as_str()), f));
        }
    }
    out.dedup_by(|a, b| a.1 == b.1);
    Ok(out)
}

/// `GET /dashboard/sessions/{id}/images`: the images, each viewing logged.
pub(crate) async fn images(
    State(dash): State<Dash>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<DashPage, DashError> {
    let me = me(&dash, &headers).await?;
    let session_id = SessionId::parse(&id).ok_or(DashError::NotFound)?;
    let s = dash
        .app
        .store
        .get_session(&me.account.id, &session_id)
        .await?
        .ok_or(DashError::NotFound)?;
    let back = format!(
        "<p><a href=\"/dashboard/sessions/{id}\">← Back to {id}</a></p>",
        id = Html::text(s.id.as_str()).as_str()
    );
    let mut body = Html::trusted(format!(
        "<h1>Uploaded images</h1>{back}<p class=\"muted\">Each image shown here is recorded as \
         viewed — which file, who ({}), when — and listed on the session's page.</p>",
        Html::text(&principal(&dash, &me)).as_str()
    ));
    let files = if s.is_redacted() {
        Vec::new()
    } else {
        files_of(&dash, &me, &s).await?
    };
    if s.is_redacted() {
        body.push(Html::trusted(
            "<p><span class=\"redacted\">[redacted]</span> The images were erased.</p>",
        ));
    } else if files.is_empty() {
        body.push(Html::trusted(
            "<p class=\"muted\">No images were uploaded.</p>",
        ));
    } else {
        tracing::info!(
            target: "vouch::audit",
            account = %me.account.id,
            session = %s.id,
            images = files.len(),
            by = %principal(&dash, &me),
            "dashboard: images viewed"
        );
        body.push(Html::trusted("<div class=\"images\">"));
        for (label, file) in &files {
            body.push(Html::trusted(format!(
                "<figure><img src=\"/dashboard/files/{f}\" alt=\"{l}\"><figcaption>{l}</figcaption></figure>",
                f = Html::text(file).as_str(),
                l = Html::text(label).as_str()
            )));
        }
        body.push(Html::trusted("</div>"));
    }
    Ok(DashPage::new(
        &me,
        Section::Sessions,
        "Uploaded images",
        body,
    ))
}

/// `GET /dashboard/files/{id}`: one image of the account. The view is recorded first; when it
/// cannot be recorded the image is not served.
pub(crate) async fn file(
    State(dash): State<Dash>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, DashError> {
    let me = me(&dash, &headers).await?;
    let file_id = FileId::parse(&id).ok_or(DashError::NotFound)?;
    let file = dash
        .app
        .store
        .get_file(&me.account.id, &file_id)
        .await?
        .ok_or(DashError::NotFound)?;
    let session = dash
        .app
        .store
        .get_session(&me.account.id, &file.session_id)
        .await?;
    if session.is_none_or(|s| s.is_redacted()) {
        return Err(DashError::NotFound);
    }
    let viewer = principal(&dash, &me);
    dash.app
        .store
        .record_file_view(&FileView {
            account: me.account.id.clone(),
            session_id: file.session_id.clone(),
            file_id: file.id.clone(),
            viewer: viewer.clone(),
            viewed_ms: dash.app.clock.now_ms(),
        })
        .await?;
    tracing::info!(
        target: "vouch::audit",
        account = %me.account.id,
        session = %file.session_id,
        file = %file.id,
        viewer = %viewer,
        "dashboard: image viewed"
    );
    let mut resp = (StatusCode::OK, file.bytes).into_response();
    let h = resp.headers_mut();
    secure_headers(h);
    let media = match file.media_type.as_str() {
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        "image/webp" => "image/webp",
        _ => "application/octet-stream",
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    Ok(resp)
}
