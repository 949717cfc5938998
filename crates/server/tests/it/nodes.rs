//! Several nodes on one database behave as one system.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::helpers::{backend_is_postgres, ids as ids_of, Auth, TestApp};

#[tokio::test]
async fn a_session_created_on_one_node_is_served_by_another() {
    // Nodes behind one load balancer share its public URL (docs/scaling.md).
    let a = TestApp::builder()
        .arg("--public-url")
        .arg("https://verify.example.test")
        .spawn()
        .await;
    let b = a.peer().await;
    assert_ne!(a.base_url, b.base_url);
    let s = a
        .create_ok("type=document&client_reference_id=two-nodes&metadata[k]=v")
        .await;
    let id = s["id"].as_str().expect("id");
    let got = b.retrieve_session(id, "").await.ok();
    assert_eq!(got, s);
    assert!(got["url"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://verify.example.test/")));
    let listed = b.list_sessions("client_reference_id=two-nodes").await.ok();
    assert_eq!(listed["data"][0]["id"], id);
    let updated = b.update_session(id, "metadata[k]=w").await.ok();
    assert_eq!(updated["metadata"]["k"], "w");
    assert_eq!(a.retrieve_session(id, "").await.ok()["metadata"]["k"], "w");
    assert_eq!(b.cancel(id).await.ok()["status"], "canceled");
    // The first node sees the cancel and refuses what it no longer allows.
    a.update_session(id, "metadata[k]=x")
        .await
        .assert_status(400);
}

/// Each node keeps decoded sessions between requests (SQLite); a change made by another node
/// (another process on the same file) must show on the very next read, retrieve or list.
#[tokio::test]
async fn a_node_never_serves_a_session_older_than_the_database() {
    let a = TestApp::spawn().await;
    let b = a.peer().await;
    let s = a
        .create_ok("type=document&client_reference_id=stale-check")
        .await;
    let id = s["id"].as_str().expect("id");
    for round in 0..3 {
        // Node a reads (and keeps) the session, twice over, by both routes.
        for _ in 0..2 {
            let got = a.retrieve_session(id, "").await.ok();
            assert_eq!(
                got["metadata"]["round"],
                prev(round),
                "retrieve on a, round {round}"
            );
            let listed = a
                .list_sessions("client_reference_id=stale-check")
                .await
                .ok();
            assert_eq!(listed["data"][0]["metadata"]["round"], prev(round));
        }
        // Node b changes it; node a sees the change at once.
        b.update_session(id, &format!("metadata[round]={round}"))
            .await
            .ok();
        let got = a.retrieve_session(id, "").await.ok();
        assert_eq!(got["metadata"]["round"], round.to_string());
        let listed = a
            .list_sessions("client_reference_id=stale-check")
            .await
            .ok();
        assert_eq!(listed["data"][0]["metadata"]["round"], round.to_string());
    }
    b.cancel(id).await.ok();
    let got = a.retrieve_session(id, "").await.ok();
    assert_eq!(got["status"], "canceled");
    assert_eq!(got["url"], serde_json::Value::Null);
    let listed = a
        .list_sessions("client_reference_id=stale-check&status=requires_input")
        .await
        .ok();
    assert_eq!(listed["data"], serde_json::json!([]));
}

/// The metadata value a round starts from.
fn prev(round: usize) -> serde_json::Value {
    match round {
        0 => serde_json::Value::Null,
        r => serde_json::Value::String((r - 1).to_string()),
    }
}

async fn post(app: &TestApp, key: &str) -> crate::helpers::Resp {
    app.request(
        reqwest::Method::POST,
        "/v1/identity/verification_sessions",
        Auth::Bearer(&app.test_key),
        Some("type=document&metadata[n]=1".into()),
        &[("Idempotency-Key", key)],
    )
    .await
}

#[tokio::test]
async fn an_idempotent_replay_on_the_second_node_returns_the_first_response() {
    let a = TestApp::spawn().await;
    let b = a.peer().await;
    let first = post(&a, "two-node-key").await;
    assert_eq!(first.status, 200, "{}", first.text);
    let replay = post(&b, "two-node-key").await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.text, first.text);
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    let all = b.list_sessions("limit=100").await.ok();
    assert_eq!(
        all["data"].as_array().map(Vec::len),
        Some(1),
        "one session only"
    );
}

#[tokio::test]
async fn a_redaction_started_on_one_node_completes_once_with_both_workers_running() {
    let a = TestApp::builder()
        .redaction_delay(Some("200ms"))
        .spawn()
        .await;
    let b = a.peer().await;
    let s = a.create_ok("type=document&metadata[k]=v").await;
    let id = s["id"].as_str().expect("id");
    a.redact(id).await.assert_status(200);
    let (done, _) = b.wait_until_redacted(id, "").await;
    assert_eq!(done["metadata"], serde_json::json!({}));
    // Exactly one `redacted` event, whichever node's worker completed it.
    let events = a
        .get(
            "/v1/events?type=identity.verification_session.redacted&limit=100",
            &a.test_key,
        )
        .await
        .ok();
    let for_session = events["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|e| e["data"]["object"]["id"] == id)
        .count();
    assert_eq!(for_session, 1, "{events}");
}

/// `n` sessions, created and verified with `simulate_delay` on `a` and `b` in turn: each has
/// an outcome due later. Returns their ids.
async fn processing_sessions(a: &TestApp, b: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let node = if i % 2 == 0 { a } else { b };
        let id = node.create_ok("type=document").await["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let path = format!("/v1/test_helpers/identity/verification_sessions/{id}/verify");
        let r = node
            .post_form(&path, &node.test_key, "simulate_delay=true")
            .await
            .ok();
        assert_eq!(r["status"], "processing", "{r}");
        ids.push(id);
    }
    ids
}

/// Polls (through `app`) until every session in `ids` is `verified`.
async fn wait_until_verified(app: &TestApp, ids: &[String], within: Duration) {
    let deadline = Instant::now() + within;
    for id in ids {
        loop {
            let s = app.retrieve_session(id, "").await.ok();
            if s["status"] == "verified" {
                break;
            }
            assert!(Instant::now() < deadline, "still not verified: {s}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// How many events of `type` each session has (all of them; at most 100 sessions).
async fn events_per_session(app: &TestApp, kind: &str) -> HashMap<String, usize> {
    let list = app
        .get(&format!("/v1/events?type={kind}&limit=100"), &app.test_key)
        .await
        .ok();
    assert_eq!(list["has_more"], false);
    let mut counts = HashMap::new();
    for e in list["data"].as_array().expect("data") {
        let id = e["data"]["object"]["id"].as_str().expect("session id");
        *counts.entry(id.to_owned()).or_insert(0) += 1;
    }
    counts
}

/// Each session has exactly one `processing` and one `verified` event, and one report.
async fn assert_applied_once(app: &TestApp, ids: &[String]) {
    for kind in [
        "identity.verification_session.processing",
        "identity.verification_session.verified",
    ] {
        let counts = events_per_session(app, kind).await;
        for id in ids {
            assert_eq!(
                counts.get(id),
                Some(&1),
                "{kind} events of {id}: {counts:?}"
            );
        }
    }
    for id in ids {
        let reports = app
            .get(
                &format!("/v1/identity/verification_reports?verification_session={id}"),
                &app.test_key,
            )
            .await
            .ok();
        assert_eq!(ids_of(&reports).len(), 1, "reports of {id}: {reports}");
    }
}

#[tokio::test]
async fn delayed_outcomes_apply_exactly_once_with_two_workers_running() {
    let a = TestApp::builder()
        .arg("--test-processing-delay")
        .arg("300ms")
        .spawn()
        .await;
    let b = a.peer().await;
    let ids = processing_sessions(&a, &b, 30).await;
    wait_until_verified(&b, &ids, Duration::from_secs(30)).await;
    assert_applied_once(&a, &ids).await;
}

/// Sessions whose due work a node has claimed, by owner (PostgreSQL).
async fn claims(db: &impl tokio_postgres::GenericClient) -> Vec<(String, String)> {
    db.query(
        "SELECT due_owner, id FROM sessions WHERE due_owner IS NOT NULL",
        &[],
    )
    .await
    .expect("read claims")
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

#[tokio::test]
async fn a_node_killed_holding_claims_has_its_work_finished_by_the_other_after_the_lease() {
    if !backend_is_postgres() {
        eprintln!("PostgreSQL-only: several nodes share a PostgreSQL database (docs/scaling.md)");
        return;
    }
    let a = TestApp::builder()
        .arg("--test-processing-delay")
        .arg("200ms")
        .arg("--job-lease")
        .arg("2s")
        .spawn()
        .await;
    let b = a.peer().await;
    let url = a.postgres_url().expect("PostgreSQL");
    let (mut db, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(conn);
    // Outcomes insert a report: while this lock is held, a worker that claimed sessions is
    // stuck inside its first transition, holding its claims (reads still work).
    let lock = db.transaction().await.expect("begin");
    lock.batch_execute("LOCK TABLE reports IN EXCLUSIVE MODE")
        .await
        .expect("lock reports");
    let ids = processing_sessions(&a, &b, 10).await;
    let owner_a = format!("node-{}-", a.pid());
    let deadline = Instant::now() + Duration::from_secs(20);
    // Wait until a node holds claims (both may: each worker is stuck in its first transition).
    let mut held = Vec::new();
    while held.is_empty() {
        assert!(
            Instant::now() < deadline,
            "no node claimed the due sessions"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        held = claims(&lock).await;
    }
    // Kill one that holds some.
    let (mut dead, survivor) = if held.iter().any(|(owner, _)| owner.starts_with(&owner_a)) {
        (a, b)
    } else {
        (b, a)
    };
    let dead_owner = format!("node-{}-", dead.pid());
    held.retain(|(owner, _)| owner.starts_with(&dead_owner));
    assert!(!held.is_empty());
    dead.kill().await;
    lock.rollback().await.expect("unlock reports");
    // The survivor finishes its own work at once, and the dead node's (`held`) once the dead
    // node's lease has run out.
    wait_until_verified(&survivor, &ids, Duration::from_secs(30)).await;
    assert_applied_once(&survivor, &ids).await;
    // The survivor took the dead node's claims over and released them with its own.
    assert_eq!(
        claims(&db).await,
        Vec::<(String, String)>::new(),
        "dead node's: {held:?}"
    );
}
