//! The storage contract: every backend must pass these. Each test gets a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::SeedableRng;
use vouch_domain::event::{EventType, RequestInfo};
use vouch_domain::outputs::TestPerson;
use vouch_domain::session::{Account, Session, SessionType, Status};
use vouch_domain::transition::{self, Command, Ctx, MetadataPatch, NewSession};
use vouch_store::{
    ClaimedSession, CreatedRange, Cursor, DueClaim, IdempotencyBegin, IdempotencyClaim, JobLease,
    SessionFilter, SqliteStore, Store, StoreError, PRUNE_IDEMPOTENCY,
};

struct Fixture {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    _db: Option<pg::FreshDatabase>,
    rng: StdRng,
}

#[path = "support/pg.rs"]
mod pg;

fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("contract.db")).unwrap();
    Fixture {
        store: Arc::new(store),
        _dir: Some(dir),
        _db: None,
        rng: StdRng::seed_from_u64(42),
    }
}

/// A fresh PostgreSQL database; `None` (the test returns early, saying so) only when
/// PostgreSQL is unreachable and `VOUCH_REQUIRE_POSTGRES` is not set.
async fn postgres() -> Option<Fixture> {
    let db = pg::FreshDatabase::create().await?;
    let store = vouch_store::PostgresStore::connect(&db.url, 4)
        .await
        .unwrap();
    Some(Fixture {
        store: Arc::new(store),
        _dir: None,
        _db: Some(db),
        rng: StdRng::seed_from_u64(42),
    })
}

fn account(id: &str) -> Account {
    Account {
        id: id.into(),
        livemode: false,
    }
}

impl Fixture {
    /// Another node: a second store on the same database (its own connections; on SQLite its
    /// own writer, so the two meet at SQLite's file lock).
    async fn another_node(&self) -> Arc<dyn Store> {
        match (&self._dir, &self._db) {
            (Some(dir), _) => Arc::new(SqliteStore::open(&dir.path().join("contract.db")).unwrap()),
            (None, Some(db)) => Arc::new(
                vouch_store::PostgresStore::connect(&db.url, 4)
                    .await
                    .unwrap(),
            ),
            (None, None) => panic!("a fixture has a database"),
        }
    }

    async fn create(&mut self, acct: &str, now_s: i64, client_ref: Option<&str>) -> Session {
        let mut ctx = Ctx {
            now_ms: now_s * 1000,
            request: RequestInfo::default(),
            rng: &mut self.rng,
        };
        let new = NewSession {
            kind: Some(SessionType::Document),
            client_reference_id: client_ref.map(str::to_owned),
            metadata: Some(MetadataPatch::Set(vec![(
                "secret".into(),
                Some("private-value".into()),
            )])),
            ..NewSession::default()
        };
        let (s, ev) = transition::create(&account(acct), new, &mut ctx).unwrap();
        self.store.insert_session(&s, &[ev]).await.unwrap();
        s
    }

    /// Stores an uploaded image for the session.
    async fn put_file(&mut self, s: &Session) -> vouch_store::StoredFile {
        let file = vouch_store::StoredFile {
            id: vouch_domain::ids::FileId::generate(1_700_000_000, &mut self.rng),
            account: s.account.clone(),
            session_id: s.id.clone(),
            purpose: "identity_document".into(),
            media_type: "image/png".into(),
            created: 1_700_000_000,
            bytes: vec![0, 1, 2, 255, 0],
        };
        self.store.put_file(&file).await.unwrap();
        file
    }

    /// Redacts the session and completes the redaction at once.
    async fn redact_now(&mut self, s: &Session) {
        self.apply(s, Command::Redact { due_ms: 1 }).await;
        self.apply(s, Command::CompleteRedaction).await;
    }

    async fn apply(&mut self, s: &Session, cmd: Command) -> transition::Outcome {
        self.store
            .modify_session(&s.account, &s.id, change(cmd))
            .await
            .unwrap()
            .expect("session exists")
            .expect("transition allowed")
    }
}

/// The state machine as the API runs it, at a fixed time.
fn change(cmd: Command) -> vouch_store::Change {
    change_at(cmd, NOW_MS)
}

/// The fixed time of `change`.
const NOW_MS: i64 = 2_000_000_000_000;

/// The state machine as the API runs it, at `now_ms`.
fn change_at(cmd: Command, now_ms: i64) -> vouch_store::Change {
    Box::new(move |session| {
        let mut rng = StdRng::from_entropy();
        let mut ctx = Ctx {
            now_ms,
            request: RequestInfo::default(),
            rng: &mut rng,
        };
        transition::transition(session, cmd.clone(), &mut ctx)
    })
}

async fn ids(
    f: &Fixture,
    acct: &str,
    filter: &SessionFilter,
    cursor: Option<&Cursor<vouch_domain::ids::SessionId>>,
    limit: usize,
) -> (Vec<String>, bool) {
    let page = f
        .store
        .list_sessions(acct, filter, cursor, limit)
        .await
        .unwrap();
    (
        page.items.iter().map(|s| s.id.to_string()).collect(),
        page.has_more,
    )
}

