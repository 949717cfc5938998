//! Error envelope, validation errors and protocol-level errors.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Auth, Resp, TestApp, SESSIONS};

#[tokio::test]
async fn unknown_parameters() {
    let app = TestApp::spawn().await;
    for (body, param) in [
        ("type=document&foo=bar", "foo"),
        (
            "type=document&options[document][foo]=1",
            "options[document][foo]",
        ),
        ("type=document&options[bar]=1", "options[bar]"),
        (
            "type=document&provided_details[fax]=1",
            "provided_details[fax]",
        ),
        (
            "type=document&related_person[account]=a&related_person[person]=p&related_person[x]=1",
            "related_person[x]",
        ),
    ] {
        app.create_session(body).await.assert_error(
            400,
            Some("parameter_unknown"),
            Some(param),
            &format!("Received unknown parameter: {param}"),
        );
    }
    let l = app.list_sessions("").await.ok();
    assert_eq!(
        l["data"],
        json!([]),
        "rejected creates must not store sessions"
    );
}

#[tokio::test]
async fn invalid_enum_values() {
    let app = TestApp::spawn().await;
    app.create_session("type=selfie").await.assert_error(
        400,
        None,
        Some("type"),
        "Invalid type: must be one of document or id_number",
    );
    // verification_flow is a response type, not an accepted create value
    app.create_session("type=verification_flow")
        .await
        .assert_error(
            400,
            None,
            Some("type"),
            "Invalid type: must be one of document or id_number",
        );
    app.create_session("type=document&options[document][allowed_types][]=passport&options[document][allowed_types][]=visa")
        .await
        .assert_error(
            400,
            None,
            Some("options[document][allowed_types][1]"),
            "Invalid options[document][allowed_types][1]: must be one of driving_license, id_card, or passport",
        );
    app.create_session("type=document&options[document][allowed_types][0]=visa")
        .await
        .assert_error(
            400,
            None,
            Some("options[document][allowed_types][0]"),
            "Invalid options[document][allowed_types][0]: must be one of driving_license, id_card, or passport",
        );
    // same checks on update
    let id = app.create_ok("type=document").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.update_session(&id, "type=selfie").await.assert_error(
        400,
        None,
        Some("type"),
        "Invalid type: must be one of document or id_number",
    );
}

#[tokio::test]
async fn invalid_booleans() {
    let app = TestApp::spawn().await;
    for field in [
        "require_id_number",
        "require_live_capture",
        "require_matching_selfie",
    ] {
        let p = format!("options[document][{field}]");
        app.create_session(&format!("type=document&{p}=yes"))
            .await
            .assert_error(400, None, Some(&p), "Invalid boolean: yes");
    }
    let id = app.create_ok("type=document").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.update_session(&id, "options[document][require_live_capture]=1")
        .await
        .assert_error(
            400,
            None,
            Some("options[document][require_live_capture]"),
            "Invalid boolean: 1",
        );
}

#[tokio::test]
async fn shape_mismatches_are_400_not_500() {
    let app = TestApp::spawn().await;
    for body in [
        "type[a]=document",
        "type[]=document",
        "metadata[a][b]=c",
        "options=abc",
        "options[document]=abc",
        "options[document][allowed_types]=passport",
        "type=document&type[x]=y",
        "expand=provided_details&type=document",
        "provided_details=abc&type=document",
        "[]=x&type=document",
        "type=document&&&",
        "=&type=document",
    ] {
        let r = app.create_session(body).await;
        assert!(
            r.status < 500,
            "{body}: server error {} {}",
            r.status,
            r.text
        );
        if r.status != 200 {
            r.assert_error_envelope(r.status);
            assert_eq!(r.status, 400, "{body}: {}", r.text);
        }
    }
}

#[tokio::test]
async fn overlong_strings_are_rejected() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(5001);
    let r = app
        .create_session(&format!("type=document&client_reference_id={long}"))
        .await;
    r.assert_error_envelope(400);
    assert_eq!(r.err()["param"], "client_reference_id", "{}", r.text);
    let ok = "x".repeat(5000);
    app.create_ok(&format!("type=document&client_reference_id={ok}"))
        .await;
}

#[tokio::test]
async fn malformed_body() {
    let app = TestApp::spawn().await;
    let r = app.create_session("type=document&metadata[a]=%zz").await;
    r.assert_error_prefix(400, None, None, "Invalid request body");
    let r = app.create_session("%zz").await;
    r.assert_error_prefix(400, None, None, "Invalid request body");
}

