//! A per-process cache of decoded sessions.
//!
//! Reading a session row is cheap; decoding its stored JSON (and rendering it for the API) is
//! not, and when the process is alone on its SQLite file even the read — a read transaction,
//! its file locks and page lookups — costs more than the rest of a retrieve. So:
//!
//! - **Alone** (this process holds the file's `-vouch.lock` exclusively; see
//!   `sqlite_share.rs`): every change of a session goes through this process's one writer,
//!   which takes the session out of the cache *before* its transaction commits and keeps it
//!   out until the commit is over ([`SessionCache::begin_change`],
//!   [`SessionCache::settle`]). A retrieve is then served from the cache without touching the
//!   database. A reader that missed may put what it read only if no change settled since it
//!   began (a generation check) and none is under way for that session, so a read that
//!   raced a change can never bring the old version back.
//! - **Shared** (another process uses the file too — another node on the same machine): each
//!   read still asks the database for the row's `version` (every change increments it in the
//!   same transaction) and uses the cached entry only at that version, so it can never serve
//!   a session older than the database, whoever wrote it.
//!
//! Lists always read their page from the database and take each item's decoded session and
//! rendering from the cache when its version matches.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::SessionEntry;

/// Memory the cache may use when nothing else is configured (`--session-cache-mb`). With the
/// rest of the process at about 95 MB under load on a 1,000,000-session database, this keeps
/// the resident size under the 150 MB that docs/benchmarks.md sets, and holds about 22,000
/// sessions.
pub const DEFAULT_BYTES: usize = 40 << 20;

/// What one cached session costs in memory, from the length of its stored JSON. Measured
/// (docs/benchmarks.md): caching 90,000 sessions of about 690 bytes of JSON each, with the
/// cache large enough for all, added 173 MB to the resident size over the same walk without
/// a cache: about 1.9 KB each (the decoded session, its rendering for the API, the keys, the
/// maps' slots and the allocator's slack). The stored JSON has since left out its empty
/// fields (about 340 bytes of a typical session, 690 -> 345), which changed none of that
/// memory: the constant keeps the cost of the same session where it was measured (a row
/// written before, with its nulls, counts a little more than it costs).
pub(crate) fn cost_of(json_len: usize) -> usize {
    2 * json_len + 1200
}

pub(crate) struct SessionCache {
    budget: usize,
    /// Alone on the file: entries are trusted without asking the database.
    alone: AtomicBool,
    inner: Mutex<Inner>,
}

