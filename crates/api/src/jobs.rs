//! Background work that tests can step: each `…_tick` runs one round and returns how much it
//! did. Every node runs these; the work is claimed in the store (a lease owned by this node,
//! `ApiConfig::node_id`, lasting `ApiConfig::job_lease_ms`), so no two nodes do the same work
//! at once and the claims of a node that died are taken over once their lease ends.

use vouch_domain::event::RequestInfo;
use vouch_domain::transition::Command;
use vouch_store::{DueClaim, HeldJob, JobLease, PRUNE_EVENTS, PRUNE_IDEMPOTENCY};

use crate::error::ApiError;
use crate::handlers::mutate;
use crate::state::AppState;

/// Sessions one due-work round claims at most.
const DUE_BATCH: usize = 100;

/// Claims sessions with work due — a pending verification outcome (the end of `processing`)
/// or a redaction — applies each, and releases the claims. Each transition commits its state
/// change, events and report (or the erased copies) together, under the session's row lock;
/// a crash before the commit redoes it once the claim's lease runs out, and a second visit
/// (a lease that ran out mid-work and was taken over) finds nothing due, so each applies
/// exactly once. A session whose transition fails stays claimed: it is retried after the
/// lease. Then the store makes the erased bytes unrecoverable; if it cannot yet (readers),
/// the next tick tries again (`flush_pending`).
pub async fn due_tick(state: &AppState, flush_pending: &mut bool) -> Result<usize, ApiError> {
    let owner = state.config.node_id.as_str();
    let claimed = state
        .store
        .claim_due_sessions(DueClaim {
            owner,
            now_ms: state.clock.now_ms(),
            lease_ms: state.config.job_lease_ms,
            limit: DUE_BATCH,
        })
        .await?;
    let mut done = Vec::with_capacity(claimed.len());
    let mut erased = false;
    for claim in claimed {
        let command = Command::RunDue;
        match mutate(
            state,
            &claim.account,
            &claim.id,
            RequestInfo::default(),
            command,
        )
        .await
        {
            Ok(outcome) => {
                erased |= outcome.redacted_now;
                done.push(claim);
            }
            Err(e) => {
                tracing::error!(session = %claim.id, error = ?e, "due work failed; retried after its lease");
            }
        }
    }
    state.store.release_due_sessions(owner, &done).await?;
    if erased || *flush_pending {
        *flush_pending = !state.store.flush_erased().await?;
    }
    Ok(done.len())
}

/// Forgets idempotency keys older than 24 hours, unless another node is pruning them.
pub async fn prune_tick(state: &AppState) -> Result<usize, ApiError> {
    let before = state.clock.now_ms() - crate::idempotency::TTL_MS;
    leased(state, PRUNE_IDEMPOTENCY, |job| async move {
        state.store.prune_idempotency(before, &job).await
    })
    .await
}

/// Deletes events older than `retention_ms` with their deliveries, unless another node is
/// pruning them.
pub async fn prune_events_tick(state: &AppState, retention_ms: i64) -> Result<usize, ApiError> {
    let before = (state.clock.now_ms() - retention_ms).div_euclid(1000);
    leased(state, PRUNE_EVENTS, |job| async move {
        state.store.prune_events(before, &job).await
    })
    .await
}

/// Runs `work` under the lease of job `kind` if this node can take it (0 when another node
/// holds it), then gives the lease back. `work` checks the lease in its own transaction.
async fn leased<F, Fut>(state: &AppState, kind: &str, work: F) -> Result<usize, ApiError>
where
    F: FnOnce(HeldJob) -> Fut,
    Fut: std::future::Future<Output = vouch_store::Result<Option<usize>>>,
{
    let lease = JobLease {
        kind,
        owner: &state.config.node_id,
        now_ms: state.clock.now_ms(),
        lease_ms: state.config.job_lease_ms,
    };
    let Some(job) = state.store.acquire_job(lease).await? else {
        return Ok(0);
    };
    let done = work(job.clone()).await?;
    state.store.release_job(&job).await?;
    Ok(done.unwrap_or(0))
}
