//! Choices documented in docs/compatibility.md where Stripe's behaviour is not known.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{keys, Auth, TestApp, SESSIONS};

const REDACTED_TAIL: &str =
    "because it has been redacted. Redacted objects cannot be updated or used for any purpose.";

#[tokio::test]
async fn state_error_texts() {
    let app = TestApp::spawn().await;
    let v = app.verified_session("type=document").await;
    let vid = v["id"].as_str().unwrap();
    app.test_verify(vid).await.assert_error(
        400,
        None,
        None,
        "You cannot verify this VerificationSession because it has a status of \"verified\". \
         Only a VerificationSession in \"requires_input\" or \"processing\" statuses may be verified.",
    );
    let c = app.create_ok("type=document").await;
    let cid = c["id"].as_str().unwrap();
    app.cancel(cid).await.assert_status(200);
    app.test_verify(cid).await.assert_error(
        400,
        None,
        None,
        "You cannot verify this VerificationSession because it has a status of \"canceled\". \
         Only a VerificationSession in \"requires_input\" or \"processing\" statuses may be verified.",
    );
    app.cancel(vid).await.assert_error(
        400,
        None,
        None,
        "You cannot cancel this VerificationSession because it has a status of \"verified\". \
         Only a VerificationSession in \"requires_input\" status may be canceled.",
    );

    app.redact(vid).await.assert_status(200);
    app.wait_until_redacted(vid, "").await;
    app.update_session(vid, "metadata[a]=b").await.assert_error(
        400,
        None,
        None,
        &format!("You cannot update this VerificationSession {REDACTED_TAIL}"),
    );
    app.cancel(vid).await.assert_error(
        400,
        None,
        None,
        &format!("You cannot cancel this VerificationSession {REDACTED_TAIL}"),
    );
    app.test_verify(vid).await.assert_error(
        400,
        None,
        None,
        &format!("You cannot verify this VerificationSession {REDACTED_TAIL}"),
    );
}

#[tokio::test]
async fn options_document_merges_field_by_field() {
    let app = TestApp::spawn().await;
    let s = app
        .create_ok("type=document&options[document][require_matching_selfie]=true&options[document][allowed_types][0]=passport")
        .await;
    let id = s["id"].as_str().unwrap();
    let u = app
        .update_session(id, "options[document][require_live_capture]=true")
        .await
        .ok();
    assert_eq!(
        u["options"],
        json!({"document": {"allowed_types": ["passport"], "require_live_capture": true, "require_matching_selfie": true}})
    );
    let u = app
        .update_session(id, "options[document][require_matching_selfie]=")
        .await
        .ok();
    assert_eq!(
        u["options"],
        json!({"document": {"allowed_types": ["passport"], "require_live_capture": true}}),
        "a sub-field sent as '' is unset"
    );
    let u = app.update_session(id, "options[document][allowed_types][0]=id_card&options[document][allowed_types][1]=driving_license").await.ok();
    assert_eq!(
        u["options"]["document"]["allowed_types"],
        json!(["id_card", "driving_license"]),
        "arrays are replaced"
    );
}

#[tokio::test]
async fn provided_details_unset() {
    let app = TestApp::spawn().await;
    let s = app
        .create_ok("type=document&provided_details[email]=a%40b.co&provided_details[phone]=%2B1555")
        .await;
    let id = s["id"].as_str().unwrap();
    let u = app
        .update_session(id, "provided_details[email]=&expand[]=provided_details")
        .await
        .ok();
    assert_eq!(u["provided_details"], json!({"phone": "+1555"}));
    let u = app
        .update_session(id, "provided_details=&expand[]=provided_details")
        .await
        .ok();
    let pd = &u["provided_details"];
    assert!(
        pd.is_null() || *pd == json!({}),
        "provided_details= clears both: {pd}"
    );
}

#[tokio::test]
async fn repeated_scalar_last_wins_and_query_merges_into_post() {
    let app = TestApp::spawn().await;
    let s = app.create_ok("type=id_number&type=document").await;
    assert_eq!(s["type"], "document");
    let r = app
        .post_form(
            &format!("{SESSIONS}?metadata[from]=query"),
            &app.test_key,
            "type=document&metadata[b]=body",
        )
        .await
        .ok();
    assert_eq!(r["metadata"]["from"], "query", "{r}");
    assert_eq!(r["metadata"]["b"], "body");
}

#[tokio::test]
async fn default_stripe_version_header() {
    let app = TestApp::spawn().await;
    let r = app.list_sessions("").await;
    assert_eq!(
        r.header("stripe-version").as_deref(),
        Some("2026-09-30.endive")
    );
}

#[tokio::test]
async fn shape_mismatch_messages() {
    let app = TestApp::spawn().await;
    for (body, param, msg) in [
        ("type[a]=document", "type", "Invalid string"),
        ("type[]=document", "type", "Invalid string"),
        ("type=document&metadata=abc", "metadata", "Invalid hash"),
        (
            "type=document&metadata[a][b]=c",
            "metadata[a]",
            "Invalid string",
        ),
        ("type=document&options=abc", "options", "Invalid hash"),
        (
            "type=document&options[document][allowed_types]=passport",
            "options[document][allowed_types]",
            "Invalid array",
        ),
        (
            "type=document&expand=provided_details",
            "expand",
            "Invalid array",
        ),
        (
            "type=document&provided_details[email][x]=1",
            "provided_details[email]",
            "Invalid string",
        ),
    ] {
        app.create_session(body)
            .await
            .assert_error(400, None, Some(param), msg);
    }
}

