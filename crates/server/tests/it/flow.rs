//! The verification flow from code: test helpers for every outcome, asynchronous processing
//! that survives restarts, reports, and fresh links after a failure.

use serde_json::Value;

use crate::helpers::{ids, TestApp};

async fn unverify(app: &TestApp, id: &str, body: &str) -> crate::helpers::Resp {
    let path = format!("/v1/test_helpers/identity/verification_sessions/{id}/unverify");
    app.post_form(&path, &app.test_key, body).await
}

async fn verify(app: &TestApp, id: &str, body: &str) -> crate::helpers::Resp {
    let path = format!("/v1/test_helpers/identity/verification_sessions/{id}/verify");
    app.post_form(&path, &app.test_key, body).await
}

async fn events_for(app: &TestApp, id: &str) -> Vec<String> {
    let list = app.get("/v1/events?limit=100", &app.test_key).await.ok();
    let mut types: Vec<String> = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|e| e["data"]["object"]["id"] == id)
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect();
    types.reverse(); // oldest first
    types
}

#[tokio::test]
async fn unverify_fails_the_session_with_a_report_and_a_fresh_link_on_retrieve() {
    let app = TestApp::spawn().await;
    let s = app.create_ok("type=document").await;
    let id = s["id"].as_str().expect("id");
    let old_url = s["url"].as_str().expect("url").to_string();
    let r = unverify(&app, id, "last_error[code]=document_expired")
        .await
        .ok();
    assert_eq!(r["status"], "requires_input");
    assert_eq!(r["last_error"]["code"], "document_expired");
    assert_eq!(r["last_error"]["reason"], "The document is expired.");
    // The link was used by the failed attempt: it is gone from the answer ...
    assert_eq!(r["url"], Value::Null);
    assert_eq!(r["client_secret"], Value::Null);
    // ... and retrieving the session mints fresh ones, as at Stripe.
    let again = app.retrieve_session(id, "").await.ok();
    let new_url = again["url"].as_str().expect("fresh url");
    assert_ne!(new_url, old_url);
    assert!(again["client_secret"]
        .as_str()
        .is_some_and(|c| c.starts_with(&format!("{id}_secret_"))));
    // Stable while usable.
    assert_eq!(app.retrieve_session(id, "").await.ok()["url"], new_url);
    let report_id = r["last_verification_report"].as_str().expect("report id");
    let report = app.retrieve_report(report_id, "").await.ok();
    assert_eq!(report["document"]["status"], "unverified");
    assert_eq!(report["document"]["error"]["code"], "document_expired");
    assert_eq!(report["document"]["first_name"], Value::Null);
    assert_eq!(
        events_for(&app, id).await,
        [
            "identity.verification_session.created",
            "identity.verification_session.processing",
            "identity.verification_session.requires_input"
        ]
    );
    // A second attempt can succeed.
    let ok = verify(&app, id, "").await.ok();
    assert_eq!(ok["status"], "verified");
    assert_ne!(ok["last_verification_report"], report_id);
}

#[tokio::test]
async fn unverify_codes_are_validated_against_the_sessions_checks() {
    let app = TestApp::spawn().await;
    let id = app.create_ok("type=document").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    unverify(&app, &id, "last_error[code]=selfie_face_mismatch")
        .await
        .assert_error(
            400,
            None,
            Some("last_error[code]"),
            "The error code 'selfie_face_mismatch' cannot result from this VerificationSession's checks.",
        );
    let r = unverify(&app, &id, "last_error[code]=bogus").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.err()["param"], "last_error[code]");
    unverify(&app, &id, "last_error[nope]=x")
        .await
        .assert_error(
            400,
            Some("parameter_unknown"),
            Some("last_error[nope]"),
            "Received unknown parameter: last_error[nope]",
        );
    // The default failure fits the check: document sessions fail their document.
    let r = unverify(&app, &id, "").await.ok();
    assert_eq!(r["last_error"]["code"], "document_unverified_other");
    let idn = app.create_ok("type=id_number").await;
    let r = unverify(&app, idn["id"].as_str().expect("id"), "")
        .await
        .ok();
    assert_eq!(r["last_error"]["code"], "id_number_unverified_other");
    // User-side codes never reach processing: no report.
    let s = app.create_ok("type=document").await;
    let r = unverify(
        &app,
        s["id"].as_str().expect("id"),
        "last_error[code]=consent_declined",
    )
    .await
    .ok();
    assert_eq!(r["last_error"]["code"], "consent_declined");
    assert_eq!(r["last_verification_report"], Value::Null);
}

