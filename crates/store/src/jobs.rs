//! Background jobs shared by every node, claimed so that none runs twice: the due work of
//! sessions (pending verification outcomes, redactions) is leased per session; pruning is a
//! job one node at a time holds. The types of the `JobStore` methods and the SQL both backends
//! share (written with `?`; PostgreSQL numbers them with `numbered`).

use async_trait::async_trait;
use vouch_domain::ids::SessionId;

use crate::Result;

/// Claims on background work. A claim is a lease: `owner` (a node) holds the work until
/// `lease_until_ms`; after that any worker may take it over.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Leases sessions whose due work has come (`due_ms <= now_ms`) and that no live lease
    /// holds, oldest first. On PostgreSQL rows another node is claiming are skipped
    /// (`FOR UPDATE SKIP LOCKED`), so concurrent claimers never get the same session.
    async fn claim_due_sessions(&self, claim: DueClaim<'_>) -> Result<Vec<ClaimedSession>>;
    /// Gives claimed sessions back; only leases this claim still holds are released (one that
    /// ran out and was taken over stays with its new owner). Returns how many it released.
    async fn release_due_sessions(&self, owner: &str, claimed: &[ClaimedSession]) -> Result<usize>;

    /// Takes the lease on a job one node at a time runs, if no node holds it or its lease has
    /// run out. `None`: another node holds it.
    async fn acquire_job(&self, lease: JobLease<'_>) -> Result<Option<HeldJob>>;
    /// Gives a job back; false when its lease had run out and another node took it over.
    async fn release_job(&self, job: &HeldJob) -> Result<bool>;
}

/// What a due-work worker asks for.
#[derive(Debug, Clone)]
pub struct DueClaim<'a> {
    /// The claiming node.
    pub owner: &'a str,
    pub now_ms: i64,
    /// The lease lasts until `now_ms + lease_ms`; it should outlast one batch of transitions.
    pub lease_ms: i64,
    pub limit: usize,
}

/// A due session leased to one worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedSession {
    pub account: String,
    pub id: SessionId,
    /// The lease's end: with the owner, the token that releases it.
    pub lease_until_ms: i64,
}

/// A request for a job's lease.
#[derive(Debug, Clone)]
pub struct JobLease<'a> {
    /// Which job, e.g. [`PRUNE_IDEMPOTENCY`].
    pub kind: &'a str,
    pub owner: &'a str,
    pub now_ms: i64,
    pub lease_ms: i64,
}

/// A job lease this node holds. Work done under it (pruning) checks, in its own transaction,
/// that the lease is still held, and holds the lease row until it commits: a node taking over
/// an expired lease waits for that work to finish, and work whose lease was taken over does
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldJob {
    pub kind: String,
    pub owner: String,
    pub lease_until_ms: i64,
}

/// Forgetting idempotency keys past their 24 hours.
pub const PRUNE_IDEMPOTENCY: &str = "prune_idempotency";
/// Deleting events past their retention, with their deliveries.
pub const PRUNE_EVENTS: &str = "prune_events";

// ---- SQL ---------------------------------------------------------------------------------

/// Leases due, unleased sessions: owner, lease end, now, now, limit. `lock` is appended to
/// the inner select (PostgreSQL: `FOR UPDATE SKIP LOCKED`). Served by `sessions_due`.
pub(crate) fn claim_due(lock: &str) -> String {
    format!(
        "UPDATE sessions SET due_owner = ?, due_lease_until_ms = ?
         WHERE seq IN (
             SELECT seq FROM sessions
             WHERE due_ms IS NOT NULL AND due_ms <= ?
               AND (due_lease_until_ms IS NULL OR due_lease_until_ms <= ?)
             ORDER BY due_ms LIMIT ? {lock})
         RETURNING account, id, due_ms"
    )
}

/// Releases one claimed session if this lease still holds it.
pub(crate) const RELEASE_DUE: &str =
    "UPDATE sessions SET due_owner = NULL, due_lease_until_ms = NULL
     WHERE id = ? AND account = ? AND due_owner = ? AND due_lease_until_ms = ?";

/// Takes a job's lease when it is free or ran out: kind, owner, lease end, now.
pub(crate) const ACQUIRE_JOB: &str =
    "INSERT INTO job_leases (kind, owner, lease_until_ms) VALUES (?, ?, ?)
     ON CONFLICT (kind) DO UPDATE
         SET owner = excluded.owner, lease_until_ms = excluded.lease_until_ms
         WHERE job_leases.lease_until_ms <= ?
     RETURNING lease_until_ms";

pub(crate) const RELEASE_JOB: &str =
    "DELETE FROM job_leases WHERE kind = ? AND owner = ? AND lease_until_ms = ?";

/// Whether a job lease is still held (PostgreSQL appends `FOR UPDATE` to hold it).
pub(crate) const HOLDS_JOB: &str =
    "SELECT 1 FROM job_leases WHERE kind = ? AND owner = ? AND lease_until_ms = ?";

/// Claimed rows, oldest due first; rows with an id that does not parse are skipped.
pub(crate) fn claimed(
    mut rows: Vec<(String, String, i64)>,
    lease_until_ms: i64,
) -> Vec<ClaimedSession> {
    rows.sort_by_key(|(_, _, due)| *due);
    rows.into_iter()
        .filter_map(|(account, id, _)| {
            SessionId::parse(&id).map(|id| ClaimedSession {
                account,
                id,
                lease_until_ms,
            })
        })
        .collect()
}
