//! The CLI for people (`vouch sessions|events|webhooks|keys|completions`) run as the real
//! binary against a running vouch: tables, `--json`, exit codes, `events tail`.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{cli_command, run_cli, run_cli_env, TestApp};

/// Runs `vouch <args> --url … --api-key <key>`.
async fn cli(app: &TestApp, key: &str, args: &[&str]) -> (ExitStatus, String, String) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--url", &app.base_url, "--api-key", key]);
    run_cli(&all).await
}

/// Runs it and insists on exit 0.
async fn ok(app: &TestApp, args: &[&str]) -> String {
    let (status, out, err) = cli(app, &app.test_key, args).await;
    assert_eq!(status.code(), Some(0), "vouch {args:?}: {err}\n{out}");
    out
}

/// Runs it with `--json` and parses stdout.
async fn json(app: &TestApp, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = ok(app, &all).await;
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("vouch {all:?}: {e}: {out}"))
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn sessions_list_and_show_as_tables_and_json_from_the_environment() {
    let app = TestApp::spawn().await;
    let a = id(&app
        .create_ok("type=document&client_reference_id=user-a")
        .await);
    let b = id(&app
        .create_ok("type=id_number&client_reference_id=user-b")
        .await);

    // VOUCH_URL / VOUCH_API_KEY instead of flags.
    let env = [
        ("VOUCH_URL", app.base_url.as_str()),
        ("VOUCH_API_KEY", app.test_key.as_str()),
    ];
    let (status, table, err) = run_cli_env(&["sessions", "list"], &env).await;
    assert_eq!(status.code(), Some(0), "{err}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("STATUS"),
        "{table}"
    );
    assert!(
        !table.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    // Newest first, one row each, columns aligned.
    assert!(
        lines[1].starts_with(&b) && lines[2].starts_with(&a),
        "{table}"
    );
    assert_eq!(lines[1].find("requires_input"), lines[0].find("STATUS"));

    let list = json(&app, &["sessions", "list"]).await;
    assert_eq!(list["object"], "list");
    assert_eq!(crate::helpers::ids(&list), vec![b.clone(), a.clone()]);
    let one = json(&app, &["sessions", "list", "--limit", "1"]).await;
    assert_eq!(crate::helpers::ids(&one), vec![b.clone()]);
    assert_eq!(one["has_more"], true);
    let all = json(&app, &["sessions", "list", "--all"]).await;
    assert_eq!(crate::helpers::ids(&all), vec![b.clone(), a.clone()]);
    let filtered = json(
        &app,
        &["sessions", "list", "--client-reference-id", "user-a"],
    )
    .await;
    assert_eq!(crate::helpers::ids(&filtered), vec![a.clone()]);
    let none = ok(&app, &["sessions", "list", "--status", "verified"]).await;
    assert_eq!(none.trim(), "No sessions.");

    let shown = ok(&app, &["sessions", "show", &a]).await;
    assert!(shown.contains(&a) && shown.contains("user-a"), "{shown}");
    let shown = json(&app, &["sessions", "show", &a]).await;
    assert_eq!(shown["id"], a.as_str());
    assert_eq!(shown["object"], "identity.verification_session");
}

#[tokio::test]
async fn sessions_verify_unverify_cancel_redact() {
    let app = TestApp::spawn().await;
    let a = id(&app.create_ok("type=document").await);
    let verified = json(&app, &["sessions", "verify", &a]).await;
    assert_eq!(verified["status"], "verified");
    // show expands the report and the verified outputs.
    let shown = json(&app, &["sessions", "show", &a]).await;
    assert_eq!(
        shown["last_verification_report"]["object"],
        "identity.verification_report"
    );
    assert!(
        shown["verified_outputs"]["first_name"].is_string(),
        "{shown}"
    );
    let table = ok(&app, &["sessions", "show", &a]).await;
    assert!(
        table.contains("verified name") && table.contains("verified dob"),
        "{table}"
    );

    let b = id(&app.create_ok("type=document").await);
    let failed = json(
        &app,
        &["sessions", "unverify", &b, "--code", "document_expired"],
    )
    .await;
    assert_eq!(failed["status"], "requires_input");
    assert_eq!(failed["last_error"]["code"], "document_expired");
    let slow = json(&app, &["sessions", "verify", &b, "--delay"]).await;
    assert_eq!(slow["status"], "processing");

    let c = id(&app.create_ok("type=document").await);
    let canceled = ok(&app, &["sessions", "cancel", &c]).await;
    assert!(
        canceled.contains(&c) && canceled.contains("canceled"),
        "{canceled}"
    );
    let redacted = json(&app, &["sessions", "redact", &c]).await;
    assert_eq!(redacted["redaction"]["status"], "processing");
}

#[tokio::test]
async fn exit_codes_api_error_usage_connection_authentication() {
    let app = TestApp::spawn().await;

    // 1: vouch answered an error; its message and type/code on stderr.
    let (status, out, err) = cli(&app, &app.test_key, &["sessions", "show", "vs_missing"]).await;
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("No such VerificationSession: 'vs_missing'"),
        "{err}"
    );
    assert!(
        err.contains("invalid_request_error/resource_missing"),
        "{err}"
    );
    let s = id(&app.create_ok("type=document").await);
    app.cancel(&s).await.assert_status(200);
    let (status, _, err) = cli(&app, &app.test_key, &["sessions", "verify", &s]).await;
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("You cannot verify"), "{err}");

    // 2: usage (clap's), and no key at all.
    let (status, _, _) = cli(&app, &app.test_key, &["sessions", "frobnicate"]).await;
    assert_eq!(status.code(), Some(2));
    let (status, _, _) = cli(&app, &app.test_key, &["sessions", "list", "--limit", "500"]).await;
    assert_eq!(status.code(), Some(2));
    let (status, _, err) = run_cli(&["sessions", "list", "--url", &app.base_url]).await;
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("VOUCH_API_KEY"), "{err}");

    // 3: nothing listening, or something that is not vouch.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (status, _, err) = run_cli(&[
        "sessions",
        "list",
        "--url",
        &format!("http://{closed}"),
        "--api-key",
        &app.test_key,
    ])
    .await;
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("cannot reach vouch"), "{err}");
    let html = not_vouch().await;
    let (status, _, err) = run_cli(&[
        "sessions",
        "list",
        "--url",
        &html,
        "--api-key",
        &app.test_key,
    ])
    .await;
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("is not a vouch server"), "{err}");

    // 4: the key is refused.
    let (status, _, err) = cli(&app, "sk_test_notakeyofthisvouch", &["sessions", "list"]).await;
    assert_eq!(status.code(), Some(4), "{err}");
    assert!(err.contains("Invalid API Key provided"), "{err}");
}

