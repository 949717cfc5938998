//! Events and signed webhooks over real HTTP against the real binary. Receivers are small
//! HTTP servers in the test that check `Stripe-Signature` with their own HMAC code.
//! `VOUCH_TEST_BACKEND=postgres` runs every test on a fresh PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use std::time::{Duration, Instant};

use harness::*;
use serde_json::Value;

const SESSIONS: &str = "/v1/identity/verification_sessions";

#[test]
fn receivers_check_signatures_against_the_reference_vector() {
    assert_eq!(
        expected_v1(
            "whsec_test_secret",
            "1700000000",
            br#"{"id":"evt_test","object":"event"}"#
        ),
        "8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"
    );
}

#[tokio::test]
async fn every_event_type_fires_signed_with_the_session_as_it_was() {
    let vouch = Vouch::start(&[]).await;
    let rx = Receiver::start(always(200)).await;
    let (_, secret) = vouch
        .endpoint(
            &rx.url,
            &[CREATED, PROCESSING, VERIFIED, CANCELED, REDACTED],
        )
        .await;
    rx.set_secret(&secret);

    let a = vouch.session().await;
    vouch.ok(&format!("{SESSIONS}/{a}/cancel"), "").await;
    let b = vouch.session().await;
    vouch
        .ok(
            &format!("/v1/test_helpers/identity/verification_sessions/{b}/verify"),
            "",
        )
        .await;
    vouch.ok(&format!("{SESSIONS}/{b}/redact"), "").await;
    let hits = rx.wait_for(6, 10).await;
    assert!(hits.iter().all(|h| h.signed), "{hits:?}");
    let mut types = rx.types();
    types.sort();
    let mut want = vec![CREATED, CREATED, CANCELED, PROCESSING, VERIFIED, REDACTED];
    want.sort();
    assert_eq!(types, want);

    let event = |t: &str, id: &str| -> Value {
        hits.iter()
            .map(|h| h.event.clone())
            .find(|e| e["type"] == t && e["data"]["object"]["id"] == id)
            .unwrap_or_else(|| panic!("no {t} for {id}"))
    };
    let created = event(CREATED, &a);
    assert!(created["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(created["id"].as_str().unwrap().len(), 28);
    assert_eq!(created["object"], "event");
    assert_eq!(created["api_version"], "2026-09-30.endive");
    assert_eq!(created["livemode"], false);
    assert!(created["pending_webhooks"].as_i64().unwrap() >= 1);
    assert_eq!(created["data"]["object"]["status"], "requires_input");
    assert!(created["request"]["id"]
        .as_str()
        .unwrap()
        .starts_with("req_"));
    assert!(created["data"]["object"].get("verified_outputs").is_none());
    assert!(created["data"]["object"].get("provided_details").is_none());
    assert_eq!(event(CANCELED, &a)["data"]["object"]["status"], "canceled");
    assert_eq!(
        event(PROCESSING, &b)["data"]["object"]["status"],
        "processing"
    );
    assert_eq!(event(VERIFIED, &b)["data"]["object"]["status"], "verified");
    let redacted = event(REDACTED, &b);
    assert_eq!(
        redacted["data"]["object"]["redaction"]["status"],
        "redacted"
    );
    // Redaction completes in the background: nobody's request caused it.
    assert_eq!(redacted["request"]["id"], Value::Null);
    // The events API shows the same events, all delivered.
    let listed = vouch.get("/v1/events?limit=100").await.json;
    assert_eq!(listed["data"].as_array().unwrap().len(), 6);
    let stored = vouch
        .get(&format!("/v1/events/{}", created["id"].as_str().unwrap()))
        .await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.json["data"], created["data"]);
    assert_eq!(stored.json["pending_webhooks"], 0);
}

#[tokio::test]
async fn star_leaves_out_redacted_unless_it_is_named() {
    let vouch = Vouch::start(&[]).await;
    let star = Receiver::start(always(200)).await;
    let named = Receiver::start(always(200)).await;
    let only = Receiver::start(always(200)).await;
    vouch.endpoint(&star.url, &["*"]).await;
    vouch.endpoint(&named.url, &["*", REDACTED]).await;
    vouch.endpoint(&only.url, &[CANCELED]).await;
    let s = vouch.session().await;
    vouch.ok(&format!("{SESSIONS}/{s}/redact"), "").await;
    // requires_input + redact: canceled now, redacted after the delay.
    named.wait_for(3, 10).await;
    star.wait_for(2, 10).await;
    only.wait_for(1, 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut got = named.types();
    got.sort();
    assert_eq!(got, vec![CANCELED, CREATED, REDACTED]);
    let mut got = star.types();
    got.sort();
    assert_eq!(got, vec![CANCELED, CREATED]);
    assert_eq!(only.types(), vec![CANCELED]);
}

#[tokio::test]
async fn failed_attempts_are_retried_and_recorded() {
    let vouch = Vouch::start(&[]).await;
    let rx = Receiver::start(fail_first(2)).await;
    let (ep, secret) = vouch.endpoint(&rx.url, &["*"]).await;
    rx.set_secret(&secret);
    vouch.session().await;
    let hits = rx.wait_for(3, 10).await;
    assert!(hits.iter().all(|h| h.signed));
    assert_eq!(
        hits.iter().map(|h| h.answered).collect::<Vec<_>>(),
        vec![500, 500, 200]
    );
    // The same event each time; the schedule's waits between attempts.
    assert!(hits.iter().all(|h| h.event["id"] == hits[0].event["id"]));
    assert!(hits[1].at - hits[0].at >= Duration::from_millis(90));
    let d = eventually(5, "the delivery to succeed", || async {
        let d = vouch.deliveries(&ep).await;
        (d.first()?["status"] == "succeeded").then(|| d[0].clone())
    })
    .await;
    assert_eq!(d["attempt_count"], 3);
    let attempts = d["attempts"].as_array().unwrap();
    let codes: Vec<&Value> = attempts.iter().map(|a| &a["status_code"]).collect();
    assert_eq!(
        codes,
        vec![&Value::from(500), &Value::from(500), &Value::from(200)]
    );
    assert_eq!(attempts[0]["response_body"], "answer 500");
    assert!(attempts.iter().all(|a| a["latency_ms"].is_i64()));
    let event = d["event"].as_str().unwrap();
    let e = vouch.get(&format!("/v1/events/{event}")).await.json;
    assert_eq!(e["pending_webhooks"], 0);
    // Filtered by event, the extension API finds the same delivery.
    let by_event = vouch
        .get(&format!("/v1/vouch/webhook_deliveries?event={event}"))
        .await
        .json;
    assert_eq!(by_event["data"][0]["id"], d["id"]);
}

#[tokio::test]
async fn timeouts_count_as_failures() {
    let vouch = Vouch::start(&["--webhook-timeout-test", "300ms"]).await;
    let rx = Receiver::start(std::sync::Arc::new(|n| {
        if n == 0 {
            (200, Duration::from_secs(3))
        } else {
            (200, Duration::ZERO)
        }
    }))
    .await;
    let (ep, _) = vouch.endpoint(&rx.url, &[CREATED]).await;
    vouch.session().await;
    let d = eventually(10, "success after a timeout", || async {
        let d = vouch.deliveries(&ep).await;
        (d.first()?["status"] == "succeeded").then(|| d[0].clone())
    })
    .await;
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{d}");
    assert_eq!(attempts[0]["status_code"], Value::Null);
    assert!(attempts[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("timed out after 300 ms"));
    assert!(attempts[0]["latency_ms"].as_i64().unwrap() < 2000);
    assert_eq!(attempts[1]["status_code"], 200);
}

#[tokio::test]
async fn a_restart_in_the_middle_of_retries_still_delivers_exactly_once() {
    let mut vouch = Vouch::start(&["--webhook-retry-schedule-test", "100ms,1500ms"]).await;
    let rx = Receiver::start(fail_first(2)).await;
    let (ep, secret) = vouch.endpoint(&rx.url, &[CREATED]).await;
    rx.set_secret(&secret);
    vouch.session().await;
    // Two failures recorded; the third attempt waits 1.5 s. Kill -9 now.
    eventually(10, "two recorded attempts", || async {
        let d = vouch.deliveries(&ep).await;
        (d.first()?["attempt_count"] == 2).then_some(())
    })
    .await;
    vouch.restart().await;
    let d = eventually(10, "success after the restart", || async {
        let d = vouch.deliveries(&ep).await;
        (d.first()?["status"] == "succeeded").then(|| d[0].clone())
    })
    .await;
    assert_eq!(d["attempt_count"], 3);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 3, "{hits:?}");
    assert_eq!(hits.iter().filter(|h| h.answered == 200).count(), 1);
    assert!(hits.iter().all(|h| h.signed));
}

#[tokio::test]
async fn a_dead_endpoint_does_not_delay_a_live_one() {
    let vouch = Vouch::start(&["--webhook-timeout-test", "3s"]).await;
    // The dead one holds every request for 10 s (longer than the timeout).
    let dead = Receiver::start(std::sync::Arc::new(|_| (200, Duration::from_secs(10)))).await;
    let live = Receiver::start(always(200)).await;
    vouch.endpoint(&dead.url, &[CREATED]).await;
    let (_, secret) = vouch.endpoint(&live.url, &[CREATED]).await;
    live.set_secret(&secret);
    let started = Instant::now();
    for _ in 0..10 {
        vouch.session().await;
    }
    let hits = live.wait_for(10, 10).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(2500),
        "the live endpoint waited {took:?}"
    );
    assert!(hits.iter().all(|h| h.signed && h.answered == 200));
    // At most 4 attempts in flight for the dead endpoint.
    assert!(dead.hits().len() <= 4, "{}", dead.hits().len());
}

#[tokio::test]
async fn disabling_or_deleting_an_endpoint_stops_its_retries() {
    let vouch = Vouch::start(&[
        "--webhook-retry-schedule-test",
        "150ms,150ms,150ms,150ms,150ms,150ms,150ms,150ms",
    ])
    .await;
    let a = Receiver::start(always(500)).await;
    let b = Receiver::start(always(500)).await;
    let (ep_a, _) = vouch.endpoint(&a.url, &[CREATED]).await;
    let (ep_b, _) = vouch.endpoint(&b.url, &[CREATED]).await;
    vouch.session().await;
    a.wait_for(2, 10).await;
    b.wait_for(2, 10).await;
    let disabled = vouch
        .ok(&format!("/v1/webhook_endpoints/{ep_a}"), "disabled=true")
        .await;
    assert_eq!(disabled["status"], "disabled");
    let deleted = vouch.delete(&format!("/v1/webhook_endpoints/{ep_b}")).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        deleted.json,
        serde_json::json!({"id": ep_b, "object": "webhook_endpoint", "deleted": true})
    );
    // An attempt may have been in flight; after that, nothing more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (na, nb) = (a.hits().len(), b.hits().len());
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(a.hits().len(), na);
    assert_eq!(b.hits().len(), nb);
    for ep in [&ep_a, &ep_b] {
        let d = vouch.deliveries(ep).await;
        assert_eq!(d[0]["status"], "canceled", "{}", d[0]);
    }
    // Nothing left pending: the event counts no pending webhooks.
    let events = vouch.get("/v1/events").await.json;
    assert_eq!(events["data"][0]["pending_webhooks"], 0);
    // New events skip a disabled endpoint.
    vouch.session().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(a.hits().len(), na);
}

