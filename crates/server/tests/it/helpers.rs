//! Test harness: spawns the real `vouch` binary and wraps its HTTP API.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// Path of the binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_vouch");

/// The session collection path.
pub const SESSIONS: &str = "/v1/identity/verification_sessions";

/// How long the server gets to print its `listening on` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// small utilities
// ---------------------------------------------------------------------------

const ALPHANUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Random alphanumeric string (std only: RandomState is randomly seeded per process).
pub fn random_alnum(n: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        let mut v = h.finish();
        for _ in 0..10 {
            out.push(ALPHANUM[(v % 62) as usize] as char);
            v /= 62;
        }
    }
    out.truncate(n);
    out
}

/// Current unix time in seconds.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Standard base64 (with padding), enough for HTTP Basic auth.
pub fn base64(input: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Remove ANSI escape sequences (colourised log output) from a line.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // CSI: parameters until a final byte in 0x40..=0x7e
                for c2 in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c2) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Extract `http://host:port` from a line containing `listening on http://…`.
fn parse_listening(line: &str) -> Option<String> {
    let at = line.find("listening on http://")?;
    let rest = &line[at + "listening on ".len()..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',' || c == '}')
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end_matches('/').to_string())
}

/// True for `vs_` followed by exactly 24 ASCII alphanumerics.
pub fn is_session_id(s: &str) -> bool {
    s.strip_prefix("vs_")
        .is_some_and(|r| r.len() == 24 && r.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Expected key order of a session object.
pub fn expected_session_keys(
    provided_details: bool,
    related_person: bool,
    verification_flow: bool,
    verified_outputs: bool,
) -> Vec<&'static str> {
    let mut k = vec![
        "id",
        "object",
        "client_reference_id",
        "client_secret",
        "created",
        "last_error",
        "last_verification_report",
        "livemode",
        "metadata",
        "options",
    ];
    if provided_details {
        k.push("provided_details");
    }
    k.extend(["redaction", "related_customer", "related_customer_account"]);
    if related_person {
        k.push("related_person");
    }
    k.extend(["status", "type", "url"]);
    if verification_flow {
        k.push("verification_flow");
    }
    if verified_outputs {
        k.push("verified_outputs");
    }
    k
}

/// Keys of a JSON object in wire order.
pub fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// Ids of the `data` array of a list response.
pub fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array in {list}"))
        .iter()
        .map(|s| {
            s["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no id in {s}"))
                .to_string()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// responses
// ---------------------------------------------------------------------------

/// A captured HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
    /// `METHOD path` of the request, for failure messages.
    pub request: String,
}

impl Resp {
    /// A response header as a string.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// The `Request-Id` header (panics if absent).
    #[track_caller]
    pub fn request_id(&self) -> String {
        self.header("request-id").unwrap_or_else(|| {
            panic!(
                "{}: no Request-Id header; headers {:?}",
                self.request, self.headers
            )
        })
    }

    /// Assert the HTTP status, dumping the body on failure.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "{}: expected HTTP {status}, got {} with body {}",
            self.request, self.status, self.text
        );
        self
    }

    /// Assert 200 and return the JSON body.
    #[track_caller]
    pub fn ok(&self) -> Value {
        self.assert_status(200);
        self.json.clone()
    }

    /// The `error` object of an error response.
    pub fn err(&self) -> &Value {
        &self.json["error"]
    }

    /// Assert a well-formed Stripe error envelope with the given fields.
    /// `code`/`param` of `None` mean the key must be absent.
    #[track_caller]
    pub fn assert_error(
        &self,
        status: u16,
        code: Option<&str>,
        param: Option<&str>,
        message: &str,
    ) {
        self.assert_error_envelope(status);
        let e = self.err();
        assert_eq!(
            e["message"].as_str(),
            Some(message),
            "{}: message; body {}",
            self.request,
            self.text
        );
        self.assert_code_param(code, param);
    }

    /// Like `assert_error` but only checks that the message starts with `prefix`.
    #[track_caller]
    pub fn assert_error_prefix(
        &self,
        status: u16,
        code: Option<&str>,
        param: Option<&str>,
        prefix: &str,
    ) {
        self.assert_error_envelope(status);
        let msg = self.err()["message"].as_str().unwrap_or_default();
        assert!(
            msg.starts_with(prefix),
            "{}: message {msg:?} should start with {prefix:?}; body {}",
            self.request,
            self.text
        );
        self.assert_code_param(code, param);
    }

    #[track_caller]
    fn assert_code_param(&self, code: Option<&str>, param: Option<&str>) {
        let e = self.err();
        match code {
            Some(c) => assert_eq!(
                e["code"].as_str(),
                Some(c),
                "{}: code; body {}",
                self.request,
                self.text
            ),
            None => assert!(
                e.get("code").is_none(),
                "{}: unexpected code; body {}",
                self.request,
                self.text
            ),
        }
        match param {
            Some(p) => assert_eq!(
                e["param"].as_str(),
                Some(p),
                "{}: param; body {}",
                self.request,
                self.text
            ),
            None => assert!(
                e.get("param").is_none(),
                "{}: unexpected param; body {}",
                self.request,
                self.text
            ),
        }
    }

    /// Status + envelope shape: `{"error": {type: invalid_request_error, message, ...}}`, no nulls.
    #[track_caller]
    pub fn assert_error_envelope(&self, status: u16) {
        self.assert_status(status);
        let obj = self.json.as_object().unwrap_or_else(|| {
            panic!(
                "{}: error body is not JSON object: {}",
                self.request, self.text
            )
        });
        assert_eq!(
            obj.len(),
            1,
            "{}: envelope must only hold `error`: {}",
            self.request,
            self.text
        );
        let e = obj
            .get("error")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{}: no error object: {}", self.request, self.text));
        assert_eq!(
            e.get("type").and_then(Value::as_str),
            Some("invalid_request_error"),
            "{}: error.type; body {}",
            self.request,
            self.text
        );
        assert!(
            e.get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| !m.is_empty()),
            "{}: error.message missing; body {}",
            self.request,
            self.text
        );
        for (k, v) in e {
            assert!(
                !v.is_null(),
                "{}: error.{k} is null (absent keys must be omitted): {}",
                self.request,
                self.text
            );
        }
        if let Some(doc) = e.get("doc_url") {
            let doc = doc.as_str().unwrap_or_default();
            assert!(
                doc.starts_with("https://stripe.com/docs/"),
                "{}: doc_url {doc:?}",
                self.request
            );
            if let Some(code) = e.get("code").and_then(Value::as_str) {
                assert_eq!(
                    doc,
                    format!(
                        "https://stripe.com/docs/error-codes/{}",
                        code.replace('_', "-")
                    ),
                    "{}: doc_url should match code",
                    self.request
                );
            }
        }
    }
}

