//! Concurrent requests against the same objects.

use std::sync::Arc;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ids, Auth, TestApp, SESSIONS};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_metadata_updates_are_not_lost() {
    // 40 clients each add one key to the same session; every request must succeed
    // and no update may be lost. Three rounds to make contention likely.
    const N: usize = 40;
    let app = Arc::new(TestApp::spawn().await);
    for _round in 0..3 {
        let id = app.create_ok("type=document").await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut handles = Vec::new();
        for i in 0..N {
            let app = Arc::clone(&app);
            let id = id.clone();
            handles.push(tokio::spawn(async move {
                let r = app
                    .update_session(&id, &format!("metadata[k{i}]=v{i}"))
                    .await;
                let rid = r.header("request-id").unwrap_or_default();
                (r.status, r.text, rid)
            }));
        }
        let mut failures = Vec::new();
        for h in handles {
            let (status, text, rid) = h.await.unwrap();
            if status != 200 {
                failures.push(format!("{rid}: {status} {text}"));
            }
        }
        if !failures.is_empty() {
            let errors: Vec<String> = app
                .log_lines()
                .into_iter()
                .filter(|l| l.contains("ERROR") || l.contains("WARN"))
                .collect();
            panic!(
                "{} of {N} concurrent updates failed:\n{}\nserver errors:\n{}",
                failures.len(),
                failures.join("\n"),
                errors.join("\n")
            );
        }
        let s = app.retrieve_session(&id, "").await.ok();
        let md = s["metadata"].as_object().unwrap();
        assert_eq!(md.len(), N, "lost updates: {}", s["metadata"]);
        for i in 0..N {
            assert_eq!(md[&format!("k{i}")], json!(format!("v{i}")));
        }
    }
}

#[tokio::test]
async fn parallel_verify_wins_exactly_once() {
    let app = Arc::new(TestApp::spawn().await);
    let id = app.create_ok("type=document").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut handles = Vec::new();
    for _ in 0..10 {
        let app = Arc::clone(&app);
        let id = id.clone();
        handles.push(tokio::spawn(async move {
            let r = app.test_verify(&id).await;
            (r.status, r.json)
        }));
    }
    let mut wins = Vec::new();
    for h in handles {
        let (status, json) = h.await.unwrap();
        assert!(status == 200 || status == 400, "{status} {json}");
        if status == 200 {
            wins.push(json);
        }
    }
    assert_eq!(wins.len(), 1, "exactly one verify may succeed: {wins:?}");
    let s = app.retrieve_session(&id, "").await.ok();
    assert_eq!(s["status"], "verified");
    assert_eq!(
        s["last_verification_report"],
        wins[0]["last_verification_report"]
    );
}

#[tokio::test]
async fn parallel_cancel_and_verify_end_consistent() {
    let app = Arc::new(TestApp::spawn().await);
    for _ in 0..5 {
        let id = app.create_ok("type=document").await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (a, b) = tokio::join!(app.cancel(&id), app.test_verify(&id));
        let s = app.retrieve_session(&id, "").await.ok();
        match (a.status, b.status) {
            (200, 400) => {
                assert_eq!(s["status"], "canceled");
                assert_eq!(s["last_verification_report"], json!(null));
            }
            (400, 200) => {
                assert_eq!(s["status"], "verified");
                assert!(s["last_verification_report"].is_string());
            }
            other => panic!("cancel/verify race gave {other:?}: {} / {}", a.text, b.text),
        }
    }
}

#[tokio::test]
async fn same_idempotency_key_in_flight_creates_one_session() {
    let app = Arc::new(TestApp::spawn().await);
    let mut handles = Vec::new();
    for _ in 0..10 {
        let app = Arc::clone(&app);
        handles.push(tokio::spawn(async move {
            let r = app
                .request(
                    Method::POST,
                    SESSIONS,
                    Auth::Bearer(&app.test_key),
                    Some("type=document".into()),
                    &[("Idempotency-Key", "race-key")],
                )
                .await;
            (r.status, r.json)
        }));
    }
    let mut created = std::collections::HashSet::new();
    for h in handles {
        let (status, json) = h.await.unwrap();
        match status {
            200 => {
                created.insert(json["id"].as_str().unwrap().to_string());
            }
            409 => {
                assert_eq!(json["error"]["code"], "idempotency_key_in_use", "{json}");
            }
            other => panic!("unexpected {other}: {json}"),
        }
    }
    assert_eq!(created.len(), 1, "one key, one session: {created:?}");
    assert_eq!(ids(&app.list_sessions("").await.ok()).len(), 1);
}

