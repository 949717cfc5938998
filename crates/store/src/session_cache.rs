//! A per-process cache of decoded sessions, validated against the database on every read.
//!
//! Reading a session row is cheap; decoding its stored JSON (and rendering it for the API) is
//! not. Each read still asks the database for the row's `version` (every change increments it,
//! in the same transaction), and the cached entry is used only when its version is that one.
//! So the cache can never serve a session older than the database does — whoever wrote it:
//! this process, another node on the same PostgreSQL database, or another process on the same
//! SQLite file. Nothing has to invalidate it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::SessionEntry;

/// Memory the cache may use when nothing else is configured (`--session-cache-mb`).
pub const DEFAULT_BYTES: usize = 48 << 20;

/// What one cached session costs in memory, from the length of its stored JSON: the decoded
/// session takes about as much again as its JSON, and its rendering for the API as much
/// again (measured: about 2.3 KB resident per session of 690 bytes of JSON).
pub(crate) fn cost_of(json_len: usize) -> usize {
    3 * json_len + 256
}

pub(crate) struct SessionCache {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<Box<str>, (Arc<SessionEntry>, usize)>,
    /// Ids in the order they were first cached: the oldest is evicted first.
    order: VecDeque<Box<str>>,
    used: usize,
}

impl SessionCache {
    /// A cache of at most `budget` bytes (0 turns it off).
    pub(crate) fn new(budget: usize) -> SessionCache {
        SessionCache {
            budget,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The cached session `id` if it is at `version`.
    pub(crate) fn get(&self, id: &str, version: i64) -> Option<Arc<SessionEntry>> {
        if self.budget == 0 {
            return None;
        }
        let inner = crate::lock(&self.inner);
        inner
            .by_id
            .get(id)
            .filter(|(e, _)| e.version == version)
            .map(|(e, _)| e.clone())
    }

    /// Keeps `entry` (costing `cost` bytes), replacing an older version of the same session.
    pub(crate) fn put(&self, entry: &Arc<SessionEntry>, cost: usize) {
        if self.budget == 0 || cost > self.budget {
            return;
        }
        let mut inner = crate::lock(&self.inner);
        let id: Box<str> = entry.session.id.as_str().into();
        let replaced = match inner.by_id.get_mut(&id) {
            Some((old, _)) if old.version >= entry.version => return,
            Some(slot) => std::mem::replace(slot, (entry.clone(), cost)).1,
            None => {
                inner.by_id.insert(id.clone(), (entry.clone(), cost));
                inner.order.push_back(id);
                0
            }
        };
        inner.used = inner.used + cost - replaced;
        while inner.used > self.budget {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some((_, freed)) = inner.by_id.remove(&oldest) {
                inner.used -= freed;
            }
        }
    }

    /// The entry for a row read at `version` whose stored JSON is `json_len` bytes: the cached
    /// one, or `decode`d and cached.
    pub(crate) fn entry(
        &self,
        version: i64,
        id: &str,
        json_len: usize,
        decode: impl FnOnce() -> crate::Result<vouch_domain::session::Session>,
    ) -> crate::Result<Arc<SessionEntry>> {
        if let Some(hit) = self.get(id, version) {
            return Ok(hit);
        }
        let entry = Arc::new(SessionEntry::new(decode()?, version));
        self.put(&entry, cost_of(json_len));
        Ok(entry)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        crate::lock(&self.inner).by_id.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::SeedableRng;
    use vouch_domain::event::RequestInfo;
    use vouch_domain::ids::SessionId;
    use vouch_domain::session::{Account, Session, SessionType};
    use vouch_domain::transition::{create, Ctx, NewSession};

    fn session(id: &str) -> Session {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut ctx = Ctx {
            now_ms: 1_700_000_000_000,
            request: RequestInfo::default(),
            rng: &mut rng,
        };
        let account = Account {
            id: "acct_1".into(),
            livemode: false,
        };
        let new = NewSession {
            kind: Some(SessionType::Document),
            ..NewSession::default()
        };
        let (mut s, _) = create(&account, new, &mut ctx).unwrap();
        s.id = SessionId::parse(id).unwrap();
        s
    }

    #[test]
    fn serves_only_the_version_asked_for_and_never_goes_back() {
        let cache = SessionCache::new(4 * cost_of(700));
        let id = "vs_1aaaaaaaaaaaaaaaaaaaaaaa";
        let v1 = cache.entry(1, id, 700, || Ok(session(id))).unwrap();
        assert!(Arc::ptr_eq(
            &v1,
            &cache
                .entry(1, id, 700, || Err(crate::StoreError::NotFound))
                .unwrap()
        ));
        assert!(cache.get(id, 2).is_none(), "another version is a miss");
        let v2 = cache.entry(2, id, 700, || Ok(session(id))).unwrap();
        assert!(!Arc::ptr_eq(&v1, &v2));
        assert_eq!(cache.len(), 1);
        // A reader that raced the change and read version 1 does not replace version 2.
        cache.put(&Arc::new(SessionEntry::new(session(id), 1)), cost_of(700));
        assert!(Arc::ptr_eq(&v2, &cache.get(id, 2).unwrap()));
    }

    #[test]
    fn evicts_the_oldest_beyond_its_budget() {
        let cache = SessionCache::new(2 * cost_of(700) + 10);
        let ids = [
            "vs_1aaaaaaaaaaaaaaaaaaaaaaa",
            "vs_1bbbbbbbbbbbbbbbbbbbbbbb",
            "vs_1ccccccccccccccccccccccc",
        ];
        for id in ids {
            cache.entry(1, id, 700, || Ok(session(id))).unwrap();
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.get(ids[0], 1).is_none());
        assert!(cache.get(ids[2], 1).is_some());
        assert_eq!(crate::lock(&cache.inner).used, 2 * cost_of(700));
        let off = SessionCache::new(0);
        off.entry(1, ids[0], 700, || Ok(session(ids[0]))).unwrap();
        assert!(
            off.get(ids[0], 1).is_none(),
            "a budget of 0 turns the cache off"
        );
    }
}
