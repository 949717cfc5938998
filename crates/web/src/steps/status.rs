//! Processing and the outcome: the status page (following the session until it settles) and
//! the JSON it polls.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use vouch_domain::session::{ErrorCode, Session, Status, WireEnum};

use super::{base, load, page};
use crate::html::{escape, fill, Html};
use crate::{continue_link, Page, PageError, Step, Web};

const STATUS: &str = include_str!("../../templates/status.html");

fn settled(session: &Session) -> bool {
    session.status != Status::Processing
}

pub(crate) async fn status(
    State(web): State<Web>,
    token: Result<Path<String>, PathRejection>,
) -> Result<Page, PageError> {
    let (token, session) = load(&web, &token).await?;
    let now = web.app.clock.now_ms();
    let return_url = session.return_url.as_deref();
    let mut head = Html::default();
    let mut poll = Html::default();
    let (title, heading, message, link) = match session.status {
        Status::Processing => {
            head =
                Html::trusted("<noscript><meta http-equiv=\"refresh\" content=\"2\"></noscript>");
            poll = Html::trusted(format!(
                " data-poll=\"{}\"",
                escape(&format!("{}/status.json", base(&token)))
            ));
            (
                "Processing",
                "Checking your verification",
                Html::trusted(
                    "<div class=\"spinner\" aria-hidden=\"true\"></div>\
                     <p>We are checking what you submitted. This page updates by itself; \
                     you can also close it, the site that sent you here will be told.</p>",
                ),
                Html::default(),
            )
        }
        Status::Verified => (
            "Verified",
            "You are verified",
            Html::trusted(
                "<p class=\"outcome-ok\"><strong>Your identity was verified.</strong> \
                 Thank you.</p>",
            ),
            continue_link(return_url, "Continue"),
        ),
        Status::Canceled => (
            "Canceled",
            "This verification was canceled",
            Html::trusted("<p>The site that sent you here canceled this verification.</p>"),
            continue_link(return_url, "Return to the site"),
        ),
        Status::RequiresInput if session.live_url_token(now) == Some(token.as_str()) => (
            "Not submitted",
            "This verification has not been submitted yet",
            Html::trusted(format!(
                "<p><a href=\"{}\">Start the verification</a>.</p>",
                escape(&base(&token))
            )),
            Html::default(),
        ),
        Status::RequiresInput => {
            let reason = match &session.last_error {
                Some(e) if e.code == ErrorCode::ConsentDeclined => {
                    "You declined to have your identity checked, so nothing was submitted."
                        .to_owned()
                }
                Some(e) => format!("{} ({})", e.reason, e.code.as_str()),
                None => "The verification could not be completed.".to_owned(),
            };
            (
                "Not verified",
                "We could not verify your identity",
                Html::trusted(format!(
                    "<p class=\"outcome-fail\"><strong>{}</strong></p>\
                     <p>To try again, return to the site that sent you here: it can give you \
                     a new link.</p>",
                    escape(&reason)
                )),
                continue_link(return_url, "Return to the site"),
            )
        }
    };
    let body = fill(
        STATUS,
        &[
            ("heading", &Html::text(heading)),
            ("poll", &poll),
            ("message", &message),
            ("continue", &link),
        ],
    );
    let mut p = page(&session, title, Step::Result, body);
    p.head = head;
    Ok(p)
}

pub(crate) async fn status_json(
    State(web): State<Web>,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    match load(&web, &token).await {
        Ok((_, session)) => {
            let mut resp = Json(json!({
                "status": session.status.as_str(),
                "settled": settled(&session),
            }))
            .into_response();
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            resp
        }
        Err(PageError::Internal(cause)) => {
            tracing::error!(cause = %cause, "hosted page: status");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": "unavailable"})),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "unknown link"})),
        )
            .into_response(),
    }
}
