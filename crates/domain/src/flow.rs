//! The verification flow: submissions, processing, outcomes, and the short-lived
//! `client_secret` / `url` that let a user (re)submit.
//!
//! An attempt's outcome is decided when it is submitted (test mode: the chosen outcome; live
//! mode: the verifier's verdict) and applied either at once or when processing ends
//! (`pending.due_ms`); the session carries it durably, so a restart during processing resumes
//! and applies it exactly once.

use serde::{Deserialize, Serialize};

use crate::checks::Verdict;
use crate::event::EventType;
use crate::ids::{push_time_sorted_alnum_ms, random_alnum, ReportId, SessionId};
use crate::outputs::{TestPerson, VerifiedOutputs, VerifiedPerson};
use crate::report::{last_error, Report};
use crate::session::{ErrorCode, Session, Status};
use crate::transition::{Ctx, DomainError, Outcome};

/// `client_secret` lifetime (Stripe: 24 hours).
pub const CLIENT_SECRET_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// Hosted page `url` lifetime (Stripe: 48 hours).
pub const URL_TTL_MS: i64 = 48 * 60 * 60 * 1000;

/// What an attempt ends in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttemptOutcome {
    /// Every check passed; these are the verified person's data.
    Verified { person: Box<TestPerson> },
    /// A check failed with this code.
    Failed { code: ErrorCode },
    /// Live mode: the verifier's verdict and the data it backs. Verified when the verdict is;
    /// otherwise `requires_input` with the verdict's `last_error`. The report carries each
    /// check as the verdict decided it.
    Checked {
        verdict: Verdict,
        person: Box<VerifiedPerson>,
    },
}

/// An attempt in `processing`, applied at `due_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub due_ms: i64,
    pub outcome: AttemptOutcome,
    /// What the user submitted (the hosted page); the report references it.
    #[serde(default)]
    pub evidence: Evidence,
}

/// What the user submitted on the hosted page: the document type they chose and the ids of
/// the File objects (`file_…`) they uploaded. Empty for attempts finished from code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(default)]
    pub document_type: Option<crate::session::DocumentType>,
    /// Front, then back, of the identity document.
    #[serde(default)]
    pub document_files: Vec<String>,
    #[serde(default)]
    pub selfie_file: Option<String>,
}

/// Codes a user-side failure produces before anything is processed: no report, no
/// `processing` event.
pub fn is_user_side(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Abandoned
            | ErrorCode::ConsentDeclined
            | ErrorCode::CountryNotSupported
            | ErrorCode::DeviceNotSupported
            | ErrorCode::UnderSupportedAge
    )
}

/// The failure a session's main check reports when no code is chosen.
pub fn default_failure(session: &Session) -> ErrorCode {
    if session.checks_document() {
        ErrorCode::DocumentUnverifiedOther
    } else {
        ErrorCode::IdNumberUnverifiedOther
    }
}

/// Whether `code` can be the outcome of this session's checks.
pub fn code_fits(session: &Session, code: ErrorCode) -> bool {
    let name = code_name(code);
    if is_user_side(code) {
        true
    } else if name.starts_with("document_") {
        session.checks_document()
    } else if name.starts_with("selfie_") {
        session.checks_selfie()
    } else if name.starts_with("id_number_") {
        session.checks_id_number()
    } else {
        // email_* and phone_*: vouch sessions never require those checks.
        false
    }
}

fn code_name(code: ErrorCode) -> &'static str {
    crate::session::WireEnum::as_str(code)
}

impl Session {
    /// The client secret, if it can still be used at `now_ms`.
    pub fn live_client_secret(&self, now_ms: i64) -> Option<&str> {
        (self.status == Status::RequiresInput
            && !self.url_used
            && now_ms < self.secrets_minted_ms + CLIENT_SECRET_TTL_MS)
            .then_some(self.client_secret.as_deref())
            .flatten()
    }

    /// The hosted-page token, if the link can still be used at `now_ms`.
    pub fn live_url_token(&self, now_ms: i64) -> Option<&str> {
        (self.status == Status::RequiresInput
            && !self.url_used
            && now_ms < self.secrets_minted_ms + URL_TTL_MS)
            .then_some(self.url_token.as_deref())
            .flatten()
    }

    /// Until when (exclusive) [`Session::live_client_secret`] and [`Session::live_url_token`]
    /// answer as they do at `now_ms`: time alone changes them only when a link expires.
    pub fn links_stable_until(&self, now_ms: i64) -> i64 {
        [CLIENT_SECRET_TTL_MS, URL_TTL_MS]
            .into_iter()
            .map(|ttl| self.secrets_minted_ms.saturating_add(ttl))
            .filter(|&expiry| now_ms < expiry)
            .min()
            .unwrap_or(i64::MAX)
    }