#[tokio::test]
async fn a_failed_delivery_can_be_resent() {
    let vouch = Vouch::start(&["--webhook-retry-schedule-test", "none"]).await;
    let rx = Receiver::start(fail_first(1)).await;
    let (ep, secret) = vouch.endpoint(&rx.url, &[CREATED]).await;
    rx.set_secret(&secret);
    vouch.session().await;
    let failed = eventually(10, "the delivery to fail", || async {
        let d = vouch.deliveries(&ep).await;
        (d.first()?["status"] == "failed").then(|| d[0].clone())
    })
    .await;
    assert_eq!(failed["attempt_count"], 1);
    assert_eq!(failed["next_attempt"], Value::Null);
    let event = failed["event"].as_str().unwrap();
    let pending = vouch.get(&format!("/v1/events/{event}")).await.json;
    assert_eq!(pending["pending_webhooks"], 1);
    let undelivered = vouch.get("/v1/events?delivery_success=false").await.json;
    assert_eq!(undelivered["data"][0]["id"], event);
    assert!(
        vouch.get("/v1/events?delivery_success=true").await.json["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let id = failed["id"].as_str().unwrap();
    let resent = vouch
        .ok(&format!("/v1/vouch/webhook_deliveries/{id}/resend"), "")
        .await;
    assert_ne!(resent["id"], failed["id"]);
    assert_eq!(resent["event"], event);
    assert_eq!(resent["status"], "pending");
    let hits = rx.wait_for(2, 10).await;
    assert!(hits[1].signed);
    assert_eq!(hits[1].event["id"], event);
    let one = eventually(10, "the resend to succeed", || async {
        let r = vouch
            .get(&format!(
                "/v1/vouch/webhook_deliveries/{}",
                resent["id"].as_str().unwrap()
            ))
            .await
            .json;
        (r["status"] == "succeeded").then_some(r)
    })
    .await;
    assert_eq!(one["attempts"][0]["status_code"], 200);
    // The original keeps its history.
    let original = vouch
        .get(&format!("/v1/vouch/webhook_deliveries/{id}"))
        .await
        .json;
    assert_eq!(original["status"], "failed");
    let missing = vouch
        .post(
            "/v1/vouch/webhook_deliveries/whdel_000000000000000000000000/resend",
            "",
        )
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json["error"]["message"],
        "No such webhook delivery: 'whdel_000000000000000000000000'"
    );
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn events_list_filters_and_pages() {
    let vouch = Vouch::start(&[]).await;
    let a = vouch.session().await;
    let b = vouch.session().await;
    vouch.ok(&format!("{SESSIONS}/{b}/cancel"), "").await;
    vouch
        .ok(
            &format!("/v1/test_helpers/identity/verification_sessions/{a}/verify"),
            "",
        )
        .await;
    // Newest first: verified, processing, canceled, created(b), created(a).
    let all = vouch.get("/v1/events").await.json;
    assert_eq!(all["url"], "/v1/events");
    assert_eq!(all["has_more"], false);
    let types: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![VERIFIED, PROCESSING, CANCELED, CREATED, CREATED]
    );
    let every = ids(&all);

    let q = |query: &str| {
        let vouch = &vouch;
        let query = query.to_owned();
        async move {
            let r = vouch.get(&format!("/v1/events?{query}")).await;
            assert_eq!(r.status, 200, "{query}: {}", r.json);
            ids(&r.json)
        }
    };
    assert_eq!(q(&format!("type={CANCELED}")).await, vec![every[2].clone()]);
    assert_eq!(q("type=identity.*").await, every);
    assert_eq!(q("type=identity.verification_session.*").await, every);
    assert_eq!(q("type=*.created").await, every[3..].to_vec());
    assert!(q("type=charge.*").await.is_empty());
    assert_eq!(
        q(&format!("types[0]={VERIFIED}&types[1]={CANCELED}")).await,
        vec![every[0].clone(), every[2].clone()]
    );
    assert_eq!(
        q(&format!("types%5B%5D={PROCESSING}")).await,
        vec![every[1].clone()]
    );
    let created = all["data"][4]["created"].as_i64().unwrap();
    assert_eq!(q(&format!("created[gte]={created}")).await, every);
    assert!(q(&format!("created[gt]={}", created + 3600))
        .await
        .is_empty());
    assert_eq!(q(&format!("created[lte]={}", created + 3600)).await, every);
    // No endpoints: every event is delivered (nothing pending).
    assert_eq!(q("delivery_success=true").await, every);
    assert!(q("delivery_success=false").await.is_empty());

    // Pages of 2, forwards and backwards.
    let p1 = vouch.get("/v1/events?limit=2").await.json;
    assert_eq!(ids(&p1), every[..2]);
    assert_eq!(p1["has_more"], true);
    let p2 = vouch
        .get(&format!("/v1/events?limit=2&starting_after={}", every[1]))
        .await
        .json;
    assert_eq!(ids(&p2), every[2..4]);
    let p3 = vouch
        .get(&format!("/v1/events?limit=2&starting_after={}", every[3]))
        .await
        .json;
    assert_eq!(ids(&p3), every[4..]);
    assert_eq!(p3["has_more"], false);
    let back = vouch
        .get(&format!("/v1/events?limit=2&ending_before={}", every[4]))
        .await
        .json;
    assert_eq!(ids(&back), every[2..4]);
    assert_eq!(back["has_more"], true);
    let typed_page = vouch
        .get(&format!(
            "/v1/events?limit=1&type=*.created&starting_after={}",
            every[3]
        ))
        .await
        .json;
    assert_eq!(ids(&typed_page), every[4..]);

    // Errors.
    let both = vouch
        .get(&format!("/v1/events?type={CREATED}&types[0]={CREATED}"))
        .await;
    assert_eq!(both.status, 400);
    assert_eq!(both.json["error"]["code"], "parameters_exclusive");
    let many: String = (0..21).map(|i| format!("types[{i}]={CREATED}&")).collect();
    assert_eq!(vouch.get(&format!("/v1/events?{many}")).await.status, 400);
    let bad_bool = vouch.get("/v1/events?delivery_success=maybe").await;
    assert_eq!(bad_bool.status, 400);
    assert_eq!(bad_bool.json["error"]["param"], "delivery_success");
    let missing = vouch.get("/v1/events/evt_000000000000000000000000").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json["error"]["code"], "resource_missing");
    assert_eq!(
        missing.json["error"]["message"],
        "No such event: 'evt_000000000000000000000000'"
    );
    let cursor = vouch
        .get("/v1/events?starting_after=evt_000000000000000000000000")
        .await;
    assert_eq!(cursor.status, 404);
    assert_eq!(cursor.json["error"]["param"], "starting_after");
    assert_eq!(vouch.get("/v1/events?limit=101").await.status, 400);
    assert_eq!(
        vouch.get("/v1/events?foo=1").await.json["error"]["code"],
        "parameter_unknown"
    );
}

