//! The storage contract for events, webhook endpoints and the delivery outbox: every backend
//! must pass these. Each test gets a fresh database (PostgreSQL when reachable, and always
//! with `VOUCH_REQUIRE_POSTGRES=1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::SeedableRng;
use vouch_domain::event::{Event, EventType, RequestInfo};
use vouch_domain::ids::{EventId, WebhookEndpointId};
use vouch_domain::session::{Account, Session, SessionType};
use vouch_domain::transition::{self, Ctx, NewSession};
use vouch_domain::webhook::{Attempt, Delivery, DeliveryState, WebhookEndpoint};
use vouch_store::{
    AttemptRecord, ClaimedDelivery, CreatedRange, Cursor, DeliveryClaim, DeliveryFilter,
    EndpointInsert, EventFilter, Settle, SqliteStore, Store, StoreError,
};

#[path = "support/pg.rs"]
mod pg;

struct Fixture {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    _db: Option<pg::FreshDatabase>,
    rng: StdRng,
}

fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("webhooks.db")).unwrap();
    Fixture {
        store: Arc::new(store),
        _dir: Some(dir),
        _db: None,
        rng: StdRng::seed_from_u64(7),
    }
}

async fn postgres() -> Option<Fixture> {
    let db = pg::FreshDatabase::create().await?;
    let store = vouch_store::PostgresStore::connect(&db.url, 4)
        .await
        .unwrap();
    Some(Fixture {
        store: Arc::new(store),
        _dir: None,
        _db: Some(db),
        rng: StdRng::seed_from_u64(7),
    })
}

const A: &str = "acct_a";
const CREATED: &str = "identity.verification_session.created";
const CANCELED: &str = "identity.verification_session.canceled";
const REDACTED: &str = "identity.verification_session.redacted";

impl Fixture {
    fn endpoint(&mut self, account: &str, events: &[&str], created: i64) -> WebhookEndpoint {
        WebhookEndpoint {
            id: WebhookEndpointId::generate(created, &mut self.rng),
            account: account.into(),
            livemode: false,
            created,
            url: "http://127.0.0.1:9/hook".into(),
            enabled_events: events.iter().map(|e| (*e).to_owned()).collect(),
            api_version: None,
            description: None,
            metadata: Vec::new(),
            disabled: false,
            secret: "whsec_test".into(),
        }
    }

    async fn add_endpoint(&mut self, account: &str, events: &[&str]) -> WebhookEndpoint {
        let ep = self.endpoint(account, events, 1_700_000_000);
        assert_eq!(
            self.store.insert_webhook_endpoint(&ep, 16).await.unwrap(),
            EndpointInsert::Inserted
        );
        ep
    }

    /// A new session at `now_s` with its `created` event and, for each of `more`, one more
    /// event of that type (committed together, as a state change would).
    async fn session(&mut self, account: &str, now_s: i64, more: &[EventType]) -> Vec<Event> {
        let mut ctx = Ctx {
            now_ms: now_s * 1000,
            request: RequestInfo::default(),
            rng: &mut self.rng,
        };
        let new = NewSession {
            kind: Some(SessionType::Document),
            ..NewSession::default()
        };
        let acct = Account {
            id: account.into(),
            livemode: false,
        };
        let (s, created): (Session, Event) = transition::create(&acct, new, &mut ctx).unwrap();
        let mut events = vec![created];
        for kind in more {
            events.push(Event {
                id: EventId::generate(now_s, &mut self.rng),
                kind: *kind,
                ..events[0].clone()
            });
        }
        self.store.insert_session(&s, &events).await.unwrap();
        events
    }

    /// Takes the event-pruning lease (nobody else holds it here) and prunes before `before`.
    async fn prune_events(&self, before: i64) -> Option<usize> {
        let job = self
            .store
            .acquire_job(vouch_store::JobLease {
                kind: vouch_store::PRUNE_EVENTS,
                owner: "node-a",
                now_ms: 0,
                lease_ms: 1_000,
            })
            .await
            .unwrap()
            .expect("nobody else prunes");
        self.store.prune_events(before, &job).await.unwrap()
    }