/// How a request authenticates.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    /// HTTP Basic with the key as user name and an empty password.
    Basic(&'a str),
    /// A literal `Authorization` header value.
    Raw(&'a str),
}

// ---------------------------------------------------------------------------
// the app
// ---------------------------------------------------------------------------

/// Builder for a `TestApp` with extra command-line flags.
pub struct TestAppBuilder {
    extra_args: Vec<String>,
    api_keys: bool,
    redaction_delay: Option<String>,
    envs: Vec<(String, String)>,
}

impl TestAppBuilder {
    /// Add one extra command-line argument after `serve`.
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.extra_args.push(a.into());
        self
    }

    /// Start without any `--api-key` flag (the server must generate one).
    pub fn without_api_keys(mut self) -> Self {
        self.api_keys = false;
        self
    }

    /// Override `--redaction-delay` (`None` = do not pass the flag).
    pub fn redaction_delay(mut self, d: Option<&str>) -> Self {
        self.redaction_delay = d.map(str::to_string);
        self
    }

    /// Set an environment variable for the server process.
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.envs.push((k.into(), v.into()));
        self
    }

    pub async fn spawn(self) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("vouch.db");
        // VOUCH_TEST_BACKEND=postgres: a fresh PostgreSQL database per app instead.
        let pg = if backend_is_postgres() {
            Some(
                crate::pg::FreshDatabase::create()
                    .await
                    .expect("VOUCH_TEST_BACKEND=postgres needs a reachable PostgreSQL"),
            )
        } else {
            None
        };
        let database_url = match &pg {
            Some(pg) => pg.url.clone(),
            None => format!("sqlite://{}", db.display()),
        };
        let test_key = format!("sk_test_{}", random_alnum(24));
        let live_key = format!("sk_live_{}", random_alnum(24));
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--database-url".into(),
            database_url,
        ];
        if self.api_keys {
            args.extend([
                "--api-key".into(),
                test_key.clone(),
                "--api-key".into(),
                live_key.clone(),
            ]);
        }
        if let Some(d) = self.redaction_delay {
            args.extend(["--redaction-delay".into(), d]);
        }
        args.extend(self.extra_args);

        let logs = Arc::new(Mutex::new(Vec::new()));
        let envs = self.envs;
        let (child, base_url) = launch(&args, &envs, &logs).await;
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("reqwest client");
        TestApp {
            child,
            base_url,
            test_key,
            live_key,
            args,
            envs,
            logs,
            generation_start: 0,
            client,
            _dir: Arc::new(dir),
            _pg: pg.map(Arc::new),
        }
    }
}

