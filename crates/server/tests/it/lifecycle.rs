//! cancel, redact, the verify test helper, reports and verified_outputs expansion.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{expected_session_keys, keys, now_unix, TestApp};

const INCLUDABLE: [&str; 5] = [
    "dob",
    "id_number",
    "sex",
    "unparsed_place_of_birth",
    "unparsed_sex",
];

fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

// ---- cancel -----------------------------------------------------------------

#[tokio::test]
async fn cancel_requires_input_session() {
    let app = TestApp::spawn().await;
    let s = app.create_ok("type=document&metadata[k]=v").await;
    let id = id_of(&s);
    let c = app.cancel(&id).await.ok();
    assert_eq!(keys(&c), expected_session_keys(false, false, false, false));
    assert_eq!(c["id"], s["id"]);
    assert_eq!(c["status"], "canceled");
    assert_eq!(c["client_secret"], json!(null));
    assert_eq!(c["url"], json!(null));
    assert_eq!(c["last_error"], json!(null));
    assert_eq!(c["redaction"], json!(null));
    assert_eq!(c["metadata"], json!({"k": "v"}), "cancel keeps metadata");

    let got = app.retrieve_session(&id, "").await.ok();
    assert_eq!(got, c, "retrieve after cancel returns the canceled session");

    // second cancel: 200 no-op
    let again = app.cancel(&id).await.ok();
    assert_eq!(again, c, "second cancel must be a no-op");
}

#[tokio::test]
async fn cancel_verified_is_refused_with_stripe_message() {
    let app = TestApp::spawn().await;
    let v = app.verified_session("type=document").await;
    let id = id_of(&v);
    let r = app.cancel(&id).await;
    r.assert_error_envelope(400);
    assert_eq!(
        r.err()["message"],
        "You cannot cancel this VerificationSession because it has a status of \"verified\". \
         Only a VerificationSession in \"requires_input\" status may be canceled.",
        "{}",
        r.text
    );
    assert_eq!(
        app.retrieve_session(&id, "").await.ok()["status"],
        "verified"
    );
}

#[tokio::test]
async fn cancel_accepts_expand() {
    let app = TestApp::spawn().await;
    let s = app
        .create_ok("type=document&provided_details[email]=e%40x.co")
        .await;
    let c = app
        .post_form(
            &format!("{}/{}/cancel", crate::helpers::SESSIONS, id_of(&s)),
            &app.test_key,
            "expand[]=provided_details",
        )
        .await
        .ok();
    assert_eq!(c["status"], "canceled");
    assert_eq!(c["provided_details"], json!({"email": "e@x.co"}));
}

// ---- verify test helper and reports ----------------------------------------

#[tokio::test]
async fn test_verify_moves_to_verified_and_creates_report() {
    let app = TestApp::spawn().await;
    let s = app
        .create_ok("type=document&client_reference_id=cref&metadata[m]=1")
        .await;
    let id = id_of(&s);
    let v = app.test_verify(&id).await.ok();
    assert_eq!(v["id"], s["id"]);
    assert_eq!(v["object"], "identity.verification_session");
    assert_eq!(v["status"], "verified");
    assert_eq!(v["client_secret"], json!(null));
    assert_eq!(v["url"], json!(null));
    assert_eq!(v["last_error"], json!(null));
    assert_eq!(v["metadata"], json!({"m": "1"}));
    let vr = v["last_verification_report"]
        .as_str()
        .unwrap_or_else(|| panic!("no report id: {v}"));
    assert!(
        vr.starts_with("vr_") && vr.len() > 3 && vr[3..].chars().all(|c| c.is_ascii_alphanumeric()),
        "report id {vr:?}"
    );

    let got = app.retrieve_session(&id, "").await.ok();
    assert_eq!(got["status"], "verified");
    assert_eq!(got["last_verification_report"], vr);
    assert_eq!(got["client_secret"], json!(null));
    assert_eq!(got["url"], json!(null));

    let report = app.retrieve_report(vr, "").await.ok();
    assert_eq!(report["id"], vr);
    assert_eq!(report["object"], "identity.verification_report");
    assert_eq!(report["verification_session"], json!(id));
    assert_eq!(report["livemode"], json!(false));
    assert_eq!(report["type"], "document");
    let created = report["created"]
        .as_i64()
        .unwrap_or_else(|| panic!("report.created: {report}"));
    assert!((created - now_unix()).abs() < 60);

    // expanding last_verification_report gives the report object
    let exp = app
        .retrieve_session(&id, "expand[]=last_verification_report")
        .await
        .ok();
    assert_eq!(exp["last_verification_report"]["id"], vr);
    assert_eq!(
        exp["last_verification_report"]["object"],
        "identity.verification_report"
    );
    assert_eq!(
        exp["last_verification_report"]["verification_session"],
        json!(id)
    );
    assert_eq!(
        keys(&exp),
        expected_session_keys(false, false, false, false)
    );
    let exp = app
        .retrieve_session(&id, "expand%5B0%5D=last_verification_report")
        .await
        .ok();
    assert_eq!(exp["last_verification_report"]["id"], vr);
}