    async fn pending(&self, event: &Event) -> i64 {
        self.store
            .get_event(&event.account, &event.id)
            .await
            .unwrap()
            .unwrap()
            .pending_webhooks
    }

    /// Records `attempt` (if any) for a claimed delivery and settles it.
    async fn settle(&self, c: &ClaimedDelivery, attempt: Option<&Attempt>, settle: Settle) -> bool {
        self.store
            .record_attempt(AttemptRecord {
                delivery: &c.delivery,
                lease_until_ms: c.lease_until_ms,
                attempt,
                settle,
            })
            .await
            .unwrap()
    }

    async fn deliveries(&self, filter: DeliveryFilter) -> Vec<Delivery> {
        self.store
            .list_deliveries(A, &filter, None, 100)
            .await
            .unwrap()
            .items
    }
}

fn claim(now_ms: i64, busy: &[String]) -> DeliveryClaim<'_> {
    DeliveryClaim {
        now_ms,
        lease_ms: 10_000,
        limit: 100,
        per_endpoint: 10,
        busy,
    }
}

fn attempt(at_ms: i64, status: u16) -> Attempt {
    Attempt {
        at_ms,
        status: Some(status),
        latency_ms: 4,
        error: None,
        response_body: Some("nope".into()),
    }
}

macro_rules! contract {
    ($backend:ident, $fixture:expr) => {
        mod $backend {
            #[tokio::test]
            async fn events_fan_out_to_accepting_endpoints() {
                if let Some(f) = $fixture {
                    super::events_fan_out_to_accepting_endpoints(f).await
                }
            }
            #[tokio::test]
            async fn claims_lease_retry_and_settle() {
                if let Some(f) = $fixture {
                    super::claims_lease_retry_and_settle(f).await
                }
            }
            #[tokio::test]
            async fn claims_share_out_endpoints() {
                if let Some(f) = $fixture {
                    super::claims_share_out_endpoints(f).await
                }
            }
            #[tokio::test]
            async fn disabling_or_deleting_cancels_pending_deliveries() {
                if let Some(f) = $fixture {
                    super::disabling_or_deleting_cancels_pending_deliveries(f).await
                }
            }
            #[tokio::test]
            async fn endpoints_limit_update_and_pages() {
                if let Some(f) = $fixture {
                    super::endpoints_limit_update_and_pages(f).await
                }
            }
            #[tokio::test]
            async fn event_lists_filter_and_page() {
                if let Some(f) = $fixture {
                    super::event_lists_filter_and_page(f).await
                }
            }
            #[tokio::test]
            async fn test_event_deliveries_have_no_stored_event_and_go_by_age() {
                if let Some(f) = $fixture {
                    super::test_event_deliveries_have_no_stored_event_and_go_by_age(f).await
                }
            }
            #[tokio::test]
            async fn resends_and_pruning() {
                if let Some(f) = $fixture {
                    super::resends_and_pruning(f).await
                }
            }
        }
    };
}

contract!(sqlite, Some(super::sqlite()));
contract!(postgres, super::postgres().await);

