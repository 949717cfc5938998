//! The page's steps: consent, document type, photos, details (and the test-mode chooser),
//! submission, processing and the outcome.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;
use vouch_domain::event::RequestInfo;
use vouch_domain::flow::{self, AttemptOutcome, Evidence};
use vouch_domain::ids::FileId;
use vouch_domain::session::{DocumentType, ErrorCode, Session, SessionType, Status, WireEnum};
use vouch_domain::transition::{self, Command, Ctx, DomainError};
use vouch_store::{Change, StoredFile};

use crate::form::Fields;
use crate::html::{escape, fill, Html};
use crate::{continue_link, images, multipart, Page, PageError, Step, Web};

const CONSENT: &str = include_str!("../templates/consent.html");
const DOCUMENT: &str = include_str!("../templates/document.html");
const UPLOAD: &str = include_str!("../templates/upload.html");
const DETAILS: &str = include_str!("../templates/details.html");
const STATUS: &str = include_str!("../templates/status.html");

/// The `purpose` of the page's uploads.
pub const PURPOSE: &str = "identity_document";
/// Longest accepted ID number.
const MAX_ID_NUMBER: usize = 40;
/// Longest accepted name.
const MAX_NAME: usize = 100;

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

// -------------------------------------------------------------------------------------------
// photos

/// Which images the session needs for a document type.
fn image_slots(session: &Session, t: DocumentType) -> Vec<(&'static str, String, &'static str)> {
    let name = document_name(t);
    let mut slots = vec![(
        "front",
        if t == DocumentType::Passport {
            format!("Photo page of your {name}")
        } else {
            format!("Front of your {name}")
        },
        "environment",
    )];
    if t != DocumentType::Passport {
        slots.push(("back", format!("Back of your {name}"), "environment"));
    }
    if session.checks_selfie() {
        slots.push(("selfie", "A photo of your face".to_owned(), "user"));
    }
    slots
}

fn mb(bytes: usize) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    if (mb - mb.round()).abs() < 0.05 {
        format!("{} MB", mb.round())
    } else {
        format!("{mb:.1} MB")
    }
}

/// The upload form, with the errors of a previous try.
fn upload_page(
    web: &Web,
    token: &str,
    session: &Session,
    t: DocumentType,
    errors: &[(&str, String)],
) -> Page {
    let mut inputs = Html::default();
    for (name, label, facing) in image_slots(session, t) {
        let error = errors.iter().find(|(n, _)| *n == name).map(|(_, m)| m);
        let required = if session.livemode { " required" } else { "" };
        let FieldError {
            invalid,
            describedby,
            html: error_html,
        } = field_error(name, error);
        let hint = if name == "selfie" {
            "Look straight at the camera, in good light."
        } else {
            "All four corners visible, no glare."
        };
        inputs.push(Html::trusted(format!(
            "<div class=\"field\"><label for=\"{name}\" id=\"{name}-label\">{}</label>\
             <span class=\"hint\" id=\"{name}-hint\">{hint}</span>{error_html}\
             <input type=\"file\" id=\"{name}\" name=\"{name}\" \
             accept=\"image/png,image/jpeg,image/webp\" data-capture=\"{facing}\" \
             aria-describedby=\"{describedby}\"{invalid}{required}></div>",
            escape(&label)
        )));
    }
    let errors_html = error_summary(errors);
    let skip = if session.livemode {
        Html::default()
    } else {
        Html::trusted(
            "<button type=\"submit\" class=\"secondary\" name=\"skip\" value=\"yes\" formnovalidate>\
             Skip photos (test mode)</button>",
        )
    };
    let body = fill(
        UPLOAD,
        &[
            ("document_name", &Html::text(document_name(t))),
            ("errors", &errors_html),
            ("max_size", &Html::text(&mb(web.config.max_image_bytes))),
            ("action", &Html::text(&format!("{}/upload", base(token)))),
            ("document_type", &Html::text(t.as_str())),
            ("inputs", &inputs),
            ("skip", &skip),
        ],
    );
    page(session, "Add photos", Step::Photos, body)
}

