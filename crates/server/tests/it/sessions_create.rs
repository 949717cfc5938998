//! POST /v1/identity/verification_sessions and GET …/{id}.

use serde_json::json;

use crate::helpers::{expected_session_keys, is_session_id, keys, now_unix, TestApp};

#[tokio::test]
async fn create_minimal_document_session_has_stripe_shape() {
    let app = TestApp::spawn().await;
    let r = app.create_session("type=document").await;
    r.assert_status(200);
    let s = &r.json;
    assert_eq!(
        keys(s),
        expected_session_keys(false, false, false, false),
        "key order: {s}"
    );

    let id = s["id"].as_str().unwrap();
    assert!(
        is_session_id(id),
        "id {id:?} must match ^vs_[A-Za-z0-9]{{24}}$"
    );
    assert_eq!(s["object"], "identity.verification_session");
    assert_eq!(s["client_reference_id"], json!(null));
    let secret = s["client_secret"].as_str().unwrap();
    assert!(
        secret.starts_with(&format!("{id}_secret_")),
        "client_secret {secret:?}"
    );
    assert!(
        secret.len() > format!("{id}_secret_").len(),
        "client_secret has no token part"
    );
    let created = s["created"].as_i64().unwrap();
    assert!(
        (created - now_unix()).abs() <= 60,
        "created {created} is not now"
    );
    assert_eq!(s["last_error"], json!(null));
    assert_eq!(s["last_verification_report"], json!(null));
    assert_eq!(s["livemode"], json!(false));
    assert_eq!(s["metadata"], json!({}));
    assert_eq!(s["options"], json!({}));
    assert_eq!(s["redaction"], json!(null));
    assert_eq!(s["related_customer"], json!(null));
    assert_eq!(s["related_customer_account"], json!(null));
    assert_eq!(s["status"], "requires_input");
    assert_eq!(s["type"], "document");
    let url = s["url"].as_str().unwrap();
    assert!(
        url.starts_with(&app.base_url),
        "url {url:?} should start with {}",
        app.base_url
    );
    assert!(
        url.len() > app.base_url.len() + 1,
        "url {url:?} has no path"
    );
}

#[tokio::test]
async fn ids_and_secrets_are_unique() {
    let app = TestApp::spawn().await;
    let a = app.create_ok("type=document").await;
    let b = app.create_ok("type=document").await;
    assert_ne!(a["id"], b["id"]);
    assert_ne!(a["client_secret"], b["client_secret"]);
    assert_ne!(a["url"], b["url"]);
}

#[tokio::test]
async fn create_with_every_parameter() {
    let app = TestApp::spawn().await;
    // The exact body the python/node SDKs send (see sdk-wire-format.md), plus the rest.
    let body = "type=document&metadata[order_id]=42&metadata[note]=hi\
        &options[document][allowed_types][0]=driving_license&options[document][allowed_types][1]=passport\
        &options[document][require_matching_selfie]=true&client_reference_id=user_1\
        &return_url=https%3A%2F%2Fexample.com%2Freturn&related_customer=cus_123\
        &provided_details[email]=a%40example.com&provided_details[phone]=%2B15555550123\
        &related_customer_account=acct_123&related_person[account]=acct_9&related_person[person]=person_9\
        &expand[0]=provided_details";
    let r = app.create_session(body).await;
    r.assert_status(200);
    let s = &r.json;
    assert_eq!(
        keys(s),
        expected_session_keys(true, true, false, false),
        "key order: {s}"
    );
    assert_eq!(s["metadata"], json!({"order_id": "42", "note": "hi"}));
    assert_eq!(
        s["options"],
        json!({"document": {"allowed_types": ["driving_license", "passport"], "require_matching_selfie": true}})
    );
    assert_eq!(s["client_reference_id"], "user_1");
    assert_eq!(s["related_customer"], "cus_123");
    assert_eq!(s["related_customer_account"], "acct_123");
    assert_eq!(
        s["related_person"],
        json!({"account": "acct_9", "person": "person_9"})
    );
    assert_eq!(
        s["provided_details"],
        json!({"email": "a@example.com", "phone": "+15555550123"})
    );
    assert_eq!(s["type"], "document");

    // A plain retrieve omits provided_details but keeps related_person.
    let id = s["id"].as_str().unwrap();
    let got = app.retrieve_session(id, "").await.ok();
    assert_eq!(
        keys(&got),
        expected_session_keys(false, true, false, false),
        "key order: {got}"
    );
    assert_eq!(got["metadata"], s["metadata"]);
    assert_eq!(got["options"], s["options"]);
    assert_eq!(got["related_person"], s["related_person"]);
}

#[tokio::test]
async fn create_id_number_session() {
    let app = TestApp::spawn().await;
    let s = app.create_session("type=id_number").await.ok();
    assert_eq!(s["type"], "id_number");
    assert_eq!(s["options"], json!({}));
    assert_eq!(s["status"], "requires_input");
}