async fn events_fan_out_to_accepting_endpoints(mut f: Fixture) {
    let star = f.add_endpoint(A, &["*"]).await;
    let redacted_only = f.add_endpoint(A, &[REDACTED]).await;
    let both = f.add_endpoint(A, &["*", REDACTED]).await;
    let mut off = f.add_endpoint(A, &["*"]).await;
    off.disabled = true;
    assert!(f.store.update_webhook_endpoint(&off).await.unwrap());
    f.add_endpoint("acct_b", &["*"]).await;

    let events = f
        .session(
            A,
            1_700_000_000,
            &[EventType::Redacted, EventType::Canceled],
        )
        .await;
    let (created, redacted, canceled) = (&events[0], &events[1], &events[2]);
    assert_eq!(f.pending(created).await, 2);
    assert_eq!(f.pending(redacted).await, 2);
    assert_eq!(f.pending(canceled).await, 2);
    let targets = |event: &Event| {
        let event = event.id.clone();
        let f = &f;
        async move {
            let mut eps: Vec<String> = f
                .deliveries(DeliveryFilter {
                    event: Some(event),
                    ..DeliveryFilter::default()
                })
                .await
                .iter()
                .map(|d| d.endpoint_id.to_string())
                .collect();
            eps.sort();
            eps
        }
    };
    let mut star_both = vec![star.id.to_string(), both.id.to_string()];
    star_both.sort();
    let mut redacted_targets = vec![redacted_only.id.to_string(), both.id.to_string()];
    redacted_targets.sort();
    assert_eq!(targets(created).await, star_both);
    assert_eq!(targets(canceled).await, star_both);
    assert_eq!(targets(redacted).await, redacted_targets);
    let all = f.deliveries(DeliveryFilter::default()).await;
    assert_eq!(all.len(), 6);
    for d in &all {
        assert_eq!(d.state, DeliveryState::Pending);
        assert_eq!(d.attempts, 0);
        assert_eq!(d.next_attempt_ms, Some(1_700_000_000_000));
        assert!(d.history.is_empty());
    }
    let by_endpoint = f
        .deliveries(DeliveryFilter {
            endpoint: Some(redacted_only.id.clone()),
            ..DeliveryFilter::default()
        })
        .await;
    assert_eq!(by_endpoint.len(), 1);
    assert_eq!(by_endpoint[0].event_type, REDACTED);
    // Another account sees none of it.
    assert!(f
        .store
        .get_event("acct_b", &created.id)
        .await
        .unwrap()
        .is_none());
    let b = f
        .store
        .list_deliveries("acct_b", &DeliveryFilter::default(), None, 10)
        .await
        .unwrap();
    assert!(b.items.is_empty());
}

async fn claims_lease_retry_and_settle(mut f: Fixture) {
    let ep = f.add_endpoint(A, &["*"]).await;
    let events = f.session(A, 1_000, &[]).await;
    let t0 = 1_000_000;
    assert!(f
        .store
        .claim_deliveries(claim(t0 - 1, &[]))
        .await
        .unwrap()
        .is_empty());
    let claimed = f.store.claim_deliveries(claim(t0, &[])).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let c = &claimed[0];
    assert_eq!(c.lease_until_ms, t0 + 10_000);
    assert_eq!(c.event.as_ref().unwrap().event, events[0]);
    assert_eq!(c.event.as_ref().unwrap().pending_webhooks, 1);
    assert_eq!(c.endpoint.as_ref().unwrap(), &ep);
    // Leased: nobody else gets it until the lease runs out.
    assert!(f
        .store
        .claim_deliveries(claim(t0 + 9_999, &[]))
        .await
        .unwrap()
        .is_empty());

    // A failed attempt schedules the next one.
    let failed = attempt(t0, 500);
    assert!(
        f.settle(c, Some(&failed), Settle::RetryAt(t0 + 60_000))
            .await
    );
    let d = f
        .store
        .get_delivery(A, &c.delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.state, DeliveryState::Pending);
    assert_eq!(d.attempts, 1);
    assert_eq!(d.next_attempt_ms, Some(t0 + 60_000));
    assert_eq!(d.history, vec![failed.clone()]);
    assert!(f
        .store
        .get_delivery("acct_b", &d.id)
        .await
        .unwrap()
        .is_none());
    assert!(f
        .store
        .claim_deliveries(claim(t0 + 59_999, &[]))
        .await
        .unwrap()
        .is_empty());

    // A worker that died mid-attempt: its lease runs out and another takes over; the dead
    // one's late settle is refused.
    let first = f
        .store
        .claim_deliveries(claim(t0 + 60_000, &[]))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let second = f
        .store
        .claim_deliveries(claim(t0 + 70_000, &[]))
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    let ok = attempt(t0 + 70_001, 200);
    assert!(!f.settle(&first[0], None, Settle::Succeeded).await);
    assert!(f.settle(&second[0], Some(&ok), Settle::Succeeded).await);
    let d = f
        .store
        .get_delivery(A, &c.delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.state, DeliveryState::Succeeded);
    assert_eq!(d.attempts, 2);
    assert_eq!(d.next_attempt_ms, None);
    assert_eq!(d.history, vec![failed, ok]);
    assert_eq!(f.pending(&events[0]).await, 0);
    assert!(f
        .store
        .claim_deliveries(claim(i64::MAX / 2, &[]))
        .await
        .unwrap()
        .is_empty());
    // Settling twice changes nothing.
    assert!(!f.settle(&second[0], None, Settle::Succeeded).await);
    assert_eq!(f.pending(&events[0]).await, 0);

    // Giving up keeps the event pending (it was never delivered).
    let events = f.session(A, 2_000, &[]).await;
    let c = f
        .store
        .claim_deliveries(claim(2_000_000, &[]))
        .await
        .unwrap();
    assert_eq!(c.len(), 1);
    assert!(
        f.settle(&c[0], Some(&attempt(2_000_000, 404)), Settle::Failed)
            .await
    );
    assert_eq!(f.pending(&events[0]).await, 1);
    let d = f
        .store
        .get_delivery(A, &c[0].delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.state, DeliveryState::Failed);
}