#[tokio::test]
async fn simulate_delay_stays_processing_then_settles_even_across_a_restart() {
    let mut app = TestApp::builder()
        .arg("--test-processing-delay")
        .arg("1500ms")
        .spawn()
        .await;
    let s = app.create_ok("type=document").await;
    let id = s["id"].as_str().expect("id").to_string();
    let r = verify(&app, &id, "simulate_delay=true").await.ok();
    assert_eq!(r["status"], "processing");
    assert_eq!(r["last_verification_report"], Value::Null);
    // Processing sessions refuse redaction and cancel.
    app.cancel(&id).await.assert_status(400);
    app.redact(&id).await.assert_status(400);
    app.restart().await; // SIGKILL while the outcome is pending
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let done = loop {
        let s = app.retrieve_session(&id, "").await.ok();
        if s["status"] == "verified" {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "still {s}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(done["last_verification_report"].as_str().is_some());
    // Applied exactly once.
    assert_eq!(
        events_for(&app, &id).await,
        [
            "identity.verification_session.created",
            "identity.verification_session.processing",
            "identity.verification_session.verified"
        ]
    );
    let reports = app
        .get(
            &format!("/v1/identity/verification_reports?verification_session={id}"),
            &app.test_key,
        )
        .await
        .ok();
    assert_eq!(ids(&reports).len(), 1);
}

#[tokio::test]
async fn verified_outputs_can_be_overridden_and_private_testing_routes_work() {
    let app = TestApp::spawn().await;
    let id = app.create_ok("type=id_number").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let path = format!("/v1/identity/verification_pages/{id}/testing/verify");
    let body = "verified_outputs[first_name]=Ada&verified_outputs[dob][year]=1815&verified_outputs[id_number]=123456789&expand[0]=verified_outputs.dob&expand[1]=verified_outputs.id_number";
    let r = app.post_form(&path, &app.test_key, body).await.ok();
    assert_eq!(r["status"], "verified");
    assert_eq!(r["verified_outputs"]["first_name"], "Ada");
    assert_eq!(r["verified_outputs"]["last_name"], "Rosen");
    assert_eq!(r["verified_outputs"]["dob"]["year"], 1815);
    assert_eq!(r["verified_outputs"]["id_number"], "123456789");
    let other = app.create_ok("type=document").await;
    let path = format!(
        "/v1/identity/verification_pages/{}/testing/unverify",
        other["id"].as_str().expect("id")
    );
    let r = app.post_form(&path, &app.test_key, "").await.ok();
    assert_eq!(r["status"], "requires_input");
    // Test helpers refuse live mode.
    let live = app
        .create_session_as(&app.live_key, "type=document")
        .await
        .ok();
    let path = format!(
        "/v1/test_helpers/identity/verification_sessions/{}/unverify",
        live["id"].as_str().expect("id")
    );
    assert_eq!(app.post_form(&path, &app.live_key, "").await.status, 400);
}

#[tokio::test]
async fn reports_list_filters_and_pages() {
    let app = TestApp::spawn().await;
    let mut made = Vec::new();
    for i in 0..5 {
        let kind = if i % 2 == 0 { "document" } else { "id_number" };
        let s = app
            .create_ok(&format!("type={kind}&client_reference_id=r{}", i % 2))
            .await;
        let id = s["id"].as_str().expect("id").to_string();
        let v = verify(&app, &id, "").await.ok();
        made.push((
            id,
            v["last_verification_report"]
                .as_str()
                .expect("vr")
                .to_string(),
            kind,
        ));
    }
    let all = app
        .get("/v1/identity/verification_reports?limit=3", &app.test_key)
        .await
        .ok();
    assert_eq!(all["url"], "/v1/identity/verification_reports");
    assert_eq!(all["has_more"], true);
    let newest_first: Vec<String> = made.iter().rev().map(|(_, r, _)| r.clone()).collect();
    assert_eq!(ids(&all), newest_first[..3]);
    let next = app
        .get(
            &format!(
                "/v1/identity/verification_reports?limit=3&starting_after={}",
                newest_first[2]
            ),
            &app.test_key,
        )
        .await
        .ok();
    assert_eq!(ids(&next), newest_first[3..]);
    assert_eq!(next["has_more"], false);
    let docs = app
        .get(
            "/v1/identity/verification_reports?type=document",
            &app.test_key,
        )
        .await
        .ok();
    assert_eq!(ids(&docs).len(), 3);
    let by_ref = app
        .get(
            "/v1/identity/verification_reports?client_reference_id=r1",
            &app.test_key,
        )
        .await
        .ok();
    assert_eq!(ids(&by_ref).len(), 2);
    let by_session = app
        .get(
            &format!(
                "/v1/identity/verification_reports?verification_session={}",
                made[0].0
            ),
            &app.test_key,
        )
        .await
        .ok();
    assert_eq!(ids(&by_session), [made[0].1.clone()]);
    let expanded = app
        .get(
            "/v1/identity/verification_reports?type=document&expand[0]=data.document.dob",
            &app.test_key,
        )
        .await
        .ok();
    assert!(expanded["data"][0]["document"]["dob"]["year"].is_number());
    app.get("/v1/identity/verification_reports?expand[0]=document.dob", &app.test_key)
        .await
        .assert_error(
            400,
            None,
            Some("expand"),
            "This property cannot be expanded (document.dob). You may want to try expanding 'data.document.dob' instead.",
        );
    app.get(
        "/v1/identity/verification_reports?type=verification_flow",
        &app.test_key,
    )
    .await
    .assert_status(400);
    app.get(
        "/v1/identity/verification_reports?starting_after=vr_nope",
        &app.test_key,
    )
    .await
    .assert_error(
        404,
        Some("resource_missing"),
        Some("starting_after"),
        "No such VerificationReport: 'vr_nope'",
    );
}