#[tokio::test]
async fn string_length_message() {
    let app = TestApp::spawn().await;
    let long = "y".repeat(5001);
    app.create_session(&format!("type=document&client_reference_id={long}"))
        .await
        .assert_error(
            400,
            None,
            Some("client_reference_id"),
            &format!(
                "Invalid string: {}...; must be at most 5000 characters",
                "y".repeat(50)
            ),
        );
    app.create_session(&format!("type=document&related_customer={long}"))
        .await
        .assert_error_envelope(400);
}

#[tokio::test]
async fn body_limits() {
    let app = TestApp::spawn().await;
    let body = format!("type=document&metadata[a]={}", "x".repeat(1024 * 1024));
    app.create_session(&body).await.assert_error(
        413,
        None,
        None,
        "Request body too large: the limit is 1048576 bytes.",
    );
    let pairs: Vec<String> = (0..1001).map(|i| format!("x{i}=1")).collect();
    app.create_session(&format!("type=document&{}", pairs.join("&")))
        .await
        .assert_error_prefix(400, None, None, "Invalid request body");
    app.create_session("type=document&a[b][c][d][e][f][g][h][i][j]=1")
        .await
        .assert_error_prefix(400, None, None, "Invalid request body");
    app.create_session("type=document&metadata[a[b]]=c")
        .await
        .assert_error_prefix(400, None, None, "Invalid request body");
    // invalid UTF-8 after percent-decoding
    app.create_session("type=document&metadata[a]=%FF%FE")
        .await
        .assert_error_prefix(400, None, None, "Invalid request body");
    // a malformed query string on GET
    app.list_sessions("%zz=1")
        .await
        .assert_error_prefix(400, None, None, "Invalid request body");
}

#[tokio::test]
async fn metadata_keeps_insertion_order() {
    let app = TestApp::spawn().await;
    let s = app
        .create_ok("type=document&metadata[b]=1&metadata[a]=2&metadata[c]=3")
        .await;
    assert_eq!(keys(&s["metadata"]), ["b", "a", "c"]);
    let u = app
        .update_session(
            s["id"].as_str().unwrap(),
            "metadata[a]=&metadata[d]=4&metadata[b]=9",
        )
        .await
        .ok();
    assert_eq!(keys(&u["metadata"]), ["b", "c", "d"]);
}

#[tokio::test]
async fn reports_list_only_required_checks_and_are_redacted_with_the_session() {
    let app = TestApp::spawn().await;
    let plain = app.verified_session("type=document").await;
    let r = app
        .retrieve_report(plain["last_verification_report"].as_str().unwrap(), "")
        .await
        .ok();
    assert!(r["document"].is_object(), "{r}");
    assert!(
        r.get("selfie").is_none(),
        "no selfie check was required: {r}"
    );
    assert!(
        r.get("id_number").is_none(),
        "no id_number check was required: {r}"
    );

    let selfie = app
        .verified_session("type=document&options[document][require_matching_selfie]=true&options[document][require_id_number]=true")
        .await;
    let vr = selfie["last_verification_report"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.retrieve_report(&vr, "expand[]=document.dob").await.ok();
    assert!(r["selfie"].is_object(), "{r}");
    assert!(r["id_number"].is_object(), "{r}");
    assert_eq!(r["document"]["status"], "verified");
    assert!(r["document"]["first_name"].is_string());

    let idn = app.verified_session("type=id_number").await;
    let r = app
        .retrieve_report(idn["last_verification_report"].as_str().unwrap(), "")
        .await
        .ok();
    assert_eq!(r["type"], "id_number");
    assert!(r["id_number"].is_object(), "{r}");
    assert!(r.get("document").is_none(), "{r}");

    // redaction reaches the report
    let sid = selfie["id"].as_str().unwrap();
    app.redact(sid).await.assert_status(200);
    app.wait_until_redacted(sid, "").await;
    let r = app.retrieve_report(&vr, "expand[]=document.dob").await.ok();
    assert_eq!(r["document"]["first_name"], "[redacted]", "{r}");
    assert_eq!(r["document"]["last_name"], "[redacted]", "{r}");
    assert_eq!(
        r["document"]["dob"],
        json!({"day": 1, "month": 1, "year": 1}),
        "{r}"
    );
    if let Some(country) = r["document"]["address"].get("country") {
        assert!(country.is_string() && country != "[redacted]", "{r}");
    }
}

#[tokio::test]
async fn default_redaction_delay_is_about_two_seconds() {
    let app = TestApp::builder().redaction_delay(None).spawn().await;
    let s = app.create_ok("type=document").await;
    let id = s["id"].as_str().unwrap();
    app.redact(id).await.assert_status(200);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        app.retrieve_session(id, "").await.ok()["redaction"]["status"],
        "processing"
    );
    let (_, took) = app.wait_until_redacted(id, "").await;
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[tokio::test]
async fn malformed_ids_never_hit_the_database_but_answer_404() {
    let app = TestApp::spawn().await;
    for id in [
        "vs_%27%3B%20DROP%20TABLE%20sessions%3B--",
        "vs_%E2%9C%93",
        "%20",
    ] {
        let r = app
            .request(
                Method::GET,
                &format!("{SESSIONS}/{id}"),
                Auth::Bearer(&app.test_key),
                None,
                &[],
            )
            .await;
        r.assert_error_envelope(404);
        assert_eq!(r.err()["code"], "resource_missing", "{}", r.text);
    }
    // the server still works
    app.create_ok("type=document").await;
}
