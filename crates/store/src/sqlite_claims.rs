//! Idempotency keys held by requests still running, for a process alone on its SQLite file.
//!
//! Every POST of the official SDKs carries an `Idempotency-Key`. Stored durably, a key costs
//! three trips through the one writer: the claim, the request's own write, the stored
//! response. A process alone on its file (`sqlite_share.rs`) is the only one that can see a
//! claim, so it keeps running claims here and writes a key once, with its response, when the
//! request completes. A durable claim protects nothing more: after a crash, a claim held in
//! memory is gone and a retry runs again at once; a durable one makes the retry wait out its
//! lease (60 s) and then run again all the same.
//!
//! When another process asks to share the file, the running claims are written to the
//! database before the lock is shared (in the writer's queue ahead of anything queued after
//! them), and from then on every claim takes the durable path.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::{IdempotencyBegin, IdempotencyClaim, Result};

/// Past this many running claims, those whose lease ended (their request was dropped without
/// completing) are swept out when the next claim is made.
const SWEEP_ABOVE: usize = 4096;

/// A claim held in memory.
#[derive(Debug, Clone)]
pub(crate) struct Running {
    pub fingerprint: String,
    pub created_ms: i64,
    pub locked_until_ms: i64,
}

/// A stored idempotency row, as `begin` reads it.
pub(crate) struct StoredKey {
    pub created_ms: i64,
    pub fingerprint: String,
    pub status: Option<i64>,
    pub body: Option<String>,
    pub session_id: Option<String>,
    pub locked_until_ms: i64,
}

impl StoredKey {
    /// What the row answers a claim made at `now` (`None`: it is gone or abandoned, and the
    /// claim may take the key).
    pub fn answer(self, claim: &IdempotencyClaim<'_>) -> Option<IdempotencyBegin> {
        let live = self.created_ms > claim.now_ms - claim.ttl_ms;
        let abandoned = self.status.is_none() && self.locked_until_ms <= claim.now_ms;
        if !live || abandoned {
            return None;
        }
        if self.fingerprint != claim.fingerprint {
            return Some(IdempotencyBegin::Mismatch);
        }
        Some(IdempotencyBegin::finished(
            self.status,
            self.body,
            self.session_id,
        ))
    }
}

type Key = (String, String);

struct Inner {
    /// The file is shared (or about to be): claims are durable.
    shared: bool,
    running: HashMap<Key, Running>,
}

pub(crate) struct Claims {
    inner: Mutex<Inner>,
}

impl Claims {
    pub fn new(alone: bool) -> Claims {
        Claims {
            inner: Mutex::new(Inner {
                shared: !alone,
                running: HashMap::new(),
            }),
        }
    }

    /// Claims a key in memory. `None` when the file is shared: the caller claims it durably.
    /// `read` reads the key's stored row; it runs under the lock, so that a completion (which
    /// commits its row before it drops the claim) is always seen one way or the other.
    pub fn begin(
        &self,
        claim: &IdempotencyClaim<'_>,
        read: impl FnOnce() -> Result<Option<StoredKey>>,
    ) -> Option<Result<IdempotencyBegin>> {
        let mut inner = crate::lock(&self.inner);
        if inner.shared {
            return None;
        }
        let key = (claim.account.to_owned(), claim.key.to_owned());
        if let Some(run) = inner.running.get(&key) {
            if run.locked_until_ms > claim.now_ms {
                return Some(Ok(if run.fingerprint == claim.fingerprint {
                    IdempotencyBegin::InProgress
                } else {
                    IdempotencyBegin::Mismatch
                }));
            }
        }
        match read() {
            Err(e) => return Some(Err(e)),
            Ok(Some(row)) => {
                if let Some(answer) = row.answer(claim) {
                    return Some(Ok(answer));
                }
            }
            Ok(None) => {}
        }
        if inner.running.len() >= SWEEP_ABOVE {
            inner
                .running
                .retain(|_, run| run.locked_until_ms > claim.now_ms);
        }
        inner.running.insert(
            key,
            Running {
                fingerprint: claim.fingerprint.to_owned(),
                created_ms: claim.now_ms,
                locked_until_ms: claim.now_ms.saturating_add(claim.lease_ms),
            },
        );
        Some(Ok(IdempotencyBegin::Started))
    }

    /// The claim held in memory for this key, if any.
    pub fn get(&self, account: &str, key: &str) -> Option<Running> {
        let inner = crate::lock(&self.inner);
        inner
            .running
            .get(&(account.to_owned(), key.to_owned()))
            .cloned()
    }

    /// Drops the claim (after its response was committed, or its request did not run).
    /// True when it was held here and never written to the database.
    pub fn remove(&self, account: &str, key: &str) -> bool {
        let mut inner = crate::lock(&self.inner);
        let held = inner
            .running
            .remove(&(account.to_owned(), key.to_owned()))
            .is_some();
        held && !inner.shared
    }

    /// From now on claims are durable. `flush` gets the running claims, under the lock, and
    /// must queue their durable writes before it returns: anything that completes or drops
    /// one of them afterwards is queued behind.
    pub fn share(&self, flush: impl FnOnce(Vec<(Key, Running)>)) {
        let mut inner = crate::lock(&self.inner);
        inner.shared = true;
        let running = inner
            .running
            .iter()
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect();
        flush(running);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn claim<'a>(key: &'a str, fingerprint: &'a str, now_ms: i64) -> IdempotencyClaim<'a> {
        IdempotencyClaim {
            account: "acct_a",
            key,
            fingerprint,
            now_ms,
            lease_ms: 1_000,
            ttl_ms: 100_000,
        }
    }

    fn begin(claims: &Claims, c: &IdempotencyClaim<'_>) -> IdempotencyBegin {
        claims.begin(c, || Ok(None)).unwrap().unwrap()
    }

    #[test]
    fn a_running_claim_answers_in_progress_until_its_lease_ends() {
        let claims = Claims::new(true);
        assert!(matches!(
            begin(&claims, &claim("k", "f", 0)),
            IdempotencyBegin::Started
        ));
        assert!(matches!(
            begin(&claims, &claim("k", "f", 999)),
            IdempotencyBegin::InProgress
        ));
        assert!(matches!(
            begin(&claims, &claim("k", "other", 999)),
            IdempotencyBegin::Mismatch
        ));
        // Its request was dropped without completing: the lease ends, a retry takes over.
        assert!(matches!(
            begin(&claims, &claim("k", "f", 1_000)),
            IdempotencyBegin::Started
        ));
        assert!(claims.remove("acct_a", "k"));
        assert!(!claims.remove("acct_a", "k"));
    }

    #[test]
    fn a_shared_file_claims_durably_and_hands_over_what_runs() {
        let claims = Claims::new(true);
        begin(&claims, &claim("k", "f", 0));
        let mut flushed = Vec::new();
        claims.share(|running| flushed = running);
        assert_eq!(flushed.len(), 1);
        assert_eq!(flushed[0].0 .1, "k");
        assert!(claims.begin(&claim("k2", "f", 0), || Ok(None)).is_none());
        // Its completion still finds it, but it was written to the database.
        assert!(claims.get("acct_a", "k").is_some());
        assert!(!claims.remove("acct_a", "k"));
        assert!(Claims::new(false)
            .begin(&claim("k", "f", 0), || Ok(None))
            .is_none());
    }
}