    /// Whether `token` is the session's current link and only its age (48 hours) keeps it
    /// from being used: the hosted page then says the link expired rather than was used.
    pub fn url_expired(&self, token: &str, now_ms: i64) -> bool {
        self.status == Status::RequiresInput
            && !self.url_used
            && self.url_token.as_deref() == Some(token)
            && now_ms >= self.secrets_minted_ms + URL_TTL_MS
    }

    /// When the background worker must next look at this session.
    pub fn next_due_ms(&self) -> Option<i64> {
        match (&self.pending, self.redaction_due_ms) {
            (Some(p), Some(r)) => Some(p.due_ms.min(r)),
            (Some(p), None) => Some(p.due_ms),
            (None, r) => r,
        }
    }
}

/// Fresh `client_secret` and `url` token, valid from `ctx.now_ms`.
pub(crate) fn mint_secrets(session: &mut Session, ctx: &mut Ctx<'_>) {
    let mode = if session.livemode { "live" } else { "test" };
    session.client_secret = Some(format!(
        "{}_secret_{mode}_{}",
        session.id,
        random_alnum(&mut ctx.rng, 24)
    ));
    // 40 characters: the time to the millisecond (so the store's index of links grows at
    // its end: with seconds alone, the tokens of one second scattered over every page of
    // that second's range, about eleven index pages per group commit) and 32 random ones
    // (about 190 bits).
    let mut token = String::with_capacity(mode.len() + 41);
    token.push_str(mode);
    token.push('_');
    push_time_sorted_alnum_ms(&mut token, ctx.now_ms, &mut ctx.rng, 40);
    session.url_token = Some(token);
    session.secrets_minted_ms = ctx.now_ms;
    session.url_used = false;
}

/// Retrieve of a `requires_input` session whose secrets were used or expired mints fresh
/// ones, as Stripe does; anything else is unchanged.
pub(crate) fn refresh_secrets(mut session: Session, ctx: &mut Ctx<'_>) -> Outcome {
    let fresh = session.live_client_secret(ctx.now_ms).is_some()
        && session.live_url_token(ctx.now_ms).is_some();
    if session.status != Status::RequiresInput || session.is_redacted() || fresh {
        return Outcome::unchanged(session);
    }
    mint_secrets(&mut session, ctx);
    Outcome::changed(session, Vec::new())
}

/// Starts an attempt with a decided outcome: at once when `delay_ms` is None, otherwise it
/// stays `processing` until `now + delay_ms`.
pub(crate) fn attempt(
    mut session: Session,
    outcome: AttemptOutcome,
    delay_ms: Option<i64>,
    action: &'static str,
    evidence: Evidence,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    if session.is_redacted() {
        return Err(DomainError::Redacted { action });
    }
    if !matches!(session.status, Status::RequiresInput | Status::Processing) {
        return Err(DomainError::WrongState {
            action,
            status: session.status,
            allowed: &[Status::RequiresInput, Status::Processing],
        });
    }
    if let AttemptOutcome::Failed { code } = outcome {
        if !code_fits(&session, code) {
            return Err(DomainError::CodeDoesNotFit { code });
        }
        if is_user_side(code) && session.status == Status::RequiresInput {
            // Nothing was submitted for processing: straight back to requires_input.
            session.url_used = true;
            session.last_error = Some(last_error(code));
            let event = ctx.event(EventType::RequiresInput, &session);
            return Ok(Outcome::changed(session, vec![event]));
        }
    }
    let mut events = Vec::new();
    if session.status == Status::RequiresInput {
        session.status = Status::Processing;
        session.url_used = true;
        session.last_error = None;
        events.push(ctx.event(EventType::Processing, &session));
    }
    match delay_ms {
        Some(delay) if delay > 0 => {
            session.pending = Some(Box::new(Pending {
                due_ms: ctx.now_ms + delay,
                outcome,
                evidence,
            }));
            Ok(Outcome::changed(session, events))
        }
        _ => {
            session.pending = None;
            let mut finished = finish(session, outcome, &evidence, ctx);
            events.append(&mut finished.events);
            finished.events = events;
            Ok(finished)
        }
    }
}