/// A server that answers every request with a 200 HTML page.
async fn not_vouch() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 13\r\n\
                      connection: close\r\n\r\n<html></html>",
                )
                .await;
        }
    });
    format!("http://{addr}")
}

/// `vouch events tail …` as a child process, its stdout line by line.
struct Tail {
    child: tokio::process::Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Tail {
    fn start(app: &TestApp, args: &[&str]) -> Tail {
        let mut child = cli_command()
            .args([
                "events",
                "tail",
                "--url",
                &app.base_url,
                "--api-key",
                &app.test_key,
            ])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn vouch events tail");
        let stdout = child.stdout.take().expect("stdout");
        Tail {
            child,
            lines: BufReader::new(stdout).lines(),
        }
    }

    async fn line(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("a line within 10 s")
            .expect("read")
            .expect("tail exited")
    }

    /// SIGTERM: tail stops with exit 0.
    async fn stop(mut self) {
        let pid = self.child.id().expect("running");
        let st = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("tail exits after SIGTERM")
            .expect("wait");
        assert_eq!(status.code(), Some(0));
    }
}

/// The id of the newest event.
async fn newest_event(app: &TestApp) -> String {
    let list = app.get("/v1/events?limit=1", &app.test_key).await.ok();
    id(&list["data"][0])
}

#[tokio::test]
async fn events_tail_prints_each_new_event() {
    let app = TestApp::spawn().await;
    app.create_ok("type=document").await;
    let before = newest_event(&app).await;

    // From a known event on: only what comes after it, oldest first.
    let mut tail = Tail::start(&app, &["--since", &before]);
    let s = id(&app.create_ok("type=document").await);
    let line = tail.line().await;
    assert!(
        line.contains("identity.verification_session.created") && line.contains(&s),
        "{line}"
    );
    app.cancel(&s).await.assert_status(200);
    let line = tail.line().await;
    assert!(line.contains("identity.verification_session.canceled") && line.contains(&s));
    tail.stop().await;

    // --type and --json: one JSON event per line.
    let before = newest_event(&app).await;
    let mut tail = Tail::start(
        &app,
        &["--since", &before, "--type", "*.canceled", "--json"],
    );
    let t = id(&app.create_ok("type=document").await);
    app.cancel(&t).await.assert_status(200);
    let event: Value = serde_json::from_str(&tail.line().await).expect("JSON line");
    assert_eq!(event["object"], "event");
    assert_eq!(event["type"], "identity.verification_session.canceled");
    assert_eq!(event["data"]["object"]["id"], t.as_str());
    tail.stop().await;

    // --since a duration: past events first.
    let mut tail = Tail::start(&app, &["--since", "1h"]);
    let first = tail.line().await;
    assert!(
        first.contains("identity.verification_session.created"),
        "{first}"
    );
    tail.stop().await;
}

#[tokio::test]
async fn webhooks_list_deliveries_and_resend() {
    let app = TestApp::spawn().await;
    // Nothing listens on the discard port: deliveries fail, which is fine here.
    let endpoint = app
        .post_form(
            "/v1/webhook_endpoints",
            &app.test_key,
            "url=http://127.0.0.1:9/hooks&enabled_events[0]=*&description=cli-test",
        )
        .await
        .ok();
    let we = id(&endpoint);
    let table = ok(&app, &["webhooks", "list"]).await;
    assert!(
        table.contains(&we) && table.contains("http://127.0.0.1:9/hooks"),
        "{table}"
    );
    let list = json(&app, &["webhooks", "list"]).await;
    assert_eq!(crate::helpers::ids(&list), vec![we.clone()]);

    app.create_ok("type=document").await;
    let event = newest_event(&app).await;
    let deliveries = json(&app, &["webhooks", "deliveries", "--endpoint", &we]).await;
    let first = &deliveries["data"][0];
    assert_eq!(first["event"], event.as_str());
    let whdel = id(first);
    let table = ok(&app, &["webhooks", "deliveries", "--event", &event]).await;
    assert!(table.contains(&whdel) && table.contains(&we), "{table}");

    let resent = json(&app, &["webhooks", "resend", &whdel]).await;
    assert_ne!(id(&resent), whdel);
    assert_eq!(resent["event"], event.as_str());
    let (status, _, err) = cli(
        &app,
        &app.test_key,
        &["webhooks", "resend", "whdel_missing"],
    )
    .await;
    assert_eq!(status.code(), Some(1), "{err}");
}

#[tokio::test]
async fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (status, out, err) = run_cli(&["completions", shell]).await;
        assert_eq!(status.code(), Some(0), "{shell}: {err}");
        assert!(out.contains("sessions") && out.contains("keys"), "{shell}");
    }
    let (status, _, _) = run_cli(&["completions", "tcsh"]).await;
    assert_eq!(status.code(), Some(2));
}