/// How a field shows its error: `aria-invalid`, the ids that describe it, the message.
struct FieldError {
    invalid: &'static str,
    describedby: String,
    html: String,
}

fn field_error(name: &str, error: Option<&String>) -> FieldError {
    match error {
        Some(m) => FieldError {
            invalid: " aria-invalid=\"true\"",
            describedby: format!("{name}-hint {name}-error"),
            html: format!(
                "<span class=\"error-text\" id=\"{name}-error\">{}</span>",
                escape(m)
            ),
        },
        None => FieldError {
            invalid: "",
            describedby: format!("{name}-hint"),
            html: String::new(),
        },
    }
}

/// An error summary at the top of a form, each error linking to its field.
fn error_summary(errors: &[(&str, String)]) -> Html {
    if errors.is_empty() {
        return Html::default();
    }
    let mut out = Html::trusted(
        "<div class=\"errors\" role=\"alert\" tabindex=\"-1\" id=\"errors\">\
         <h2>There is a problem</h2><ul>",
    );
    for (field, message) in errors {
        out.push(Html::trusted(format!(
            "<li><a href=\"#{}\">{}</a></li>",
            escape(field),
            escape(message)
        )));
    }
    out.push(Html::trusted("</ul></div>"));
    out
}

pub(crate) async fn upload_form(
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
    let t = chosen_type(&session, &q);
    Ok(upload_page(&web, &token, &session, t, &[]).into_response())
}