async fn claims_share_out_endpoints(mut f: Fixture) {
    let slow = f.add_endpoint(A, &["*"]).await;
    let fast = f.add_endpoint(A, &[CANCELED]).await;
    // Four events for `slow` (three `created`, one `canceled`), the `canceled` one also for
    // `fast`.
    f.session(A, 1_000, &[]).await;
    f.session(A, 1_001, &[]).await;
    f.session(A, 1_002, &[EventType::Canceled]).await;
    let per_one = DeliveryClaim {
        per_endpoint: 1,
        ..claim(5_000_000, &[])
    };
    let got = f.store.claim_deliveries(per_one).await.unwrap();
    let mut eps: Vec<String> = got
        .iter()
        .map(|c| c.delivery.endpoint_id.to_string())
        .collect();
    eps.sort();
    let mut want = vec![slow.id.to_string(), fast.id.to_string()];
    want.sort();
    assert_eq!(eps, want);
    // The oldest of slow's goes first.
    let slow_first = got
        .iter()
        .find(|c| c.delivery.endpoint_id == slow.id)
        .unwrap();
    assert_eq!(slow_first.delivery.created_ms, 1_000_000);
    // A busy endpoint gets nothing more; the others still do.
    let busy = vec![slow.id.to_string()];
    assert!(f
        .store
        .claim_deliveries(claim(5_000_000, &busy))
        .await
        .unwrap()
        .is_empty());
    let rest = f
        .store
        .claim_deliveries(claim(5_000_000, &[]))
        .await
        .unwrap();
    assert_eq!(rest.len(), 3);
    assert!(rest.iter().all(|c| c.delivery.endpoint_id == slow.id));
    let limited = DeliveryClaim {
        limit: 1,
        ..claim(100_000_000, &[])
    };
    assert_eq!(f.store.claim_deliveries(limited).await.unwrap().len(), 1);
}

