//! The page's steps: consent, document type, photos, details (and the test-mode chooser),
//! submission, processing and the outcome. This file holds what every step shares (loading
//! the link's session, the progress list, the state carried between steps) and the first two
//! steps; the others live in the submodules.

mod details;
mod form_html;
mod live;
mod status;
mod submit;
mod upload;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use vouch_domain::flow::{AttemptOutcome, Evidence};
use vouch_domain::session::{DocumentType, ErrorCode, Session, WireEnum};

use crate::form::Fields;
use crate::html::{fill, Html};
use crate::{Page, PageError, Step, Web};

pub(crate) use details::details;
pub(crate) use status::{status, status_json};
pub(crate) use submit::submit;
pub(crate) use upload::{upload, upload_form};

use submit::submit_attempt;

const CONSENT: &str = include_str!("../../templates/consent.html");
const DOCUMENT: &str = include_str!("../../templates/document.html");

/// The `purpose` of the page's uploads.
pub const PURPOSE: &str = "identity_document";

/// A link token is `test_`/`live_` and 40 alphanumerics; anything else names no link.
fn valid_token(token: &str) -> bool {
    let rest = token
        .strip_prefix("test_")
        .or_else(|| token.strip_prefix("live_"));
    rest.is_some_and(|r| r.len() == 40 && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The session of a link, whatever the link's state.
async fn load(
    web: &Web,
    token: &Result<Path<String>, PathRejection>,
) -> Result<(String, Session), PageError> {
    let Ok(Path(token)) = token else {
        return Err(PageError::UnknownLink);
    };
    if !valid_token(token) {
        return Err(PageError::UnknownLink);
    }
    match web.app.store.session_by_url_token(token).await? {
        Some(session) => Ok((token.clone(), session)),
        None => Err(PageError::UnknownLink),
    }
}

/// The session of a link that can still be used.
async fn load_live(
    web: &Web,
    token: &Result<Path<String>, PathRejection>,
) -> Result<(String, Session), PageError> {
    let (token, session) = load(web, token).await?;
    let now = web.app.clock.now_ms();
    if session.live_url_token(now) == Some(token.as_str()) {
        Ok((token, session))
    } else {
        Err(PageError::UsedLink {
            return_url: session.return_url.clone(),
            expired: session.url_expired(&token, now),
        })
    }
}

fn base(token: &str) -> String {
    format!("/verify/{token}")
}

fn steps_of(session: &Session) -> Vec<Step> {
    let mut steps = vec![Step::Consent];
    if session.checks_document() {
        steps.extend([Step::Document, Step::Photos]);
    }
    steps.extend([Step::Details, Step::Result]);
    steps
}

fn page(session: &Session, title: &str, step: Step, body: Html) -> Page {
    let mut p = Page::new(title, body);
    p.steps = Some((steps_of(session), step));
    p.test_mode = !session.livemode;
    p
}

fn allowed_types(session: &Session) -> Vec<DocumentType> {
    session
        .options
        .document
        .as_ref()
        .and_then(|d| d.allowed_types.clone())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| DocumentType::ALL.iter().map(|(_, t)| *t).collect())
}

fn document_name(t: DocumentType) -> &'static str {
    match t {
        DocumentType::DrivingLicense => "driving licence",
        DocumentType::IdCard => "identity card",
        DocumentType::Passport => "passport",
    }
}

/// The document type a request names, if the session allows it; else the first allowed.
fn chosen_type(session: &Session, fields: &Fields) -> DocumentType {
    let allowed = allowed_types(session);
    fields
        .get("document_type")
        .and_then(DocumentType::from_wire)
        .filter(|t| allowed.contains(t))
        .unwrap_or(allowed[0])
}

fn query(uri: &Uri) -> Fields {
    Fields::parse(uri.query().unwrap_or("").as_bytes())
}

