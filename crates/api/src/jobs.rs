//! Background work that tests can step: `tick` runs one round and returns how much it did.

use vouch_domain::event::RequestInfo;
use vouch_domain::transition::Command;

use crate::error::ApiError;
use crate::handlers::mutate;
use crate::state::AppState;

/// Completes every redaction that is due. Each completion commits the erased session, the
/// erased copies and the `redacted` event together; a crash in between redoes it on restart.
/// Then the store makes the erased bytes unrecoverable; if it cannot yet (readers), the next
/// tick tries again (`flush_pending`).
pub async fn redaction_tick(state: &AppState, flush_pending: &mut bool) -> Result<usize, ApiError> {
    let due = state
        .store
        .due_redactions(state.clock.now_ms(), 100)
        .await?;
    let mut done = 0;
    for (account, id) in due {
        mutate(
            state,
            &account,
            &id,
            RequestInfo::default(),
            Command::CompleteRedaction,
        )
        .await?;
        done += 1;
    }
    if done > 0 || *flush_pending {
        *flush_pending = !state.store.flush_erased().await?;
    }
    Ok(done)
}

/// Forgets idempotency keys older than 24 hours.
pub async fn prune_tick(state: &AppState) -> Result<usize, ApiError> {
    let before = state.clock.now_ms() - crate::idempotency::TTL_MS;
    Ok(state.store.prune_idempotency(before).await?)
}