async fn disabling_or_deleting_cancels_pending_deliveries(mut f: Fixture) {
    let mut a = f.add_endpoint(A, &["*"]).await;
    let b = f.add_endpoint(A, &["*"]).await;
    let events = f.session(A, 1_000, &[]).await;
    assert_eq!(f.pending(&events[0]).await, 2);
    // A claimed (in-flight) delivery of the endpoint being disabled.
    let in_flight = f
        .store
        .claim_deliveries(claim(1_000_000, &[b.id.to_string()]))
        .await
        .unwrap();
    assert_eq!(in_flight.len(), 1);
    a.disabled = true;
    assert!(f.store.update_webhook_endpoint(&a).await.unwrap());
    assert_eq!(f.pending(&events[0]).await, 1);
    // The in-flight attempt is recorded but cannot revive the delivery.
    assert!(
        !f.settle(
            &in_flight[0],
            Some(&attempt(1_000_001, 200)),
            Settle::Succeeded
        )
        .await
    );
    let d = f
        .store
        .get_delivery(A, &in_flight[0].delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.state, DeliveryState::Canceled);
    assert_eq!(d.history.len(), 1);
    assert_eq!(f.pending(&events[0]).await, 1);
    // New events skip the disabled endpoint.
    let later = f.session(A, 1_001, &[]).await;
    assert_eq!(f.pending(&later[0]).await, 1);
    // Deleting cancels the rest.
    assert!(f.store.delete_webhook_endpoint(A, &b.id).await.unwrap());
    assert!(!f.store.delete_webhook_endpoint(A, &b.id).await.unwrap());
    assert!(f
        .store
        .get_webhook_endpoint(A, &b.id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(f.pending(&events[0]).await, 0);
    assert_eq!(f.pending(&later[0]).await, 0);
    assert!(f
        .store
        .claim_deliveries(claim(i64::MAX / 2, &[]))
        .await
        .unwrap()
        .is_empty());
    // Re-enabling does not bring canceled deliveries back.
    a.disabled = false;
    assert!(f.store.update_webhook_endpoint(&a).await.unwrap());
    assert!(f
        .store
        .claim_deliveries(claim(i64::MAX / 2, &[]))
        .await
        .unwrap()
        .is_empty());
}

async fn endpoints_limit_update_and_pages(mut f: Fixture) {
    let mut made = Vec::new();
    for i in 0..3 {
        let ep = f.endpoint(A, &["*"], 1_700_000_000 + i / 2);
        assert_eq!(
            f.store.insert_webhook_endpoint(&ep, 3).await.unwrap(),
            EndpointInsert::Inserted
        );
        made.push(ep);
    }
    let extra = f.endpoint(A, &["*"], 1_700_000_005);
    assert_eq!(
        f.store.insert_webhook_endpoint(&extra, 3).await.unwrap(),
        EndpointInsert::LimitReached
    );
    assert!(f
        .store
        .get_webhook_endpoint(A, &extra.id)
        .await
        .unwrap()
        .is_none());
    // Limits are per account.
    let other = f.endpoint("acct_b", &["*"], 1_700_000_000);
    assert_eq!(
        f.store.insert_webhook_endpoint(&other, 3).await.unwrap(),
        EndpointInsert::Inserted
    );
    assert!(f
        .store
        .get_webhook_endpoint(A, &other.id)
        .await
        .unwrap()
        .is_none());
    assert!(!f.store.delete_webhook_endpoint(A, &other.id).await.unwrap());

    let newest_first: Vec<String> = made.iter().rev().map(|e| e.id.to_string()).collect();
    let page = f.store.list_webhook_endpoints(A, None, 2).await.unwrap();
    let ids: Vec<String> = page.items.iter().map(|e| e.id.to_string()).collect();
    assert_eq!(ids, newest_first[..2]);
    assert!(page.has_more);
    let next = f
        .store
        .list_webhook_endpoints(A, Some(&Cursor::After(page.items[1].id.clone())), 2)
        .await
        .unwrap();
    assert_eq!(next.items.len(), 1);
    assert_eq!(next.items[0].id.to_string(), newest_first[2]);
    assert!(!next.has_more);
    let back = f
        .store
        .list_webhook_endpoints(A, Some(&Cursor::Before(next.items[0].id.clone())), 1)
        .await
        .unwrap();
    assert_eq!(back.items[0].id.to_string(), newest_first[1]);
    assert!(back.has_more);
    let err = f
        .store
        .list_webhook_endpoints(A, Some(&Cursor::After(other.id.clone())), 2)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));

    let mut changed = made[0].clone();
    changed.url = "http://127.0.0.1:9/other".into();
    changed.metadata = vec![("k".into(), "v".into())];
    assert!(f.store.update_webhook_endpoint(&changed).await.unwrap());
    assert_eq!(
        f.store.get_webhook_endpoint(A, &changed.id).await.unwrap(),
        Some(changed)
    );
    assert!(!f.store.update_webhook_endpoint(&extra).await.unwrap());
    // Deleting frees a slot.
    assert!(f
        .store
        .delete_webhook_endpoint(A, &made[1].id)
        .await
        .unwrap());
    assert_eq!(
        f.store.insert_webhook_endpoint(&extra, 3).await.unwrap(),
        EndpointInsert::Inserted
    );
}