macro_rules! contract {
    ($backend:ident, $fixture:expr) => {
        mod $backend {
            #[tokio::test]
            async fn roundtrip_and_account_isolation() {
                if let Some(f) = $fixture {
                    super::roundtrip_and_account_isolation(f).await
                }
            }
            #[tokio::test]
            async fn concurrent_changes_serialize() {
                if let Some(f) = $fixture {
                    super::concurrent_changes_serialize(f).await
                }
            }
            #[tokio::test]
            async fn lists_are_newest_first_with_a_total_order() {
                if let Some(f) = $fixture {
                    super::lists_are_newest_first_with_a_total_order(f).await
                }
            }
            #[tokio::test]
            async fn filters_and_created_ranges() {
                if let Some(f) = $fixture {
                    super::filters_and_created_ranges(f).await
                }
            }
            #[tokio::test]
            async fn redaction_erases_stored_responses_but_keeps_their_keys() {
                if let Some(f) = $fixture {
                    super::redaction_erases_stored_responses_but_keeps_their_keys(f).await
                }
            }
            #[tokio::test]
            async fn redaction_erases_copies_and_is_found_when_due() {
                if let Some(f) = $fixture {
                    super::redaction_erases_copies_and_is_found_when_due(f).await
                }
            }
            #[tokio::test]
            async fn idempotency_claims_replays_and_expires() {
                if let Some(f) = $fixture {
                    super::idempotency_claims_replays_and_expires(f).await
                }
            }
            #[tokio::test]
            async fn page_links_find_sessions_and_files_go_with_redaction() {
                if let Some(f) = $fixture {
                    super::page_links_find_sessions_and_files_go_with_redaction(f).await
                }
            }
            #[tokio::test]
            async fn api_keys_by_hash_list_and_revoke() {
                if let Some(f) = $fixture {
                    super::api_keys_by_hash_list_and_revoke(f).await
                }
            }
            #[tokio::test]
            async fn file_views_are_kept_per_session_newest_first_through_redaction() {
                if let Some(f) = $fixture {
                    super::file_views_are_kept_per_session_newest_first_through_redaction(f).await
                }
            }
            #[tokio::test]
            async fn due_claims_lease_expire_and_release() {
                if let Some(f) = $fixture {
                    super::due_claims_lease_expire_and_release(f).await
                }
            }
            #[tokio::test]
            async fn concurrent_claimers_never_share_a_session() {
                if let Some(f) = $fixture {
                    super::concurrent_claimers_never_share_a_session(f).await
                }
            }
            #[tokio::test]
            async fn a_lease_that_runs_out_mid_work_still_applies_once() {
                if let Some(f) = $fixture {
                    super::a_lease_that_runs_out_mid_work_still_applies_once(f).await
                }
            }
            #[tokio::test]
            async fn job_leases_are_exclusive_and_guard_pruning() {
                if let Some(f) = $fixture {
                    super::job_leases_are_exclusive_and_guard_pruning(f).await
                }
            }
            #[tokio::test]
            async fn settings_keep_the_first_value() {
                if let Some(f) = $fixture {
                    super::settings_keep_the_first_value(f).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn reads_never_go_back_and_see_every_acknowledged_change() {
                if let Some(f) = $fixture {
                    super::reads_never_go_back_and_see_every_acknowledged_change(f).await
                }
            }
        }
    };
}

contract!(sqlite, Some(super::sqlite()));
contract!(postgres, super::postgres().await);

async fn roundtrip_and_account_isolation(mut f: Fixture) {
    f.store.ping().await.unwrap();
    let s = f.create("acct_a", 1_700_000_000, Some("ref")).await;
    let got = f.store.get_session("acct_a", &s.id).await.unwrap().unwrap();
    assert_eq!(got, s);
    assert!(f
        .store
        .get_session("acct_b", &s.id)
        .await
        .unwrap()
        .is_none());
    let (listed, _) = ids(&f, "acct_b", &SessionFilter::default(), None, 10).await;
    assert!(listed.is_empty());
}

async fn concurrent_changes_serialize(mut f: Fixture) {
    let s = f.create("acct_a", 1_700_000_000, None).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = f.store.clone();
        let (account, id) = (s.account.clone(), s.id.clone());
        tasks.push(tokio::spawn(async move {
            let update = transition::SessionUpdate {
                metadata: Some(MetadataPatch::Set(vec![(
                    format!("k{i}"),
                    Some("v".into()),
                )])),
                ..transition::SessionUpdate::default()
            };
            store
                .modify_session(&account, &id, change(Command::Update(update)))
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let now = f.store.get_session("acct_a", &s.id).await.unwrap().unwrap();
    // 40 new keys plus the one the fixture sets: none lost.
    assert_eq!(now.metadata.len(), 41);
    // A refused change writes nothing and says why; an unknown session is None.
    let verified = f
        .apply(
            &s,
            Command::TestVerify {
                person: Box::new(TestPerson::default()),
                delay_ms: None,
            },
        )
        .await;
    assert_eq!(verified.events.len(), 2);
    let refused = f
        .store
        .modify_session("acct_a", &s.id, change(Command::Cancel))
        .await
        .unwrap()
        .unwrap();
    assert!(refused.is_err());
    let other = f
        .store
        .modify_session("acct_b", &s.id, change(Command::Cancel))
        .await
        .unwrap();
    assert!(other.is_none());
    assert_eq!(
        f.store
            .get_session("acct_a", &s.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        Status::Verified
    );
}

/// Readers racing a stream of changes (the SQLite store serves them from its session cache):
/// no reader ever sees a session go back to an older state, and once a change is
/// acknowledged every later read, retrieve or list, shows it.
async fn reads_never_go_back_and_see_every_acknowledged_change(mut f: Fixture) {
    let s = f.create("acct_a", 1_700_000_000, Some("racing")).await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The value of metadata `n`: every change raises it by one.
    let keys = |s: &Session| -> i64 {
        s.metadata
            .iter()
            .find(|(k, _)| k == "n")
            .map_or(-1, |(_, v)| v.parse().unwrap())
    };
    let mut readers = Vec::new();
    for r in 0..4 {
        let (store, done, id) = (f.store.clone(), done.clone(), s.id.clone());
        readers.push(tokio::spawn(async move {
            let (mut last, mut reads) = (-1, 0);
            let filter = SessionFilter {
                client_reference_id: Some("racing".into()),
                ..SessionFilter::default()
            };
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let seen = if r % 2 == 0 {
                    let e = store
                        .get_session_entry("acct_a", &id)
                        .await
                        .unwrap()
                        .unwrap();
                    keys(&e.session)
                } else {
                    let page = store
                        .list_session_entries("acct_a", &filter, None, 10)
                        .await
                        .unwrap();
                    keys(&page.items[0].session)
                };
                assert!(
                    seen >= last,
                    "reader {r} went back from {last} to {seen} keys"
                );
                (last, reads) = (seen, reads + 1);
                tokio::task::yield_now().await;
            }
            reads
        }));
    }
    for i in 0..60 {
        let update = transition::SessionUpdate {
            metadata: Some(MetadataPatch::Set(vec![("n".into(), Some(i.to_string()))])),
            ..transition::SessionUpdate::default()
        };
        f.store
            .modify_session("acct_a", &s.id, change(Command::Update(update)))
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let got = f
            .store
            .get_session_entry("acct_a", &s.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(keys(&got.session), i, "retrieve after change {i}");
        let other = f.store.get_session_entry("acct_b", &s.id).await.unwrap();
        assert!(
            other.is_none(),
            "another account never sees it, cached or not"
        );
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    for r in readers {
        assert!(r.await.unwrap() > 0);
    }
}

async fn lists_are_newest_first_with_a_total_order(mut f: Fixture) {
    // Seven sessions in the same second, then two later ones.
    let mut created = Vec::new();
    for _ in 0..7 {
        created.push(f.create("acct_a", 1_700_000_000, None).await.id.to_string());
    }
    for t in [1_700_000_001, 1_700_000_002] {
        created.push(f.create("acct_a", t, None).await.id.to_string());
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    let all = SessionFilter::default();
    let (page1, more1) = ids(&f, "acct_a", &all, None, 4).await;
    assert_eq!(page1, newest_first[..4]);
    assert!(more1);
    let after = Cursor::After(vouch_domain::ids::SessionId::parse(&page1[3]).unwrap());
    let (page2, more2) = ids(&f, "acct_a", &all, Some(&after), 4).await;
    assert_eq!(page2, newest_first[4..8]);
    assert!(more2);
    let after = Cursor::After(vouch_domain::ids::SessionId::parse(&page2[3]).unwrap());
    let (page3, more3) = ids(&f, "acct_a", &all, Some(&after), 4).await;
    assert_eq!(page3, newest_first[8..]);
    assert!(!more3);
    // Backwards from the last page: still newest first, has_more towards newer.
    let before = Cursor::Before(vouch_domain::ids::SessionId::parse(&page3[0]).unwrap());
    let (back, more_back) = ids(&f, "acct_a", &all, Some(&before), 4).await;
    assert_eq!(back, newest_first[4..8]);
    assert!(more_back);
    let before = Cursor::Before(vouch_domain::ids::SessionId::parse(&newest_first[1]).unwrap());
    let (top, more_top) = ids(&f, "acct_a", &all, Some(&before), 4).await;
    assert_eq!(top, newest_first[..1]);
    assert!(!more_top);
    // A cursor from another account does not exist here.
    let other = f.create("acct_b", 1_700_000_000, None).await;
    let err = f
        .store
        .list_sessions("acct_a", &all, Some(&Cursor::After(other.id)), 4)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
}

async fn filters_and_created_ranges(mut f: Fixture) {
    let a = f.create("acct_a", 100, Some("x")).await;
    let b = f.create("acct_a", 200, Some("y")).await;
    let c = f.create("acct_a", 300, Some("x")).await;
    f.apply(&b, Command::Cancel).await;
    let by_ref = SessionFilter {
        client_reference_id: Some("x".into()),
        ..SessionFilter::default()
    };
    assert_eq!(
        ids(&f, "acct_a", &by_ref, None, 10).await.0,
        vec![c.id.to_string(), a.id.to_string()]
    );
    let by_status = SessionFilter {
        status: Some(Status::Canceled),
        ..SessionFilter::default()
    };
    assert_eq!(
        ids(&f, "acct_a", &by_status, None, 10).await.0,
        vec![b.id.to_string()]
    );
    let range = |r: CreatedRange| SessionFilter {
        created: r,
        ..SessionFilter::default()
    };
    let gte200 = range(CreatedRange {
        gte: Some(200),
        ..CreatedRange::default()
    });
    assert_eq!(
        ids(&f, "acct_a", &gte200, None, 10).await.0,
        vec![c.id.to_string(), b.id.to_string()]
    );
    let gt100_lt300 = range(CreatedRange {
        gt: Some(100),
        lt: Some(300),
        ..CreatedRange::default()
    });
    assert_eq!(
        ids(&f, "acct_a", &gt100_lt300, None, 10).await.0,
        vec![b.id.to_string()]
    );
    let lte100 = range(CreatedRange {
        lte: Some(100),
        ..CreatedRange::default()
    });
    assert_eq!(
        ids(&f, "acct_a", &lte100, None, 10).await.0,
        vec![a.id.to_string()]
    );
}

async fn redaction_erases_copies_and_is_found_when_due(mut f: Fixture) {
    let s = f.create("acct_a", 1_700_000_000, None).await;
    let verified = f
        .apply(
            &s,
            Command::TestVerify {
                person: Box::new(TestPerson::default()),
                delay_ms: None,
            },
        )
        .await;
    let report_id = verified.report.unwrap().id;
    f.apply(&s, Command::Redact { due_ms: 5_000 }).await;
    assert!(claim(&*f.store, "node-a", 4_999, 10).await.is_empty());
    let due = claim(&*f.store, "node-a", 5_000, 10).await;
    assert_eq!(ids_of(&due), vec![s.id.to_string()]);
    assert_eq!(due[0].account, "acct_a");
    let done = f.apply(&s, Command::CompleteRedaction).await;
    assert_eq!(done.events[0].kind, EventType::Redacted);
    // Nothing is due any more, whatever the lease.
    assert!(claim(&*f.store, "node-b", 1 << 50, 10).await.is_empty());
    let report = f
        .store
        .get_report("acct_a", &report_id)
        .await
        .unwrap()
        .unwrap();
    let doc = report.document.unwrap();
    assert_eq!(doc.first_name.as_deref(), Some("[redacted]"));
    assert_eq!(doc.number.as_deref(), Some("[redacted]"));
    assert!(f
        .store
        .get_report("acct_b", &report_id)
        .await
        .unwrap()
        .is_none());
    let session = f.store.get_session("acct_a", &s.id).await.unwrap().unwrap();
    assert!(session.metadata.is_empty());
}

/// Issue 5: redaction replaces the personal data in stored idempotent responses. The key
/// stays (a replay must not run again) but its body is gone; the API renders the redacted
/// session instead. Responses of other sessions keep their bodies.
async fn redaction_erases_stored_responses_but_keeps_their_keys(mut f: Fixture) {
    let s = f.create("acct_a", 1_700_000_000, None).await;
    let other = f.create("acct_a", 1_700_000_001, None).await;
    let claim = |key: &'static str, fp: &'static str| IdempotencyClaim {
        account: "acct_a",
        key,
        fingerprint: fp,
        now_ms: 0,
        lease_ms: 1_000,
        ttl_ms: i64::MAX / 2,
    };
    let shows =
        |id: &str| format!("{{\"id\":\"{id}\",\"metadata\":{{\"secret\":\"private-value\"}}}}");
    let store = f.store.clone();
    let (sid, oid) = (s.id.to_string(), other.id.to_string());
    for (key, body, shown) in [
        ("k-show", shows(&sid), Some(sid.as_str())),
        ("k-error", "{\"error\":{}}".to_owned(), None),
        ("k-other", shows(&oid), Some(oid.as_str())),
    ] {
        assert_eq!(
            store.idempotency_begin(claim(key, "fp")).await.unwrap(),
            IdempotencyBegin::Started
        );
        store
            .idempotency_complete("acct_a", key, 200, &body, shown)
            .await
            .unwrap();
    }
    // A request still running when the redaction completes, finishing after it.
    assert_eq!(
        store
            .idempotency_begin(claim("k-late", "fp"))
            .await
            .unwrap(),
        IdempotencyBegin::Started
    );
    f.apply(&s, Command::Redact { due_ms: 5_000 }).await;
    // Redaction still processing: the stored response is untouched.
    assert_eq!(
        store
            .idempotency_begin(claim("k-show", "fp"))
            .await
            .unwrap(),
        IdempotencyBegin::Replay {
            status: 200,
            body: shows(&sid)
        }
    );
    f.apply(&s, Command::CompleteRedaction).await;
    store
        .idempotency_complete("acct_a", "k-late", 201, &shows(&sid), Some(&sid))
        .await
        .unwrap();
    for (key, status) in [("k-show", 200), ("k-late", 201)] {
        assert_eq!(
            store.idempotency_begin(claim(key, "fp")).await.unwrap(),
            IdempotencyBegin::ReplayRedacted {
                status,
                session_id: sid.clone()
            },
            "{key}"
        );
        // Still the same key: other parameters are a mismatch, not a new request.
        assert_eq!(
            store.idempotency_begin(claim(key, "other")).await.unwrap(),
            IdempotencyBegin::Mismatch,
            "{key}"
        );
    }
    assert_eq!(
        store
            .idempotency_begin(claim("k-other", "fp"))
            .await
            .unwrap(),
        IdempotencyBegin::Replay {
            status: 200,
            body: shows(&oid)
        }
    );
    assert_eq!(
        store
            .idempotency_begin(claim("k-error", "fp"))
            .await
            .unwrap(),
        IdempotencyBegin::Replay {
            status: 200,
            body: "{\"error\":{}}".into()
        }
    );
}

async fn settings_keep_the_first_value(f: Fixture) {
    assert_eq!(f.store.get_setting("k").await.unwrap(), None);
    assert_eq!(
        f.store.put_setting_if_absent("k", "one").await.unwrap(),
        "one"
    );
    assert_eq!(
        f.store.put_setting_if_absent("k", "two").await.unwrap(),
        "one"
    );
    assert_eq!(
        f.store.get_setting("k").await.unwrap().as_deref(),
        Some("one")
    );
}

async fn idempotency_claims_replays_and_expires(f: Fixture) {
    let claim = |key: &'static str, fp: &'static str, now_ms: i64| IdempotencyClaim {
        account: "acct_a",
        key,
        fingerprint: fp,
        now_ms,
        lease_ms: 1_000,
        ttl_ms: 10_000,
    };
    let s = &f.store;
    assert_eq!(
        s.idempotency_begin(claim("k1", "fp", 0)).await.unwrap(),
        IdempotencyBegin::Started
    );
    // Running: the same key waits; other parameters are a mismatch.
    assert_eq!(
        s.idempotency_begin(claim("k1", "fp", 10)).await.unwrap(),
        IdempotencyBegin::InProgress
    );
    assert_eq!(
        s.idempotency_begin(claim("k1", "other", 10)).await.unwrap(),
        IdempotencyBegin::Mismatch
    );
    s.idempotency_complete("acct_a", "k1", 200, "{\"id\":\"vs_1\"}", Some("vs_1"))
        .await
        .unwrap();
    assert_eq!(
        s.idempotency_begin(claim("k1", "fp", 20)).await.unwrap(),
        IdempotencyBegin::Replay {
            status: 200,
            body: "{\"id\":\"vs_1\"}".into()
        }
    );
    // Keys are per account.
    let other = IdempotencyClaim {
        account: "acct_b",
        ..claim("k1", "zz", 20)
    };
    assert_eq!(
        s.idempotency_begin(other).await.unwrap(),
        IdempotencyBegin::Started
    );
    // A claim whose request died is taken over once its lease ends.
    assert_eq!(
        s.idempotency_begin(claim("k2", "fp", 0)).await.unwrap(),
        IdempotencyBegin::Started
    );
    assert_eq!(
        s.idempotency_begin(claim("k2", "fp", 999)).await.unwrap(),
        IdempotencyBegin::InProgress
    );
    assert_eq!(
        s.idempotency_begin(claim("k2", "fp", 1_000)).await.unwrap(),
        IdempotencyBegin::Started
    );
    // A released claim (validation failure) stores nothing.
    s.idempotency_release("acct_a", "k2").await.unwrap();
    assert_eq!(
        s.idempotency_begin(claim("k2", "new", 1_001))
            .await
            .unwrap(),
        IdempotencyBegin::Started
    );
    // After the TTL a key is new again.
    assert_eq!(
        s.idempotency_begin(claim("k1", "changed", 10_001))
            .await
            .unwrap(),
        IdempotencyBegin::Started
    );
    // Every key answered (a running claim may be held in memory only: `sqlite_claims.rs`).
    for (account, key) in [("acct_a", "k1"), ("acct_b", "k1"), ("acct_a", "k2")] {
        s.idempotency_complete(account, key, 201, "{}", None)
            .await
            .unwrap();
    }
    // Pruning forgets what was created before the cut (acct_b/k1 and k2), nothing newer.
    let job = s
        .acquire_job(JobLease {
            kind: PRUNE_IDEMPOTENCY,
            owner: "node-a",
            now_ms: 10_000,
            lease_ms: 1_000,
        })
        .await
        .unwrap()
        .expect("nobody else prunes");
    assert_eq!(s.prune_idempotency(10_000, &job).await.unwrap(), Some(2));
    assert_eq!(
        s.idempotency_begin(claim("k1", "changed", 10_002))
            .await
            .unwrap(),
        IdempotencyBegin::Replay {
            status: 201,
            body: "{}".into()
        }
    );
    assert_eq!(
        s.idempotency_begin(claim("k2", "new", 10_002))
            .await
            .unwrap(),
        IdempotencyBegin::Started
    );
}

async fn page_links_find_sessions_and_files_go_with_redaction(mut f: Fixture) {
    let s = f.create("acct_a", 1_700_000_000, None).await;
    let first = s.url_token.clone().unwrap();
    let found = f.store.session_by_url_token(&first).await.unwrap().unwrap();
    assert_eq!(found.id, s.id);
    assert!(f
        .store
        .session_by_url_token("test_nothing")
        .await
        .unwrap()
        .is_none());
    let file = f.put_file(&s).await;
    assert_eq!(
        f.store.get_file("acct_a", &file.id).await.unwrap(),
        Some(file.clone())
    );
    assert!(f
        .store
        .get_file("acct_b", &file.id)
        .await
        .unwrap()
        .is_none());
    // A failed attempt uses the link; a refresh mints a new one and the old one still
    // names the session.
    f.apply(
        &s,
        Command::TestUnverify {
            code: Some(vouch_domain::session::ErrorCode::DocumentExpired),
            delay_ms: None,
        },
    )
    .await;
    let refreshed = f.apply(&s, Command::RefreshSecrets).await.session;
    let second = refreshed.url_token.clone().unwrap();
    assert_ne!(second, first);
    for token in [&first, &second] {
        let by_token = f.store.session_by_url_token(token).await.unwrap().unwrap();
        assert_eq!(by_token.url_token.as_deref(), Some(second.as_str()));
    }
    // Redaction deletes the session's files with its other personal data.
    f.redact_now(&s).await;
    assert!(f
        .store
        .get_file("acct_a", &file.id)
        .await
        .unwrap()
        .is_none());
}

async fn api_keys_by_hash_list_and_revoke(f: Fixture) {
    use vouch_store::StoredApiKey;
    let key = |id: &str, account: &str, hash: &str, created: i64| StoredApiKey {
        id: id.into(),
        account: account.into(),
        livemode: false,
        name: Some(format!("name of {id}")),
        hash: hash.into(),
        last4: "abcd".into(),
        created,
        revoked: None,
    };
    let first = key("key_1", "acct_a", "h1", 100);
    let live = StoredApiKey {
        livemode: true,
        name: None,
        ..key("key_2", "acct_a", "h2", 101)
    };
    let other = key("key_3", "acct_b", "h3", 102);
    for k in [&first, &live, &other] {
        f.store.insert_api_key(k).await.unwrap();
    }
    assert_eq!(
        f.store.api_key_by_hash("h1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        f.store.api_key_by_hash("h2").await.unwrap(),
        Some(live.clone())
    );
    assert_eq!(f.store.api_key_by_hash("nope").await.unwrap(), None);
    // By id: only within its account.
    assert_eq!(
        f.store.api_key_by_id("acct_a", "key_2").await.unwrap(),
        Some(live.clone())
    );
    assert_eq!(
        f.store.api_key_by_id("acct_b", "key_2").await.unwrap(),
        None
    );
    assert_eq!(
        f.store.api_key_by_id("acct_a", "key_9").await.unwrap(),
        None
    );
    // Oldest first, one account only.
    assert_eq!(
        f.store.list_api_keys("acct_a").await.unwrap(),
        vec![first.clone(), live.clone()]
    );
    assert!(f.store.list_api_keys("acct_c").await.unwrap().is_empty());
    // A hash is unique: inserting it again fails.
    assert!(f
        .store
        .insert_api_key(&key("key_4", "acct_a", "h1", 103))
        .await
        .is_err());
    // Revocation: only within the account; the first time counts.
    assert_eq!(
        f.store
            .revoke_api_key("acct_b", "key_1", 200)
            .await
            .unwrap(),
        None
    );
    let revoked = f
        .store
        .revoke_api_key("acct_a", "key_1", 200)
        .await
        .unwrap();
    assert_eq!(revoked.as_ref().and_then(|k| k.revoked), Some(200));
    let again = f
        .store
        .revoke_api_key("acct_a", "key_1", 300)
        .await
        .unwrap();
    assert_eq!(again.and_then(|k| k.revoked), Some(200));
    assert_eq!(
        f.store
            .api_key_by_hash("h1")
            .await
            .unwrap()
            .and_then(|k| k.revoked),
        Some(200)
    );
    assert_eq!(
        f.store
            .api_key_by_id("acct_a", "key_1")
            .await
            .unwrap()
            .and_then(|k| k.revoked),
        Some(200)
    );
    assert_eq!(
        f.store
            .api_key_by_hash("h2")
            .await
            .unwrap()
            .unwrap()
            .revoked,
        None
    );
    assert_eq!(
        f.store
            .revoke_api_key("acct_a", "key_9", 200)
            .await
            .unwrap(),
        None
    );
}

async fn file_views_are_kept_per_session_newest_first_through_redaction(mut f: Fixture) {
    use vouch_store::FileView;
    let s = f.create("acct_a", 1_700_000_000, None).await;
    let other = f.create("acct_a", 1_700_000_001, None).await;
    let file = f.put_file(&s).await;
    let view = |viewer: &str, at: i64, session: &Session| FileView {
        account: "acct_a".into(),
        session_id: session.id.clone(),
        file_id: file.id.clone(),
        viewer: viewer.into(),
        viewed_ms: at,
    };
    let first = view("key_abc", 1_700_000_100_000, &s);
    let second = view("operator", 1_700_000_200_000, &s);
    let third = view("key_abc", 1_700_000_300_000, &s);
    for v in [&first, &second, &third, &view("operator", 5, &other)] {
        f.store.record_file_view(v).await.unwrap();
    }
    let all = f.store.list_file_views("acct_a", &s.id, 10).await.unwrap();
    assert_eq!(
        all.items,
        vec![third.clone(), second.clone(), first.clone()]
    );
    assert!(!all.has_more);
    let page = f.store.list_file_views("acct_a", &s.id, 2).await.unwrap();
    assert_eq!(page.items, vec![third.clone(), second.clone()]);
    assert!(page.has_more);
    // Another account sees none of them.
    let foreign = f.store.list_file_views("acct_b", &s.id, 10).await.unwrap();
    assert!(foreign.items.is_empty() && !foreign.has_more);
    // Redaction deletes the file; the record that it was viewed stays, ids only.
    f.redact_now(&s).await;
    assert!(f
        .store
        .get_file("acct_a", &file.id)
        .await
        .unwrap()
        .is_none());
    let after = f.store.list_file_views("acct_a", &s.id, 10).await.unwrap();
    assert_eq!(after.items, vec![third, second, first]);
}

/// A database that lacks a migration listed before ones it already has (a lower-numbered
/// migration merged later) gets it on the next start; the others are not run again.
#[tokio::test]
async fn sqlite_applies_a_missing_migration_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gap.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE api_keys;
         DELETE FROM schema_migrations WHERE version = '0006_api_keys';",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    migrated_store_works(&store).await;
}

#[tokio::test]
async fn postgres_applies_a_missing_migration_by_name() {
    let Some(db) = pg::FreshDatabase::create().await else {
        return;
    };
    drop(
        vouch_store::PostgresStore::connect(&db.url, 2)
            .await
            .unwrap(),
    );
    let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(
            "DROP TABLE api_keys;
             DELETE FROM schema_migrations WHERE version = '0006_api_keys';",
        )
        .await
        .unwrap();
    drop(client);
    let store = vouch_store::PostgresStore::connect(&db.url, 2)
        .await
        .unwrap();
    migrated_store_works(&store).await;
}

/// The re-applied table works, and so does the one from the later migration.
async fn migrated_store_works(store: &dyn Store) {
    let key = vouch_store::StoredApiKey {
        id: "key_gap".into(),
        account: "acct_a".into(),
        livemode: false,
        name: None,
        hash: "hgap".into(),
        last4: "wxyz".into(),
        created: 1,
        revoked: None,
    };
    store.insert_api_key(&key).await.unwrap();
    assert_eq!(store.api_key_by_hash("hgap").await.unwrap(), Some(key));
    let session = vouch_domain::ids::SessionId::parse("vs_000000000000000000000001").unwrap();
    let views = store.list_file_views("acct_a", &session, 5).await.unwrap();
    assert!(views.items.is_empty());
}

// ---- background job claims ----------------------------------------------------------------

/// Claims due sessions for `owner` at `now_ms` with a 1 s lease.
async fn claim(store: &dyn Store, owner: &str, now_ms: i64, limit: usize) -> Vec<ClaimedSession> {
    store
        .claim_due_sessions(DueClaim {
            owner,
            now_ms,
            lease_ms: 1_000,
            limit,
        })
        .await
        .unwrap()
}

fn ids_of(claimed: &[ClaimedSession]) -> Vec<String> {
    claimed.iter().map(|c| c.id.to_string()).collect()
}

/// A session in `processing` whose test outcome is due at `NOW_MS + delay_ms`.
async fn processing(f: &mut Fixture, delay_ms: i64) -> Session {
    let s = f.create("acct_a", 1_700_000_000, None).await;
    let out = f
        .apply(
            &s,
            Command::TestVerify {
                person: Box::new(TestPerson::default()),
                delay_ms: Some(delay_ms),
            },
        )
        .await;
    assert_eq!(out.session.status, Status::Processing);
    out.session
}

async fn due_claims_lease_expire_and_release(mut f: Fixture) {
    let s = f.create("acct_a", 1_700_000_000, None).await;
    f.apply(
        &s,
        Command::TestVerify {
            person: Box::new(TestPerson::default()),
            delay_ms: None,
        },
    )
    .await;
    f.apply(&s, Command::Redact { due_ms: 5_000 }).await;
    let later = processing(&mut f, 1).await;
    let store = &*f.store;
    // Not due yet; then due, oldest first; the limit holds.
    assert!(claim(store, "node-a", 4_999, 10).await.is_empty());
    let a = claim(store, "node-a", 5_000, 1).await;
    assert_eq!(ids_of(&a), vec![s.id.to_string()]);
    assert_eq!(a[0].lease_until_ms, 6_000);
    // Held: nobody else gets it while the lease lasts, not even its owner.
    assert!(claim(store, "node-b", 5_999, 10).await.is_empty());
    assert!(claim(store, "node-a", 5_999, 10).await.is_empty());
    // The lease ran out (node A died): node B takes it over.
    let b = claim(store, "node-b", 6_000, 10).await;
    assert_eq!(ids_of(&b), vec![s.id.to_string()]);
    assert_eq!(b[0].lease_until_ms, 7_000);
    // A's late release leaves B's claim alone.
    assert_eq!(store.release_due_sessions("node-a", &a).await.unwrap(), 0);
    assert!(claim(store, "node-c", 6_500, 10).await.is_empty());
    // B releases; the work was not done, so the session is due again at once.
    assert_eq!(store.release_due_sessions("node-b", &b).await.unwrap(), 1);
    assert_eq!(store.release_due_sessions("node-b", &b).await.unwrap(), 0);
    let c = claim(store, "node-c", 6_500, 10).await;
    assert_eq!(ids_of(&c), vec![s.id.to_string()]);
    // Much later every lease has run out: both sessions, the oldest due first.
    let d = claim(store, "node-d", NOW_MS + 1, 10).await;
    assert_eq!(ids_of(&d), vec![s.id.to_string(), later.id.to_string()]);
    assert_eq!(store.release_due_sessions("node-c", &c).await.unwrap(), 0);
    // Done work is due no more; work not done is claimed again once released.
    let done = f.apply(&s, Command::RunDue).await;
    assert_eq!(done.events[0].kind, EventType::Redacted);
    assert_eq!(f.store.release_due_sessions("node-d", &d).await.unwrap(), 2);
    let e = claim(&*f.store, "node-e", NOW_MS + 1, 10).await;
    assert_eq!(ids_of(&e), vec![later.id.to_string()]);
}

async fn concurrent_claimers_never_share_a_session(mut f: Fixture) {
    const N: usize = 40;
    let mut all = Vec::new();
    for _ in 0..N {
        all.push(processing(&mut f, 10).await.id.to_string());
    }
    let other = f.another_node().await;
    // Two nodes claim small batches as fast as they can until nothing is left.
    let run = |store: Arc<dyn Store>, owner: &'static str| async move {
        let mut got = Vec::new();
        loop {
            let batch = claim(&*store, owner, NOW_MS + 10, 3).await;
            if batch.is_empty() {
                return got;
            }
            got.extend(ids_of(&batch));
            tokio::task::yield_now().await;
        }
    };
    let (a, b) = tokio::join!(
        tokio::spawn(run(f.store.clone(), "node-a")),
        tokio::spawn(run(other, "node-b"))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut claimed: Vec<String> = a.iter().chain(&b).cloned().collect();
    claimed.sort();
    let before_dedup = claimed.len();
    claimed.dedup();
    assert_eq!(before_dedup, claimed.len(), "a session was claimed twice");
    all.sort();
    assert_eq!(claimed, all, "every due session claimed once");
}

async fn a_lease_that_runs_out_mid_work_still_applies_once(mut f: Fixture) {
    let s = processing(&mut f, 1_000).await;
    let due = NOW_MS + 1_000;
    let a = claim(&*f.store, "node-a", due, 10).await;
    // Node A stalls past its lease; node B takes over and applies the outcome.
    let b = claim(&*f.store, "node-b", due + 1_000, 10).await;
    assert_eq!(ids_of(&a), ids_of(&b));
    let run_due = || {
        f.store
            .modify_session("acct_a", &s.id, change_at(Command::RunDue, due + 1_500))
    };
    let by_b = run_due().await.unwrap().unwrap().unwrap();
    assert_eq!(by_b.session.status, Status::Verified);
    assert!(by_b.report.is_some());
    // A wakes up and visits with its stale claim: nothing is due any more.
    let by_a = run_due().await.unwrap().unwrap().unwrap();
    assert!(by_a.unchanged);
    assert!(by_a.events.is_empty() && by_a.report.is_none());
    assert_eq!(f.store.release_due_sessions("node-a", &a).await.unwrap(), 0);
    assert_eq!(f.store.release_due_sessions("node-b", &b).await.unwrap(), 1);
    let events = f
        .store
        .list_events(
            "acct_a",
            &vouch_store::EventFilter {
                session: Some(s.id.to_string()),
                ..Default::default()
            },
            None,
            100,
        )
        .await
        .unwrap();
    let verified = events
        .items
        .iter()
        .filter(|e| e.event.kind == EventType::Verified)
        .count();
    assert_eq!(verified, 1);
    let reports = f
        .store
        .list_reports(
            "acct_a",
            &vouch_store::ReportFilter {
                verification_session: Some(s.id.to_string()),
                ..Default::default()
            },
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(reports.items.len(), 1);
}

async fn job_leases_are_exclusive_and_guard_pruning(f: Fixture) {
    let lease = |owner: &'static str, now_ms: i64| JobLease {
        kind: PRUNE_IDEMPOTENCY,
        owner,
        now_ms,
        lease_ms: 1_000,
    };
    let s = &f.store;
    let other = f.another_node().await;
    // Two nodes ask at once: exactly one gets it.
    let (x, y) = tokio::join!(
        s.acquire_job(lease("node-a", 0)),
        other.acquire_job(lease("node-b", 0))
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert!(x.is_some() != y.is_some(), "{x:?} {y:?}");
    let held = x.or(y).unwrap();
    assert_eq!(held.lease_until_ms, 1_000);
    s.release_job(&held).await.unwrap();
    // Free again; held until its lease runs out, other kinds are separate.
    let a = s.acquire_job(lease("node-a", 10)).await.unwrap().unwrap();
    assert!(other
        .acquire_job(lease("node-b", 1_009))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .acquire_job(lease("node-a", 1_009))
        .await
        .unwrap()
        .is_none());
    let events = other
        .acquire_job(JobLease {
            kind: vouch_store::PRUNE_EVENTS,
            ..lease("node-b", 20)
        })
        .await
        .unwrap();
    assert!(events.is_some());
    // Work under a held lease runs.
    let key = |k: &'static str| IdempotencyClaim {
        account: "acct_a",
        key: k,
        fingerprint: "fp",
        now_ms: 0,
        lease_ms: 1_000,
        ttl_ms: 10_000,
    };
    s.idempotency_begin(key("old-1")).await.unwrap();
    assert_eq!(s.prune_idempotency(1, &a).await.unwrap(), Some(1));
    // A's lease runs out and B takes it over: A's pruning does nothing, B's runs.
    s.idempotency_begin(key("old-2")).await.unwrap();
    let b = other
        .acquire_job(lease("node-b", 1_010))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.owner, "node-b");
    assert_eq!(s.prune_idempotency(1, &a).await.unwrap(), None);
    assert_eq!(
        s.idempotency_begin(key("old-2")).await.unwrap(),
        IdempotencyBegin::InProgress,
        "the key was not pruned"
    );
    // A's late release leaves B's lease alone.
    assert!(!s.release_job(&a).await.unwrap());
    assert!(s
        .acquire_job(lease("node-c", 1_500))
        .await
        .unwrap()
        .is_none());
    assert_eq!(other.prune_idempotency(1, &b).await.unwrap(), Some(1));
    assert!(other.release_job(&b).await.unwrap());
    assert!(s
        .acquire_job(lease("node-c", 1_500))
        .await
        .unwrap()
        .is_some());
}
