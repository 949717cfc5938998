//! The session state machine: every change is `transition(session, command, ctx)`, which
//! returns the new session, the events it causes and any report it creates — or says why not.

use rand::RngCore;

use crate::event::{Event, EventType, RequestInfo};
use crate::flow::{self, AttemptOutcome};
use crate::ids::{EventId, SessionId};
use crate::outputs::TestPerson;
use crate::report::Report;
use crate::session::{
    DocumentOptions, Metadata, ProvidedDetails, RedactionStatus, RelatedPerson, Session,
    SessionOptions, SessionType, Status, WireEnum,
};

pub const METADATA_MAX_KEYS: usize = 50;
pub const METADATA_MAX_KEY_LEN: usize = 40;
pub const METADATA_MAX_VALUE_LEN: usize = 500;

/// Everything a transition needs from the outside world.
pub struct Ctx<'a> {
    /// Unix time in milliseconds.
    pub now_ms: i64,
    pub request: RequestInfo,
    pub rng: &'a mut dyn RngCore,
}

impl Ctx<'_> {
    pub fn now(&self) -> i64 {
        self.now_ms.div_euclid(1000)
    }

    pub(crate) fn event(&mut self, kind: EventType, session: &Session) -> Event {
        Event {
            id: EventId::generate_ms(self.now_ms, &mut self.rng),
            account: session.account.clone(),
            livemode: session.livemode,
            created: self.now(),
            kind,
            session: session.clone(),
            request: self.request.clone(),
        }
    }
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// `action` is not allowed from `status`; `allowed` lists the statuses that permit it.
    WrongState {
        action: &'static str,
        status: Status,
        allowed: &'static [Status],
    },
    /// The session was redacted; nothing may change it any more.
    Redacted { action: &'static str },
    /// The resulting metadata would have more than 50 keys.
    MetadataTooManyKeys,
    /// A metadata key longer than 40 characters.
    MetadataKeyTooLong { key: String },
    /// A metadata value longer than 500 characters.
    MetadataValueTooLong { key: String },
    /// Test helpers need a test-mode session.
    LiveMode { action: &'static str },
    /// A failure code that none of the session's checks can produce.
    CodeDoesNotFit { code: crate::session::ErrorCode },
    /// The hosted-page link was already used, has expired, or is no longer the session's.
    LinkUnusable,
}

/// A metadata change: clear everything, or set/delete individual keys (None deletes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataPatch {
    Clear,
    Set(Vec<(String, Option<String>)>),
}

/// A field of an update: leave it, unset it (the empty string), or set it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Unset,
    Set(T),
}

