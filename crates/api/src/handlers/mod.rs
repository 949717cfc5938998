//! One file per resource; what they share lives here.

pub mod reports;
pub mod sessions;
pub mod test_helpers;

use serde_json::Value;
use vouch_domain::event::RequestInfo;
use vouch_domain::ids::{ReportId, SessionId};
use vouch_domain::session::Session;
use vouch_domain::transition::{self, Command, Ctx, Outcome};
use vouch_store::{SessionWrite, StoreError};

use crate::error::ApiError;
use crate::expand::SessionExpand;
use crate::params::Params;
use crate::state::AppState;

/// How often a transition is recomputed when another writer changed the session first.
const MAX_ATTEMPTS: usize = 16;

/// A session id from the request; a malformed one cannot exist, so it is "no such" at once.
pub(crate) fn parse_session_id(raw: &str, param: &'static str) -> Result<SessionId, ApiError> {
    SessionId::parse(raw).ok_or_else(|| ApiError::NoSuch {
        kind: "VerificationSession",
        id: raw.to_owned(),
        param,
    })
}

pub(crate) fn parse_report_id(raw: &str, param: &'static str) -> Result<ReportId, ApiError> {
    ReportId::parse(raw).ok_or_else(|| ApiError::NoSuch {
        kind: "VerificationReport",
        id: raw.to_owned(),
        param,
    })
}

/// Loads the session, applies the command through the state machine and commits the result
/// with its events and report in one transaction; recomputes on a concurrent change.
pub(crate) async fn mutate(
    state: &AppState,
    account: &str,
    id: &SessionId,
    request: RequestInfo,
    command: impl Fn() -> Command,
) -> Result<Outcome, ApiError> {
    for _ in 0..MAX_ATTEMPTS {
        let current =
            state
                .store
                .get_session(account, id)
                .await?
                .ok_or_else(|| ApiError::NoSuch {
                    kind: "VerificationSession",
                    id: id.to_string(),
                    param: "id",
                })?;
        let outcome = {
            let mut rng = rand::thread_rng();
            let mut ctx = Ctx {
                now_ms: state.clock.now_ms(),
                request: request.clone(),
                rng: &mut rng,
            };
            transition::transition(current.value, command(), &mut ctx)?
        };
        if outcome.unchanged {
            return Ok(outcome);
        }
        let write = SessionWrite {
            session: &outcome.session,
            expected_version: current.version,
            events: &outcome.events,
            report: outcome.report.as_ref(),
            erase_copies: outcome.redacted_now,
        };
        match state.store.save_session(write).await {
            Ok(()) => return Ok(outcome),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Internal(format!(
        "session {id} kept changing under {MAX_ATTEMPTS} attempts"
    )))
}

/// Renders a session, fetching the report when `last_verification_report` is expanded.
pub(crate) async fn render_session(
    state: &AppState,
    session: &Session,
    expand: &SessionExpand,
) -> Result<Value, ApiError> {
    let report = match (
        &expand.last_verification_report,
        &session.last_verification_report,
    ) {
        (Some(_), Some(id)) => state.store.get_report(&session.account, id).await?,
        _ => None,
    };
    Ok(crate::render::session(
        session,
        expand,
        report.as_ref(),
        &state.config.public_url,
    ))
}

/// `limit`: 1..=100, default 10.
pub(crate) fn take_limit(p: &mut Params) -> Result<usize, ApiError> {
    match sessions::non_empty(p.take_i64("limit")?, "limit")? {
        None => Ok(10),
        Some(n) if n < 1 => Err(ApiError::LimitTooSmall),
        Some(n) if n > 100 => Err(ApiError::LimitTooLarge),
        Some(n) => Ok(n as usize),
    }
}