pub(crate) async fn upload(
    State(web): State<Web>,
    token: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, PageError> {
    let (token, session) = load_live(&web, &token).await?;
    if !session.checks_document() {
        return Ok(see_other(&format!("{}/details?consent=yes", base(&token))));
    }
    let max = web.config.max_image_bytes;
    let fallback_type = chosen_type(&session, &Fields::default());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = multipart::boundary(content_type) else {
        let mut p = upload_page(
            &web,
            &token,
            &session,
            fallback_type,
            &[(
                "front",
                "Send the photos with the form on this page.".to_owned(),
            )],
        );
        p.status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return Ok(p.into_response());
    };
    // Three images and the form's few small fields.
    let limit = max.saturating_mul(3).saturating_add(64 * 1024);
    let timeout =
        std::time::Duration::from_millis(web.app.config.body_read_timeout_ms.max(1000) * 6);
    let bytes = match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Err(_) => {
            return Err(PageError::BadRequest(
                "The upload took too long. Please try again.".into(),
            ))
        }
        Ok(Err(_)) => {
            let mut p = upload_page(
                &web,
                &token,
                &session,
                fallback_type,
                &[(
                    "front",
                    format!(
                        "The upload is too large: each image may be at most {}.",
                        mb(max)
                    ),
                )],
            );
            p.status = StatusCode::PAYLOAD_TOO_LARGE;
            return Ok(p.into_response());
        }
        Ok(Ok(b)) => b,
    };
    let parts = multipart::parse(&bytes, &boundary).map_err(|_| {
        PageError::BadRequest("The upload could not be read. Please go back and try again.".into())
    })?;
    let mut fields = Fields::default();
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    for part in &parts {
        match (part.name.as_str(), &part.filename) {
            (name @ ("front" | "back" | "selfie"), Some(_))
                if !part.data.is_empty() && !files.iter().any(|(n, _)| *n == name) =>
            {
                files.push((name, part.data));
            }
            (name @ ("consent" | "document_type" | "skip"), None) => {
                fields.set(name, &String::from_utf8_lossy(part.data));
            }
            _ => {}
        }
    }
    let t = chosen_type(&session, &fields);
    let slots = image_slots(&session, t);
    let mut next = carried(&fields);
    next.set("consent", "yes");
    next.set("document_type", t.as_str());
    if fields.get("skip") == Some("yes") && !session.livemode {
        return Ok(see_other(&format!(
            "{}/details?{}",
            base(&token),
            next.encode()
        )));
    }
    let mut errors: Vec<(&str, String)> = Vec::new();
    let mut status = StatusCode::BAD_REQUEST;
    let mut accepted: Vec<(&str, &'static str, &[u8])> = Vec::new();
    for (name, label, _) in &slots {
        match files.iter().find(|(n, _)| n == name) {
            None if session.livemode => {
                errors.push((name, format!("Add: {}.", label.to_lowercase())))
            }
            None => {}
            Some((_, data)) if data.len() > max => {
                status = StatusCode::PAYLOAD_TOO_LARGE;
                errors.push((
                    name,
                    format!("{label}: the image is larger than {}.", mb(max)),
                ));
            }
            Some((_, data)) => match images::sniff(data) {
                Some(media_type) => accepted.push((name, media_type, data)),
                None => {
                    if status != StatusCode::PAYLOAD_TOO_LARGE {
                        status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
                    }
                    errors.push((
                        name,
                        format!("{label}: this file is not a PNG, JPEG or WebP image."),
                    ));
                }
            },
        }
    }
    if !errors.is_empty() {
        let mut p = upload_page(&web, &token, &session, t, &errors);
        p.status = status;
        return Ok(p.into_response());
    }
    let now_ms = web.app.clock.now_ms();
    let mut rng = StdRng::from_entropy();
    for (name, media_type, data) in accepted {
        let id = FileId::generate(now_ms.div_euclid(1000), &mut rng);
        let file = StoredFile {
            id: id.clone(),
            account: session.account.clone(),
            session_id: session.id.clone(),
            purpose: PURPOSE.to_owned(),
            media_type: media_type.to_owned(),
            created: now_ms.div_euclid(1000),
            bytes: data.to_vec(),
        };
        web.app.store.put_file(&file).await?;
        next.set(name, id.as_str());
    }
    Ok(see_other(&format!(
        "{}/details?{}",
        base(&token),
        next.encode()
    )))
}

// -------------------------------------------------------------------------------------------
// details, the test-mode chooser, submission

/// The outcomes test mode offers, as Stripe's test page does.
const TEST_OUTCOMES: &[(&str, &str)] = &[
    ("verified", "Verification success"),
    ("failed", "Verification failure"),
    ("verified_async", "Verification success (async)"),
    ("failed_async", "Verification failure (async)"),
];

/// The failure codes that fit the session, check codes first.
fn failure_codes(session: &Session) -> Vec<ErrorCode> {
    let (mut checks, mut user): (Vec<ErrorCode>, Vec<ErrorCode>) = ErrorCode::ALL
        .iter()
        .map(|(_, c)| *c)
        .filter(|c| flow::code_fits(session, *c))
        .partition(|c| !flow::is_user_side(*c));
    checks.append(&mut user);
    checks
}

fn default_failure(session: &Session) -> ErrorCode {
    if session.checks_document() {
        ErrorCode::DocumentUnverifiedOther
    } else if session.checks_id_number() {
        ErrorCode::IdNumberUnverifiedOther
    } else {
        ErrorCode::Abandoned
    }
}

fn chooser(session: &Session, fields: &Fields) -> Html {
    if session.livemode {
        return Html::default();
    }
    let current = fields.get("outcome").unwrap_or("verified");
    let mut out = Html::trusted(
        "<fieldset><legend>Test mode: choose the outcome</legend>\
         <p class=\"hint\">Test mode performs no checks; the session ends as you choose here. \
         The asynchronous outcomes stay in processing for a while first.</p>",
    );
    for (value, label) in TEST_OUTCOMES {
        let checked = if *value == current { " checked" } else { "" };
        out.push(Html::trusted(format!(
            "<div class=\"choice\"><input type=\"radio\" id=\"outcome-{value}\" name=\"outcome\" \
             value=\"{value}\"{checked}><label for=\"outcome-{value}\">{label}</label></div>"
        )));
    }
    let chosen = fields
        .get("error_code")
        .and_then(ErrorCode::from_wire)
        .unwrap_or_else(|| default_failure(session));
    out.push(Html::trusted(
        "<div class=\"field\"><label for=\"error_code\">Failure reason</label>\
         <span class=\"hint\" id=\"error_code-hint\">Used by the failure outcomes: the session's \
         <code>last_error</code>.</span>\
         <select id=\"error_code\" name=\"error_code\" aria-describedby=\"error_code-hint\">",
    ));
    for code in failure_codes(session) {
        let selected = if code == chosen { " selected" } else { "" };
        out.push(Html::trusted(format!(
            "<option value=\"{0}\"{selected}>{0}: {1}</option>",
            code.as_str(),
            escape(code.reason())
        )));
    }
    out.push(Html::trusted("</select></div></fieldset>"));
    out
}

fn text_field(
    name: &str,
    label: &str,
    hint: &str,
    value: &str,
    error: Option<&String>,
    required: bool,
    kind: &str,
) -> Html {
    let FieldError {
        invalid,
        describedby,
        html: error_html,
    } = field_error(name, error);
    let required = if required { " required" } else { "" };
    Html::trusted(format!(
        "<div class=\"field\"><label for=\"{name}\">{label}</label>\
         <span class=\"hint\" id=\"{name}-hint\">{hint}</span>{error_html}\
         <input type=\"{kind}\" id=\"{name}\" name=\"{name}\" value=\"{}\" \
         aria-describedby=\"{describedby}\" autocomplete=\"off\"{invalid}{required}></div>",
        escape(value)
    ))
}

fn details_page(
    token: &str,
    session: &Session,
    fields: &Fields,
    errors: &[(&str, String)],
) -> Page {
    let mut hidden = Html::default();
    for (name, value) in carried(fields).iter() {
        hidden.push(Html::trusted(format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        )));
    }
    let error = |n: &str| errors.iter().find(|(f, _)| *f == n).map(|(_, m)| m);
    let mut inputs = Html::default();
    let live = session.livemode;
    if session.kind == SessionType::IdNumber {
        let v = |n: &str| fields.get(n).unwrap_or("").to_owned();
        inputs.push(text_field(
            "first_name",
            "First name",
            "As on your official documents.",
            &v("first_name"),
            error("first_name"),
            live,
            "text",
        ));
        inputs.push(text_field(
            "last_name",
            "Last name",
            "As on your official documents.",
            &v("last_name"),
            error("last_name"),
            live,
            "text",
        ));
        inputs.push(text_field(
            "dob",
            "Date of birth",
            "Year, month and day.",
            &v("dob"),
            error("dob"),
            live,
            "date",
        ));
    }
    if session.checks_id_number() {
        inputs.push(text_field(
            "id_number",
            "ID number",
            "For example your Social Security number (US) or national ID number.",
            fields.get("id_number").unwrap_or(""),
            error("id_number"),
            live,
            "text",
        ));
    }
    let heading = if session.checks_id_number() {
        "Your details"
    } else {
        "Review and submit"
    };
    let intro = if inputs == Html::default() && live {
        Html::trusted("<p>Submit your verification. This link can be used once.</p>")
    } else {
        Html::default()
    };
    inputs.push(intro);
    let body = fill(
        DETAILS,
        &[
            ("heading", &Html::text(heading)),
            ("errors", &error_summary(errors)),
            ("action", &Html::text(&format!("{}/submit", base(token)))),
            ("hidden", &hidden),
            ("fields", &inputs),
            ("chooser", &chooser(session, fields)),
        ],
    );
    page(session, heading, Step::Details, body)
}