/// Whether this run uses PostgreSQL (`VOUCH_TEST_BACKEND=postgres`) instead of SQLite.
pub fn backend_is_postgres() -> bool {
    std::env::var("VOUCH_TEST_BACKEND").is_ok_and(|v| v == "postgres")
}

/// A running `vouch serve` with its own database.
pub struct TestApp {
    // Field order matters for Drop: kill the child before removing the directory.
    child: Child,
    /// `http://127.0.0.1:PORT` as printed by the server.
    pub base_url: String,
    pub test_key: String,
    pub live_key: String,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    logs: Arc<Mutex<Vec<String>>>,
    generation_start: usize,
    client: reqwest::Client,
    /// Shared with peers; dropped after the child (fields drop in order).
    _dir: Arc<TempDir>,
    /// Shared with peers: the database outlives every server on it.
    _pg: Option<Arc<crate::pg::FreshDatabase>>,
}

/// Start the binary and wait for its `listening on` line.
/// Remove `VOUCH_*` variables inherited from the test runner so the flags alone decide.
fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("VOUCH_") {
            cmd.env_remove(&k);
        }
    }
}

async fn launch(
    args: &[String],
    envs: &[(String, String)],
    logs: &Arc<Mutex<Vec<String>>>,
) -> (Child, String) {
    let mut cmd = Command::new(BIN);
    clean_env(&mut cmd);
    cmd.envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    if let Some(out) = child.stdout.take() {
        spawn_reader(out, Arc::clone(logs), tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        spawn_reader(err, Arc::clone(logs), tx.clone());
    }
    drop(tx);
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, rx.recv()).await {
            Ok(Some(line)) => {
                if let Some(url) = parse_listening(&line) {
                    return (child, url);
                }
            }
            Ok(None) => {
                // Both pipes closed: the process is exiting.
                let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
                panic!(
                    "vouch {args:?} exited before listening ({status:?}); output:\n{}",
                    logs.lock().map(|l| l.join("\n")).unwrap_or_default()
                );
            }
            Err(_) => panic!(
                "vouch {args:?} did not print `listening on` within {STARTUP_TIMEOUT:?}; output:\n{}",
                logs.lock().map(|l| l.join("\n")).unwrap_or_default()
            ),
        }
    }
}