/// A fast hash for the cache's keys. SipHash guards maps whose keys an attacker chooses;
/// these keys are ids and row numbers vouch generated (a request can only look one up), and
/// hashing them was a tenth of a list's work.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_i64(&mut self, word: i64) {
        self.write_u64(word as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One cached session.
struct Slot {
    entry: Arc<SessionEntry>,
    /// What it costs (`cost_of`).
    cost: usize,
    /// Its row's `seq`.
    seq: i64,
    /// When it was last put or served (`Inner::clock`).
    used: u64,
}

/// How many cached sessions eviction looks at to choose the least recently used of them.
const EVICTION_SAMPLE: usize = 4;

struct Inner {
    by_id: FastMap<Box<str>, Slot>,
    /// `seq` to id, for lists read from an index.
    by_seq: FastMap<i64, Box<str>>,
    /// Every cached id, in no particular order. Eviction samples a few at random and drops
    /// the least recently used of them: sessions nobody asks for any more go first (a random
    /// victim would as often be one in use), and a scan that walks more sessions than fit
    /// still keeps part of them (exact LRU would miss every time). A change leaves its id
    /// here (finding it would cost the writer a scan); such stale ids are dropped first when
    /// sampled, and the list is rebuilt when they pile up.
    ids: Vec<Box<str>>,
    /// Counts puts and hits: the `used` stamp.
    clock: u64,
    used: usize,
    /// Bumped each time the writer settles changes.
    generation: u64,
    /// Sessions whose change has begun and not yet settled (with how many changes).
    changing: FastMap<Box<str>, u32>,
    /// Changes begun since the last settle, in order.
    unsettled: Vec<Box<str>>,
    /// xorshift state for picking evictions.
    rng: u64,
}

impl Inner {
    /// The cached session `id`, stamped as just used.
    fn hit(&mut self, id: &str) -> Option<(Arc<SessionEntry>, i64)> {
        self.clock += 1;
        let now = self.clock;
        let slot = self.by_id.get_mut(id)?;
        slot.used = now;
        Some((slot.entry.clone(), slot.seq))
    }

    /// Drops the least recently used of a few sessions picked at random (a stale id, one
    /// whose session a change took out, counts as never used and just leaves the list).
    fn evict_one(&mut self) {
        let mut victim: Option<(usize, u64)> = None;
        for _ in 0..EVICTION_SAMPLE {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            let at = (self.rng % self.ids.len() as u64) as usize;
            let used = self.by_id.get(&self.ids[at]).map_or(0, |s| s.used);
            if victim.is_none_or(|(_, oldest)| used < oldest) {
                victim = Some((at, used));
            }
        }
        let Some((at, _)) = victim else { return };
        let id = self.ids.swap_remove(at);
        if let Some(slot) = self.by_id.remove(&id) {
            self.by_seq.remove(&slot.seq);
            self.used -= slot.cost;
        }
    }
}

/// What a reader must remember from before its read to offer the result to the cache.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

impl SessionCache {
    /// A cache of at most `budget` bytes (0 turns it off), shared until told it is alone.
    pub(crate) fn new(budget: usize) -> SessionCache {
        SessionCache {
            budget,
            alone: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                by_id: FastMap::default(),
                by_seq: FastMap::default(),
                ids: Vec::new(),
                used: 0,
                generation: 0,
                changing: FastMap::default(),
                unsettled: Vec::new(),
                rng: 0x9E37_79B9_7F4A_7C15,
                clock: 0,
            }),
        }
    }

    /// Whether entries are trusted without asking the database.
    pub(crate) fn alone(&self) -> bool {
        self.budget > 0 && self.alone.load(Ordering::Acquire)
    }

    /// Alone on the file (`true`), or from now on sharing it with another process (`false`).
    pub(crate) fn set_alone(&self, alone: bool) {
        self.alone.store(alone, Ordering::Release);
    }

    /// Taken before a read whose result may be offered with [`SessionCache::entry`].
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(crate::lock(&self.inner).generation)
    }

    /// The cached session `id`, whatever its version: only while [`SessionCache::alone`].
    pub(crate) fn get_trusted(&self, id: &str) -> Option<Arc<SessionEntry>> {
        self.get_trusted_row(id).map(|(entry, _)| entry)
    }

    /// [`SessionCache::get_trusted`], with the `seq` of the session's row.
    pub(crate) fn get_trusted_row(&self, id: &str) -> Option<(Arc<SessionEntry>, i64)> {
        if !self.alone() {
            return None;
        }
        let mut inner = crate::lock(&self.inner);
        inner.hit(id)
    }

    /// The cached sessions of rows `seqs`, whatever their versions: only while
    /// [`SessionCache::alone`] (else all `None`).
    pub(crate) fn get_trusted_seqs(&self, seqs: &[i64]) -> Vec<Option<Arc<SessionEntry>>> {
        if !self.alone() {
            return vec![None; seqs.len()];
        }
        let mut guard = crate::lock(&self.inner);
        let Inner {
            by_id,
            by_seq,
            clock,
            ..
        } = &mut *guard;
        seqs.iter()
            .map(|seq| {
                *clock += 1;
                let slot = by_id.get_mut(by_seq.get(seq)?)?;
                slot.used = *clock;
                Some(slot.entry.clone())
            })
            .collect()
    }

    /// The cached session `id` if it is at `version`.
    pub(crate) fn get(&self, id: &str, version: i64) -> Option<Arc<SessionEntry>> {
        if self.budget == 0 {
            return None;
        }
        let mut inner = crate::lock(&self.inner);
        inner.clock += 1;
        let now = inner.clock;
        let slot = inner
            .by_id
            .get_mut(id)
            .filter(|s| s.entry.version == version)?;
        slot.used = now;
        Some(slot.entry.clone())
    }

    /// Keeps `entry` (row `seq`, costing `cost` bytes), read after `ticket` was taken, unless
    /// a change settled since or one of this session is under way; never replaces a newer
    /// version.
    pub(crate) fn put(&self, entry: &Arc<SessionEntry>, seq: i64, cost: usize, ticket: Ticket) {
        if self.budget == 0 || cost > self.budget {
            return;
        }
        let mut inner = crate::lock(&self.inner);
        let id: Box<str> = entry.session.id.as_str().into();
        if inner.generation != ticket.0 || inner.changing.contains_key(&id) {
            return;
        }
        inner.clock += 1;
        let slot = Slot {
            entry: entry.clone(),
            cost,
            seq,
            used: inner.clock,
        };
        let replaced = match inner.by_id.get_mut(&id) {
            Some(old) if old.entry.version >= entry.version => return,
            Some(old) => std::mem::replace(old, slot).cost,
            None => {
                inner.by_id.insert(id.clone(), slot);
                inner.by_seq.insert(seq, id.clone());
                inner.ids.push(id);
                0
            }
        };
        inner.used = inner.used + cost - replaced;
        while inner.used > self.budget && !inner.ids.is_empty() {
            inner.evict_one();
        }
    }

    /// The entry for a row read at `version` (after `ticket`): the cached one, or `decode`d
    /// (the session and the length of its stored JSON) and offered to the cache.
    pub(crate) fn entry(
        &self,
        ticket: Ticket,
        (seq, version): (i64, i64),
        id: &str,
        decode: impl FnOnce() -> crate::Result<(vouch_domain::session::Session, usize)>,
    ) -> crate::Result<Arc<SessionEntry>> {
        if let Some(hit) = self.get(id, version) {
            return Ok(hit);
        }
        let (session, json_len) = decode()?;
        let entry = Arc::new(SessionEntry::new(session, version));
        self.put(&entry, seq, cost_of(json_len), ticket);
        Ok(entry)
    }

    /// The writer is about to change session `id` (before its transaction commits): it
    /// leaves the cache, and no reader may put it back until [`SessionCache::settle`].
    pub(crate) fn begin_change(&self, id: &str) {
        let mut inner = crate::lock(&self.inner);
        let id: Box<str> = id.into();
        if let Some(slot) = inner.by_id.remove(&id) {
            inner.by_seq.remove(&slot.seq);
            inner.used -= slot.cost;
            if inner.ids.len() > 2 * inner.by_id.len() + 1024 {
                // Amortized: one rebuild per as many changes as there are entries.
                inner.ids = inner.by_id.keys().cloned().collect();
            }
        }
        *inner.changing.entry(id.clone()).or_insert(0) += 1;
        inner.unsettled.push(id);
    }

    /// The writer's transaction is over (committed or not): the changes begun so far are
    /// settled, and reads that began before now may no longer fill the cache.
    pub(crate) fn settle(&self) {
        let mut inner = crate::lock(&self.inner);
        if inner.unsettled.is_empty() {
            return;
        }
        for id in std::mem::take(&mut inner.unsettled) {
            if let Some(n) = inner.changing.get_mut(&id) {
                *n -= 1;
                if *n == 0 {
                    inner.changing.remove(&id);
                }
            }
        }
        inner.generation += 1;
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

    const ID: &str = "vs_1aaaaaaaaaaaaaaaaaaaaaaa";

    fn trusted_seq(cache: &SessionCache, seq: i64) -> Option<Arc<SessionEntry>> {
        cache.get_trusted_seqs(&[seq]).remove(0)
    }

    #[test]
    fn serves_only_the_version_asked_for_and_never_goes_back() {
        let cache = SessionCache::new(4 * cost_of(700));
        let t = cache.ticket();
        let v1 = cache
            .entry(t, (7, 1), ID, || Ok((session(ID), 700)))
            .unwrap();
        let again = cache
            .entry(t, (7, 1), ID, || Err(crate::StoreError::NotFound))
            .unwrap();
        assert!(Arc::ptr_eq(&v1, &again));
        assert!(cache.get(ID, 2).is_none(), "another version is a miss");
        let v2 = cache
            .entry(t, (7, 2), ID, || Ok((session(ID), 700)))
            .unwrap();
        assert!(!Arc::ptr_eq(&v1, &v2));
        assert_eq!(cache.len(), 1);
        // A reader that raced the change and read version 1 does not replace version 2.
        cache.put(
            &Arc::new(SessionEntry::new(session(ID), 1)),
            7,
            cost_of(700),
            t,
        );
        assert!(Arc::ptr_eq(&v2, &cache.get(ID, 2).unwrap()));
    }

    #[test]
    fn trusted_only_while_alone() {
        let cache = SessionCache::new(4 * cost_of(700));
        let t = cache.ticket();
        cache
            .entry(t, (7, 1), ID, || Ok((session(ID), 700)))
            .unwrap();
        assert!(
            cache.get_trusted(ID).is_none(),
            "shared until told otherwise"
        );
        assert!(trusted_seq(&cache, 7).is_none());
        cache.set_alone(true);
        assert!(cache.get_trusted(ID).is_some());
        assert!(trusted_seq(&cache, 7).is_some());
        assert!(trusted_seq(&cache, 8).is_none());
        cache.begin_change(ID);
        assert!(
            trusted_seq(&cache, 7).is_none(),
            "a change takes it out by seq too"
        );
        cache.settle();
        let t = cache.ticket();
        cache
            .entry(t, (7, 2), ID, || Ok((session(ID), 700)))
            .unwrap();
        cache.set_alone(false);
        assert!(cache.get_trusted(ID).is_none());
        assert!(trusted_seq(&cache, 7).is_none());
        assert!(
            cache.get(ID, 2).is_some(),
            "version-checked reads still hit"
        );
    }

    #[test]
    fn a_read_that_raced_a_change_cannot_bring_the_old_version_back() {
        let cache = SessionCache::new(4 * cost_of(700));
        cache.set_alone(true);
        let old = || Arc::new(SessionEntry::new(session(ID), 1));
        // Read began before the change began, offered while it is under way: refused.
        let before = cache.ticket();
        cache.put(&old(), 7, 700, before);
        assert!(cache.get_trusted(ID).is_some());
        cache.begin_change(ID);
        assert!(
            cache.get_trusted(ID).is_none(),
            "out of the cache before the commit"
        );
        let during = cache.ticket();
        cache.put(&old(), 7, 700, during);
        assert!(
            cache.get_trusted(ID).is_none(),
            "no fill while the change is under way"
        );
        cache.settle();
        // Reads that began before the settle are refused even now; later ones are kept.
        cache.put(&old(), 7, 700, during);
        cache.put(&old(), 7, 700, before);
        assert!(
            cache.get_trusted(ID).is_none(),
            "a read from before the settle"
        );
        let after = cache.ticket();
        let new = Arc::new(SessionEntry::new(session(ID), 2));
        cache.put(&new, 7, 700, after);
        assert!(Arc::ptr_eq(&new, &cache.get_trusted(ID).unwrap()));
        // Two changes of one session in one batch: both settle at once.
        cache.begin_change(ID);
        cache.begin_change(ID);
        cache.settle();
        let t = cache.ticket();
        cache.put(&new, 7, 700, t);
        assert!(cache.get_trusted(ID).is_some());
    }

    #[test]
    fn changes_do_not_grow_the_id_list_without_bound() {
        let cache = SessionCache::new(4 * cost_of(700));
        for version in 1..5_000 {
            let t = cache.ticket();
            cache
                .entry(t, (7, version), ID, || Ok((session(ID), 700)))
                .unwrap();
            cache.begin_change(ID);
            cache.settle();
        }
        let inner = crate::lock(&cache.inner);
        assert!(inner.by_id.is_empty());
        assert!(inner.ids.len() <= 1024 + 1, "{} ids kept", inner.ids.len());
        assert_eq!(inner.used, 0);
    }

    #[test]
    fn evicts_sessions_nobody_asks_for_before_those_in_use() {
        let cache = SessionCache::new(100 * cost_of(700));
        cache.set_alone(true);
        let id = |n: usize| format!("vs_1{n:0>23}");
        let put = |n: usize| {
            let t = cache.ticket();
            cache
                .entry(t, (n as i64, 1), &id(n), || Ok((session(&id(n)), 700)))
                .unwrap();
        };
        (0..100).for_each(put);
        // Sessions 0..50 are in use (read again); 50..100 were read once, long ago.
        for n in 0..50 {
            assert!(cache.get_trusted(&id(n)).is_some());
        }
        (100..150).for_each(put);
        let kept = |range: std::ops::Range<usize>| {
            range
                .filter(|&n| cache.get_trusted(&id(n)).is_some())
                .count()
        };
        assert_eq!(cache.len(), 100);
        let (in_use, idle) = (kept(0..50), kept(50..100));
        assert!(in_use >= 40, "{in_use} of 50 sessions in use kept");
        assert!(idle <= 15, "{idle} of 50 idle sessions kept");
    }

    #[test]
    fn evicts_at_random_beyond_its_budget() {
        let cache = SessionCache::new(2 * cost_of(700) + 10);
        let ids = [
            "vs_1aaaaaaaaaaaaaaaaaaaaaaa",
            "vs_1bbbbbbbbbbbbbbbbbbbbbbb",
            "vs_1ccccccccccccccccccccccc",
        ];
        let t = cache.ticket();
        for (seq, id) in (1..).zip(ids) {
            cache
                .entry(t, (seq, 1), id, || Ok((session(id), 700)))
                .unwrap();
        }
        assert_eq!(cache.len(), 2);
        assert_eq!(crate::lock(&cache.inner).used, 2 * cost_of(700));
        assert_eq!(crate::lock(&cache.inner).ids.len(), 2);
        assert_eq!(crate::lock(&cache.inner).by_seq.len(), 2);
        let off = SessionCache::new(0);
        let t = off.ticket();
        off.entry(t, (7, 1), ids[0], || Ok((session(ids[0]), 700)))
            .unwrap();
        off.set_alone(true);
        assert!(
            off.get(ids[0], 1).is_none(),
            "a budget of 0 turns the cache off"
        );
        assert!(off.get_trusted(ids[0]).is_none());
    }
}