pub(crate) async fn details(
    State(web): State<Web>,
    token: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Response, PageError> {
    let (token, session) = load_live(&web, &token).await?;
    let q = query(&uri);
    if q.get("consent") != Some("yes") {
        return Ok(see_other(&base(&token)));
    }
    Ok(details_page(&token, &session, &q, &[]).into_response())
}

/// The file named by a form field, if it was uploaded for this session.
async fn session_file(
    web: &Web,
    session: &Session,
    fields: &Fields,
    name: &str,
) -> Result<Option<String>, PageError> {
    let Some(raw) = fields.non_empty(name) else {
        return Ok(None);
    };
    let Some(id) = FileId::parse(raw) else {
        return Err(PageError::BadRequest(
            "The uploaded photos could not be found. Please upload them again.".into(),
        ));
    };
    match web.app.store.get_file(&session.account, &id).await? {
        Some(f) if f.session_id == session.id && f.purpose == PURPOSE => Ok(Some(id.to_string())),
        _ => Err(PageError::BadRequest(
            "The uploaded photos could not be found. Please upload them again.".into(),
        )),
    }
}

/// Checks the entered details; the errors name their fields.
fn check_details(session: &Session, fields: &Fields) -> Vec<(&'static str, String)> {
    let mut errors = Vec::new();
    let live = session.livemode;
    if session.kind == SessionType::IdNumber {
        for (name, label) in [("first_name", "first name"), ("last_name", "last name")] {
            match fields.non_empty(name) {
                None if live => errors.push((name, format!("Enter your {label}."))),
                Some(v) if v.chars().count() > MAX_NAME || v.contains(char::is_control) => errors
                    .push((
                        name,
                        format!("Enter your {label} in at most {MAX_NAME} characters."),
                    )),
                _ => {}
            }
        }
        match fields.non_empty("dob") {
            None if live => errors.push(("dob", "Enter your date of birth.".into())),
            Some(v) if parse_date(v).is_none() => {
                errors.push(("dob", "Enter your date of birth as YYYY-MM-DD.".into()))
            }
            _ => {}
        }
    }
    if session.checks_id_number() {
        match fields.non_empty("id_number") {
            None if live => errors.push(("id_number", "Enter your ID number.".into())),
            Some(v)
                if v.chars().count() > MAX_ID_NUMBER
                    || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ') =>
            {
                errors.push((
                    "id_number",
                    format!("An ID number has at most {MAX_ID_NUMBER} letters, digits, spaces or dashes."),
                ))
            }
            _ => {}
        }
    }
    errors
}

fn parse_date(v: &str) -> Option<(i32, u32, u32)> {
    let mut it = v.splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    ((1900..=2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then_some((y, m, d))
}

/// Live mode: what vouch can decide offline. Until the checks module's `Verifier` is wired
/// in, nothing can be proved offline, so a live submission is unverified (never a pass vouch
/// cannot back up).
fn live_outcome(session: &Session) -> AttemptOutcome {
    AttemptOutcome::Failed {
        code: default_failure(session),
    }
}

pub(crate) async fn submit(
    State(web): State<Web>,
    token: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, PageError> {
    let (token, session) = load_live(&web, &token).await?;
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| PageError::BadRequest("The form is too large.".into()))?;
    let fields = Fields::parse(&bytes);
    if fields.get("consent") != Some("yes") {
        return Ok(see_other(&base(&token)));
    }
    let errors = check_details(&session, &fields);
    if !errors.is_empty() {
        let mut p = details_page(&token, &session, &fields, &errors);
        p.status = StatusCode::BAD_REQUEST;
        return Ok(p.into_response());
    }
    let mut evidence = Evidence::default();
    if session.checks_document() {
        evidence.document_type = Some(chosen_type(&session, &fields));
        for name in ["front", "back"] {
            if let Some(id) = session_file(&web, &session, &fields, name).await? {
                evidence.document_files.push(id);
            }
        }
        evidence.selfie_file = session_file(&web, &session, &fields, "selfie").await?;
        let missing_back = evidence.document_type != Some(DocumentType::Passport)
            && evidence.document_files.len() < 2;
        let missing = evidence.document_files.is_empty()
            || missing_back
            || (session.checks_selfie() && evidence.selfie_file.is_none());
        if session.livemode && missing {
            return Err(PageError::BadRequest(
                "Photos are missing. Please go back and add every photo asked for.".into(),
            ));
        }
    }
    let (outcome, delay_ms) = if session.livemode {
        (live_outcome(&session), None)
    } else {
        let choice = fields.get("outcome").unwrap_or("verified");
        let delay = web.app.config.test_processing_delay_ms;
        let failure = || -> Result<AttemptOutcome, PageError> {
            let code = fields
                .get("error_code")
                .and_then(ErrorCode::from_wire)
                .unwrap_or_else(|| default_failure(&session));
            Ok(AttemptOutcome::Failed { code })
        };
        let verified = || AttemptOutcome::Verified {
            person: Box::new(web.app.config.test_person.clone()),
        };
        match choice {
            "verified" => (verified(), None),
            "verified_async" => (verified(), Some(delay)),
            "failed" => (failure()?, None),
            "failed_async" => (failure()?, Some(delay)),
            _ => {
                return Err(PageError::BadRequest(
                    "Choose one of the test outcomes.".into(),
                ))
            }
        }
    };
    match submit_attempt(&web, &token, outcome, delay_ms, evidence).await {
        Err(PageError::BadRequest(m)) => {
            let mut p = details_page(&token, &session, &fields, &[("error_code", m)]);
            p.status = StatusCode::BAD_REQUEST;
            Ok(p.into_response())
        }
        other => other,
    }
}

/// Runs the submission through the state machine with the session locked; the link is used
/// from here on. Then the status page.
async fn submit_attempt(
    web: &Web,
    token: &str,
    outcome: AttemptOutcome,
    delay_ms: Option<i64>,
    evidence: Evidence,
) -> Result<Response, PageError> {
    let Some(session) = web.app.store.session_by_url_token(token).await? else {
        return Err(PageError::UnknownLink);
    };
    let now_ms = web.app.clock.now_ms();
    let command = Command::Submit {
        token: token.to_owned(),
        outcome,
        delay_ms,
        evidence,
    };
    let change: Change = Box::new(move |s| {
        let mut rng = StdRng::from_entropy();
        let mut ctx = Ctx {
            now_ms,
            request: RequestInfo::default(),
            rng: &mut rng,
        };
        transition::transition(s, command, &mut ctx)
    });
    let result = web
        .app
        .store
        .modify_session(&session.account, &session.id, change)
        .await?;
    match result {
        None => Err(PageError::UnknownLink),
        Some(Ok(_)) => Ok(see_other(&format!("{}/status", base(token)))),
        Some(Err(DomainError::CodeDoesNotFit { code })) => Err(PageError::BadRequest(format!(
            "The failure reason {} cannot result from this session's checks.",
            code.as_str()
        ))),
        Some(Err(_)) => Err(PageError::UsedLink {
            return_url: session.return_url.clone(),
        }),
    }
}

// -------------------------------------------------------------------------------------------
// processing and outcome

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

    #[test]
    fn sizes_read_as_megabytes() {
        assert_eq!(mb(10 * 1024 * 1024), "10 MB");
        assert_eq!(mb(1536 * 1024), "1.5 MB");
    }

    #[test]
    fn dates_are_checked() {
        assert_eq!(parse_date("1990-01-31"), Some((1990, 1, 31)));
        assert_eq!(parse_date("1990-13-01"), None);
        assert_eq!(parse_date("x"), None);
        assert_eq!(parse_date("1990-01"), None);
    }
}
