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

/// Issue 5: redaction replaces the personal data in stored idempotent responses too. Every
/// endpoint whose response shows a session (create, update, cancel, redact, the test helpers
/// and Stripe's private test routes, with the report expanded) keeps its key: a replay after
/// redaction answers the same status with `Idempotent-Replayed: true` and the session as it is
/// now, exactly what a retrieve with the same `expand[]` shows, runs nothing again and makes
/// no event.
#[tokio::test]
async fn replays_do_not_leak_redacted_data() {
    let app = TestApp::spawn().await;
    let key = app.test_key.clone();
    let pii = [
        "QZReplayMeta5521",
        "qz.replay5521@example.org",
        "QZReplayFirst5521",
        "QZReplayLast5521",
        "QZReplayMeta5522",
        "qz.replay5523@example.org",
        "QZReplayMeta5523",
    ];
    let report = "expand[]=last_verification_report\
                  &expand[]=last_verification_report.document.dob\
                  &expand[]=last_verification_report.document.number";
    let a = post_idem(
        &app,
        &key,
        SESSIONS,
        "a-create",
        &format!(
            "type=document&metadata[m]={}&provided_details[email]=qz.replay5521%40example.org\
             &expand[]=provided_details",
            pii[0]
        ),
    )
    .await
    .ok();
    let a = a["id"].as_str().unwrap().to_string();
    let b = post_idem(
        &app,
        &key,
        SESSIONS,
        "b-create",
        &format!(
            "type=document&metadata[m]={}&provided_details[email]=qz.replay5523%40example.org",
            pii[6]
        ),
    )
    .await
    .ok();
    let b = b["id"].as_str().unwrap().to_string();
    // (path, key, body, the expand[] a retrieve needs to show the same).
    let calls: Vec<(String, &str, String, String)> = vec![
        (
            SESSIONS.into(),
            "a-create",
            format!(
                "type=document&metadata[m]={}&provided_details[email]=qz.replay5521%40example.org\
                 &expand[]=provided_details",
                pii[0]
            ),
            "expand[]=provided_details".into(),
        ),
        (
            format!("{SESSIONS}/{a}"),
            "a-update",
            format!("metadata[n]={}&expand[]=provided_details", pii[4]),
            "expand[]=provided_details".into(),
        ),
        (
            format!("/v1/test_helpers/identity/verification_sessions/{a}/verify"),
            "a-verify",
            format!(
                "verified_outputs[first_name]={}&verified_outputs[last_name]={}\
                 &expand[]=verified_outputs&expand[]=verified_outputs.dob&{report}",
                pii[2], pii[3]
            ),
            format!("expand[]=verified_outputs&expand[]=verified_outputs.dob&{report}"),
        ),
        (
            format!("{SESSIONS}/{a}/redact"),
            "a-redact",
            "expand[]=verified_outputs".into(),
            "expand[]=verified_outputs".into(),
        ),
        (
            SESSIONS.into(),
            "b-create",
            format!(
                "type=document&metadata[m]={}&provided_details[email]=qz.replay5523%40example.org",
                pii[6]
            ),
            String::new(),
        ),
        (
            format!("/v1/identity/verification_pages/{b}/testing/unverify"),
            "b-unverify",
            report.into(),
            report.into(),
        ),
        (
            format!("{SESSIONS}/{b}/cancel"),
            "b-cancel",
            "expand[]=provided_details".into(),
            "expand[]=provided_details".into(),
        ),
        (
            format!("{SESSIONS}/{b}/redact"),
            "b-redact",
            String::new(),
            String::new(),
        ),
    ];
    let mut first = Vec::new();
    for (path, idem, body, _) in &calls {
        let r = post_idem(&app, &key, path, idem, body).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        first.push(r);
    }
    // The stored responses held personal data (so the checks below can fail).
    let before: String = first.iter().map(|r| r.text.as_str()).collect();
    for p in &pii {
        assert!(before.contains(p), "{p} was never shown: {before}");
    }
    app.wait_until_redacted(&a, "").await;
    app.wait_until_redacted(&b, "").await;
    let events = app.get("/v1/events?limit=100", &key).await.ok();
    let sessions = ids(&app.list_sessions("limit=100").await.ok());
    for ((path, idem, body, shown), first) in calls.iter().zip(&first) {
        let replay = post_idem(&app, &key, path, idem, body).await;
        assert_eq!(replay.status, first.status, "{path}: {}", replay.text);
        assert!(replayed(&replay), "{path}: {:?}", replay.headers);
        for p in &pii {
            assert!(
                !replay.text.contains(p),
                "a replay of {path} after redaction returned {p}: {}",
                replay.text
            );
        }
        assert_eq!(replay.json["id"], first.json["id"], "{path}");
        assert_eq!(replay.json["redaction"]["status"], "redacted", "{path}");
        assert_eq!(replay.json["metadata"], json!({}), "{path}");
        let id = replay.json["id"].as_str().unwrap();
        let now = app.retrieve_session(id, shown).await.ok();
        assert_eq!(
            replay.json, now,
            "{path}: the replay shows the session as it is now"
        );
    }
    // Stripe's placeholders where the first responses had the data.
    let verify = post_idem(&app, &key, &calls[2].0, "a-verify", &calls[2].2).await;
    let out = &verify.json["verified_outputs"];
    assert_eq!(out["first_name"], "[redacted]", "{}", verify.text);
    assert_eq!(out["dob"], json!({"day": 1, "month": 1, "year": 1}));
    let doc = &verify.json["last_verification_report"]["document"];
    assert_eq!(doc["last_name"], "[redacted]", "{}", verify.text);
    assert_eq!(doc["number"], "[redacted]", "{}", verify.text);
    let create = post_idem(&app, &key, SESSIONS, "a-create", &calls[0].2).await;
    assert_eq!(create.json["provided_details"]["email"], "[redacted]");
    // Nothing ran again.
    assert_eq!(app.get("/v1/events?limit=100", &key).await.ok(), events);
    assert_eq!(ids(&app.list_sessions("limit=100").await.ok()), sessions);
}
