//! Idempotency-Key handling (the SDKs send one on every POST and reuse it on retries).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ids, Auth, Resp, TestApp, SESSIONS};

async fn post_idem(app: &TestApp, key: &str, path: &str, idem: &str, body: &str) -> Resp {
    app.request(
        Method::POST,
        path,
        Auth::Bearer(key),
        Some(body.to_string()),
        &[("Idempotency-Key", idem)],
    )
    .await
}

fn replayed(r: &Resp) -> bool {
    r.header("idempotent-replayed").as_deref() == Some("true")
}

#[track_caller]
fn assert_idempotency_error(r: &Resp, idem: &str) {
    r.assert_status(400);
    let e = r.err();
    assert_eq!(e["type"], "idempotency_error", "{}", r.text);
    assert_eq!(
        e["message"],
        format!(
            "Keys for idempotent requests can only be used with the same parameters they were first used with. \
             Try using a key other than '{idem}' if you meant to execute a different request."
        ),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn retry_with_same_key_replays_the_response() {
    let app = TestApp::spawn().await;
    let body = "type=document&metadata[order]=1";
    let first = post_idem(&app, &app.test_key, SESSIONS, "idem-1", body).await;
    first.assert_status(200);
    assert!(
        !replayed(&first),
        "first response must not be marked replayed"
    );
    let second = post_idem(&app, &app.test_key, SESSIONS, "idem-1", body).await;
    second.assert_status(200);
    assert!(
        replayed(&second),
        "replay needs Idempotent-Replayed: true; headers {:?}",
        second.headers
    );
    assert_eq!(
        second.text, first.text,
        "replay must return the identical body"
    );
    // parameter order does not matter
    let third = post_idem(
        &app,
        &app.test_key,
        SESSIONS,
        "idem-1",
        "metadata[order]=1&type=document",
    )
    .await;
    assert_eq!(third.json["id"], first.json["id"], "{}", third.text);
    let l = app.list_sessions("").await.ok();
    assert_eq!(ids(&l).len(), 1, "only one session may be created: {l}");
}

#[tokio::test]
async fn same_key_with_other_params_or_endpoint_is_an_idempotency_error() {
    let app = TestApp::spawn().await;
    let s = post_idem(&app, &app.test_key, SESSIONS, "idem-2", "type=document")
        .await
        .ok();
    let r = post_idem(&app, &app.test_key, SESSIONS, "idem-2", "type=id_number").await;
    assert_idempotency_error(&r, "idem-2");
    let id = s["id"].as_str().unwrap();
    let r = post_idem(
        &app,
        &app.test_key,
        &format!("{SESSIONS}/{id}/cancel"),
        "idem-2",
        "",
    )
    .await;
    assert_idempotency_error(&r, "idem-2");
    assert_eq!(
        app.retrieve_session(id, "").await.ok()["status"],
        "requires_input"
    );
    assert_eq!(ids(&app.list_sessions("").await.ok()).len(), 1);
}

#[tokio::test]
async fn keys_are_scoped_per_account() {
    let app = TestApp::spawn().await;
    let t = post_idem(&app, &app.test_key, SESSIONS, "shared-key", "type=document")
        .await
        .ok();
    let l = post_idem(&app, &app.live_key, SESSIONS, "shared-key", "type=document").await;
    let l = l.ok();
    assert_ne!(t["id"], l["id"]);
    assert_eq!(l["livemode"], json!(true));
}

#[tokio::test]
async fn failed_validation_stores_nothing() {
    let app = TestApp::spawn().await;
    let r = post_idem(&app, &app.test_key, SESSIONS, "idem-3", "type=bogus").await;
    r.assert_error_envelope(400);
    let r = post_idem(&app, &app.test_key, SESSIONS, "idem-3", "type=document").await;
    assert!(!replayed(&r));
    assert_eq!(r.ok()["type"], "document");
}

#[tokio::test]
async fn not_found_and_state_errors_are_replayed() {
    let app = TestApp::spawn().await;
    let path = format!("{SESSIONS}/vs_AAAAAAAAAAAAAAAAAAAAAAAA/cancel");
    let a = post_idem(&app, &app.test_key, &path, "idem-4", "").await;
    a.assert_status(404);
    let b = post_idem(&app, &app.test_key, &path, "idem-4", "").await;
    b.assert_status(404);
    assert_eq!(a.text, b.text);

    let v = app.verified_session("type=document").await;
    let path = format!("{SESSIONS}/{}/cancel", v["id"].as_str().unwrap());
    let a = post_idem(&app, &app.test_key, &path, "idem-5", "").await;
    a.assert_error_envelope(400);
    let b = post_idem(&app, &app.test_key, &path, "idem-5", "").await;
    b.assert_status(400);
    assert_eq!(a.text, b.text);
    assert!(replayed(&b), "stored error replay should be marked");
}

#[tokio::test]
async fn replay_survives_a_crash() {
    let mut app = TestApp::spawn().await;
    let first = post_idem(&app, &app.test_key, SESSIONS, "idem-crash", "type=document").await;
    first.assert_status(200);
    app.restart().await;
    let again = post_idem(&app, &app.test_key, SESSIONS, "idem-crash", "type=document").await;
    again.assert_status(200);
    assert_eq!(
        again.json["id"], first.json["id"],
        "an SDK retry after a crash must not create a second session"
    );
    assert_eq!(ids(&app.list_sessions("").await.ok()).len(), 1);
}

#[tokio::test]
async fn overlong_key_is_rejected() {
    let app = TestApp::spawn().await;
    let long = "k".repeat(256);
    let r = post_idem(&app, &app.test_key, SESSIONS, &long, "type=document").await;
    r.assert_error_envelope(400);
    let ok = "k".repeat(255);
    post_idem(&app, &app.test_key, SESSIONS, &ok, "type=document")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn sdk_style_idempotency_keys_work() {
    let app = TestApp::spawn().await;
    for key in [
        "b37757ec-a47f-59fa-587b-9b5b1f998f2a",
        "stripe-node-retry-ac6e9c40-392c-4954-9951-a25f334dde82",
    ] {
        let a = post_idem(&app, &app.test_key, SESSIONS, key, "type=document")
            .await
            .ok();
        let b = post_idem(&app, &app.test_key, SESSIONS, key, "type=document")
            .await
            .ok();
        assert_eq!(a["id"], b["id"]);
    }
    assert_eq!(ids(&app.list_sessions("").await.ok()).len(), 2);
}

#[tokio::test]
async fn get_requests_ignore_the_key() {
    let app = TestApp::spawn().await;
    app.create_ok("type=document").await;
    let a = app
        .request(
            Method::GET,
            &format!("{SESSIONS}?limit=1"),
            Auth::Bearer(&app.test_key),
            None,
            &[("Idempotency-Key", "g1")],
        )
        .await;
    a.assert_status(200);
    let b = app
        .request(
            Method::GET,
            &format!("{SESSIONS}?limit=2"),
            Auth::Bearer(&app.test_key),
            None,
            &[("Idempotency-Key", "g1")],
        )
        .await;
    b.assert_status(200);
    assert!(!replayed(&b), "GET must not be replayed");
}

#[tokio::test]
async fn replays_do_not_leak_redacted_data() {
    let app = TestApp::spawn().await;
    let s = app.create_ok("type=document").await;
    let id = s["id"].as_str().unwrap().to_string();
    let verify_path = format!("/v1/test_helpers/identity/verification_sessions/{id}/verify");
    let first = post_idem(
        &app,
        &app.test_key,
        &verify_path,
        "verify-pii",
        "expand[]=verified_outputs",
    )
    .await;
    let first = first.ok();
    let first_name = first["verified_outputs"]["first_name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first_name, "[redacted]");
    app.redact(&id).await.assert_status(200);
    app.wait_until_redacted(&id, "").await;
    let replay = post_idem(
        &app,
        &app.test_key,
        &verify_path,
        "verify-pii",
        "expand[]=verified_outputs",
    )
    .await;
    assert!(
        !replay.text.contains(&first_name),
        "a replay after redaction returned personal data: {}",
        replay.text
    );
}