#[tokio::test]
async fn events_past_retention_are_pruned() {
    let vouch = Vouch::start(&["--event-retention", "1s"]).await;
    let rx = Receiver::start(always(200)).await;
    let (ep, _) = vouch.endpoint(&rx.url, &[CREATED]).await;
    vouch.session().await;
    let list = vouch.get("/v1/events").await.json;
    let id = list["data"][0]["id"].as_str().unwrap().to_owned();
    rx.wait_for(1, 10).await;
    eventually(15, "the event to be pruned", || async {
        (vouch.get(&format!("/v1/events/{id}")).await.status == 404).then_some(())
    })
    .await;
    assert!(vouch.get("/v1/events").await.json["data"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(vouch.deliveries(&ep).await.is_empty());
}

#[tokio::test]
async fn webhook_endpoints_crud_limits_and_validation() {
    let vouch = Vouch::start(&[]).await;
    let created = vouch
        .ok(
            "/v1/webhook_endpoints",
            "url=http%3A%2F%2F127.0.0.1%3A9%2Fhook&enabled_events[0]=*&description=mine&metadata[k]=v&api_version=2024-06-20",
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("we_") && id.len() == 27, "{id}");
    assert_eq!(created["object"], "webhook_endpoint");
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["status"], "enabled");
    assert_eq!(created["enabled_events"], serde_json::json!(["*"]));
    assert_eq!(created["api_version"], "2024-06-20");
    assert_eq!(created["description"], "mine");
    assert_eq!(created["metadata"], serde_json::json!({"k": "v"}));
    assert_eq!(created["livemode"], false);
    // The secret is shown once.
    let got = vouch.get(&format!("/v1/webhook_endpoints/{id}")).await.json;
    assert!(got.get("secret").is_none());
    let updated = vouch
        .ok(
            &format!("/v1/webhook_endpoints/{id}"),
            &format!("enabled_events[0]={CREATED}&enabled_events[1]={REDACTED}&description=&metadata[k]=&url=http%3A%2F%2F127.0.0.1%3A9%2Fother"),
        )
        .await;
    assert!(updated.get("secret").is_none());
    assert_eq!(
        updated["enabled_events"],
        serde_json::json!([CREATED, REDACTED])
    );
    assert_eq!(updated["description"], Value::Null);
    assert_eq!(updated["metadata"], serde_json::json!({}));
    assert_eq!(updated["url"], "http://127.0.0.1:9/other");
    let list = vouch.get("/v1/webhook_endpoints").await.json;
    assert_eq!(list["url"], "/v1/webhook_endpoints");
    assert!(list["data"][0].get("secret").is_none());

    // Validation.
    let bad = vouch
        .post(
            "/v1/webhook_endpoints",
            "url=http%3A%2F%2Fx.test&enabled_events[0]=*&enabled_events[1]=identity.verification_session.updated",
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json["error"]["param"], "enabled_events[1]");
    assert!(bad.json["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid enabled_events[1]: must be one of account.application.authorized, "));
    let no_url = vouch
        .post("/v1/webhook_endpoints", "enabled_events[0]=*")
        .await;
    assert_eq!(no_url.json["error"]["code"], "parameter_missing");
    assert_eq!(no_url.json["error"]["param"], "url");
    let no_events = vouch
        .post("/v1/webhook_endpoints", "url=http%3A%2F%2Fx.test")
        .await;
    assert_eq!(no_events.json["error"]["param"], "enabled_events");
    let bad_url = vouch
        .post(
            "/v1/webhook_endpoints",
            "url=ftp%3A%2F%2Fx&enabled_events[0]=*",
        )
        .await;
    assert_eq!(bad_url.status, 400);
    assert_eq!(bad_url.json["error"]["code"], "url_invalid");
    let bad_version = vouch
        .post(
            "/v1/webhook_endpoints",
            "url=http%3A%2F%2Fx.test&enabled_events[0]=*&api_version=1999-01-01",
        )
        .await;
    assert_eq!(bad_version.json["error"]["param"], "api_version");
    let unknown = vouch
        .post(&format!("/v1/webhook_endpoints/{id}"), "secret=x")
        .await;
    assert_eq!(unknown.json["error"]["code"], "parameter_unknown");

    // At most 16 per account.
    for _ in 1..16 {
        vouch.endpoint("http://127.0.0.1:9/hook", &["*"]).await;
    }
    let over = vouch
        .post(
            "/v1/webhook_endpoints",
            "url=http%3A%2F%2F127.0.0.1%3A9&enabled_events[0]=*",
        )
        .await;
    assert_eq!(over.status, 400);
    assert_eq!(
        over.json["error"]["message"],
        "You have reached the maximum of 16 test webhook endpoints."
    );
    let page = vouch.get("/v1/webhook_endpoints?limit=10").await.json;
    assert_eq!(page["has_more"], true);

    // Delete, then it is gone.
    let gone = vouch.delete(&format!("/v1/webhook_endpoints/{id}")).await;
    assert_eq!(gone.json["deleted"], true);
    let missing = vouch.get(&format!("/v1/webhook_endpoints/{id}")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json["error"]["message"],
        format!("No such webhook endpoint: '{id}'")
    );
    assert_eq!(
        vouch
            .delete(&format!("/v1/webhook_endpoints/{id}"))
            .await
            .status,
        404
    );
    vouch.endpoint("http://127.0.0.1:9/hook", &["*"]).await;
}

#[tokio::test]
async fn vouch_listen_forwards_prints_and_cleans_up() {
    use tokio::io::AsyncBufReadExt;
    let vouch = Vouch::start(&[]).await;
    let rx = Receiver::start(always(200)).await;
    let mut listen = tokio::process::Command::new(BIN)
        .args([
            "listen",
            "--forward-to",
            &rx.url,
            "--url",
            &vouch.base,
            "--api-key",
            &vouch.key,
        ])
        .env_remove("VOUCH_API_KEY")
        .env_remove("VOUCH_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(listen.stdout.take().unwrap()).lines();
    let secret = loop {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("listen prints its secret")
            .unwrap()
            .expect("a line");
        if let Some(at) = line.find("whsec_") {
            break line[at..].split_whitespace().next().unwrap().to_owned();
        }
    };
    rx.set_secret(&secret);
    let eps = vouch.get("/v1/webhook_endpoints").await.json;
    assert_eq!(eps["data"].as_array().unwrap().len(), 1);
    assert_eq!(eps["data"][0]["url"], rx.url);
    let s = vouch.session().await;
    let hits = rx.wait_for(1, 10).await;
    assert!(hits[0].signed, "signed with the printed secret");
    let line = loop {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("listen prints the delivery")
            .unwrap()
            .expect("a line");
        if line.contains(CREATED) {
            break line;
        }
    };
    let event = hits[0].event["id"].as_str().unwrap();
    assert!(line.contains(&format!("[{event}]")), "{line}");
    assert!(line.contains("<-- [200]"), "{line}");
    assert_eq!(hits[0].event["data"]["object"]["id"], s);
    let pid = listen.id().unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), listen.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    let eps = vouch.get("/v1/webhook_endpoints").await.json;
    assert!(eps["data"].as_array().unwrap().is_empty(), "{eps}");
}

#[tokio::test]
async fn a_failed_attempt_delivers_requires_input() {
    let vouch = Vouch::start(&[]).await;
    let rx = Receiver::start(always(200)).await;
    let (_, secret) = vouch
        .endpoint(&rx.url, &["identity.verification_session.requires_input"])
        .await;
    rx.set_secret(&secret);
    let s = vouch.session().await;
    vouch
        .ok(
            &format!("/v1/test_helpers/identity/verification_sessions/{s}/unverify"),
            "last_error[code]=document_expired",
        )
        .await;
    let hits = rx.wait_for(1, 10).await;
    assert!(hits[0].signed);
    let event = &hits[0].event;
    assert_eq!(
        event["type"],
        "identity.verification_session.requires_input"
    );
    assert_eq!(event["data"]["object"]["id"], s.as_str());
    assert_eq!(
        event["data"]["object"]["last_error"]["code"],
        "document_expired"
    );
}

/// Several nodes on one database: both workers run, every event is delivered exactly once.
#[tokio::test]
async fn two_nodes_deliver_each_event_exactly_once() {
    let a = Vouch::start(&[]).await;
    let b = a.peer().await;
    let rx = Receiver::start(always(200)).await;
    let (_, secret) = a.endpoint(&rx.url, &["*"]).await;
    rx.set_secret(&secret);
    for i in 0..10 {
        let node = if i % 2 == 0 { &a } else { &b };
        let s = node.session().await;
        node.ok(&format!("{SESSIONS}/{s}/cancel"), "").await;
    }
    // 10 created + 10 canceled.
    let hits = rx.wait_for(20, 20).await;
    assert!(hits.iter().all(|h| h.signed));
    tokio::time::sleep(Duration::from_millis(500)).await; // any duplicate would arrive by now
    let mut ids: Vec<String> = rx
        .hits()
        .iter()
        .map(|h| h.event["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(total, 20, "each event once, not {total} deliveries");
    assert_eq!(ids.len(), 20);
}

/// A node killed while it holds deliveries in flight loses nothing: another node takes them
/// over once their lease (attempt timeout + 30 s) runs out.
#[tokio::test]
async fn killing_a_node_mid_delivery_loses_nothing() {
    let mut a = Vouch::start(&["--webhook-timeout-test", "1s"]).await;
    let b = a.peer().await;
    // The receiver answers slowly, so attempts are in flight when node A dies.
    let slow: Behaviour = std::sync::Arc::new(|_| (200, Duration::from_millis(700)));
    let rx = Receiver::start(slow).await;
    let (_, secret) = b.endpoint(&rx.url, &["*"]).await;
    rx.set_secret(&secret);
    let mut sessions = Vec::new();
    for _ in 0..6 {
        sessions.push(b.session().await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.kill().await;
    // Every created event arrives (at least once: the killed node's attempts may have
    // reached the receiver before it died).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got: std::collections::HashSet<String> = rx
            .hits()
            .iter()
            .map(|h| {
                h.event["data"]["object"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        if sessions.iter().all(|s| got.contains(s)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "lost deliveries: got {got:?} of {sessions:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And the survivor ends with every delivery recorded as succeeded (the dead node's
    // attempts are retried once their lease runs out).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let events = b.get("/v1/events?limit=100").await.json;
        let pending = events["data"].as_array().map_or(usize::MAX, |a| {
            a.iter().filter(|e| e["pending_webhooks"] != 0).count()
        });
        if pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} events still pending: {events}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