#[tokio::test]
async fn parallel_creates_keep_a_total_order() {
    let app = Arc::new(TestApp::spawn().await);
    let mut handles = Vec::new();
    for i in 0..30 {
        let app = Arc::clone(&app);
        handles.push(tokio::spawn(async move {
            app.create_ok(&format!("type=document&metadata[i]={i}"))
                .await
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let full = ids(&app.list_sessions("limit=100").await.ok());
    assert_eq!(full.len(), 30);
    // paging with small pages walks exactly the same order, no duplicates or gaps
    let mut walked = Vec::new();
    let mut q = "limit=7".to_string();
    loop {
        let page = app.list_sessions(&q).await.ok();
        let p = ids(&page);
        walked.extend(p.clone());
        if page["has_more"] == json!(false) {
            break;
        }
        q = format!("limit=7&starting_after={}", p.last().unwrap());
        assert!(walked.len() <= 30, "paging overran");
    }
    assert_eq!(walked, full);
}

/// Issue: concurrent cancel / redact / update / verify / submit on one session yield one
/// valid outcome: no lost update, no double event, no illegal state. (`submit` is the hosted
/// page's test-mode submission; `unverify` races too.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_every_change_on_one_session_yields_one_valid_outcome() {
    let app = Arc::new(
        TestApp::builder()
            .redaction_delay(Some("30s"))
            .spawn()
            .await,
    );
    let mut submits_won = 0;
    let mut submit_statuses = Vec::new();
    let page = reqwest::Client::new();
    for round in 0..16 {
        let created = app.create_ok("type=document").await;
        let id = created["id"].as_str().unwrap().to_string();
        let url = created["url"].as_str().unwrap().to_string();
        let ops = ["cancel", "redact", "update", "verify", "unverify", "submit"];
        let mut handles = Vec::new();
        // Rounds 0..12 race every change (each round another op goes first); rounds 12..16
        // race hosted-page submissions against each other and updates, so a submission wins.
        let racers: Vec<&str> = if round < 12 {
            ops.iter().cycle().skip(round).take(12).copied().collect()
        } else {
            ["submit", "update"]
                .iter()
                .cycle()
                .take(8)
                .copied()
                .collect()
        };
        for (i, op) in racers.into_iter().enumerate() {
            let (app, id, op) = (Arc::clone(&app), id.clone(), op.to_string());
            let (url, page) = (url.clone(), page.clone());
            handles.push(tokio::spawn(async move {
                let helpers = "/v1/test_helpers/identity/verification_sessions";
                let r = match op.as_str() {
                    "cancel" => app.cancel(&id).await,
                    "redact" => app.redact(&id).await,
                    "update" => app.update_session(&id, &format!("metadata[k{i}]=v")).await,
                    "submit" => {
                        // The hosted page's form post (test mode: success, photos skipped).
                        let r = page
                            .post(format!("{url}/submit"))
                            .header("content-type", "application/x-www-form-urlencoded")
                            .body("consent=yes&document_type=passport&outcome=verified")
                            .send()
                            .await
                            .unwrap();
                        let status = r.status().as_u16();
                        // The page answers 303 → 200 (followed), or 400/410 once the link is
                        // used or the session has moved on; never a 5xx.
                        return (op, i, status, r.text().await.unwrap_or_default());
                    }
                    "verify" => {
                        app.post_form(&format!("{helpers}/{id}/verify"), &app.test_key, "")
                            .await
                    }
                    _ => {
                        app.post_form(&format!("{helpers}/{id}/unverify"), &app.test_key, "")
                            .await
                    }
                };
                (op, i, r.status, r.text)
            }));
        }
        let mut results = Vec::new();
        for h in handles {
            results.push(h.await.unwrap());
        }
        for (op, _, status, text) in &results {
            let allowed: &[u16] = if op == "submit" {
                &[200, 400, 410]
            } else {
                &[200, 400]
            };
            assert!(
                allowed.contains(status),
                "round {round}: {op} answered {status}: {text}"
            );
        }
        let won = results
            .iter()
            .filter(|(op, _, status, _)| op == "submit" && *status == 200)
            .count();
        if round >= 12 {
            assert_eq!(won, 1, "round {round}: the link is single use: {results:?}");
        }
        submits_won += won;
        submit_statuses.extend(
            results
                .iter()
                .filter(|(op, ..)| op == "submit")
                .map(|(_, _, status, text)| format!("{status}: {}", &text[..text.len().min(200)])),
        );
        let s = app.retrieve_session(&id, "").await.ok();
        let status = s["status"].as_str().unwrap().to_string();
        assert!(
            matches!(status.as_str(), "requires_input" | "verified" | "canceled"),
            "illegal final state {s}"
        );
        // Every acknowledged update is there (redaction cannot complete within 30 s).
        for (op, i, code, _) in &results {
            if op == "update" && *code == 200 {
                assert_eq!(s["metadata"][format!("k{i}")], "v", "lost update: {s}");
            }
            if op == "redact" && *code == 200 {
                assert_eq!(s["redaction"]["status"], "processing", "{s}");
            }
        }
        let events = app.get("/v1/events?limit=100", &app.test_key).await.ok();
        let count = |t: &str| {
            events["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["data"]["object"]["id"] == id.as_str() && e["type"] == t)
                .count()
        };
        let prefix = "identity.verification_session.";
        assert_eq!(count(&format!("{prefix}created")), 1);
        let (canceled, verified) = (
            count(&format!("{prefix}canceled")),
            count(&format!("{prefix}verified")),
        );
        assert!(canceled <= 1 && verified <= 1, "double event: {events}");
        assert!(
            canceled + verified <= 1,
            "both canceled and verified: {events}"
        );
        assert_eq!(canceled == 1, status == "canceled", "{s}");
        assert_eq!(verified == 1, status == "verified", "{s}");
        // Every attempt that started processing ended: one processing event per outcome.
        let processing = count(&format!("{prefix}processing"));
        let requires_input = count(&format!("{prefix}requires_input"));
        assert_eq!(processing, verified + requires_input, "{events}");
    }
    assert!(
        submits_won > 0,
        "no hosted-page submission got through the race: {submit_statuses:?}"
    );
}