#[tokio::test]
async fn keys_create_rotate_and_revoke() {
    let app = TestApp::spawn().await;
    let session = id(&app.create_ok("type=document").await);

    let created = json(&app, &["keys", "create", "--name", "rotation"]).await;
    let secret = created["secret"].as_str().expect("secret once").to_owned();
    let key_id = id(&created);
    assert!(secret.starts_with("sk_test_"), "{created}");
    assert_eq!(created["source"], "created");
    assert_eq!(created["last4"], &secret[secret.len() - 4..]);

    // The new key is the same account: it sees the same sessions.
    let (status, out, err) = cli(&app, &secret, &["sessions", "list"]).await;
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(out.contains(&session), "{out}");
    let made = app.create_session_as(&secret, "type=document").await.ok();
    let (_, out, _) = cli(&app, &app.test_key, &["sessions", "list"]).await;
    assert!(out.contains(made["id"].as_str().unwrap()), "{out}");

    // Listed (never with the secret), beside the configured key.
    let list = json(&app, &["keys", "list"]).await;
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{list}");
    assert_eq!(data[0]["source"], "config");
    assert_eq!(data[1]["id"], key_id.as_str());
    assert_eq!(data[1]["name"], "rotation");
    assert_eq!(data[1]["revoked"], false);
    assert!(!list.to_string().contains(&secret));
    let table = ok(&app, &["keys", "list"]).await;
    assert!(
        table.contains(&key_id) && table.contains("rotation"),
        "{table}"
    );
    // The live account does not see the test account's keys.
    let (_, live, _) = cli(&app, &app.live_key, &["keys", "list", "--json"]).await;
    assert!(!live.contains(&key_id), "{live}");

    // Same mode only; configured keys cannot be revoked here.
    let (status, _, err) = cli(&app, &app.test_key, &["keys", "create", "--mode", "live"]).await;
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("cannot create a live mode key"), "{err}");
    let config_id = data[0]["id"].as_str().unwrap();
    let (status, _, err) = cli(&app, &app.test_key, &["keys", "revoke", config_id]).await;
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("cannot be revoked through the API"), "{err}");
    let (status, _, err) = cli(&app, &app.test_key, &["keys", "revoke", "key_missing"]).await;
    assert_eq!(status.code(), Some(1), "{err}");

    // Revoked: 401 like an unknown key (at once on this node).
    let revoked = json(&app, &["keys", "revoke", &key_id]).await;
    assert_eq!(revoked["revoked"], true);
    assert!(revoked["revoked_at"].is_i64());
    let (status, _, err) = cli(&app, &secret, &["sessions", "list"]).await;
    assert_eq!(status.code(), Some(4), "{err}");
    let refused = app.list_sessions_as(&secret, "").await;
    refused.assert_status(401);
}

#[tokio::test]
async fn revoke_reaches_another_node_within_the_cache_window() {
    let app = TestApp::spawn().await;
    let peer = app.peer().await;
    let created = json(&app, &["keys", "create"]).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    // The peer learns the key from the shared database (and caches it).
    peer.list_sessions_as(&secret, "").await.assert_status(200);
    json(&app, &["keys", "revoke", &id(&created)]).await;
    app.list_sessions_as(&secret, "").await.assert_status(401);
    // vouch_api::keys::CACHE_TTL is 5 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    loop {
        let status = peer.list_sessions_as(&secret, "").await.status;
        if status == 401 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "peer still accepts a revoked key"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn generated_key_is_listed_as_generated() {
    let app = TestApp::builder().without_api_keys().spawn().await;
    let logs = app.logs();
    let key = logs
        .split_whitespace()
        .find(|w| w.starts_with("sk_test_"))
        .expect("generated key in the banner")
        .to_owned();
    let (status, out, err) = cli(&app, &key, &["keys", "list", "--json"]).await;
    assert_eq!(status.code(), Some(0), "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["data"][0]["source"], "generated");
}