#[tokio::test]
async fn test_verify_only_from_requires_input() {
    let app = TestApp::spawn().await;
    let v = app.verified_session("type=document").await;
    let id = id_of(&v);
    let r = app.test_verify(&id).await;
    r.assert_error_envelope(400);
    // still one report
    assert_eq!(
        app.retrieve_session(&id, "").await.ok()["last_verification_report"],
        v["last_verification_report"]
    );

    let c = app.create_ok("type=document").await;
    let cid = id_of(&c);
    app.cancel(&cid).await.assert_status(200);
    let r = app.test_verify(&cid).await;
    r.assert_error_envelope(400);
    assert_eq!(
        app.retrieve_session(&cid, "").await.ok()["status"],
        "canceled"
    );
}

#[tokio::test]
async fn verified_outputs_and_includable_fields() {
    let app = TestApp::spawn().await;
    let v = app.verified_session("type=document").await;
    assert!(
        v.get("verified_outputs").is_none(),
        "not expanded on verify response: {v}"
    );
    let id = id_of(&v);

    let got = app.retrieve_session(&id, "").await.ok();
    assert!(
        got.get("verified_outputs").is_none(),
        "verified_outputs must be absent unless expanded"
    );

    let got = app
        .retrieve_session(&id, "expand[]=verified_outputs")
        .await
        .ok();
    assert_eq!(
        keys(&got),
        expected_session_keys(false, false, false, true),
        "key order: {got}"
    );
    let vo = &got["verified_outputs"];
    assert!(vo.is_object(), "verified_outputs: {vo}");
    for k in INCLUDABLE {
        assert!(
            vo.get(k).is_none(),
            "verified_outputs.{k} must need its own expand: {vo}"
        );
    }
    assert!(
        vo["first_name"].as_str().is_some_and(|s| !s.is_empty()),
        "first_name: {vo}"
    );
    assert!(
        vo["last_name"].as_str().is_some_and(|s| !s.is_empty()),
        "last_name: {vo}"
    );
    assert!(
        vo["address"]["country"]
            .as_str()
            .is_some_and(|s| s.len() == 2),
        "address.country: {vo}"
    );

    // each includable field by its own path (which also includes verified_outputs)
    let got = app
        .retrieve_session(&id, "expand[]=verified_outputs.dob")
        .await
        .ok();
    let vo = &got["verified_outputs"];
    let dob = &vo["dob"];
    assert!(
        dob["day"].is_i64() && dob["month"].is_i64() && dob["year"].is_i64(),
        "dob: {dob}"
    );
    assert!(vo.get("id_number").is_none(), "only dob was expanded: {vo}");
    assert!(
        vo["first_name"].is_string(),
        "expanding a sub-path keeps the other outputs: {vo}"
    );

    let q = INCLUDABLE
        .iter()
        .enumerate()
        .map(|(i, k)| format!("expand[{i}]=verified_outputs.{k}"))
        .collect::<Vec<_>>()
        .join("&");
    let got = app.retrieve_session(&id, &q).await.ok();
    let vo = &got["verified_outputs"];
    for k in INCLUDABLE {
        assert!(
            vo.get(k).is_some(),
            "verified_outputs.{k} expanded but absent: {vo}"
        );
    }
    // python-style encoding of a nested path
    let got = app
        .retrieve_session(&id, "expand%5B0%5D=verified_outputs.id_number")
        .await
        .ok();
    assert!(got["verified_outputs"].get("id_number").is_some(), "{got}");
    assert!(got["verified_outputs"].get("dob").is_none(), "{got}");
}

