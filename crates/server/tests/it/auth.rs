//! Authentication and account isolation.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ids, Auth, TestApp, SESSIONS};

#[tokio::test]
async fn missing_key_is_401_with_challenge() {
    let app = TestApp::spawn().await;
    for (method, path, body) in [
        (Method::GET, SESSIONS.to_string(), None),
        (
            Method::POST,
            SESSIONS.to_string(),
            Some("type=document".to_string()),
        ),
        (Method::GET, format!("{SESSIONS}/vs_x"), None),
        (
            Method::GET,
            "/v1/identity/verification_reports/vr_x".to_string(),
            None,
        ),
    ] {
        let r = app.request(method, &path, Auth::None, body, &[]).await;
        r.assert_error_prefix(401, None, None, "You did not provide an API key.");
        assert_eq!(
            r.header("www-authenticate").as_deref(),
            Some("Basic realm=\"Stripe\""),
            "{}",
            r.request
        );
    }
    let l = app.list_sessions("").await.ok();
    assert_eq!(
        l["data"],
        json!([]),
        "unauthenticated create must not store anything"
    );
}

#[tokio::test]
async fn unknown_key_is_masked() {
    let app = TestApp::spawn().await;
    let r = app
        .request(
            Method::GET,
            SESSIONS,
            Auth::Bearer("sk_test_abcdefgh12345678"),
            None,
            &[],
        )
        .await;
    r.assert_error(
        401,
        r.err().get("code").and_then(|c| c.as_str()),
        None,
        "Invalid API Key provided: sk_test_************5678",
    );
    if let Some(code) = r.err().get("code") {
        assert_eq!(code, "api_key_invalid", "{}", r.text);
    }
    let r = app
        .request(
            Method::GET,
            SESSIONS,
            Auth::Basic("sk_test_abcdefgh12345678"),
            None,
            &[],
        )
        .await;
    r.assert_error_envelope(401);
    assert_eq!(
        r.err()["message"],
        "Invalid API Key provided: sk_test_************5678"
    );

    let r = app
        .request(
            Method::GET,
            SESSIONS,
            Auth::Bearer("sk_live_zzzzzzzzzzzzzzzzzzzzWXYZ"),
            None,
            &[],
        )
        .await;
    r.assert_error_envelope(401);
    assert_eq!(
        r.err()["message"],
        "Invalid API Key provided: sk_live_********************WXYZ"
    );
    // a near miss of a real key is still invalid
    let near = format!("{}x", app.test_key);
    let r = app
        .request(Method::GET, SESSIONS, Auth::Bearer(&near), None, &[])
        .await;
    r.assert_error_envelope(401);
    let msg = r.err()["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("Invalid API Key provided: sk_test_*"),
        "{msg}"
    );
    assert!(msg.ends_with(&near[near.len() - 4..]), "{msg}");
    assert!(
        !r.text.contains(&app.test_key),
        "the error must not echo the full key"
    );
}

#[tokio::test]
async fn empty_or_garbage_authorization_is_401() {
    let app = TestApp::spawn().await;
    for raw in [
        "Bearer ",
        "Bearer",
        "Token abc",
        "Basic !!!notbase64",
        "Basic ",
    ] {
        let r = app
            .request(Method::GET, SESSIONS, Auth::Raw(raw), None, &[])
            .await;
        r.assert_error_envelope(401);
    }
}

#[tokio::test]
async fn bearer_and_basic_auth_both_work() {
    let app = TestApp::spawn().await;
    let r = app
        .request(
            Method::POST,
            SESSIONS,
            Auth::Basic(&app.test_key),
            Some("type=document".into()),
            &[],
        )
        .await;
    let s = r.ok();
    assert_eq!(s["object"], "identity.verification_session", "{s}");
    let id = s["id"].as_str().unwrap();
    let r = app
        .request(
            Method::GET,
            &format!("{SESSIONS}/{id}"),
            Auth::Basic(&app.test_key),
            None,
            &[],
        )
        .await;
    assert_eq!(r.ok()["id"], s["id"]);
    let r = app
        .request(
            Method::GET,
            &format!("{SESSIONS}/{id}"),
            Auth::Bearer(&app.test_key),
            None,
            &[],
        )
        .await;
    assert_eq!(r.ok()["id"], s["id"]);
}