/// The hosted page's submission: allowed only with the session's live link (`token` unused,
/// not expired, session in `requires_input`); then an attempt like any other.
pub(crate) fn submit(
    session: Session,
    token: &str,
    outcome: AttemptOutcome,
    delay_ms: Option<i64>,
    evidence: Evidence,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    if session.is_redacted() || session.live_url_token(ctx.now_ms) != Some(token) {
        return Err(DomainError::LinkUnusable);
    }
    attempt(session, outcome, delay_ms, "submit", evidence, ctx)
}

/// Applies a pending outcome whose time has come (the worker's job); unchanged otherwise.
pub(crate) fn run_due(mut session: Session, ctx: &mut Ctx<'_>) -> Outcome {
    match session.pending.take() {
        Some(p) if p.due_ms <= ctx.now_ms && session.status == Status::Processing => {
            finish(session, p.outcome, &p.evidence, ctx)
        }
        other => {
            session.pending = other;
            Outcome::unchanged(session)
        }
    }
}

/// Ends processing: `verified` with outputs, or back to `requires_input` with `last_error`;
/// either way a report of the attempt.
fn finish(
    mut session: Session,
    outcome: AttemptOutcome,
    evidence: &Evidence,
    ctx: &mut Ctx<'_>,
) -> Outcome {
    let report_id = ReportId::generate_ms(ctx.now_ms, &mut ctx.rng);
    let (mut report, kind) = match outcome {
        AttemptOutcome::Verified { person } => {
            let report = Report::verified(&session, report_id, ctx.now(), &person);
            let outputs = verified_outputs(&session, &person);
            (report, set_verified(&mut session, outputs))
        }
        AttemptOutcome::Failed { code } => {
            let person = TestPerson::default();
            let report = Report::failed(&session, report_id, ctx.now(), &person, code);
            (report, set_failed(&mut session, code))
        }
        AttemptOutcome::Checked { verdict, person } => {
            let report = Report::checked(&session, report_id, ctx.now(), &verdict, &person);
            let kind = match verdict.last_error {
                None => {
                    let outputs = checked_outputs(&session, &person);
                    set_verified(&mut session, outputs)
                }
                Some(code) => set_failed(&mut session, code),
            };
            (report, kind)
        }
    };
    report.attach_evidence(evidence);
    session.last_verification_report = Some(report.id.clone());
    let event = ctx.event(kind, &session);
    let mut out = Outcome::changed(session, vec![event]);
    out.report = Some(report);
    out
}

/// The session verified with these outputs; its secrets are no longer needed.
fn set_verified(session: &mut Session, outputs: VerifiedOutputs) -> EventType {
    session.verified_outputs = Some(Box::new(outputs));
    session.last_error = None;
    session.status = Status::Verified;
    session.client_secret = None;
    session.url_token = None;
    EventType::Verified
}

/// The session back to `requires_input` with `code`. The used link stays dead; retrieving
/// the session mints fresh ones.
fn set_failed(session: &mut Session, code: ErrorCode) -> EventType {
    session.last_error = Some(last_error(code));
    session.status = Status::RequiresInput;
    session.url_used = true;
    EventType::RequiresInput
}

fn verified_outputs(session: &Session, person: &TestPerson) -> VerifiedOutputs {
    let with_id_number = session.checks_id_number();
    VerifiedOutputs {
        address: Some(person.address.clone()),
        dob: Some(person.dob),
        email: None,
        first_name: Some(person.first_name.clone()),
        id_number: with_id_number.then(|| person.id_number.clone()),
        id_number_type: with_id_number.then(|| person.id_number_type.clone()),
        last_name: Some(person.last_name.clone()),
        phone: None,
        sex: session.checks_document().then(|| person.sex.clone()),
        unparsed_place_of_birth: None,
        unparsed_sex: None,
    }
}

/// The verified outputs of a live verification: only what the verifier backed.
fn checked_outputs(session: &Session, person: &VerifiedPerson) -> VerifiedOutputs {
    let with_id_number = session.checks_id_number();
    VerifiedOutputs {
        address: person.address.clone(),
        dob: person.dob,
        email: None,
        first_name: person.first_name.clone(),
        id_number: person.id_number.clone().filter(|_| with_id_number),
        id_number_type: person.id_number_type.clone().filter(|_| with_id_number),
        last_name: person.last_name.clone(),
        phone: None,
        sex: person.sex.clone().filter(|_| session.checks_document()),
        unparsed_place_of_birth: None,
        unparsed_sex: None,
    }
}

/// A session id's share of the url token, for lookups by token (the hosted page).
pub fn session_of_client_secret(secret: &str) -> Option<SessionId> {
    SessionId::parse(secret.split_once("_secret_")?.0)
}

#[cfg(test)]
#[path = "flow_submit_tests.rs"]
mod submit_tests;
