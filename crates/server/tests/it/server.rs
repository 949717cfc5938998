//! Process-level behaviour: CLI, durability, signals, logging, key generation.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{base64, ids, run_cli, Auth, TestApp, SESSIONS};

#[tokio::test]
async fn version_flag() {
    let (st, out, err) = run_cli(&["--version"]).await;
    assert!(st.success(), "vouch --version: {st} {err}");
    assert_eq!(out.trim(), "vouch 0.1.0");
}

#[tokio::test]
async fn config_prints_commented_defaults() {
    let (st, out, err) = run_cli(&["config"]).await;
    assert!(st.success(), "vouch config: {st} {err}");
    assert!(
        out.contains("listen"),
        "config output lacks `listen`:\n{out}"
    );
    assert!(
        out.lines().any(|l| l.trim_start().starts_with('#')),
        "config output has no comments:\n{out}"
    );
}

#[tokio::test]
async fn sessions_survive_sigkill_and_restart() {
    let mut app = TestApp::spawn().await;
    let a = app
        .create_ok("type=document&metadata[k]=v&client_reference_id=ref_a")
        .await;
    let b = app.create_ok("type=id_number").await;
    let b = app
        .update_session(b["id"].as_str().unwrap(), "metadata[u]=1&type=document")
        .await
        .ok();
    let c = app.create_ok("type=document").await;
    let c = app.cancel(c["id"].as_str().unwrap()).await.ok();
    let d = app.verified_session("type=document").await;
    let order = [
        d["id"].clone(),
        c["id"].clone(),
        b["id"].clone(),
        a["id"].clone(),
    ];

    app.restart().await; // SIGKILL, immediately after the last 200

    for s in [&a, &b, &c, &d] {
        let id = s["id"].as_str().unwrap();
        let got = app.retrieve_session(id, "").await.ok();
        for k in [
            "id",
            "client_reference_id",
            "created",
            "last_error",
            "last_verification_report",
            "livemode",
            "metadata",
            "options",
            "redaction",
            "status",
            "type",
        ] {
            assert_eq!(got[k], s[k], "{id}.{k} changed across restart");
        }
        if got["status"] == "requires_input" {
            let url = got["url"].as_str().unwrap();
            assert!(
                url.starts_with(&app.base_url),
                "url {url:?} should use the new base {}",
                app.base_url
            );
        } else {
            assert_eq!(got["url"], json!(null));
            assert_eq!(got["client_secret"], json!(null));
        }
    }
    let l = app.list_sessions("").await.ok();
    let want: Vec<String> = order
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids(&l), want, "list order after restart");
    let vr = d["last_verification_report"].as_str().unwrap();
    app.retrieve_report(vr, "").await.assert_status(200);
    // and the server keeps working
    let e = app.create_ok("type=document").await;
    assert_eq!(
        ids(&app.list_sessions("limit=1").await.ok()),
        vec![e["id"].as_str().unwrap().to_string()]
    );
}