#[tokio::test]
async fn healthz_needs_no_key() {
    let app = TestApp::spawn().await;
    let r = app
        .request(Method::GET, "/healthz", Auth::None, None, &[])
        .await;
    r.assert_status(200);
}

#[tokio::test]
async fn test_and_live_accounts_are_isolated() {
    let app = TestApp::spawn().await;
    let t = app
        .create_ok("type=document&client_reference_id=shared")
        .await;
    let l = app
        .create_session_as(&app.live_key, "type=document&client_reference_id=shared")
        .await
        .ok();
    assert_eq!(t["livemode"], json!(false));
    assert_eq!(l["livemode"], json!(true));
    let tid = t["id"].as_str().unwrap();
    let lid = l["id"].as_str().unwrap();

    // lists
    let tl = app.list_sessions("").await.ok();
    assert_eq!(ids(&tl), vec![tid.to_string()]);
    let ll = app
        .list_sessions_as(&app.live_key, "client_reference_id=shared")
        .await
        .ok();
    assert_eq!(ids(&ll), vec![lid.to_string()]);

    // retrieve across accounts
    app.get(&format!("{SESSIONS}/{tid}"), &app.live_key)
        .await
        .assert_error(
            404,
            Some("resource_missing"),
            Some("id"),
            &format!("No such VerificationSession: '{tid}'"),
        );
    app.retrieve_session(lid, "").await.assert_error(
        404,
        Some("resource_missing"),
        Some("id"),
        &format!("No such VerificationSession: '{lid}'"),
    );
    // mutate across accounts
    app.post_form(&format!("{SESSIONS}/{tid}"), &app.live_key, "metadata[a]=b")
        .await
        .assert_error_envelope(404);
    app.post_form(&format!("{SESSIONS}/{tid}/cancel"), &app.live_key, "")
        .await
        .assert_error_envelope(404);
    app.post_form(&format!("{SESSIONS}/{tid}/redact"), &app.live_key, "")
        .await
        .assert_error_envelope(404);
    app.cancel(lid).await.assert_error_envelope(404);
    // cursors from another account
    let r = app
        .list_sessions_as(&app.live_key, &format!("starting_after={tid}"))
        .await;
    r.assert_error(
        404,
        Some("resource_missing"),
        Some("starting_after"),
        &format!("No such VerificationSession: '{tid}'"),
    );
    // the test session was untouched by the live attempts
    let got = app.retrieve_session(tid, "").await.ok();
    assert_eq!(got["status"], "requires_input");
    assert_eq!(got["metadata"], json!({}));
    assert_eq!(got["redaction"], json!(null));
    // the live one keeps livemode on retrieve
    let got = app
        .get(&format!("{SESSIONS}/{lid}"), &app.live_key)
        .await
        .ok();
    assert_eq!(got["livemode"], json!(true));
}

#[tokio::test]
async fn reports_are_isolated_between_accounts() {
    let app = TestApp::spawn().await;
    let v = app.verified_session("type=document").await;
    let vr = v["last_verification_report"].as_str().unwrap();
    app.get(
        &format!("/v1/identity/verification_reports/{vr}"),
        &app.live_key,
    )
    .await
    .assert_error(
        404,
        Some("resource_missing"),
        Some("id"),
        &format!("No such VerificationReport: '{vr}'"),
    );
}

#[tokio::test]
async fn test_helper_is_test_mode_only() {
    let app = TestApp::spawn().await;
    let l = app
        .create_session_as(&app.live_key, "type=document")
        .await
        .ok();
    let lid = l["id"].as_str().unwrap();
    let r = app
        .post_form(
            &format!("/v1/test_helpers/identity/verification_sessions/{lid}/verify"),
            &app.live_key,
            "",
        )
        .await;
    assert!(
        (400..500).contains(&r.status),
        "live-mode verify must be refused: {} {}",
        r.status,
        r.text
    );
    r.assert_error_envelope(r.status);
    let got = app
        .get(&format!("{SESSIONS}/{lid}"), &app.live_key)
        .await
        .ok();
    assert_eq!(got["status"], "requires_input");
    assert_eq!(got["last_verification_report"], json!(null));
}