impl<T> Patch<T> {
    fn apply(self, slot: &mut Option<T>) {
        match self {
            Patch::Keep => {}
            Patch::Unset => *slot = None,
            Patch::Set(v) => *slot = Some(v),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocumentOptionsPatch {
    pub allowed_types: Patch<Vec<crate::session::DocumentType>>,
    pub require_id_number: Patch<bool>,
    pub require_live_capture: Patch<bool>,
    pub require_matching_selfie: Patch<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProvidedDetailsPatch {
    pub email: Patch<String>,
    pub phone: Patch<String>,
}

/// What create takes, already validated for shape by the API layer.
#[derive(Debug, Clone, Default)]
pub struct NewSession {
    pub kind: Option<SessionType>,
    pub verification_flow: Option<String>,
    pub client_reference_id: Option<String>,
    pub metadata: Option<MetadataPatch>,
    pub document_options: Patch<DocumentOptionsPatch>,
    pub provided_details: Patch<ProvidedDetailsPatch>,
    pub related_customer: Option<String>,
    pub related_customer_account: Option<String>,
    pub related_person: Option<RelatedPerson>,
    pub return_url: Option<String>,
}

/// What update takes.
#[derive(Debug, Clone, Default)]
pub struct SessionUpdate {
    pub kind: Option<SessionType>,
    pub metadata: Option<MetadataPatch>,
    pub document_options: Patch<DocumentOptionsPatch>,
    pub provided_details: Patch<ProvidedDetailsPatch>,
}

#[derive(Debug, Clone)]
pub enum Command {
    Update(SessionUpdate),
    Cancel,
    /// Start redaction; it completes at `due_ms`.
    Redact {
        due_ms: i64,
    },
    /// Finish a pending redaction (run by the background worker).
    CompleteRedaction,
    /// Test mode: verify with this person's data, at once or after `delay_ms` in processing.
    TestVerify {
        person: Box<TestPerson>,
        delay_ms: Option<i64>,
    },
    /// Test mode: fail with this code (default: the session's main check fails with its
    /// `…_unverified_other`), at once or after `delay_ms` in processing.
    TestUnverify {
        code: Option<crate::session::ErrorCode>,
        delay_ms: Option<i64>,
    },
    /// Mint fresh `client_secret`/`url` if the current ones were used or expired.
    RefreshSecrets,
    /// The hosted page submits an attempt with the link's `token`; its outcome was decided
    /// by the page (test mode: the user's choice; live mode: the verifier).
    Submit {
        token: String,
        outcome: AttemptOutcome,
        delay_ms: Option<i64>,
        evidence: flow::Evidence,
    },
    /// The worker's visit: apply a pending outcome or complete a redaction that is due.
    RunDue,
}

/// The result of a successful transition.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub session: Session,
    pub events: Vec<Event>,
    pub report: Option<Report>,
    /// True when the transition changed nothing (no write needed).
    pub unchanged: bool,
    /// True when the session's personal data was just erased (the store must erase the copies
    /// in its reports and events too).
    pub redacted_now: bool,
}

impl Outcome {
    pub(crate) fn changed(session: Session, events: Vec<Event>) -> Outcome {
        Outcome {
            session,
            events,
            report: None,
            unchanged: false,
            redacted_now: false,
        }
    }

    pub(crate) fn unchanged(session: Session) -> Outcome {
        Outcome {
            session,
            events: Vec::new(),
            report: None,
            unchanged: true,
            redacted_now: false,
        }
    }
}

/// A new session in `requires_input`, with its `created` event.
pub fn create(
    account: &crate::session::Account,
    new: NewSession,
    ctx: &mut Ctx<'_>,
) -> Result<(Session, Event), DomainError> {
    let now = ctx.now();
    let id = SessionId::generate_ms(ctx.now_ms, &mut ctx.rng);
    let mut session = Session {
        client_secret: None,
        url_token: None,
        secrets_minted_ms: 0,
        url_used: false,
        pending: None,
        id,
        account: account.id.clone(),
        livemode: account.livemode,
        created: now,
        status: Status::RequiresInput,
        kind: new.kind.unwrap_or(SessionType::VerificationFlow),
        verification_flow: new.verification_flow,
        client_reference_id: new.client_reference_id,
        last_error: None,
        last_verification_report: None,
        metadata: Metadata::new(),
        options: SessionOptions::default(),
        provided_details: None,
        redaction: None,
        related_customer: new.related_customer,
        related_customer_account: new.related_customer_account,
        related_person: new.related_person,
        return_url: new.return_url,
        verified_outputs: None,
        redaction_due_ms: None,
    };
    flow::mint_secrets(&mut session, ctx);
    if let Some(patch) = new.metadata {
        apply_metadata(&mut session.metadata, patch)?;
    }
    apply_document_options(&mut session.options, new.document_options);
    apply_provided_details(&mut session.provided_details, new.provided_details);
    let event = ctx.event(EventType::Created, &session);
    Ok((session, event))
}

pub fn transition(
    session: Session,
    command: Command,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    match command {
        Command::Update(update) => update_session(session, update),
        Command::Cancel => cancel(session, ctx),
        Command::Redact { due_ms } => redact(session, due_ms, ctx),
        Command::CompleteRedaction => complete_redaction(session, ctx),
        Command::TestVerify { person, delay_ms } => test_only(&session, "verify").and_then(|_| {
            flow::attempt(
                session,
                AttemptOutcome::Verified { person },
                delay_ms,
                "verify",
                flow::Evidence::default(),
                ctx,
            )
        }),
        Command::TestUnverify { code, delay_ms } => {
            let code = code.unwrap_or_else(|| flow::default_failure(&session));
            test_only(&session, "unverify").and_then(|_| {
                flow::attempt(
                    session,
                    AttemptOutcome::Failed { code },
                    delay_ms,
                    "unverify",
                    flow::Evidence::default(),
                    ctx,
                )
            })
        }
        Command::RefreshSecrets => Ok(flow::refresh_secrets(session, ctx)),
        Command::Submit {
            token,
            outcome,
            delay_ms,
            evidence,
        } => flow::submit(session, &token, outcome, delay_ms, evidence, ctx),
        Command::RunDue => {
            let out = flow::run_due(session, ctx);
            if out.unchanged
                && out
                    .session
                    .redaction_due_ms
                    .is_some_and(|d| d <= ctx.now_ms)
            {
                complete_redaction(out.session, ctx)
            } else {
                Ok(out)
            }
        }
    }
}

const REQUIRES_INPUT: &[Status] = &[Status::RequiresInput];

fn update_session(mut session: Session, update: SessionUpdate) -> Result<Outcome, DomainError> {
    if session.is_redacted() {
        return Err(DomainError::Redacted { action: "update" });
    }
    if session.status != Status::RequiresInput {
        return Err(DomainError::WrongState {
            action: "update",
            status: session.status,
            allowed: REQUIRES_INPUT,
        });
    }
    if let Some(kind) = update.kind {
        session.kind = kind;
    }
    if let Some(patch) = update.metadata {
        apply_metadata(&mut session.metadata, patch)?;
    }
    apply_document_options(&mut session.options, update.document_options);
    apply_provided_details(&mut session.provided_details, update.provided_details);
    Ok(Outcome {
        session,
        events: Vec::new(),
        report: None,
        unchanged: false,
        redacted_now: false,
    })
}

fn cancel(mut session: Session, ctx: &mut Ctx<'_>) -> Result<Outcome, DomainError> {
    if session.is_redacted() {
        return Err(DomainError::Redacted { action: "cancel" });
    }
    match session.status {
        Status::Canceled => Ok(Outcome::unchanged(session)),
        Status::RequiresInput => {
            close_for_input(&mut session, Status::Canceled);
            session.last_error = None;
            let event = ctx.event(EventType::Canceled, &session);
            Ok(Outcome {
                session,
                events: vec![event],
                report: None,
                unchanged: false,
                redacted_now: false,
            })
        }
        status => Err(DomainError::WrongState {
            action: "cancel",
            status,
            allowed: REQUIRES_INPUT,
        }),
    }
}

fn redact(mut session: Session, due_ms: i64, ctx: &mut Ctx<'_>) -> Result<Outcome, DomainError> {
    if session.is_redacted() {
        return Ok(Outcome::unchanged(session));
    }
    let mut events = Vec::new();
    match session.status {
        Status::Processing => {
            return Err(DomainError::WrongState {
                action: "redact",
                status: Status::Processing,
                allowed: &[Status::RequiresInput, Status::Verified, Status::Canceled],
            })
        }
        Status::RequiresInput => {
            close_for_input(&mut session, Status::Canceled);
            session.last_error = None;
            session.redaction = Some(RedactionStatus::Processing);
            events.push(ctx.event(EventType::Canceled, &session));
        }
        Status::Verified | Status::Canceled => {}
    }
    session.redaction = Some(RedactionStatus::Processing);
    session.redaction_due_ms = Some(due_ms);
    Ok(Outcome {
        session,
        events,
        report: None,
        unchanged: false,
        redacted_now: false,
    })
}

fn complete_redaction(mut session: Session, ctx: &mut Ctx<'_>) -> Result<Outcome, DomainError> {
    if session.redaction != Some(RedactionStatus::Processing) {
        return Ok(Outcome::unchanged(session));
    }
    session.erase_personal_data();
    session.redaction = Some(RedactionStatus::Redacted);
    session.redaction_due_ms = None;
    let event = ctx.event(EventType::Redacted, &session);
    Ok(Outcome {
        session,
        events: vec![event],
        report: None,
        unchanged: false,
        redacted_now: true,
    })
}

/// Test helpers work on test-mode sessions only.
fn test_only(session: &Session, action: &'static str) -> Result<(), DomainError> {
    if session.livemode {
        Err(DomainError::LiveMode { action })
    } else {
        Ok(())
    }
}

/// Leave `requires_input`: the hosted page link and client secret stop working.
fn close_for_input(session: &mut Session, status: Status) {
    session.status = status;
    session.client_secret = None;
    session.url_token = None;
}

/// Apply a metadata change and enforce Stripe's limits.
pub fn apply_metadata(metadata: &mut Metadata, patch: MetadataPatch) -> Result<(), DomainError> {
    match patch {
        MetadataPatch::Clear => metadata.clear(),
        MetadataPatch::Set(pairs) => {
            for (key, value) in pairs {
                if key.chars().count() > METADATA_MAX_KEY_LEN {
                    return Err(DomainError::MetadataKeyTooLong { key });
                }
                match value {
                    None => metadata.retain(|(k, _)| *k != key),
                    Some(value) => {
                        if value.chars().count() > METADATA_MAX_VALUE_LEN {
                            return Err(DomainError::MetadataValueTooLong { key });
                        }
                        match metadata.iter_mut().find(|(k, _)| *k == key) {
                            Some(slot) => slot.1 = value,
                            None => metadata.push((key, value)),
                        }
                    }
                }
            }
        }
    }
    if metadata.len() > METADATA_MAX_KEYS {
        return Err(DomainError::MetadataTooManyKeys);
    }
    Ok(())
}

fn apply_document_options(options: &mut SessionOptions, patch: Patch<DocumentOptionsPatch>) {
    match patch {
        Patch::Keep => {}
        Patch::Unset => options.document = None,
        Patch::Set(p) => {
            let doc = options
                .document
                .get_or_insert_with(DocumentOptions::default);
            p.allowed_types.apply(&mut doc.allowed_types);
            p.require_id_number.apply(&mut doc.require_id_number);
            p.require_live_capture.apply(&mut doc.require_live_capture);
            p.require_matching_selfie
                .apply(&mut doc.require_matching_selfie);
        }
    }
}

fn apply_provided_details(
    details: &mut Option<ProvidedDetails>,
    patch: Patch<ProvidedDetailsPatch>,
) {
    match patch {
        Patch::Keep => {}
        Patch::Unset => *details = None,
        Patch::Set(p) => {
            let d = details.get_or_insert_with(ProvidedDetails::default);
            p.email.apply(&mut d.email);
            p.phone.apply(&mut d.phone);
            if d.email.is_none() && d.phone.is_none() {
                *details = None;
            }
        }
    }
}

impl Session {
    /// Stripe's redaction of the session itself: personal data becomes placeholders and
    /// metadata is emptied. Reports and event copies are erased by their own `redact`.
    pub fn erase_personal_data(&mut self) {
        self.metadata.clear();
        if let Some(outputs) = self.verified_outputs.as_mut() {
            outputs.redact();
        }
        if let Some(d) = self.provided_details.as_mut() {
            crate::outputs::redact_str(&mut d.email);
            crate::outputs::redact_str(&mut d.phone);
        }
        if self.return_url.is_some() {
            self.return_url = None;
        }
    }
}

impl DomainError {
    /// The status values as Stripe quotes them in messages: `"a"`, `"a" or "b"`.
    pub fn quoted(statuses: &[Status]) -> String {
        let q: Vec<String> = statuses
            .iter()
            .map(|s| format!("\"{}\"", s.as_str()))
            .collect();
        match q.len() {
            0 => String::new(),
            1 => q[0].clone(),
            n => format!("{} or {}", q[..n - 1].join(", "), q[n - 1]),
        }
    }
}

#[cfg(test)]
#[path = "transition_tests.rs"]
mod tests;