async fn event_lists_filter_and_page(mut f: Fixture) {
    f.add_endpoint(A, &[CANCELED]).await;
    let s1 = f.session(A, 100, &[]).await;
    let s2 = f.session(A, 200, &[EventType::Canceled]).await;
    let s3 = f.session(A, 300, &[]).await;
    f.session("acct_b", 300, &[]).await;
    let ids = |page: &vouch_store::Page<vouch_store::StoredEvent>| -> Vec<String> {
        page.items.iter().map(|e| e.event.id.to_string()).collect()
    };
    let list = |filter: EventFilter| {
        let store = f.store.clone();
        async move { store.list_events(A, &filter, None, 10).await.unwrap() }
    };
    let all = list(EventFilter::default()).await;
    let newest_first = vec![
        s3[0].id.to_string(),
        s2[1].id.to_string(),
        s2[0].id.to_string(),
        s1[0].id.to_string(),
    ];
    assert_eq!(ids(&all), newest_first);
    assert_eq!(all.items[1].pending_webhooks, 1);
    let only = |types: &[&str]| EventFilter {
        types: Some(types.iter().map(|t| (*t).to_owned()).collect()),
        ..EventFilter::default()
    };
    assert_eq!(
        ids(&list(only(&[CANCELED])).await),
        vec![s2[1].id.to_string()]
    );
    assert_eq!(ids(&list(only(&[CREATED, CANCELED])).await), newest_first);
    assert!(list(only(&[])).await.items.is_empty());
    assert!(list(only(&[REDACTED])).await.items.is_empty());
    let created = |r: CreatedRange| EventFilter {
        created: r,
        ..EventFilter::default()
    };
    assert_eq!(
        ids(&list(created(CreatedRange {
            gt: Some(100),
            lte: Some(200),
            ..CreatedRange::default()
        }))
        .await),
        vec![s2[1].id.to_string(), s2[0].id.to_string()]
    );
    let success = |b: bool| EventFilter {
        delivery_success: Some(b),
        ..EventFilter::default()
    };
    assert_eq!(ids(&list(success(false)).await), vec![s2[1].id.to_string()]);
    assert_eq!(ids(&list(success(true)).await).len(), 3);

    // One session's events (the dashboard's timeline).
    let of = |id: &str| EventFilter {
        session: Some(id.to_owned()),
        ..EventFilter::default()
    };
    assert_eq!(
        ids(&list(of(s2[0].session.id.as_str())).await),
        vec![s2[1].id.to_string(), s2[0].id.to_string()]
    );
    assert!(list(of("vs_0000000000000000000000")).await.items.is_empty());
    // Sessions per status (the events above are not transitions: all still requires_input).
    assert_eq!(
        f.store.session_counts(A).await.unwrap(),
        vec![(vouch_domain::session::Status::RequiresInput, 3)]
    );
    assert!(f
        .store
        .session_counts("acct_none")
        .await
        .unwrap()
        .is_empty());

    // Pages in both directions, by limit + 1.
    let first = f
        .store
        .list_events(A, &EventFilter::default(), None, 3)
        .await
        .unwrap();
    assert_eq!(ids(&first), newest_first[..3]);
    assert!(first.has_more);
    let after = Cursor::After(first.items[2].event.id.clone());
    let second = f
        .store
        .list_events(A, &EventFilter::default(), Some(&after), 3)
        .await
        .unwrap();
    assert_eq!(ids(&second), newest_first[3..]);
    assert!(!second.has_more);
    let before = Cursor::Before(second.items[0].event.id.clone());
    let back = f
        .store
        .list_events(A, &EventFilter::default(), Some(&before), 2)
        .await
        .unwrap();
    assert_eq!(ids(&back), newest_first[1..3]);
    assert!(back.has_more);
    let foreign = Cursor::After(EventId::generate(1, &mut f.rng));
    assert!(matches!(
        f.store
            .list_events(A, &EventFilter::default(), Some(&foreign), 3)
            .await
            .unwrap_err(),
        StoreError::NotFound
    ));
}

