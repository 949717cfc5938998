//! Submission: the details are checked again, the photos must be this session's uploads, the
//! outcome is decided (test mode: the user's choice; live mode: the verifier), and the attempt
//! runs through the state machine. The link is used from here on.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::SeedableRng;
use vouch_domain::checks::{sniff_image, ImageInfo};
use vouch_domain::event::RequestInfo;
use vouch_domain::flow::{AttemptOutcome, Evidence};
use vouch_domain::ids::FileId;
use vouch_domain::session::{DocumentType, ErrorCode, Session, WireEnum};
use vouch_domain::transition::{self, Command, Ctx, DomainError};
use vouch_store::Change;

use super::details::{check_details, default_failure, details_page};
use super::live::{self, Images};
use super::{base, chosen_type, load_live, see_other, PURPOSE};
use crate::form::Fields;
use crate::{PageError, Web};

/// The file named by a form field, if it was uploaded for this session: its id, and what
/// `sniff_image` reads from its bytes.
async fn session_file(
    web: &Web,
    session: &Session,
    fields: &Fields,
    name: &str,
) -> Result<Option<(String, Option<ImageInfo>)>, PageError> {
    let Some(raw) = fields.non_empty(name) else {
        return Ok(None);
    };
    let Some(id) = FileId::parse(raw) else {
        return Err(PageError::BadRequest(
            "The uploaded photos could not be found. Please upload them again.".into(),
        ));
    };
    match web.app.store.get_file(&session.account, &id).await? {
        Some(f) if f.session_id == session.id && f.purpose == PURPOSE => {
            Ok(Some((id.to_string(), sniff_image(&f.bytes))))
        }
        _ => Err(PageError::BadRequest(
            "The uploaded photos could not be found. Please upload them again.".into(),
        )),
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
    let mut images = Images::default();
    if session.checks_document() {
        evidence.document_type = Some(chosen_type(&session, &fields));
        for (name, image) in [("front", &mut images.front), ("back", &mut images.back)] {
            if let Some((id, info)) = session_file(&web, &session, &fields, name).await? {
                evidence.document_files.push(id);
                *image = info;
            }
        }
        if let Some((id, info)) = session_file(&web, &session, &fields, "selfie").await? {
            evidence.selfie_file = Some(id);
            images.selfie = info;
        }
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
        let now_ms = web.app.clock.now_ms();
        let verifier = web.config.verifier.as_ref();
        let outcome = live::outcome(verifier, &session, &fields, images, now_ms);
        (outcome, None)
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
pub(super) async fn submit_attempt(
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
        transition::transition(s, command.clone(), &mut ctx)
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
            expired: session.url_expired(token, now_ms),
        }),
    }
}
