//! Several nodes on one database behave as one system.

use crate::helpers::{Auth, TestApp};

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