async fn resends_and_pruning(mut f: Fixture) {
    let ep = f.add_endpoint(A, &["*"]).await;
    let old = f.session(A, 1_000, &[]).await;
    let new = f.session(A, 5_000, &[]).await;
    let c = f
        .store
        .claim_deliveries(claim(1_000_000, &[]))
        .await
        .unwrap();
    assert_eq!(c.len(), 1);
    f.settle(&c[0], Some(&attempt(1_000_000, 200)), Settle::Succeeded)
        .await;
    assert_eq!(f.pending(&old[0]).await, 0);
    // A resend is a new pending delivery of the same event to the same endpoint.
    let resend = Delivery {
        id: vouch_domain::ids::DeliveryId::generate(6_000, &mut f.rng),
        created_ms: 6_000_000,
        state: DeliveryState::Pending,
        attempts: 0,
        next_attempt_ms: Some(6_000_000),
        history: Vec::new(),
        ..c[0].delivery.clone()
    };
    f.store.insert_delivery(&resend).await.unwrap();
    assert_eq!(f.pending(&old[0]).await, 1);
    let got = f.store.get_delivery(A, &resend.id).await.unwrap().unwrap();
    assert_eq!(got, resend);
    assert_eq!(got.endpoint_id, ep.id);

    // Pruning removes old events with their deliveries and attempts, nothing newer.
    assert_eq!(f.prune_events(5_000).await, Some(1));
    assert!(f.store.get_event(A, &old[0].id).await.unwrap().is_none());
    assert!(f.store.get_event(A, &new[0].id).await.unwrap().is_some());
    assert!(f.store.get_delivery(A, &resend.id).await.unwrap().is_none());
    assert!(f
        .store
        .get_delivery(A, &c[0].delivery.id)
        .await
        .unwrap()
        .is_none());
    let left = f.deliveries(DeliveryFilter::default()).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].event_id, new[0].id);
}

/// A test event (`vouch_domain::test_event`) is never stored: its delivery is claimed with no
/// event (the worker rebuilds it), counts in no event's `pending_webhooks`, appears in the
/// delivery log, and is pruned by its own age.
async fn test_event_deliveries_have_no_stored_event_and_go_by_age(mut f: Fixture) {
    use vouch_domain::test_event;
    let ep = f.add_endpoint(A, &["*"]).await;
    let test = |f: &mut Fixture, created_s: i64| Delivery {
        id: vouch_domain::ids::DeliveryId::generate(created_s, &mut f.rng),
        account: A.into(),
        endpoint_id: ep.id.clone(),
        event_id: test_event::new_id(created_s, &mut f.rng),
        event_type: "identity.verification_session.verified".into(),
        created_ms: created_s * 1000,
        state: DeliveryState::Pending,
        attempts: 0,
        next_attempt_ms: Some(created_s * 1000),
        history: Vec::new(),
    };
    let old = test(&mut f, 1_000);
    let new = test(&mut f, 9_000);
    f.store.insert_delivery(&old).await.unwrap();
    f.store.insert_delivery(&new).await.unwrap();
    let real = f.session(A, 2_000, &[]).await;
    assert!(f.store.get_event(A, &old.event_id).await.unwrap().is_none());
    let c = f
        .store
        .claim_deliveries(claim(1_000_000, &[]))
        .await
        .unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].delivery, old);
    assert!(c[0].event.is_none());
    assert_eq!(c[0].endpoint.as_ref().map(|e| &e.id), Some(&ep.id));
    assert!(
        f.settle(&c[0], Some(&attempt(1_000_000, 200)), Settle::Succeeded)
            .await
    );
    let logged = f
        .deliveries(DeliveryFilter {
            endpoint: None,
            event: Some(old.event_id.clone()),
        })
        .await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].state, DeliveryState::Succeeded);
    assert_eq!(logged[0].history.len(), 1);
    assert_eq!(f.pending(&real[0]).await, 1, "real events keep their count");

    // Pruning before 5000 s: the old test delivery (and its attempt) and nothing newer.
    assert_eq!(f.prune_events(5_000).await, Some(1));
    assert!(f.store.get_delivery(A, &old.id).await.unwrap().is_none());
    assert!(f.store.get_delivery(A, &new.id).await.unwrap().is_some());
    let left: Vec<_> = f
        .deliveries(DeliveryFilter::default())
        .await
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(left, vec![new.id.clone()]);
}
