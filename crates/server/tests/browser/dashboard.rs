//! The dashboard in headless Chromium: sign in, filter, open a session, verify it, see the
//! event; a script in metadata stays text; send a test event to a webhook endpoint whose
//! answer (markup) is shown as text; every page passes axe-core (serious and critical rules).
//! Screenshots: `target/browser-artifacts/dashboard-*.png`.
//!
//! axe-core comes from npm (`tests/browser-deps`, pinned in its package.json and lock file;
//! `scripts/test.sh` runs `npm ci` there) and is injected into each page over WebDriver.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::helpers::TestApp;
use super::receiver::Receiver;
use super::Browser;

/// axe-core's browser build, or None (after a SKIPPED line) when `npm ci` has not run.
fn axe_source() -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/browser-deps/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(e) => {
            if std::env::var("VOUCH_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!(
                    "VOUCH_REQUIRE_BROWSER=1 but {} is missing ({e}): run `npm ci` in tests/browser-deps",
                    path.display()
                );
            }
            eprintln!(
                "\n*** SKIPPED axe-core checks: {} missing (npm ci in tests/browser-deps) ***\n",
                path.display()
            );
            None
        }
    }
}

/// Injects axe-core into the current page, runs it, and fails on serious or critical
/// violations (printing every violation found).
async fn axe_check(b: &Browser, axe: Option<&str>, page: &str) {
    let Some(axe) = axe else { return };
    b.client.execute(axe, vec![]).await.unwrap();
    let result = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
               .then(r => done(r.violations.map(v => ({
                   id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))
               .catch(e => done({error: String(e)}));",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        result.get("error").is_none(),
        "{page}: axe failed: {result}"
    );
    let violations = result.as_array().cloned().unwrap_or_default();
    for v in &violations {
        println!(
            "axe {page}: {} ({}) {} {}",
            v["id"], v["impact"], v["help"], v["nodes"]
        );
    }
    let bad: Vec<&Value> = violations
        .iter()
        .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
        .collect();
    assert!(bad.is_empty(), "{page}: accessibility violations: {bad:#?}");
}

async fn wait_for_text(b: &Browser, selector: &str, wanted: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(el) = b.client.find(fantoccini::Locator::Css(selector)).await {
            if el.text().await.is_ok_and(|t| t.contains(wanted)) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no {wanted:?} in {selector}; page: {}",
            b.text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn dashboard_sign_in_filter_open_verify_and_see_the_event() {
    let Some(b) = Browser::start("dashboard").await else {
        return;
    };
    let axe = axe_source();
    let axe = axe.as_deref();
    let app = TestApp::spawn().await;
    let done = app
        .create_ok("type=document&client_reference_id=order-1")
        .await;
    let done = done["id"].as_str().unwrap().to_owned();
    app.test_verify(&done).await.ok();
    let target = app
        .create_ok("type=document&client_reference_id=order-2&metadata[plan]=gold")
        .await;
    let target = target["id"].as_str().unwrap().to_owned();

    // Signed out: the sign-in page.
    b.goto(&format!("{}/dashboard", app.base_url)).await;
    b.wait_for_h1("Sign in to the dashboard").await;
    b.shoot("1-sign-in").await;
    axe_check(&b, axe, "sign-in").await;
    b.css("#key").await.send_keys(&app.test_key).await.unwrap();
    b.click("form button.primary").await;
    b.wait_for_h1("Overview").await;
    assert!(b
        .css(".mode-banner.test")
        .await
        .text()
        .await
        .unwrap()
        .contains("Test mode"));
    b.shoot("2-overview").await;
    axe_check(&b, axe, "overview").await;

    // Filter: only sessions waiting for input.
    b.click("a[href=\"/dashboard/sessions\"]").await;
    b.wait_for_h1("Sessions").await;
    b.click("#tab-requires_input").await;
    wait_for_text(&b, "#tab-requires_input", "1").await;
    let list = b.css("#sessions").await.text().await.unwrap();
    assert!(list.contains(&target), "{list}");
    assert!(!list.contains(&done), "{list}");
    b.shoot("3-sessions-filtered").await;
    axe_check(&b, axe, "sessions").await;

    // Open it and verify it (test mode).
    b.click(&format!("a[href=\"/dashboard/sessions/{target}\"]"))
        .await;
    b.wait_for_h1(&target).await;
    assert!(b.text().await.contains("gold"));
    b.shoot("4-session").await;
    axe_check(&b, axe, "session").await;
    b.click("form[action$=\"/verify\"] button").await;
    wait_for_text(&b, "#flash", "The session was verified").await;
    wait_for_text(&b, "#timeline", "identity.verification_session.verified").await;
    assert!(b
        .css("#facts")
        .await
        .text()
        .await
        .unwrap()
        .contains("verified"));
    b.shoot("5-verified").await;
    axe_check(&b, axe, "verified session").await;
    let s = app.retrieve_session(&target, "").await.ok();
    assert_eq!(s["status"], "verified");

    // Webhooks page.
    b.click("a[href=\"/dashboard/webhooks\"]").await;
    b.wait_for_h1("Webhooks").await;
    b.shoot("6-webhooks").await;
    axe_check(&b, axe, "webhooks").await;
    b.finish().await;
}

#[tokio::test]
async fn dashboard_shows_a_script_in_metadata_as_text() {
    let Some(b) = Browser::start("dashboard-injection").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let s = app
        .create_ok(
            "type=document\
             &metadata[note]=%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E\
             &metadata[img]=%3Cimg%20src%3Dx%20onerror%3D%22window.__pwned%3D2%22%3E\
             &client_reference_id=%22%3E%3Cscript%3Ewindow.__pwned%3D3%3C%2Fscript%3E",
        )
        .await;
    let id = s["id"].as_str().unwrap();
    b.goto(&format!("{}/dashboard/login", app.base_url)).await;
    b.css("#key").await.send_keys(&app.test_key).await.unwrap();
    b.click("form button.primary").await;
    b.wait_for_h1("Overview").await;
    for path in [
        format!("/dashboard/sessions/{id}"),
        "/dashboard/sessions".to_owned(),
    ] {
        b.goto(&format!("{}{path}", app.base_url)).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        nothing_injected_ran(&b, &path).await;
    }
    b.goto(&format!("{}/dashboard/sessions/{id}", app.base_url))
        .await;
    let metadata = b.css("#metadata").await.text().await.unwrap();
    assert!(
        metadata.contains("<script>window.__pwned=1</script>"),
        "{metadata}"
    );
    assert!(
        metadata.contains("<img src=x onerror=\"window.__pwned=2\">"),
        "{metadata}"
    );
    b.shoot("injection").await;
    b.finish().await;
}

/// Whether no injected markup ran and the page has only the dashboard's own script.
async fn nothing_injected_ran(b: &Browser, path: &str) {
    let pwned = b
        .client
        .execute("return window.__pwned === undefined;", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, json!(true), "{path}: injected markup ran");
    let scripts = b
        .client
        .execute(
            "return Array.from(document.scripts).map(s => s.src || s.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        scripts.as_array().map(Vec::len),
        Some(1),
        "{path}: only the dashboard's own script: {scripts}"
    );
}

#[tokio::test]
async fn dashboard_sends_a_test_event_and_shows_the_answer_as_text() {
    const VERIFIED: &str = "identity.verification_session.verified";
    let Some(b) = Browser::start("dashboard-test-event").await else {
        return;
    };
    let axe = axe_source();
    let axe = axe.as_deref();
    let app = TestApp::spawn().await;
    let answer = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">ok";
    let receiver = Receiver::start(200, answer).await;
    let ep = app
        .post_form(
            "/v1/webhook_endpoints",
            &app.test_key,
            &format!(
                "url={}&enabled_events[0]=identity.verification_session.canceled\
                 &enabled_events[1]={VERIFIED}",
                receiver.url
            ),
        )
        .await
        .ok();
    let (ep, secret) = (
        ep["id"].as_str().unwrap().to_owned(),
        ep["secret"].as_str().unwrap().to_owned(),
    );

    b.goto(&format!("{}/dashboard/login", app.base_url)).await;
    b.css("#key").await.send_keys(&app.test_key).await.unwrap();
    b.click("form button.primary").await;
    b.wait_for_h1("Overview").await;
    b.click("a[href=\"/dashboard/webhooks\"]").await;
    b.wait_for_h1("Webhooks").await;
    axe_check(&b, axe, "webhooks with a test-event form").await;
    b.css(&format!("#test-type-{ep}"))
        .await
        .select_by_value(VERIFIED)
        .await
        .unwrap();
    b.click(&format!(
        "form[action=\"/dashboard/webhooks/endpoints/{ep}/test\"] button"
    ))
    .await;
    wait_for_text(&b, "#flash", "A test event was queued").await;

    // The receiver checks the signature with its own HMAC and the endpoint's secret.
    let hit = receiver.wait_for(1).await.remove(0);
    assert!(hit.signed_with(&secret), "signature: {}", hit.signature);
    let event = hit.json();
    assert_eq!(event["type"], VERIFIED);
    let id = event["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("evt_000000"), "{id}");

    // The attempt in the delivery log, the receiver's markup shown as text.
    let url = format!("{}/dashboard/webhooks?endpoint={ep}", app.base_url);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        b.goto(&url).await;
        if b.client
            .find(fantoccini::Locator::Css(".attempts"))
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no attempt shown: {}",
            b.text().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = b.css(".delivery").await.text().await.unwrap();
    assert!(log.contains(&id) && log.contains("test event"), "{log}");
    assert!(log.contains("200"), "{log}");
    assert!(
        log.contains("<script>window.__pwned=1</script>"),
        "the answer is shown as text: {log}"
    );
    nothing_injected_ran(&b, "webhooks").await;
    b.shoot("7-test-event").await;
    axe_check(&b, axe, "webhooks with a test delivery").await;
    b.finish().await;
}

#[tokio::test]
async fn dashboard_records_image_views_and_lists_them_on_the_session() {
    let Some(b) = Browser::start("dashboard-image-views").await else {
        return;
    };
    let axe = axe_source();
    let axe = axe.as_deref();
    let app = TestApp::spawn().await;
    let files = tempfile::tempdir().unwrap();
    let (id, url) = super::session(
        &app,
        "type=document&options[document][require_matching_selfie]=true",
    )
    .await;
    super::through_uploads(&b, &url, files.path(), false).await;
    b.click("#outcome-verified").await;
    b.click("form button.primary").await;
    b.wait_for_h1("You are verified").await;

    b.goto(&format!("{}/dashboard/login", app.base_url)).await;
    b.css("#key").await.send_keys(&app.test_key).await.unwrap();
    b.click("form button.primary").await;
    b.wait_for_h1("Overview").await;
    b.goto(&format!("{}/dashboard/sessions/{id}", app.base_url))
        .await;
    b.wait_for_h1(&id).await;
    assert!(b
        .css("#image-views")
        .await
        .text()
        .await
        .unwrap()
        .contains("No one has viewed"));
    b.click(&format!("a[href=\"/dashboard/sessions/{id}/images\"]"))
        .await;
    b.wait_for_h1("Uploaded images").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let loaded = b
            .client
            .execute(
                "return document.images.length === 3 && Array.from(document.images)
                   .every(i => i.complete && i.naturalWidth > 0);",
                vec![],
            )
            .await
            .unwrap();
        if loaded == json!(true) {
            break;
        }
        assert!(Instant::now() < deadline, "the images did not load");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.shoot("8-images").await;
    axe_check(&b, axe, "images").await;

    b.click(&format!("a[href=\"/dashboard/sessions/{id}\"]"))
        .await;
    b.wait_for_h1(&id).await;
    let views = b.css("#image-views").await.text().await.unwrap();
    let keys = app.get("/v1/vouch/api_keys", &app.test_key).await.ok();
    let key_id = keys["data"][0]["id"].as_str().unwrap();
    assert_eq!(views.matches(key_id).count(), 3, "{views}");
    assert_eq!(views.matches("file_").count(), 3, "{views}");
    b.shoot("9-image-views").await;
    axe_check(&b, axe, "session with image views").await;
    b.finish().await;
}