/// The query string carried from step to step: consent, document type, file ids.
fn carried(fields: &Fields) -> Fields {
    let mut out = Fields::default();
    for name in ["consent", "document_type", "front", "back", "selfie"] {
        if let Some(v) = fields.non_empty(name) {
            out.set(name, v);
        }
    }
    out
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// -------------------------------------------------------------------------------------------
// consent

pub(crate) async fn consent(
    State(web): State<Web>,
    token: Result<Path<String>, PathRejection>,
) -> Result<Page, PageError> {
    let (token, session) = load_live(&web, &token).await?;
    let mut needs = Html::default();
    if session.checks_document() {
        needs.push(Html::trusted(
            "<li>A valid identity document: a passport, driving licence or identity card</li>",
        ));
        needs.push(Html::trusted(
            "<li>A camera, or photos of the document on this device</li>",
        ));
    }
    if session.checks_selfie() {
        needs.push(Html::trusted("<li>A photo of your face (a selfie)</li>"));
    }
    if session.checks_id_number() {
        needs.push(Html::trusted("<li>Your ID number</li>"));
    }
    if needs == Html::default() {
        needs.push(Html::trusted("<li>A minute of your time</li>"));
    }
    let next = if session.checks_document() {
        format!("{}/document", base(&token))
    } else {
        format!("{}/details", base(&token))
    };
    let selfie = if session.checks_selfie() {
        Html::trusted(" and a photo of my face")
    } else {
        Html::default()
    };
    let intro = Html::text(
        "The site that sent you here asks you to verify your identity. It takes a few minutes.",
    );
    let body = fill(
        CONSENT,
        &[
            ("intro", &intro),
            ("needs", &needs),
            ("next", &Html::text(&next)),
            ("decline", &Html::text(&format!("{}/decline", base(&token)))),
            ("selfie_consent", &selfie),
        ],
    );
    Ok(page(&session, "Verify your identity", Step::Consent, body))
}

pub(crate) async fn decline(
    State(web): State<Web>,
    token: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let (token, _) = load_live(&web, &token).await?;
    let outcome = AttemptOutcome::Failed {
        code: ErrorCode::ConsentDeclined,
    };
    submit_attempt(&web, &token, outcome, None, Evidence::default()).await
}

// -------------------------------------------------------------------------------------------
// document type

pub(crate) async fn document(
    State(web): State<Web>,
    token: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Response, PageError> {
    let (token, session) = load_live(&web, &token).await?;
    let q = query(&uri);
    if q.get("consent") != Some("yes") {
        return Ok(see_other(&base(&token)));
    }
    if !session.checks_document() {
        return Ok(see_other(&format!("{}/details?consent=yes", base(&token))));
    }
    let current = chosen_type(&session, &q);
    let mut choices = Html::default();
    for t in allowed_types(&session) {
        let id = format!("type-{}", t.as_str());
        let checked = if t == current { " checked" } else { "" };
        let label = match t {
            DocumentType::DrivingLicense => "Driving licence",
            DocumentType::IdCard => "Identity card",
            DocumentType::Passport => "Passport",
        };
        choices.push(Html::trusted(format!(
            "<div class=\"choice\"><input type=\"radio\" id=\"{id}\" name=\"document_type\" \
             value=\"{}\"{checked}><label for=\"{id}\">{label}</label></div>",
            t.as_str()
        )));
    }
    let next = Html::text(&format!("{}/upload", base(&token)));
    let body = fill(DOCUMENT, &[("next", &next), ("choices", &choices)]);
    Ok(page(&session, "Choose your document", Step::Document, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_validated_before_the_store() {
        assert!(valid_token(&format!("test_{}", "a".repeat(40))));
        assert!(valid_token(&format!("live_{}", "Z9".repeat(20))));
        assert!(!valid_token(&format!("test_{}", "a".repeat(39))));
        assert!(!valid_token(&format!("prod_{}", "a".repeat(40))));
        assert!(!valid_token(&format!("test_{}-", "a".repeat(39))));
        assert!(!valid_token(""));
    }
}