#[tokio::test]
async fn body_over_one_mebibyte_is_413() {
    let app = TestApp::spawn().await;
    let body = format!("type=document&metadata[a]={}", "x".repeat(1024 * 1024 + 10));
    let r = app.create_session(&body).await;
    r.assert_error_envelope(413);
    // the server is still healthy afterwards
    app.create_ok("type=document").await;
    // just under the limit is not a 413 (it fails metadata validation instead)
    let body = format!("type=document&metadata[a]={}", "x".repeat(1000 * 1000));
    let r = app.create_session(&body).await;
    r.assert_error_envelope(400);
}

#[tokio::test]
async fn unknown_route_and_wrong_method() {
    let app = TestApp::spawn().await;
    let msg = |m: &str, p: &str| {
        format!("Unrecognized request URL ({m}: {p}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.")
    };
    app.get("/v1/nope", &app.test_key)
        .await
        .assert_error(404, None, None, &msg("GET", "/v1/nope"));
    let r = app
        .request(
            Method::DELETE,
            SESSIONS,
            Auth::Bearer(&app.test_key),
            None,
            &[],
        )
        .await;
    r.assert_error(404, None, None, &msg("DELETE", SESSIONS));
    let r = app
        .request(
            Method::PUT,
            &format!("{SESSIONS}/vs_x"),
            Auth::Bearer(&app.test_key),
            Some(String::new()),
            &[],
        )
        .await;
    r.assert_error(404, None, None, &msg("PUT", &format!("{SESSIONS}/vs_x")));
    let r = app
        .get(&format!("{SESSIONS}/vs_x/cancel"), &app.test_key)
        .await;
    r.assert_error(
        404,
        None,
        None,
        &msg("GET", &format!("{SESSIONS}/vs_x/cancel")),
    );
    let r = app
        .post_form("/v1/identity/verification_reports", &app.test_key, "")
        .await;
    assert!(
        r.status == 404 || r.status == 405,
        "POST reports: {} {}",
        r.status,
        r.text
    );
    r.assert_error_envelope(r.status);
    let r = app.get("/v2/anything/at/all", &app.test_key).await;
    r.assert_error(404, None, None, &msg("GET", "/v2/anything/at/all"));
}

#[tokio::test]
async fn missing_report_is_404() {
    let app = TestApp::spawn().await;
    app.retrieve_report("vr_x", "").await.assert_error(
        404,
        Some("resource_missing"),
        Some("id"),
        "No such VerificationReport: 'vr_x'",
    );
    app.retrieve_report("vs_notareport", "").await.assert_error(
        404,
        Some("resource_missing"),
        Some("id"),
        "No such VerificationReport: 'vs_notareport'",
    );
}

#[tokio::test]
async fn missing_session_on_every_session_endpoint() {
    let app = TestApp::spawn().await;
    let msg = "No such VerificationSession: 'vs_x'";
    app.retrieve_session("vs_x", "").await.assert_error(
        404,
        Some("resource_missing"),
        Some("id"),
        msg,
    );
    app.update_session("vs_x", "").await.assert_error(
        404,
        Some("resource_missing"),
        Some("id"),
        msg,
    );
    app.cancel("vs_x")
        .await
        .assert_error(404, Some("resource_missing"), Some("id"), msg);
    app.redact("vs_x")
        .await
        .assert_error(404, Some("resource_missing"), Some("id"), msg);
    app.test_verify("vs_x")
        .await
        .assert_error(404, Some("resource_missing"), Some("id"), msg);
}

fn assert_request_id(r: &Resp) {
    let id = r
        .header("request-id")
        .unwrap_or_else(|| panic!("{}: no Request-Id header ({})", r.request, r.status));
    assert!(
        id.starts_with("req_")
            && id.len() > 8
            && id[4..].chars().all(|c| c.is_ascii_alphanumeric()),
        "{}: Request-Id {id:?}",
        r.request
    );
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let app = TestApp::spawn().await;
    let mut seen = std::collections::HashSet::new();
    let s = app.create_session("type=document").await;
    let id = s.json["id"].as_str().unwrap().to_string();
    let responses = vec![
        s,
        app.retrieve_session(&id, "").await,
        app.list_sessions("").await,
        app.update_session(&id, "metadata[a]=b").await,
        app.create_session("type=bogus").await,
        app.create_session("%zz").await,
        app.retrieve_session("vs_x", "").await,
        app.get("/v1/nope", &app.test_key).await,
        app.request(Method::GET, SESSIONS, Auth::None, None, &[])
            .await,
        app.request(
            Method::GET,
            SESSIONS,
            Auth::Bearer("sk_test_abcdefgh12345678"),
            None,
            &[],
        )
        .await,
        app.create_session(&format!(
            "type=document&metadata[a]={}",
            "x".repeat(1024 * 1024 + 10)
        ))
        .await,
        app.list_sessions("limit=abc").await,
        app.cancel(&id).await,
        app.request(Method::GET, "/healthz", Auth::None, None, &[])
            .await,
    ];
    for r in &responses {
        assert!(r.status < 500, "{}: {} {}", r.request, r.status, r.text);
        assert_request_id(r);
        assert!(
            seen.insert(r.request_id()),
            "request ids must be unique: {}",
            r.request_id()
        );
    }
}

