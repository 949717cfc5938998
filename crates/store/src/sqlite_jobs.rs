//! SQLite: claims on background jobs. Claims run on the single writer connection inside one
//! IMMEDIATE transaction (and SQLite's file lock serializes several processes on one file),
//! so two claimers can never take the same row; the lease columns are PostgreSQL's, so both
//! backends keep one contract.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Transaction};

use super::{unavailable, SqliteStore};
use crate::jobs::{self, ClaimedSession, DueClaim, HeldJob, JobLease, JobStore};
use crate::Result;

/// Whether `job` is still held; work under a job lease checks it in its own transaction.
pub(crate) fn holds(tx: &Transaction<'_>, job: &HeldJob) -> Result<bool> {
    tx.prepare_cached(jobs::HOLDS_JOB)
        .map_err(unavailable)?
        .query_row(params![job.kind, job.owner, job.lease_until_ms], |_| Ok(()))
        .optional()
        .map(|r| r.is_some())
        .map_err(unavailable)
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn claim_due_sessions(&self, claim: DueClaim<'_>) -> Result<Vec<ClaimedSession>> {
        let now = claim.now_ms;
        // Most ticks find nothing: look on a reader first and leave the writer alone.
        let any = self
            .read(move |c| {
                c.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM sessions
                     WHERE due_ms IS NOT NULL AND due_ms <= ?1
                       AND (due_lease_until_ms IS NULL OR due_lease_until_ms <= ?1))",
                )
                .map_err(unavailable)?
                .query_row([now], |r| r.get::<_, bool>(0))
                .map_err(unavailable)
            })
            .await?;
        if !any {
            return Ok(Vec::new());
        }
        let owner = claim.owner.to_owned();
        let lease = now + claim.lease_ms;
        let limit = claim.limit as i64;
        let rows = self
            .write(move |tx| {
                let mut stmt = tx
                    .prepare_cached(&jobs::claim_due(""))
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map(params![owner, lease, now, now, limit], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .map_err(unavailable)?
                    .collect::<rusqlite::Result<Vec<(String, String, i64)>>>()
                    .map_err(unavailable)?;
                Ok(rows)
            })
            .await?;
        Ok(jobs::claimed(rows, lease))
    }

    async fn release_due_sessions(&self, owner: &str, claimed: &[ClaimedSession]) -> Result<usize> {
        if claimed.is_empty() {
            return Ok(0);
        }
        let owner = owner.to_owned();
        let claimed = claimed.to_vec();
        self.write(move |tx| {
            let mut stmt = tx.prepare_cached(jobs::RELEASE_DUE).map_err(unavailable)?;
            let mut released = 0;
            for c in &claimed {
                released += stmt
                    .execute(params![c.id.as_str(), c.account, owner, c.lease_until_ms])
                    .map_err(unavailable)?;
            }
            Ok(released)
        })
        .await
    }

    async fn acquire_job(&self, lease: JobLease<'_>) -> Result<Option<HeldJob>> {
        let (kind, owner) = (lease.kind.to_owned(), lease.owner.to_owned());
        let until = lease.now_ms + lease.lease_ms;
        let now = lease.now_ms;
        self.write(move |tx| {
            let got: Option<i64> = tx
                .prepare_cached(jobs::ACQUIRE_JOB)
                .map_err(unavailable)?
                .query_row(params![kind, owner, until, now], |r| r.get(0))
                .optional()
                .map_err(unavailable)?;
            Ok(got.map(|lease_until_ms| HeldJob {
                kind: kind.clone(),
                owner: owner.clone(),
                lease_until_ms,
            }))
        })
        .await
    }

    async fn release_job(&self, job: &HeldJob) -> Result<bool> {
        let job = job.clone();
        self.write(move |tx| {
            tx.prepare_cached(jobs::RELEASE_JOB)
                .map_err(unavailable)?
                .execute(params![job.kind, job.owner, job.lease_until_ms])
                .map(|n| n > 0)
                .map_err(unavailable)
        })
        .await
    }
}