#[tokio::test]
async fn many_quick_writes_survive_sigkill() {
    let mut app = TestApp::spawn().await;
    let mut created = Vec::new();
    for i in 0..20 {
        let s = app
            .create_ok(&format!("type=document&metadata[i]={i}"))
            .await;
        created.push(s["id"].as_str().unwrap().to_string());
    }
    app.restart().await;
    let l = app.list_sessions("limit=100").await.ok();
    let got = ids(&l);
    let want: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn redaction_survives_restart() {
    // Beyond the letter of the contract: an accepted redaction must still complete if the
    // server is killed while it is processing.
    let mut app = TestApp::builder().redaction_delay(Some("1s")).spawn().await;
    let v = app.verified_session("type=document&metadata[a]=b").await;
    let id = v["id"].as_str().unwrap().to_string();
    let r = app.redact(&id).await.ok();
    assert_eq!(r["redaction"], json!({"status": "processing"}));
    app.restart().await;
    let got = app.retrieve_session(&id, "").await.ok();
    assert!(
        got["redaction"].is_object(),
        "redaction request lost on restart: {got}"
    );
    let start = std::time::Instant::now();
    loop {
        let got = app
            .retrieve_session(&id, "expand[]=verified_outputs")
            .await
            .ok();
        if got["redaction"]["status"] == "redacted" {
            assert_eq!(got["metadata"], json!({}));
            assert_eq!(got["verified_outputs"]["first_name"], "[redacted]");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "redaction never completed after restart: {got}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sigterm_exits_cleanly() {
    let mut app = TestApp::spawn().await;
    let s = app.create_ok("type=document").await;
    let st = app.sigterm().await;
    assert!(
        st.success(),
        "exit status after SIGTERM: {st}; logs:\n{}",
        app.logs()
    );
    assert_eq!(st.code(), Some(0));
    // data written before the shutdown is there on the next start
    app.restart().await;
    let got = app
        .retrieve_session(s["id"].as_str().unwrap(), "")
        .await
        .ok();
    assert_eq!(got["id"], s["id"]);
}

#[tokio::test]
async fn sigterm_while_idle_connections_are_open() {
    let mut app = TestApp::spawn().await;
    // keep-alive connections from the pooled client are open at this point
    for _ in 0..3 {
        app.list_sessions("").await.assert_status(200);
    }
    let st = app.sigterm().await;
    assert_eq!(st.code(), Some(0), "exit status after SIGTERM: {st}");
}

/// First token `sk_test_[A-Za-z0-9]+` in `text`.
fn find_test_key(text: &str) -> Option<String> {
    let at = text.find("sk_test_")?;
    let key: String = text[at..]
        .chars()
        .enumerate()
        .take_while(|(i, c)| *i < 8 || c.is_ascii_alphanumeric())
        .map(|(_, c)| c)
        .collect();
    (key.len() > "sk_test_".len()).then_some(key)
}

#[tokio::test]
async fn generated_key_is_printed_and_stable_across_restarts() {
    let mut app = TestApp::builder().without_api_keys().spawn().await;
    let first_logs = app.current_logs();
    let key = find_test_key(&first_logs)
        .unwrap_or_else(|| panic!("no sk_test_ key in the banner:\n{first_logs}"));
    assert!(
        key.len() >= "sk_test_".len() + 16,
        "generated key too short: {key}"
    );

    let s = app.create_session_as(&key, "type=document").await.ok();
    assert_eq!(s["livemode"], json!(false));
    // the placeholder keys of the harness are not valid here
    app.request(
        Method::GET,
        SESSIONS,
        Auth::Bearer(&app.test_key),
        None,
        &[],
    )
    .await
    .assert_error_envelope(401);

    app.restart().await;
    let second_logs = app.current_logs();
    let key2 = find_test_key(&second_logs)
        .unwrap_or_else(|| panic!("no key in banner after restart:\n{second_logs}"));
    assert_eq!(key2, key, "restart must print the same generated key");
    let got = app
        .get(&format!("{SESSIONS}/{}", s["id"].as_str().unwrap()), &key)
        .await
        .ok();
    assert_eq!(got["id"], s["id"]);
}

/// `status=404`, `"status":404` or ` 404 ` somewhere in a log line.
fn mentions_status(line: &str, status: &str) -> bool {
    line.contains(&format!("status={status}"))
        || line.contains(&format!("\"status\":{status}"))
        || line.contains(&format!("\"status\":\"{status}\""))
        || line.contains(&format!(" {status} "))
}

/// The log line mentioning `request_id` (waiting briefly for it to be flushed).
async fn request_log_line(app: &TestApp, request_id: &str) -> String {
    app.wait_for_log_line(request_id)
        .await
        .unwrap_or_else(|| panic!("no log line with {request_id}; logs:\n{}", app.logs()))
}

#[tokio::test]
async fn one_log_line_per_request_with_method_path_status_and_id() {
    let app = TestApp::spawn().await;
    let r1 = app.create_session("type=document").await;
    r1.assert_status(200);
    let r2 = app.retrieve_session("vs_nope", "").await;
    r2.assert_status(404);
    let r3 = app
        .request(Method::GET, SESSIONS, Auth::None, None, &[])
        .await;
    r3.assert_status(401);

    let r4 = app
        .create_session(&format!(
            "type=document&metadata[a]={}",
            "x".repeat(1024 * 1024 + 1)
        ))
        .await;
    r4.assert_status(413);
    let r5 = app.create_session("%zz").await;
    r5.assert_status(400);
    for (r, method, path, status) in [
        (&r1, "POST", SESSIONS.to_string(), "200"),
        (&r2, "GET", format!("{SESSIONS}/vs_nope"), "404"),
        (&r4, "POST", SESSIONS.to_string(), "413"),
        (&r5, "POST", SESSIONS.to_string(), "400"),
        (&r3, "GET", SESSIONS.to_string(), "401"),
    ] {
        let rid = r.request_id();
        let line = request_log_line(&app, &rid).await;
        assert!(
            line.contains(method),
            "log line lacks method {method}: {line}"
        );
        assert!(line.contains(&path), "log line lacks path {path}: {line}");
        assert!(
            mentions_status(&line, status),
            "log line lacks status {status}: {line}"
        );
        let count = app.log_lines().iter().filter(|l| l.contains(&rid)).count();
        assert_eq!(
            count,
            1,
            "exactly one log line per request for {rid}:\n{}",
            app.logs()
        );
    }
}

#[tokio::test]
async fn secret_keys_never_reach_the_logs() {
    let app = TestApp::spawn().await;
    let bogus = "sk_test_abcdefgh12345678";
    let mut rids = Vec::new();
    for auth in [
        Auth::Bearer(&app.test_key),
        Auth::Basic(&app.test_key),
        Auth::Bearer(&app.live_key),
        Auth::Bearer(bogus),
        Auth::Basic(bogus),
    ] {
        let r = app.request(Method::GET, SESSIONS, auth, None, &[]).await;
        rids.push(r.request_id());
        let r = app
            .request(
                Method::POST,
                SESSIONS,
                auth,
                Some("type=document&metadata[x]=y".into()),
                &[],
            )
            .await;
        rids.push(r.request_id());
    }
    for rid in &rids {
        request_log_line(&app, rid).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = app.logs();
    assert!(
        !logs.contains(bogus),
        "an Authorization key appears in the logs:\n{logs}"
    );
    assert!(
        !logs.contains("abcdefgh12345678"),
        "part of a key appears in the logs:\n{logs}"
    );
    for k in [&app.test_key, &app.live_key, &bogus.to_string()] {
        let b64 = base64(format!("{k}:").as_bytes());
        assert!(
            !logs.contains(&b64),
            "a Basic credential appears in the logs:\n{logs}"
        );
    }
    for line in app
        .log_lines()
        .iter()
        .filter(|l| rids.iter().any(|r| l.contains(r.as_str())))
    {
        assert!(
            !line.contains(&app.test_key),
            "test key in request log: {line}"
        );
        assert!(
            !line.contains(&app.live_key),
            "live key in request log: {line}"
        );
    }
}

#[tokio::test]
async fn json_log_format() {
    let app = TestApp::builder()
        .arg("--log-format")
        .arg("json")
        .spawn()
        .await;
    let r1 = app.create_session("type=document").await;
    r1.assert_status(200);
    let r2 = app.get("/v1/nope", &app.test_key).await;
    r2.assert_status(404);
    for (r, method, status) in [(&r1, "POST", 200), (&r2, "GET", 404)] {
        let rid = r.request_id();
        let line = request_log_line(&app, &rid).await;
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("request log line is not JSON ({e}): {line}"));
        assert!(v.is_object(), "{line}");
        assert!(line.contains(method), "{line}");
        assert!(mentions_status(&line, &status.to_string()), "{line}");
    }
    // every request line parses
    for line in app.log_lines().iter().filter(|l| l.contains("req_")) {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
}

#[tokio::test]
async fn parallel_requests_are_all_served() {
    let app = TestApp::spawn().await;
    let app = std::sync::Arc::new(app);
    let mut handles = Vec::new();
    for i in 0..16 {
        let app = std::sync::Arc::clone(&app);
        handles.push(tokio::spawn(async move {
            let r = app
                .create_session(&format!("type=document&metadata[i]={i}"))
                .await;
            (r.status, r.json["id"].as_str().map(str::to_string))
        }));
    }
    let mut got = Vec::new();
    for h in handles {
        let (status, id) = h.await.unwrap();
        assert_eq!(status, 200);
        got.push(id.unwrap());
    }
    let l = app.list_sessions("limit=100").await.ok();
    let mut listed = ids(&l);
    listed.sort();
    got.sort();
    assert_eq!(listed, got);
}

#[tokio::test]
async fn public_url_flag_env_and_config_file() {
    // flag
    let app = TestApp::builder()
        .arg("--public-url")
        .arg("https://verify.example.com/base")
        .spawn()
        .await;
    let s = app.create_ok("type=document").await;
    let url = s["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://verify.example.com/base/"),
        "url {url:?}"
    );
    drop(app);

    // environment
    let app = TestApp::builder()
        .env("VOUCH_PUBLIC_URL", "https://env.example.com")
        .spawn()
        .await;
    let url = app.create_ok("type=document").await["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with("https://env.example.com/"), "url {url:?}");
    drop(app);

    // flag beats environment
    let app = TestApp::builder()
        .env("VOUCH_PUBLIC_URL", "https://env.example.com")
        .arg("--public-url")
        .arg("https://flag.example.com")
        .spawn()
        .await;
    let url = app.create_ok("type=document").await["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with("https://flag.example.com/"), "url {url:?}");
    drop(app);

    // config file (flags from the harness still decide listen/database/keys)
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("vouch.toml");
    std::fs::write(
        &cfg,
        "public_url = \"https://file.example.com\"\nlog_format = \"json\"\nlisten = \"203.0.113.1:1\"\n",
    )
    .unwrap();
    let app = TestApp::builder()
        .arg("--config")
        .arg(cfg.display().to_string())
        .spawn()
        .await;
    let r = app.create_session("type=document").await;
    let url = r.ok()["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("https://file.example.com/"), "url {url:?}");
    let line = app.wait_for_log_line(&r.request_id()).await.unwrap();
    serde_json::from_str::<Value>(&line)
        .unwrap_or_else(|e| panic!("log_format from the file ignored ({e}): {line}"));
}

#[tokio::test]
async fn config_printed_by_vouch_config_is_loadable() {
    let (st, out, _) = run_cli(&["config"]).await;
    assert!(st.success());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("vouch.toml");
    std::fs::write(&cfg, out).unwrap();
    let app = TestApp::builder()
        .arg("--config")
        .arg(cfg.display().to_string())
        .spawn()
        .await;
    app.create_ok("type=document").await;
}

#[tokio::test]
async fn max_body_bytes_flag() {
    let app = TestApp::builder()
        .arg("--max-body-bytes")
        .arg("2000")
        .spawn()
        .await;
    let pad = |n: usize| format!("type=document&client_reference_id={}", "x".repeat(n - 34));
    let ok = pad(2000);
    assert_eq!(ok.len(), 2000);
    app.create_session(&ok).await.assert_status(200);
    app.create_session(&pad(2001)).await.assert_error(
        413,
        None,
        None,
        "Request body too large: the limit is 2000 bytes.",
    );
}

#[tokio::test]
async fn several_keys_of_one_mode_are_separate_accounts() {
    let second = format!("sk_test_{}", crate::helpers::random_alnum(24));
    let app = TestApp::builder()
        .arg("--api-key")
        .arg(second.clone())
        .spawn()
        .await;
    let a = app.create_ok("type=document").await;
    let b = app.create_session_as(&second, "type=document").await.ok();
    assert_eq!(b["livemode"], json!(false));
    assert_eq!(
        ids(&app.list_sessions("").await.ok()),
        vec![a["id"].as_str().unwrap().to_string()]
    );
    assert_eq!(
        ids(&app.list_sessions_as(&second, "").await.ok()),
        vec![b["id"].as_str().unwrap().to_string()]
    );
    app.get(
        &format!("{SESSIONS}/{}", a["id"].as_str().unwrap()),
        &second,
    )
    .await
    .assert_error_envelope(404);
}

#[tokio::test]
async fn api_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys");
    let key = format!("sk_test_{}", crate::helpers::random_alnum(24));
    std::fs::write(&file, format!("{key}\n")).unwrap();
    let app = TestApp::builder()
        .without_api_keys()
        .arg("--api-key-file")
        .arg(file.display().to_string())
        .spawn()
        .await;
    let s = app.create_session_as(&key, "type=document").await.ok();
    assert_eq!(s["livemode"], json!(false));
}

#[tokio::test]
async fn sigterm_with_pending_redaction_then_restart_completes_it() {
    let mut app = TestApp::builder().redaction_delay(Some("2s")).spawn().await;
    let s = app.create_ok("type=document&metadata[a]=b").await;
    let id = s["id"].as_str().unwrap().to_string();
    app.redact(&id).await.assert_status(200);
    let started = std::time::Instant::now();
    let st = app.sigterm().await;
    assert_eq!(st.code(), Some(0), "SIGTERM exit status: {st}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown waited for the redaction job ({:?})",
        started.elapsed()
    );
    app.restart().await;
    let (done, _) = app.wait_until_redacted(&id, "").await;
    assert_eq!(done["metadata"], json!({}));
}

#[tokio::test]
async fn sigterm_with_a_stalled_client_still_exits() {
    use tokio::io::AsyncWriteExt;
    let mut app = TestApp::spawn().await;
    let addr = app.base_url.trim_start_matches("http://").to_string();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(
            format!(
                "POST {SESSIONS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntype=doc",
                app.test_key
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let st = app.sigterm().await; // panics if it takes more than 15 s
    assert_eq!(st.code(), Some(0), "exit status: {st}");
    drop(stalled);
}

#[tokio::test]
async fn parallel_writes_acknowledged_before_sigkill_survive() {
    let mut app = TestApp::spawn().await;
    let client_app = &app;
    let mut futs = Vec::new();
    for i in 0..30 {
        futs.push(async move {
            let r = client_app
                .create_session(&format!("type=document&metadata[i]={i}"))
                .await;
            r.ok()["id"].as_str().unwrap().to_string()
        });
    }
    let mut acked: Vec<String> = join_all(futs).await;
    app.restart().await;
    let mut listed = ids(&app.list_sessions("limit=100").await.ok());
    listed.sort();
    acked.sort();
    assert_eq!(listed, acked, "acknowledged creates lost by SIGKILL");
}

/// Minimal join_all for a Vec of futures (no futures crate): polls them concurrently.
async fn join_all<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut set = Vec::with_capacity(futs.len());
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.unwrap()).collect()
}
