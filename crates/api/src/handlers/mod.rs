//! One file per resource; what they share lives here.

pub mod api_keys;
pub mod events;
pub mod reports;
pub mod sessions;
pub mod test_helpers;
pub mod webhook_deliveries;
pub mod webhook_endpoints;

use rand::rngs::StdRng;
use rand::SeedableRng;
use vouch_domain::event::RequestInfo;
use vouch_domain::ids::{Id, IdKind, ReportId, SessionId};
use vouch_domain::report::Report;
use vouch_domain::session::Session;
use vouch_domain::transition::{self, Command, Ctx, Outcome};
use vouch_store::{Change, Cursor, Rendered, SessionEntry, StoreError};

use crate::error::ApiError;
use crate::expand::SessionExpand;
use crate::handlers::sessions::non_empty;
use crate::params::Params;
use crate::render::{JsonBody, SessionView};
use crate::state::AppState;

/// Longest string parameter Stripe accepts.
pub(crate) const MAX_STRING: usize = 5000;

/// An id from the request; a malformed one cannot exist, so it is "no such" at once.
pub(crate) fn parse_id<K: IdKind>(raw: &str, param: &'static str) -> Result<Id<K>, ApiError> {
    Id::parse(raw).ok_or_else(|| no_such::<K>(raw, param))
}

pub(crate) fn no_such<K: IdKind>(id: &str, param: &'static str) -> ApiError {
    ApiError::NoSuch {
        kind: K::NAME,
        id: id.to_owned(),
        param,
    }
}

/// A list cursor and the parameter it came from.
pub(crate) type ListCursor<K> = Option<(Cursor<Id<K>>, &'static str)>;

/// `starting_after` / `ending_before`.
pub(crate) fn cursor<K: IdKind>(p: &mut Params) -> Result<ListCursor<K>, ApiError> {
    let after = non_empty(p.take_str("starting_after", MAX_STRING)?, "starting_after")?;
    let before = non_empty(p.take_str("ending_before", MAX_STRING)?, "ending_before")?;
    Ok(match (after, before) {
        (Some(_), Some(_)) => {
            return Err(ApiError::Exclusive {
                params: ["starting_after", "ending_before"],
            })
        }
        (Some(a), None) => Some((
            Cursor::After(parse_id(&a, "starting_after")?),
            "starting_after",
        )),
        (None, Some(b)) => Some((
            Cursor::Before(parse_id(&b, "ending_before")?),
            "ending_before",
        )),
        (None, None) => None,
    })
}

/// A store's `NotFound` for a list cursor is the cursor's "no such".
pub(crate) fn cursor_error<K: IdKind>(e: StoreError, cursor: &ListCursor<K>) -> ApiError {
    match (e, cursor) {
        (StoreError::NotFound, Some((c, param))) => match c {
            Cursor::After(id) | Cursor::Before(id) => no_such::<K>(id.as_str(), param),
        },
        (e, _) => e.into(),
    }
}

pub(crate) fn parse_session_id(raw: &str, param: &'static str) -> Result<SessionId, ApiError> {
    parse_id(raw, param)
}

pub(crate) fn parse_report_id(raw: &str, param: &'static str) -> Result<ReportId, ApiError> {
    parse_id(raw, param)
}

/// Applies the command to the session through the state machine, inside the store's
/// transaction with the session locked, and commits the outcome with its events and report.
/// (Also what the dashboard's actions call.)
pub async fn mutate(
    state: &AppState,
    account: &str,
    id: &SessionId,
    request: RequestInfo,
    command: Command,
) -> Result<Outcome, ApiError> {
    let now_ms = state.clock.now_ms();
    let change: Change = Box::new(move |session| {
        let mut rng = StdRng::from_entropy();
        let mut ctx = Ctx {
            now_ms,
            request: request.clone(),
            rng: &mut rng,
        };
        transition::transition(session, command.clone(), &mut ctx)
    });
    match state.store.modify_session(account, id, change).await? {
        None => Err(ApiError::NoSuch {
            kind: "VerificationSession",
            id: id.to_string(),
            param: "id",
        }),
        Some(result) => Ok(result?),
    }
}

/// The shape of every session action (update, cancel, redact, test helpers): `expand`, the
/// action's own parameters (taken by `command`), no leftovers, the transition, the render.
pub(crate) async fn session_action(
    state: &AppState,
    account: &str,
    request: RequestInfo,
    raw_id: &str,
    mut p: Params,
    command: impl FnOnce(&mut Params) -> Result<Command, ApiError>,
) -> Result<JsonBody, ApiError> {
    let expand = crate::expand::session(&mut p, false)?;
    let command = command(&mut p)?;
    p.finish()?;
    let id = parse_session_id(raw_id, "id")?;
    let session = mutate(state, account, &id, request, command).await?.session;
    render_session(state, &session, &expand).await
}

/// The report to show in place of `last_verification_report`, when it is expanded.
pub(crate) async fn expanded_report(
    state: &AppState,
    session: &Session,
    expand: &SessionExpand,
) -> Result<Option<Report>, ApiError> {
    Ok(
        match (
            &expand.last_verification_report,
            &session.last_verification_report,
        ) {
            (Some(_), Some(id)) => state.store.get_report(&session.account, id).await?,
            _ => None,
        },
    )
}

/// Renders a session (with its expanded report, when asked for) straight into a body.
pub(crate) async fn render_session(
    state: &AppState,
    session: &Session,
    expand: &SessionExpand,
) -> Result<JsonBody, ApiError> {
    let report = expanded_report(state, session, expand).await?;
    Ok(JsonBody::of(&SessionView {
        session,
        expand,
        report: report.as_ref(),
        public_url: &state.config.public_url,
        now_ms: state.clock.now_ms(),
    }))
}

/// A session read from the store, rendered with `expand`. Without expansions the rendering
/// is kept on the store's entry and served again while the session's row version is the same
/// and its links have not expired (the only change time alone makes).
pub(crate) async fn render_entry(
    state: &AppState,
    entry: &SessionEntry,
    expand: &SessionExpand,
) -> Result<JsonBody, ApiError> {
    if *expand == SessionExpand::default() {
        return Ok(JsonBody(rendered(state, entry)));
    }
    render_session(state, &entry.session, expand).await
}

/// The entry's rendering without expansions (kept on the entry).
pub(crate) fn rendered(state: &AppState, entry: &SessionEntry) -> bytes::Bytes {
    let now_ms = state.clock.now_ms();
    if let Some(bytes) = entry.rendered(now_ms) {
        return bytes.clone();
    }
    let body = JsonBody::of(&SessionView {
        session: &entry.session,
        expand: &SessionExpand::default(),
        report: None,
        public_url: &state.config.public_url,
        now_ms,
    });
    // An exact-size copy: it stays as long as the entry is cached, and the buffer it was
    // written into has grown to the next power of two (a third of it unused).
    let bytes = bytes::Bytes::copy_from_slice(&body.0);
    entry.keep_rendered(Rendered {
        bytes: bytes.clone(),
        valid_until_ms: entry.session.links_stable_until(now_ms),
    });
    bytes
}

/// `limit`: 1..=100, default 10.
pub(crate) fn take_limit(p: &mut Params) -> Result<usize, ApiError> {
    match non_empty(p.take_i64("limit")?, "limit")? {
        None => Ok(10),
        Some(n) if n < 1 => Err(ApiError::LimitTooSmall),
        Some(n) if n > 100 => Err(ApiError::LimitTooLarge),
        Some(n) => Ok(n as usize),
    }
}