#[tokio::test]
async fn stripe_version_is_echoed() {
    let app = TestApp::spawn().await;
    let v = "2026-10-28.endive";
    let r = app
        .request(
            Method::POST,
            SESSIONS,
            Auth::Bearer(&app.test_key),
            Some("type=document".into()),
            &[("Stripe-Version", v)],
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.header("stripe-version").as_deref(), Some(v));
    let r = app
        .request(
            Method::GET,
            SESSIONS,
            Auth::Bearer(&app.test_key),
            None,
            &[("Stripe-Version", "2023-08-16")],
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.header("stripe-version").as_deref(), Some("2023-08-16"));
    // errors too
    let r = app
        .request(
            Method::GET,
            "/v1/nope",
            Auth::Bearer(&app.test_key),
            None,
            &[("Stripe-Version", v)],
        )
        .await;
    r.assert_status(404);
    assert_eq!(r.header("stripe-version").as_deref(), Some(v));
}

#[tokio::test]
async fn responses_are_json() {
    let app = TestApp::spawn().await;
    let r = app.create_session("type=document").await;
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/json"), "content-type {ct:?}");
    let r = app.get("/v1/nope", &app.test_key).await;
    let ct = r.header("content-type").unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "404 content-type {ct:?}"
    );
}

#[tokio::test]
async fn chunked_bodies() {
    use crate::helpers::{chunked_post, raw_http};
    let app = TestApp::spawn().await;
    let ok = raw_http(
        &app,
        &chunked_post(
            SESSIONS,
            &app.test_key,
            b"type=id_number&metadata[via]=chunked",
        ),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "chunked create: {ok}");
    assert!(ok.contains("\"via\":\"chunked\""), "{ok}");
    let big = format!("type=document&metadata[a]={}", "x".repeat(2 * 1024 * 1024));
    let resp = raw_http(&app, &chunked_post(SESSIONS, &app.test_key, big.as_bytes())).await;
    assert!(
        resp.starts_with("HTTP/1.1 413"),
        "chunked 2 MiB body: {}",
        &resp[..resp.len().min(400)]
    );
    app.create_ok("type=document").await;
}

#[tokio::test]
async fn garbage_on_the_wire_does_not_kill_the_server() {
    use crate::helpers::raw_http;
    let app = TestApp::spawn().await;
    for req in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /v1/identity/verification_sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\ntype=doc",
        b"\x00\x01\x02\x03",
    ] {
        let resp = raw_http(&app, req).await;
        assert!(!resp.starts_with("HTTP/1.1 5"), "5xx for {:?}: {resp}", String::from_utf8_lossy(req));
    }
    let r = raw_http(
        &app,
        format!(
            "GET /v1/identity/verification_sessions HTTP/1.0\r\nAuthorization: Bearer {}\r\n\r\n",
            app.test_key
        )
        .as_bytes(),
    )
    .await;
    assert!(
        r.starts_with("HTTP/1.0 200") || r.starts_with("HTTP/1.1 200"),
        "HTTP/1.0 list: {r}"
    );
    app.create_ok("type=document").await;
}

#[tokio::test]
async fn internal_errors_are_opaque_and_logged_with_the_request_id() {
    let app = TestApp::spawn().await;
    app.create_ok("type=document").await;
    app.break_storage().await;
    let r = app.list_sessions("").await;
    r.assert_status(500);
    assert_eq!(r.err()["type"], "api_error", "{}", r.text);
    assert!(
        !r.text.contains("database"),
        "500 bodies must be opaque: {}",
        r.text
    );
    let rid = r.request_id();
    app.wait_for_log_line(&rid).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let lines: Vec<String> = app
        .log_lines()
        .into_iter()
        .filter(|l| l.contains(&rid))
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("ERROR") && l.contains("storage unavailable")),
        "the cause of a 500 must be logged with its request id {rid}; lines with the id: {lines:?}\nall logs:\n{}",
        app.logs()
    );
}
