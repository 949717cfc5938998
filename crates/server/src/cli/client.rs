//! The HTTP client of every command that talks to a running vouch (`vouch sessions …`,
//! `vouch listen`, …): where it is, which key, and how its answers become [`CliError`]s.

use std::time::Duration;

use clap::Args;
use serde_json::Value;

/// Where the running vouch is and which key to use.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// The running vouch.
    #[arg(
        long,
        env = "VOUCH_URL",
        default_value = "http://127.0.0.1:12111",
        global = true
    )]
    pub url: String,
    /// A secret key of that vouch (the first one when comma-separated, as `serve` takes them).
    #[arg(long, env = "VOUCH_API_KEY", value_delimiter = ',', global = true)]
    pub api_key: Vec<String>,
}

/// Why a command failed; each kind has its own exit code (see docs/cli.md).
#[derive(Debug)]
pub enum CliError {
    /// vouch answered with a Stripe error (exit 1).
    Api {
        status: u16,
        kind: String,
        code: Option<String>,
        message: String,
    },
    /// A usage problem clap cannot see, such as no key (exit 2).
    Usage(String),
    /// Nothing answered, or what answered is not vouch (exit 3).
    Connect(String),
    /// vouch refused the key: 401 (exit 4).
    Auth(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Api { .. } => 1,
            CliError::Usage(_) => 2,
            CliError::Connect(_) => 3,
            CliError::Auth(_) => 4,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Api {
                status,
                kind,
                code,
                message,
            } => {
                write!(f, "{message} ({status} {kind}")?;
                if let Some(code) = code {
                    write!(f, "/{code}")?;
                }
                f.write_str(")")
            }
            CliError::Usage(m) | CliError::Connect(m) => f.write_str(m),
            CliError::Auth(m) => write!(f, "authentication failed: {m}"),
        }
    }
}

/// A client of one vouch with one key.
pub struct Client {
    pub base: String,
    key: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(conn: &Connection) -> Result<Client, CliError> {
        let key = conn
            .api_key
            .iter()
            .map(|k| k.trim())
            .find(|k| !k.is_empty())
            .ok_or_else(|| {
                CliError::Usage(
                    "a secret key is needed: --api-key sk_test_… (or VOUCH_API_KEY)".into(),
                )
            })?
            .to_owned();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| CliError::Connect(e.to_string()))?;
        Ok(Client {
            base: conn.url.trim_end_matches('/').to_owned(),
            key,
            http,
        })
    }

    pub async fn get(&self, path: &str, query: &[(String, String)]) -> Result<Value, CliError> {
        self.send(self.http.get(self.url(path)).query(query)).await
    }

    pub async fn post(&self, path: &str, form: &[(String, String)]) -> Result<Value, CliError> {
        self.send(self.http.post(self.url(path)).form(form)).await
    }

    pub async fn delete(&self, path: &str) -> Result<Value, CliError> {
        self.send(self.http.delete(self.url(path))).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, CliError> {
        let resp = req.bearer_auth(&self.key).send().await.map_err(|e| {
            CliError::Connect(format!(
                "cannot reach vouch at {}: {}",
                self.base,
                cause(&e.without_url())
            ))
        })?;
        let status = resp.status().as_u16();
        let not_vouch = || {
            CliError::Connect(format!(
                "{} is not a vouch server (it answered {status} without a Stripe-shaped body)",
                self.base
            ))
        };
        let body: Value = resp.json().await.map_err(|_| not_vouch())?;
        if (200..300).contains(&status) {
            return if body.is_object() {
                Ok(body)
            } else {
                Err(not_vouch())
            };
        }
        let error = &body["error"];
        let Some(message) = error["message"].as_str() else {
            return Err(not_vouch());
        };
        if status == 401 {
            return Err(CliError::Auth(message.to_owned()));
        }
        Err(CliError::Api {
            status,
            kind: error["type"].as_str().unwrap_or("api_error").to_owned(),
            code: error["code"].as_str().map(str::to_owned),
            message: message.to_owned(),
        })
    }
}

/// An error with its causes ("error sending request: … Connection refused").
fn cause(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `(name, value)` pairs for a query string or form body.
pub fn pairs<const N: usize>(items: [(&str, Option<String>); N]) -> Vec<(String, String)> {
    items
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect()
}