/// Drain a pipe forever into the shared log buffer (so the pipe never fills).
fn spawn_reader<R: AsyncRead + Unpin + Send + 'static>(
    pipe: R,
    logs: Arc<Mutex<Vec<String>>>,
    tx: mpsc::UnboundedSender<String>,
) {
    tokio::spawn(async move {
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line =
                        strip_ansi(String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']));
                    if let Ok(mut l) = logs.lock() {
                        l.push(line.clone());
                    }
                    let _ = tx.send(line);
                }
            }
        }
    });
}

impl TestApp {
    /// Start with the default flags (a test key and a live key, 200ms redaction delay).
    pub async fn spawn() -> TestApp {
        Self::builder().spawn().await
    }

    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            extra_args: Vec::new(),
            envs: Vec::new(),
            api_keys: true,
            redaction_delay: Some("200ms".into()),
        }
    }

    /// Everything the server printed so far (all runs), one line per entry.
    pub fn log_lines(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Everything the server printed so far (all runs), newline separated.
    pub fn logs(&self) -> String {
        self.log_lines().join("\n")
    }

    /// Output of the current run only (since the last restart).
    pub fn current_logs(&self) -> String {
        self.logs
            .lock()
            .map(|l| l[self.generation_start.min(l.len())..].join("\n"))
            .unwrap_or_default()
    }

    /// Wait until a log line containing `needle` shows up (logs may be written after the response).
    pub async fn wait_for_log_line(&self, needle: &str) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(l) = self.log_lines().into_iter().find(|l| l.contains(needle)) {
                return Some(l);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Path of the SQLite database file (meaningless on PostgreSQL; see `backend_is_postgres`).
    pub fn db_path(&self) -> std::path::PathBuf {
        self._dir.path().join("vouch.db")
    }

    /// Makes the running server's storage fail underneath it: corrupts the SQLite files, or
    /// renames the sessions table on PostgreSQL.
    pub async fn break_storage(&self) {
        if let Some(pg) = &self._pg {
            let (client, conn) = tokio_postgres::connect(&pg.url, tokio_postgres::NoTls)
                .await
                .expect("connect to the test database");
            tokio::spawn(conn);
            client
                .batch_execute("ALTER TABLE sessions RENAME TO sessions_gone")
                .await
                .expect("rename sessions");
            return;
        }
        let db = self.db_path();
        for (path, byte) in [
            (db.clone(), 0u8),
            (db.with_extension("db-wal"), 0xff),
            (db.with_extension("db-shm"), 0xff),
        ] {
            if path.exists() {
                let len = std::fs::metadata(&path).unwrap().len().min(16 * 4096) as usize;
                let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                std::io::Write::write_all(&mut f, &vec![byte; len.max(4096)]).unwrap();
            }
        }
    }

    /// A second node: another `vouch serve` process with the same flags and keys on the same
    /// database (its own port).
    pub async fn peer(&self) -> TestApp {
        let (child, base_url) = launch(&self.args, &self.envs, &self.logs).await;
        TestApp {
            child,
            base_url,
            test_key: self.test_key.clone(),
            live_key: self.live_key.clone(),
            args: self.args.clone(),
            envs: self.envs.clone(),
            logs: Arc::clone(&self.logs),
            generation_start: 0,
            client: self.client.clone(),
            _dir: Arc::clone(&self._dir),
            _pg: self._pg.clone(),
        }
    }

    /// Process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("server already exited")
    }

    /// The PostgreSQL database this app (and its peers) run on; `None` on SQLite.
    pub fn postgres_url(&self) -> Option<String> {
        self._pg.as_ref().map(|pg| pg.url.clone())
    }

    /// SIGKILL the server (no restart): a node that dies without a chance to clean up.
    pub async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("server did not die after SIGKILL");
    }

    /// SIGKILL the server and start it again on the same database.
    pub async fn restart(&mut self) {
        self.kill().await;
        self.generation_start = self.logs.lock().map(|l| l.len()).unwrap_or(0);
        let (child, base_url) = launch(&self.args, &self.envs, &self.logs).await;
        self.child = child;
        self.base_url = base_url;
    }

    /// SIGKILL the server and start it again on the same database with its clock `offset`
    /// ahead of real time (`--clock-offset`, e.g. `49h`). The server refuses a shifted clock
    /// with live keys, so from here on it runs with the test key only (later restarts too).
    pub async fn restart_shifted(&mut self, offset: &str) {
        let mut args = Vec::new();
        let mut it = std::mem::take(&mut self.args).into_iter().peekable();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--api-key" if it.peek() == Some(&self.live_key) => {
                    it.next();
                }
                "--clock-offset" => {
                    it.next();
                }
                _ => args.push(arg),
            }
        }
        args.extend(["--clock-offset".into(), offset.into()]);
        self.args = args;
        self.restart().await;
    }

    /// Send SIGTERM via `kill -TERM <pid>` and wait for the exit status.
    pub async fn sigterm(&mut self) -> ExitStatus {
        let pid = self.pid();
        let st = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -TERM {pid} failed: {st}");
        tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "server did not exit within 15s of SIGTERM; logs:\n{}",
                    self.logs()
                )
            })
            .expect("wait for server")
    }

    // ---- raw requests ----------------------------------------------------

    /// Fully general request.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = format!("{}{}", self.base_url, path);
        let label = format!("{method} {path}");
        let mut rb = self.client.request(method, &url);
        match auth {
            Auth::None => {}
            Auth::Bearer(k) => rb = rb.header("Authorization", format!("Bearer {k}")),
            Auth::Basic(k) => {
                rb = rb.header(
                    "Authorization",
                    format!("Basic {}", base64(format!("{k}:").as_bytes())),
                )
            }
            Auth::Raw(v) => rb = rb.header("Authorization", v),
        }
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(b);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let resp = rb.send().await.unwrap_or_else(|e| {
            panic!(
                "{label}: request failed: {e:?}\nserver logs:\n{}",
                self.logs()
            )
        });
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp
            .text()
            .await
            .unwrap_or_else(|e| panic!("{label}: reading body failed: {e:?}"));
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            json,
            text,
            request: label,
        }
    }

    /// POST a raw form body with Bearer auth.
    pub async fn post_form(&self, path: &str, key: &str, body: &str) -> Resp {
        self.request(
            Method::POST,
            path,
            Auth::Bearer(key),
            Some(body.to_string()),
            &[],
        )
        .await
    }

    /// GET `path_and_query` with Bearer auth.
    pub async fn get(&self, path_and_query: &str, key: &str) -> Resp {
        self.request(Method::GET, path_and_query, Auth::Bearer(key), None, &[])
            .await
    }

    // ---- endpoints (test key) -------------------------------------------

    pub async fn create_session(&self, body: &str) -> Resp {
        self.post_form(SESSIONS, &self.test_key, body).await
    }

    pub async fn create_session_as(&self, key: &str, body: &str) -> Resp {
        self.post_form(SESSIONS, key, body).await
    }

    /// Create with the test key, asserting success; returns the session.
    pub async fn create_ok(&self, body: &str) -> Value {
        let r = self.create_session(body).await;
        assert!(
            (200..300).contains(&r.status),
            "create `{body}` failed: {} {}",
            r.status,
            r.text
        );
        r.json
    }

    pub async fn retrieve_session(&self, id: &str, query: &str) -> Resp {
        self.get(
            &with_query(&format!("{SESSIONS}/{id}"), query),
            &self.test_key,
        )
        .await
    }

    pub async fn update_session(&self, id: &str, body: &str) -> Resp {
        self.post_form(&format!("{SESSIONS}/{id}"), &self.test_key, body)
            .await
    }

    pub async fn list_sessions(&self, query: &str) -> Resp {
        self.get(&with_query(SESSIONS, query), &self.test_key).await
    }

    pub async fn list_sessions_as(&self, key: &str, query: &str) -> Resp {
        self.get(&with_query(SESSIONS, query), key).await
    }

    pub async fn cancel(&self, id: &str) -> Resp {
        self.post_form(&format!("{SESSIONS}/{id}/cancel"), &self.test_key, "")
            .await
    }

    pub async fn redact(&self, id: &str) -> Resp {
        self.post_form(&format!("{SESSIONS}/{id}/redact"), &self.test_key, "")
            .await
    }

    pub async fn test_verify(&self, id: &str) -> Resp {
        self.post_form(
            &format!("/v1/test_helpers/identity/verification_sessions/{id}/verify"),
            &self.test_key,
            "",
        )
        .await
    }

    pub async fn retrieve_report(&self, id: &str, query: &str) -> Resp {
        self.get(
            &with_query(&format!("/v1/identity/verification_reports/{id}"), query),
            &self.test_key,
        )
        .await
    }

    /// Create a `type=document` session and move it to `verified` with the test helper.
    pub async fn verified_session(&self, body: &str) -> Value {
        let s = self.create_ok(body).await;
        let id = s["id"].as_str().expect("id");
        self.test_verify(id).await.ok()
    }

    /// Poll the session until `redaction.status == "redacted"`; returns it (with `query` applied)
    /// and the time it took.
    pub async fn wait_until_redacted(&self, id: &str, query: &str) -> (Value, Duration) {
        let start = Instant::now();
        loop {
            let s = self.retrieve_session(id, query).await.ok();
            if s["redaction"]["status"] == "redacted" {
                return (s, start.elapsed());
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "session {id} not redacted after 5s (delay 200ms): {s}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// `path?query` (or `path` when the query is empty).
pub fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// Run the binary with plain arguments (no server), returning (status, stdout, stderr).
pub async fn run_cli(args: &[&str]) -> (ExitStatus, String, String) {
    run_cli_env(args, &[]).await
}

/// Run the binary with arguments and these `VOUCH_*` variables (and no others), returning
/// (status, stdout, stderr).
pub async fn run_cli_env(args: &[&str], envs: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let mut cmd = Command::new(BIN);
    clean_env(&mut cmd);
    cmd.envs(envs.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("vouch {args:?} did not finish in 30s"))
        .unwrap_or_else(|e| panic!("vouch {args:?}: {e}"));
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `Command` for the binary with no inherited `VOUCH_*` variables.
pub fn cli_command() -> Command {
    let mut cmd = Command::new(BIN);
    clean_env(&mut cmd);
    cmd
}

/// Send raw bytes over a fresh TCP connection and return everything the server answers
/// (until it closes the connection or 10 s pass). For cases reqwest cannot produce.
pub async fn raw_http(app: &TestApp, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base_url.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    // the server may answer (and close) before reading everything: ignore write errors
    let _ = s.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// A chunked-encoding POST with `Connection: close`.
pub fn chunked_post(path: &str, key: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(64 * 1024) {
        req.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
        req.extend(chunk);
        req.extend(b"\r\n");
    }
    req.extend(b"0\r\n\r\n");
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn listening_line_parsing() {
        assert_eq!(
            parse_listening("2024 INFO vouch: listening on http://127.0.0.1:4242").as_deref(),
            Some("http://127.0.0.1:4242")
        );
        assert_eq!(
            parse_listening(r#"{"message":"listening on http://127.0.0.1:80/","x":1}"#).as_deref(),
            Some("http://127.0.0.1:80")
        );
        assert_eq!(parse_listening("nothing here"), None);
        assert_eq!(strip_ansi("\u{1b}[2mlistening\u{1b}[0m on"), "listening on");
    }

    #[test]
    fn session_id_pattern() {
        assert!(is_session_id("vs_1NuN3kLkdIwHu7ixk5OvTq3b"));
        assert!(!is_session_id("vs_QdfQQ6xfGNJR7ogV6"));
        assert!(!is_session_id("vs_1NuN3kLkdIwHu7ixk5OvTq3_"));
        assert_eq!(random_alnum(30).len(), 30);
    }
}
