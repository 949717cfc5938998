//! The testing extension: Stripe's rate limits and injected faults.

use std::time::{Duration, Instant};

use crate::helpers::{Auth, TestApp};

const SESSIONS: &str = "/v1/identity/verification_sessions";

async fn with_fault(
    app: &TestApp,
    key: &str,
    fault: &str,
    idem: Option<&str>,
) -> crate::helpers::Resp {
    let mut headers = vec![("Vouch-Fault", fault)];
    if let Some(k) = idem {
        headers.push(("Idempotency-Key", k));
    }
    app.request(
        reqwest::Method::POST,
        SESSIONS,
        Auth::Bearer(key),
        Some("type=document".into()),
        &headers,
    )
    .await
}

async fn count_sessions(app: &TestApp, key: &str) -> usize {
    let list = app.list_sessions_as(key, "limit=100").await.ok();
    list["data"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn rate_limits_answer_stripes_429_per_account() {
    let app = TestApp::builder().arg("--rate-limit").spawn().await;
    let mut limited = None;
    let mut ok = 0;
    for _ in 0..40 {
        let r = app.list_sessions("limit=1").await;
        match r.status {
            200 => ok += 1,
            429 => {
                limited = Some(r);
                break;
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    let r = limited.expect("40 requests at once must exceed 25/s");
    assert!(ok >= 20, "the first ~25 pass: {ok}");
    r.assert_error(
        429,
        Some("rate_limit"),
        None,
        "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
    );
    // The live account has its own (larger) budget.
    assert_eq!(
        app.list_sessions_as(&app.live_key, "limit=1").await.status,
        200
    );
    // Without the flag nothing is limited.
    let free = TestApp::spawn().await;
    for _ in 0..40 {
        assert_eq!(free.list_sessions("limit=1").await.status, 200);
    }
}

#[tokio::test]
async fn the_fault_header_injects_errors_before_or_after_the_request_runs() {
    let app = TestApp::spawn().await;
    let before = with_fault(&app, &app.test_key, "error", None).await;
    assert_eq!(before.status, 500);
    assert_eq!(before.err()["type"], "api_error");
    assert_eq!(count_sessions(&app, &app.test_key).await, 0, "nothing ran");

    // error_after: the session was created, the answer lost; the SDK-style retry with the
    // same key gets the stored answer, and there is still one session.
    let after = with_fault(&app, &app.test_key, "error_after", Some("fault-key-1")).await;
    assert_eq!(after.status, 500);
    assert_eq!(count_sessions(&app, &app.test_key).await, 1, "it ran");
    let retry = app
        .request(
            reqwest::Method::POST,
            SESSIONS,
            Auth::Bearer(&app.test_key),
            Some("type=document".into()),
            &[("Idempotency-Key", "fault-key-1")],
        )
        .await;
    assert_eq!(retry.status, 200, "{}", retry.text);
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(count_sessions(&app, &app.test_key).await, 1);

    // The header means nothing with a live key.
    let live = with_fault(&app, &app.live_key, "error", None).await;
    assert_eq!(live.status, 200);
}

#[tokio::test]
async fn dropped_connections_and_latency() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let dropped = http
        .post(format!("{}{SESSIONS}", app.base_url))
        .bearer_auth(&app.test_key)
        .header("Vouch-Fault", "drop")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("type=document")
        .send()
        .await;
    let complete = match dropped {
        Err(_) => false,
        Ok(r) => r.bytes().await.is_ok(),
    };
    assert!(
        !complete,
        "a dropped connection must not deliver a whole answer"
    );
    let started = Instant::now();
    let slow = with_fault(&app, &app.test_key, "latency=300ms", None).await;
    assert_eq!(slow.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(290));
}

#[tokio::test]
async fn configured_faults_apply_to_the_chosen_routes_only() {
    let app = TestApp::builder()
        .arg("--fault-error-rate")
        .arg("1")
        .arg("--fault-routes")
        .arg("/v1/events")
        .spawn()
        .await;
    assert_eq!(app.get("/v1/events", &app.test_key).await.status, 500);
    assert_eq!(app.create_session("type=document").await.status, 200);
    let (status, _, stderr) = crate::helpers::run_cli(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--fault-error-rate",
        "1.5",
    ])
    .await;
    assert!(!status.success());
    assert!(stderr.contains("between 0 and 1"), "{stderr}");
}
