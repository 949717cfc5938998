//! Background work that tests can step: `tick` runs one round and returns how much it did.

use vouch_domain::event::RequestInfo;
use vouch_domain::transition::Command;

use crate::error::ApiError;
use crate::handlers::mutate;
use crate::state::AppState;

/// Visits every session with work due: a pending verification outcome (the end of
/// `processing`) or a redaction. Each visit commits its state change, events and report (or
/// the erased copies) together; a crash before the commit redoes it on restart, and the
/// locked state change makes a second visit a no-op, so it applies exactly once.
/// Then the store makes the erased bytes unrecoverable; if it cannot yet (readers), the next
/// tick tries again (`flush_pending`).
pub async fn due_tick(state: &AppState, flush_pending: &mut bool) -> Result<usize, ApiError> {
    let due = state.store.due_sessions(state.clock.now_ms(), 100).await?;
    let mut done = 0;
    let mut erased = false;
    for (account, id) in due {
        let outcome = mutate(
            state,
            &account,
            &id,
            RequestInfo::default(),
            Command::RunDue,
        )
        .await?;
        erased |= outcome.redacted_now;
        done += 1;
    }
    if erased || *flush_pending {
        *flush_pending = !state.store.flush_erased().await?;
    }
    Ok(done)
}

/// Forgets idempotency keys older than 24 hours.
pub async fn prune_tick(state: &AppState) -> Result<usize, ApiError> {
    let before = state.clock.now_ms() - crate::idempotency::TTL_MS;
    Ok(state.store.prune_idempotency(before).await?)
}