#[tokio::test]
async fn options_echo_only_what_was_set() {
    let app = TestApp::spawn().await;
    let s = app
        .create_session("type=document&options[document][require_live_capture]=false")
        .await
        .ok();
    assert_eq!(
        s["options"],
        json!({"document": {"require_live_capture": false}})
    );

    let s = app
        .create_session("type=document&options[document][require_id_number]=true&options[document][require_live_capture]=true")
        .await
        .ok();
    assert_eq!(
        s["options"],
        json!({"document": {"require_id_number": true, "require_live_capture": true}})
    );
}

#[tokio::test]
async fn bracket_arrays_without_index_are_accepted() {
    let app = TestApp::spawn().await;
    let s = app
        .create_session(
            "type=document&options[document][allowed_types][]=id_card&options[document][allowed_types][]=passport\
             &provided_details[email]=x%40example.com&expand[]=provided_details",
        )
        .await
        .ok();
    assert_eq!(
        s["options"],
        json!({"document": {"allowed_types": ["id_card", "passport"]}})
    );
    assert_eq!(s["provided_details"], json!({"email": "x@example.com"}));
}

#[tokio::test]
async fn form_decoding_plus_and_percent() {
    let app = TestApp::spawn().await;
    let s = app
        .create_session("type=document&metadata[note]=hello+world&metadata[sym]=a%26b%3Dc%25&client_reference_id=caf%C3%A9")
        .await
        .ok();
    assert_eq!(
        s["metadata"],
        json!({"note": "hello world", "sym": "a&b=c%"})
    );
    assert_eq!(s["client_reference_id"], "café");
}

#[tokio::test]
async fn verification_flow_session() {
    let app = TestApp::spawn().await;
    let r = app.create_session("verification_flow=vf_1AbC").await;
    r.assert_status(200);
    let s = &r.json;
    assert_eq!(
        keys(s),
        expected_session_keys(false, false, true, false),
        "key order: {s}"
    );
    assert_eq!(s["type"], "verification_flow");
    assert_eq!(s["verification_flow"], "vf_1AbC");

    let got = app
        .retrieve_session(s["id"].as_str().unwrap(), "")
        .await
        .ok();
    assert_eq!(got["type"], "verification_flow");
    assert_eq!(got["verification_flow"], "vf_1AbC");
}

#[tokio::test]
async fn type_and_verification_flow_together_is_rejected() {
    let app = TestApp::spawn().await;
    let r = app
        .create_session("type=document&verification_flow=vf_1AbC")
        .await;
    r.assert_error_envelope(400);
    // nothing was created
    let list = app.list_sessions("").await.ok();
    assert_eq!(
        list["data"],
        json!([]),
        "a rejected create must not store a session"
    );
}

#[tokio::test]
async fn missing_type_is_parameter_missing() {
    let app = TestApp::spawn().await;
    for body in ["", "metadata[a]=b", "client_reference_id=x"] {
        let r = app.create_session(body).await;
        r.assert_error(
            400,
            Some("parameter_missing"),
            Some("type"),
            "Missing required param: type.",
        );
    }
    let list = app.list_sessions("").await.ok();
    assert_eq!(
        list["data"],
        json!([]),
        "rejected creates must not store sessions"
    );
}

#[tokio::test]
async fn related_person_needs_both_fields() {
    let app = TestApp::spawn().await;
    let r = app
        .create_session("type=document&related_person[account]=acct_1")
        .await;
    r.assert_error(
        400,
        Some("parameter_missing"),
        Some("related_person[person]"),
        "Missing required param: related_person[person].",
    );
    let r = app
        .create_session("type=document&related_person[person]=person_1")
        .await;
    r.assert_error(
        400,
        Some("parameter_missing"),
        Some("related_person[account]"),
        "Missing required param: related_person[account].",
    );
}

#[tokio::test]
async fn retrieve_returns_same_session() {
    let app = TestApp::spawn().await;
    let s = app
        .create_ok("type=document&metadata[k]=v&client_reference_id=ref_1&related_customer=cus_1")
        .await;
    let id = s["id"].as_str().unwrap();
    let got = app.retrieve_session(id, "").await.ok();
    assert_eq!(
        keys(&got),
        expected_session_keys(false, false, false, false)
    );
    for k in [
        "id",
        "object",
        "client_reference_id",
        "created",
        "last_error",
        "last_verification_report",
        "livemode",
        "metadata",
        "options",
        "redaction",
        "related_customer",
        "related_customer_account",
        "status",
        "type",
    ] {
        assert_eq!(
            got[k], s[k],
            "field {k} differs between create and retrieve"
        );
    }
    // In requires_input the secret and url are usable (non-null) on retrieve.
    let secret = got["client_secret"].as_str().unwrap();
    assert!(secret.starts_with(&format!("{id}_secret_")));
    assert!(got["url"].as_str().unwrap().starts_with(&app.base_url));
}

