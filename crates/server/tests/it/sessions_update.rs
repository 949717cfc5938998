//! POST /v1/identity/verification_sessions/{id} (update).

use serde_json::json;

use crate::helpers::{expected_session_keys, keys, TestApp};

async fn new_session(app: &TestApp, body: &str) -> String {
    app.create_ok(body).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn update_metadata_merges_and_deletes() {
    let app = TestApp::spawn().await;
    let id = new_session(&app, "type=document&metadata[a]=1&metadata[b]=2").await;
    let s = app
        .update_session(&id, "metadata[b]=&metadata[c]=3&metadata[a]=one")
        .await
        .ok();
    assert_eq!(s["metadata"], json!({"a": "one", "c": "3"}));
    assert_eq!(keys(&s), expected_session_keys(false, false, false, false));
    let got = app.retrieve_session(&id, "").await.ok();
    assert_eq!(
        got["metadata"],
        json!({"a": "one", "c": "3"}),
        "update must persist"
    );

    // deleting a key that does not exist is fine
    let s = app.update_session(&id, "metadata[zzz]=").await.ok();
    assert_eq!(s["metadata"], json!({"a": "one", "c": "3"}));

    // metadata= clears everything
    let s = app.update_session(&id, "metadata=").await.ok();
    assert_eq!(s["metadata"], json!({}));
    let got = app.retrieve_session(&id, "").await.ok();
    assert_eq!(got["metadata"], json!({}));
}

#[tokio::test]
async fn update_options_type_and_provided_details() {
    let app = TestApp::spawn().await;
    let id = new_session(
        &app,
        "type=document&options[document][require_matching_selfie]=true",
    )
    .await;

    let s = app
        .update_session(&id, "options[document][require_id_number]=true&options[document][allowed_types][0]=passport")
        .await
        .ok();
    let doc = &s["options"]["document"];
    assert_eq!(
        doc["require_id_number"],
        json!(true),
        "options: {}",
        s["options"]
    );
    assert_eq!(
        doc["allowed_types"],
        json!(["passport"]),
        "options: {}",
        s["options"]
    );

    let s = app
        .update_session(
            &id,
            "type=id_number&provided_details[phone]=%2B15550001111&expand[]=provided_details",
        )
        .await
        .ok();
    assert_eq!(s["type"], "id_number");
    assert_eq!(s["provided_details"], json!({"phone": "+15550001111"}));
    assert_eq!(keys(&s), expected_session_keys(true, false, false, false));

    let got = app
        .retrieve_session(&id, "expand[]=provided_details")
        .await
        .ok();
    assert_eq!(got["type"], "id_number");
    assert_eq!(got["provided_details"], json!({"phone": "+15550001111"}));
}

#[tokio::test]
async fn empty_options_document_clears_options() {
    let app = TestApp::spawn().await;
    let id = new_session(
        &app,
        "type=document&options[document][require_matching_selfie]=true&options[document][allowed_types][]=passport",
    )
    .await;
    let s = app.update_session(&id, "options[document]=").await.ok();
    assert_eq!(
        s["options"],
        json!({}),
        "options[document]= must clear options.document"
    );
    let got = app.retrieve_session(&id, "").await.ok();
    assert_eq!(got["options"], json!({}));
    // and at create time
    let s = app.create_ok("type=document&options[document]=").await;
    assert_eq!(s["options"], json!({}));
}

#[tokio::test]
async fn python_unset_all_body() {
    // `metadata=&options[document]=` is exactly what python sends for '' values.
    let app = TestApp::spawn().await;
    let id = new_session(
        &app,
        "type=document&metadata[k]=v&options[document][require_live_capture]=true",
    )
    .await;
    let s = app
        .update_session(&id, "metadata=&options[document]=")
        .await
        .ok();
    assert_eq!(s["metadata"], json!({}));
    assert_eq!(s["options"], json!({}));
}

#[tokio::test]
async fn empty_type_is_parameter_invalid_empty() {
    let app = TestApp::spawn().await;
    let msg = "You passed an empty string for 'type'. We assume empty values are an attempt to unset a parameter; \
               however 'type' cannot be unset. You should remove 'type' from your request or supply a non-empty value.";
    let id = new_session(&app, "type=document").await;
    app.update_session(&id, "type=").await.assert_error(
        400,
        Some("parameter_invalid_empty"),
        Some("type"),
        msg,
    );
    app.create_session("type=").await.assert_error(
        400,
        Some("parameter_invalid_empty"),
        Some("type"),
        msg,
    );
    // the failed update changed nothing
    assert_eq!(app.retrieve_session(&id, "").await.ok()["type"], "document");
}

#[tokio::test]
async fn create_only_params_are_unknown_on_update() {
    let app = TestApp::spawn().await;
    let id = new_session(&app, "type=document&client_reference_id=orig").await;
    for (body, param) in [
        ("client_reference_id=new", "client_reference_id"),
        ("return_url=https%3A%2F%2Fexample.com", "return_url"),
        ("related_customer=cus_9", "related_customer"),
        (
            "related_customer_account=acct_9",
            "related_customer_account",
        ),
        (
            "related_person[account]=acct_1&related_person[person]=person_1",
            "related_person",
        ),
        ("verification_flow=vf_1", "verification_flow"),
        ("metadata[a]=b&foo=bar", "foo"),
    ] {
        let r = app.update_session(&id, body).await;
        r.assert_error_envelope(400);
        assert_eq!(r.err()["code"], "parameter_unknown", "{body}: {}", r.text);
        let got_param = r.err()["param"].as_str().unwrap_or_default().to_string();
        // related_person may be reported as the object or as its first sub-key
        assert!(
            got_param == param || got_param.starts_with(&format!("{param}[")),
            "{body}: param {got_param:?}, expected {param:?}"
        );
        assert_eq!(
            r.err()["message"],
            format!("Received unknown parameter: {got_param}"),
            "{body}"
        );
    }
    let got = app.retrieve_session(&id, "").await.ok();
    assert_eq!(got["client_reference_id"], "orig");
    assert_eq!(
        got["metadata"],
        json!({}),
        "rejected update must not apply metadata"
    );
}

#[tokio::test]
async fn update_with_nothing_returns_session_unchanged() {
    let app = TestApp::spawn().await;
    let created = app.create_ok("type=document&metadata[x]=y").await;
    let id = created["id"].as_str().unwrap();
    let s = app.update_session(id, "").await.ok();
    assert_eq!(s["id"], created["id"]);
    assert_eq!(s["metadata"], json!({"x": "y"}));
    assert_eq!(s["status"], "requires_input");
}

#[tokio::test]
async fn update_of_canceled_session_is_refused() {
    let app = TestApp::spawn().await;
    let id = new_session(&app, "type=document").await;
    app.cancel(&id).await.assert_status(200);
    let r = app.update_session(&id, "metadata[a]=b").await;
    r.assert_error_envelope(400);
    assert_eq!(
        r.err()["message"],
        "You cannot update this VerificationSession because it has a status of \"canceled\". \
         Only a VerificationSession in \"requires_input\" status may be updated.",
        "{}",
        r.text
    );
    assert_eq!(
        app.retrieve_session(&id, "").await.ok()["metadata"],
        json!({})
    );
}

#[tokio::test]
async fn update_of_verified_session_is_refused() {
    let app = TestApp::spawn().await;
    let s = app.verified_session("type=document").await;
    let id = s["id"].as_str().unwrap();
    let r = app.update_session(id, "metadata[a]=b").await;
    r.assert_error_envelope(400);
    assert_eq!(
        r.err()["message"],
        "You cannot update this VerificationSession because it has a status of \"verified\". \
         Only a VerificationSession in \"requires_input\" status may be updated.",
        "{}",
        r.text
    );
}

#[tokio::test]
async fn update_missing_session_is_404() {
    let app = TestApp::spawn().await;
    app.update_session("vs_doesnotexist", "metadata[a]=b")
        .await
        .assert_error(
            404,
            Some("resource_missing"),
            Some("id"),
            "No such VerificationSession: 'vs_doesnotexist'",
        );
}

#[tokio::test]
async fn metadata_limits() {
    let app = TestApp::spawn().await;
    // 50 keys is fine
    let fifty: Vec<String> = (0..50).map(|i| format!("metadata[k{i}]=v")).collect();
    let s = app
        .create_ok(&format!("type=document&{}", fifty.join("&")))
        .await;
    assert_eq!(s["metadata"].as_object().unwrap().len(), 50);
    let id = s["id"].as_str().unwrap();

    // 51 on create
    let r = app
        .create_session(&format!(
            "type=document&{}&metadata[k50]=v",
            fifty.join("&")
        ))
        .await;
    r.assert_error_envelope(400);
    assert_eq!(r.err()["param"], "metadata", "{}", r.text);

    // the 51st via update
    let r = app.update_session(id, "metadata[another]=v").await;
    r.assert_error_envelope(400);
    assert_eq!(r.err()["param"], "metadata", "{}", r.text);
    // ... but replacing an existing key while deleting one is fine
    let s = app
        .update_session(id, "metadata[k0]=&metadata[another]=v")
        .await
        .ok();
    assert_eq!(s["metadata"].as_object().unwrap().len(), 50);

    // 40-char key ok, 41 not
    let k40 = "k".repeat(40);
    let k41 = "k".repeat(41);
    app.create_ok(&format!("type=document&metadata[{k40}]=v"))
        .await;
    let r = app
        .create_session(&format!("type=document&metadata[{k41}]=v"))
        .await;
    r.assert_error_envelope(400);
    let p = r.err()["param"].as_str().unwrap_or_default();
    assert!(
        p == "metadata" || p == format!("metadata[{k41}]"),
        "param {p:?}: {}",
        r.text
    );

    // 500-char value ok, 501 not
    let v500 = "v".repeat(500);
    let v501 = "v".repeat(501);
    app.create_ok(&format!("type=document&metadata[long]={v500}"))
        .await;
    let r = app
        .create_session(&format!("type=document&metadata[long]={v501}"))
        .await;
    r.assert_error_envelope(400);
    assert_eq!(r.err()["param"], "metadata[long]", "{}", r.text);
    let r = app
        .update_session(id, &format!("metadata[k1]={v501}"))
        .await;
    r.assert_error_envelope(400);
    assert_eq!(r.err()["param"], "metadata[k1]", "{}", r.text);
}

#[tokio::test]
async fn length_limits_count_characters_not_bytes() {
    let app = TestApp::spawn().await;
    // "é" is two bytes in UTF-8 (%C3%A9)
    let e = |n: usize| "%C3%A9".repeat(n);
    let s = app
        .create_ok(&format!("type=document&metadata[{}]={}", e(40), e(500)))
        .await;
    let md = s["metadata"].as_object().unwrap();
    assert_eq!(md.len(), 1);
    let (k, v) = md.iter().next().unwrap();
    assert_eq!(k.chars().count(), 40);
    assert_eq!(v.as_str().unwrap().chars().count(), 500);
    let s = app
        .create_ok(&format!("type=document&client_reference_id={}", e(5000)))
        .await;
    assert_eq!(
        s["client_reference_id"].as_str().unwrap().chars().count(),
        5000
    );
    app.create_session(&format!("type=document&metadata[{}]=v", e(41)))
        .await
        .assert_error_envelope(400);
    app.create_session(&format!("type=document&metadata[k]={}", e(501)))
        .await
        .assert_error_envelope(400);
}
