//! PostgreSQL: claims on background jobs, shared by every node on the database. A due-work
//! claim locks its rows with `FOR UPDATE SKIP LOCKED` and leases them, so concurrent claimers
//! never get the same session and a dead node's claims are taken over once their lease ends.
//! A job lease is one row per kind, taken with an upsert that only wins when the lease is free
//! or ran out.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::outbox::{execute, query};
use super::{unavailable, PostgresStore};
use crate::jobs::{self, ClaimedSession, DueClaim, HeldJob, JobLease, JobStore};
use crate::query::Arg;
use crate::Result;

/// Whether `job` is still held, locking its row until the caller's transaction ends: a node
/// taking the lease over waits until the work under it has committed.
pub(crate) async fn holds(tx: &impl GenericClient, job: &HeldJob) -> Result<bool> {
    let rows = query(
        tx,
        &format!("{} FOR UPDATE", jobs::HOLDS_JOB),
        vec![
            Arg::Text(job.kind.clone()),
            Arg::Text(job.owner.clone()),
            Arg::Int(job.lease_until_ms),
        ],
    )
    .await?;
    Ok(!rows.is_empty())
}

#[async_trait]
impl JobStore for PostgresStore {
    async fn claim_due_sessions(&self, claim: DueClaim<'_>) -> Result<Vec<ClaimedSession>> {
        let client = self.client().await?;
        let lease = claim.now_ms + claim.lease_ms;
        // One statement, so one implicit transaction: the rows are locked (skipping those
        // another node is locking), checked again on their newest version, and leased.
        let rows = query(
            &client,
            &jobs::claim_due("FOR UPDATE SKIP LOCKED"),
            vec![
                Arg::Text(claim.owner.to_owned()),
                Arg::Int(lease),
                Arg::Int(claim.now_ms),
                Arg::Int(claim.now_ms),
                Arg::Int(claim.limit as i64),
            ],
        )
        .await?;
        let rows = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        Ok(jobs::claimed(rows, lease))
    }

    async fn release_due_sessions(&self, owner: &str, claimed: &[ClaimedSession]) -> Result<usize> {
        if claimed.is_empty() {
            return Ok(0);
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        let mut released = 0;
        for c in claimed {
            released += execute(
                &tx,
                jobs::RELEASE_DUE,
                &[&c.id.as_str(), &c.account, &owner, &c.lease_until_ms],
            )
            .await?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(released as usize)
    }

    async fn acquire_job(&self, lease: JobLease<'_>) -> Result<Option<HeldJob>> {
        let client = self.client().await?;
        let until = lease.now_ms + lease.lease_ms;
        let rows = query(
            &client,
            jobs::ACQUIRE_JOB,
            vec![
                Arg::Text(lease.kind.to_owned()),
                Arg::Text(lease.owner.to_owned()),
                Arg::Int(until),
                Arg::Int(lease.now_ms),
            ],
        )
        .await?;
        Ok(rows.first().map(|r| HeldJob {
            kind: lease.kind.to_owned(),
            owner: lease.owner.to_owned(),
            lease_until_ms: r.get(0),
        }))
    }

    async fn release_job(&self, job: &HeldJob) -> Result<bool> {
        let client = self.client().await?;
        let n = execute(
            &client,
            jobs::RELEASE_JOB,
            &[&job.kind, &job.owner, &job.lease_until_ms],
        )
        .await?;
        Ok(n > 0)
    }
}