#[tokio::test]
async fn provided_details_only_when_expanded() {
    let app = TestApp::spawn().await;
    let s = app
        .create_ok("type=document&provided_details[email]=a%40b.co")
        .await;
    assert!(
        s.get("provided_details").is_none(),
        "provided_details must be absent by default: {s}"
    );
    let id = s["id"].as_str().unwrap();
    let got = app
        .retrieve_session(id, "expand[]=provided_details")
        .await
        .ok();
    assert_eq!(got["provided_details"], json!({"email": "a@b.co"}));
    assert_eq!(keys(&got), expected_session_keys(true, false, false, false));
    // python-style encoded brackets on GET
    let got = app
        .retrieve_session(id, "expand%5B0%5D=provided_details")
        .await
        .ok();
    assert_eq!(got["provided_details"], json!({"email": "a@b.co"}));
}

#[tokio::test]
async fn verified_outputs_only_when_expanded() {
    let app = TestApp::spawn().await;
    let s = app.create_ok("type=document").await;
    assert!(
        s.get("verified_outputs").is_none(),
        "verified_outputs must be absent by default: {s}"
    );
    let id = s["id"].as_str().unwrap();
    let got = app
        .retrieve_session(id, "expand[0]=verified_outputs")
        .await
        .ok();
    assert_eq!(
        keys(&got),
        expected_session_keys(false, false, false, true),
        "key order: {got}"
    );
    assert_eq!(
        got["verified_outputs"],
        json!(null),
        "unverified session has no outputs"
    );
    // expand on create works too
    let s = app
        .create_ok("type=document&expand[]=verified_outputs")
        .await;
    assert_eq!(keys(&s), expected_session_keys(false, false, false, true));
}

#[tokio::test]
async fn expand_last_verification_report_when_null_stays_null() {
    let app = TestApp::spawn().await;
    let s = app.create_ok("type=document").await;
    let got = app
        .retrieve_session(
            s["id"].as_str().unwrap(),
            "expand[]=last_verification_report",
        )
        .await
        .ok();
    assert_eq!(
        got.get("last_verification_report"),
        Some(&json!(null)),
        "key present and null: {got}"
    );
    assert_eq!(
        keys(&got),
        expected_session_keys(false, false, false, false)
    );
}

#[tokio::test]
async fn invalid_expand_on_create_and_retrieve() {
    let app = TestApp::spawn().await;
    let r = app.create_session("type=document&expand[]=foo").await;
    r.assert_error(
        400,
        None,
        Some("expand"),
        "This property cannot be expanded (foo).",
    );
    let list = app.list_sessions("").await.ok();
    assert_eq!(
        list["data"],
        json!([]),
        "a create with a bad expand must not store a session"
    );

    let s = app.create_ok("type=document").await;
    let id = s["id"].as_str().unwrap();
    let r = app.retrieve_session(id, "expand[]=foo").await;
    r.assert_error(
        400,
        None,
        Some("expand"),
        "This property cannot be expanded (foo).",
    );
    let r = app
        .retrieve_session(id, "expand[]=verified_outputs.nope")
        .await;
    r.assert_error(
        400,
        None,
        Some("expand"),
        "This property cannot be expanded (verified_outputs.nope).",
    );
    // `data.` prefix is for lists only
    let r = app
        .retrieve_session(id, "expand[]=data.verified_outputs")
        .await;
    r.assert_error_prefix(
        400,
        None,
        Some("expand"),
        "This property cannot be expanded (data",
    );
}

#[tokio::test]
async fn retrieve_missing_and_malformed_ids_are_404() {
    let app = TestApp::spawn().await;
    for id in ["vs_x", "vs_AAAAAAAAAAAAAAAAAAAAAAAA", "nonsense", "vr_123"] {
        let r = app.retrieve_session(id, "").await;
        r.assert_error(
            404,
            Some("resource_missing"),
            Some("id"),
            &format!("No such VerificationSession: '{id}'"),
        );
    }
}

#[tokio::test]
async fn stripe_sdk_headers_are_tolerated() {
    // Node sends Content-Type on GETs and every SDK sends Idempotency-Key / telemetry headers.
    let app = TestApp::spawn().await;
    let s = app.create_ok("type=document").await;
    let id = s["id"].as_str().unwrap();
    let r = app
        .request(
            reqwest::Method::GET,
            &format!("{}/{id}?expand[0]=last_verification_report&expand[1]=verified_outputs", crate::helpers::SESSIONS),
            crate::helpers::Auth::Bearer(&app.test_key),
            None,
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "application/json"),
                ("User-Agent", "Stripe/v1 NodeBindings/23.1.0"),
                ("Stripe-Version", "2026-10-28.endive"),
                (
                    "X-Stripe-Client-Telemetry",
                    r#"{"last_request_metrics":{"request_id":"req_capture","request_duration_ms":4}}"#,
                ),
            ],
        )
        .await;
    let got = r.ok();
    assert_eq!(got["id"], s["id"]);
    let r = app
        .request(
            reqwest::Method::POST,
            crate::helpers::SESSIONS,
            crate::helpers::Auth::Bearer(&app.test_key),
            Some("type=id_number".into()),
            &[
                ("Idempotency-Key", "b37757ec-a47f-59fa-587b-9b5b1f998f2a"),
                ("User-Agent", "Stripe/v1 PythonBindings/16.1.0"),
            ],
        )
        .await;
    assert_eq!(r.ok()["type"], "id_number");
}