// ---- redact -------------------------------------------------------------------

/// Every string leaf of verified_outputs except address.country / id_number_type.
fn redactable_strings(vo: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(m) = vo.as_object() {
        for (k, v) in m {
            if k == "id_number_type" || k == "dob" {
                continue;
            }
            if k == "address" {
                if let Some(a) = v.as_object() {
                    for (ak, av) in a {
                        if ak != "country" && av.is_string() {
                            out.push((format!("address.{ak}"), av.clone()));
                        }
                    }
                }
            } else if v.is_string() {
                out.push((k.clone(), v.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn redact_requires_input_cancels_then_redacts() {
    let app = TestApp::spawn().await;
    let s = app
        .create_ok("type=document&metadata[secret]=x&provided_details[email]=e%40x.co")
        .await;
    let id = id_of(&s);
    let r = app.redact(&id).await.ok();
    assert_eq!(keys(&r), expected_session_keys(false, false, false, false));
    assert_eq!(
        r["status"], "canceled",
        "redacting requires_input cancels: {r}"
    );
    assert_eq!(r["redaction"], json!({"status": "processing"}));
    assert_eq!(r["client_secret"], json!(null));
    assert_eq!(r["url"], json!(null));

    let (done, took) = app
        .wait_until_redacted(&id, "expand[]=provided_details")
        .await;
    assert!(
        took < Duration::from_millis(2500),
        "redaction took {took:?} with a 200ms delay"
    );
    assert_eq!(done["status"], "canceled");
    assert_eq!(done["metadata"], json!({}));
    assert_eq!(done["redaction"], json!({"status": "redacted"}));
    if let Some(email) = done["provided_details"].get("email") {
        assert_ne!(
            email, "e@x.co",
            "provided_details must not survive redaction: {done}"
        );
    }
    // still listed
    let l = app.list_sessions("").await.ok();
    assert_eq!(l["data"][0]["id"], json!(id));
    assert_eq!(l["data"][0]["redaction"]["status"], "redacted");
}

#[tokio::test]
async fn redact_verified_keeps_status_and_scrubs_outputs() {
    let app = TestApp::spawn().await;
    let v = app.verified_session("type=document&metadata[a]=b").await;
    let id = id_of(&v);
    let all = "expand[]=verified_outputs&expand[]=verified_outputs.dob&expand[]=verified_outputs.id_number\
               &expand[]=verified_outputs.sex&expand[]=verified_outputs.unparsed_place_of_birth\
               &expand[]=verified_outputs.unparsed_sex";
    let before = app.retrieve_session(&id, all).await.ok();
    let country = before["verified_outputs"]["address"]["country"].clone();
    assert!(country.is_string(), "test person needs a country: {before}");
    assert!(!redactable_strings(&before["verified_outputs"]).is_empty());

    let r = app.redact(&id).await.ok();
    assert_eq!(r["status"], "verified");
    assert_eq!(r["redaction"], json!({"status": "processing"}));

    let (done, took) = app.wait_until_redacted(&id, all).await;
    assert!(
        took < Duration::from_millis(2500),
        "redaction took {took:?} with a 200ms delay"
    );
    assert_eq!(done["status"], "verified");
    assert_eq!(done["metadata"], json!({}));
    let vo = &done["verified_outputs"];
    assert_eq!(
        vo["dob"],
        json!({"day": 1, "month": 1, "year": 1}),
        "dob placeholder: {vo}"
    );
    assert_eq!(vo["address"]["country"], country, "address.country is kept");
    assert_eq!(vo["first_name"], "[redacted]");
    assert_eq!(vo["last_name"], "[redacted]");
    let strings = redactable_strings(vo);
    assert!(!strings.is_empty());
    for (k, val) in strings {
        assert_eq!(val, "[redacted]", "verified_outputs.{k} not redacted: {vo}");
    }
    // report still retrievable
    let vr = done["last_verification_report"].as_str().unwrap();
    app.retrieve_report(vr, "").await.assert_status(200);
}

#[tokio::test]
async fn redact_canceled_session() {
    let app = TestApp::spawn().await;
    let s = app.create_ok("type=document&metadata[a]=b").await;
    let id = id_of(&s);
    app.cancel(&id).await.assert_status(200);
    let r = app.redact(&id).await.ok();
    assert_eq!(r["status"], "canceled");
    assert_eq!(r["redaction"], json!({"status": "processing"}));
    let (done, _) = app.wait_until_redacted(&id, "").await;
    assert_eq!(done["status"], "canceled");
    assert_eq!(done["metadata"], json!({}));
}

#[tokio::test]
async fn redacted_session_refuses_mutation_and_redact_again_is_noop() {
    let app = TestApp::spawn().await;
    let v = app.verified_session("type=document").await;
    let id = id_of(&v);
    app.redact(&id).await.assert_status(200);
    let (done, _) = app.wait_until_redacted(&id, "").await;

    let update = app.update_session(&id, "metadata[a]=b").await;
    let cancel = app.cancel(&id).await;
    let verify = app.test_verify(&id).await;
    for r in [&update, &cancel, &verify] {
        r.assert_error_envelope(400);
        let msg = r.err()["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains("because it has been redacted"),
            "{}: {msg}",
            r.request
        );
    }

    let again = app.redact(&id).await.ok();
    assert_eq!(again["redaction"], json!({"status": "redacted"}));
    assert_eq!(again, done, "redacting again is a no-op");
    assert_eq!(app.retrieve_session(&id, "").await.ok(), done);
}

#[tokio::test]
async fn redacted_canceled_session_refuses_cancel_and_update() {
    let app = TestApp::spawn().await;
    let s = app.create_ok("type=document").await;
    let id = id_of(&s);
    app.redact(&id).await.assert_status(200);
    app.wait_until_redacted(&id, "").await;
    for r in [
        app.cancel(&id).await,
        app.update_session(&id, "metadata[a]=b").await,
        app.test_verify(&id).await,
    ] {
        r.assert_error_envelope(400);
        let msg = r.err()["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains("because it has been redacted"),
            "{}: {msg}",
            r.request
        );
    }
}

#[tokio::test]
async fn redact_while_processing_redaction_is_ok() {
    let app = TestApp::builder().redaction_delay(Some("3s")).spawn().await;
    let s = app.create_ok("type=document").await;
    let id = id_of(&s);
    let first = app.redact(&id).await.ok();
    assert_eq!(first["redaction"], json!({"status": "processing"}));
    let second = app.redact(&id).await.ok();
    assert_eq!(second["redaction"], json!({"status": "processing"}));
    assert_eq!(second["status"], "canceled");
    // the delay flag is honoured: still processing well before 3s
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = app.retrieve_session(&id, "").await.ok();
    assert_eq!(
        got["redaction"],
        json!({"status": "processing"}),
        "redaction finished before the 3s delay"
    );
}

#[tokio::test]
async fn report_includable_fields_and_nested_expand() {
    let app = TestApp::spawn().await;
    let v = app.verified_session("type=document").await;
    let id = id_of(&v);
    let vr = v["last_verification_report"].as_str().unwrap().to_string();

    let r = app.retrieve_report(&vr, "").await.ok();
    for k in [
        "dob",
        "expiration_date",
        "number",
        "sex",
        "unparsed_place_of_birth",
        "unparsed_sex",
    ] {
        assert!(
            r["document"].get(k).is_none(),
            "report document.{k} needs an expand: {r}"
        );
    }
    let r = app.retrieve_report(&vr, "expand[]=document.dob").await.ok();
    assert!(r["document"]["dob"]["year"].is_i64(), "{r}");
    assert!(r["document"].get("number").is_none(), "{r}");
    app.retrieve_report(&vr, "expand[]=nope")
        .await
        .assert_error(
            400,
            None,
            Some("expand"),
            "This property cannot be expanded (nope).",
        );

    // through the session
    let s = app
        .retrieve_session(&id, "expand[]=last_verification_report.document.dob")
        .await
        .ok();
    assert_eq!(s["last_verification_report"]["id"], json!(vr));
    assert!(
        s["last_verification_report"]["document"]["dob"]["year"].is_i64(),
        "{s}"
    );
    let l = app
        .list_sessions("expand%5B0%5D=data.last_verification_report.document.dob")
        .await
        .ok();
    assert!(
        l["data"][0]["last_verification_report"]["document"]["dob"]["year"].is_i64(),
        "{l}"
    );
}
