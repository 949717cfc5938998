//! A small harness: the real `vouch` binary on port 0 (SQLite in a temp dir, or a fresh
//! PostgreSQL database with `VOUCH_TEST_BACKEND=postgres`), and webhook receivers that check
//! `Stripe-Signature` with their own HMAC code.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[path = "../../../store/tests/support/pg.rs"]
mod pg;
/// The receiver's own signature check, shared with the HTTP and browser tests.
#[path = "../it/receiver.rs"]
#[allow(dead_code)]
mod signature;

pub const BIN: &str = env!("CARGO_BIN_EXE_vouch");
pub const CREATED: &str = "identity.verification_session.created";
pub const PROCESSING: &str = "identity.verification_session.processing";
pub const VERIFIED: &str = "identity.verification_session.verified";
pub const CANCELED: &str = "identity.verification_session.canceled";
pub const REDACTED: &str = "identity.verification_session.redacted";

/// Polls `f` every 25 ms until it returns `Some`, for at most `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

// ---- the server ------------------------------------------------------------------------

pub struct Vouch {
    child: Child,
    pub base: String,
    pub key: String,
    args: Vec<String>,
    pub logs: Arc<Mutex<Vec<String>>>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    _pg: Option<pg::FreshDatabase>,
}

pub struct Resp {
    pub status: u16,
    pub json: Value,
}

impl Vouch {
    /// `vouch serve` with fast retries unless `extra` says otherwise.
    pub async fn start(extra: &[&str]) -> Vouch {
        let dir = tempfile::tempdir().expect("tempdir");
        let postgres = std::env::var("VOUCH_TEST_BACKEND").is_ok_and(|b| b == "postgres");
        let (database_url, pg) = if postgres {
            let db = pg::FreshDatabase::create()
                .await
                .expect("PostgreSQL for VOUCH_TEST_BACKEND=postgres");
            (db.url.clone(), Some(db))
        } else {
            (
                format!("sqlite://{}", dir.path().join("vouch.db").display()),
                None,
            )
        };
        let key = format!("sk_test_webhooks{}", std::process::id());
        let mut args: Vec<String> = [
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &database_url,
            "--api-key",
            &key,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        // Fast defaults, unless `extra` sets the flag itself.
        for (flag, value) in [
            ("--redaction-delay", "200ms"),
            ("--webhook-poll-interval", "50ms"),
            ("--webhook-retry-schedule-test", "100ms,100ms,100ms"),
            ("--webhook-timeout-test", "2s"),
        ] {
            if !extra.contains(&flag) {
                args.extend([flag.to_owned(), value.to_owned()]);
            }
        }
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (child, base) = launch(&args, &logs).await;
        Vouch {
            child,
            base,
            key,
            args,
            logs,
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            _dir: dir,
            _pg: pg,
        }
    }

    /// A second node: another `vouch serve` with the same flags on the same database. The
    /// first node keeps the database alive, so it must outlive its peers.
    pub async fn peer(&self) -> Vouch {
        let (child, base) = launch(&self.args, &self.logs).await;
        Vouch {
            child,
            base,
            key: self.key.clone(),
            args: self.args.clone(),
            logs: Arc::clone(&self.logs),
            http: self.http.clone(),
            _dir: tempfile::tempdir().expect("tempdir"),
            _pg: None,
        }
    }

    /// SIGKILL without a restart.
    pub async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }

    /// SIGKILL, then start again on the same database.
    pub async fn restart(&mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        let (child, base) = launch(&self.args, &self.logs).await;
        self.child = child;
        self.base = base;
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let resp = req.bearer_auth(&self.key).send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        Resp {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub async fn post(&self, path: &str, body: &str) -> Resp {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_owned()),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    /// POST that must succeed; returns the object.
    pub async fn ok(&self, path: &str, body: &str) -> Value {
        let r = self.post(path, body).await;
        assert_eq!(r.status, 200, "POST {path} {body}: {}", r.json);
        r.json
    }

    pub async fn session(&self) -> String {
        let s = self
            .ok("/v1/identity/verification_sessions", "type=document")
            .await;
        s["id"].as_str().expect("id").to_owned()
    }

    /// Creates an endpoint for `url` with these `enabled_events`; returns (id, secret).
    pub async fn endpoint(&self, url: &str, events: &[&str]) -> (String, String) {
        let mut body = format!("url={}", urlencode(url));
        for (i, e) in events.iter().enumerate() {
            body.push_str(&format!("&enabled_events[{i}]={}", urlencode(e)));
        }
        let ep = self.ok("/v1/webhook_endpoints", &body).await;
        (
            ep["id"].as_str().expect("id").to_owned(),
            ep["secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// The deliveries of an endpoint (newest first), each with its attempts.
    pub async fn deliveries(&self, endpoint: &str) -> Vec<Value> {
        let r = self
            .get(&format!(
                "/v1/vouch/webhook_deliveries?webhook_endpoint={endpoint}&limit=100"
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.json);
        r.json["data"].as_array().cloned().unwrap_or_default()
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn launch(args: &[String], logs: &Arc<Mutex<Vec<String>>>) -> (Child, String) {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("VOUCH_") {
            cmd.env_remove(&k);
        }
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn vouch");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let (tx, logs) = (tx.clone(), logs.clone());
        tokio::spawn(async move {
            let mut lines = BufReader::new(pipe).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(mut l) = logs.lock() {
                    l.push(line.clone());
                }
                let _ = tx.send(line);
            }
        });
    }
    drop(tx);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(line)) => {
                if let Some(at) = line.find("listening on http://") {
                    let url = line[at + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    return (child, url);
                }
            }
            _ => panic!(
                "vouch did not start: {}",
                logs.lock().map(|l| l.join("\n")).unwrap_or_default()
            ),
        }
    }
}

// ---- receivers -------------------------------------------------------------------------

/// What a receiver answers to its `n`-th request (0-based).
pub type Behaviour = Arc<dyn Fn(usize) -> (u16, Duration) + Send + Sync>;

pub fn always(status: u16) -> Behaviour {
    Arc::new(move |_| (status, Duration::ZERO))
}

/// `fails` answers of 500, then 200s.
pub fn fail_first(fails: usize) -> Behaviour {
    Arc::new(move |n| (if n < fails { 500 } else { 200 }, Duration::ZERO))
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub at: Instant,
    pub event: Value,
    /// The signature checked out (with the secret known then) and its `t` was fresh.
    pub signed: bool,
    pub answered: u16,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    secret: Arc<Mutex<String>>,
}

pub use signature::{expected_v1, verify};

impl Receiver {
    pub async fn start(behaviour: Behaviour) -> Receiver {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let secret: Arc<Mutex<String>> = Arc::default();
        let (h, s) = (hits.clone(), secret.clone());
        let handler = move |headers: HeaderMap, body: Bytes| {
            let (hits, secret, behaviour) = (h.clone(), s.clone(), behaviour.clone());
            async move {
                let n = hits.lock().map(|h| h.len()).unwrap_or_default();
                let (status, delay) = behaviour(n);
                let header = headers
                    .get("stripe-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let key = secret.lock().map(|s| s.clone()).unwrap_or_default();
                let hit = Hit {
                    at: Instant::now(),
                    event: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    signed: verify(&header, &key, &body),
                    answered: status,
                };
                if let Ok(mut h) = hits.lock() {
                    h.push(hit);
                }
                tokio::time::sleep(delay).await;
                (
                    StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                    format!("answer {status}"),
                )
            }
        };
        let app = axum::Router::new().route("/hook", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            hits,
            secret,
        }
    }

    pub fn set_secret(&self, secret: &str) {
        if let Ok(mut s) = self.secret.lock() {
            *s = secret.to_owned();
        }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Event types received, in order.
    pub fn types(&self) -> Vec<String> {
        self.hits()
            .iter()
            .map(|h| h.event["type"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Waits until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Hit> {
        let this = self.clone();
        eventually(
            secs,
            &format!("{n} webhook requests at {}", self.url),
            || {
                let hits = this.hits();
                async move { (hits.len() >= n).then_some(hits) }
            },
        )
        .await
    }
}
