//! Configuration: defaults, then a TOML file, then `VOUCH_*` environment variables, then flags.
//! Environment variables are read through clap (never written); secrets may come from files.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde::Deserialize;

pub const DEFAULTS: &str = include_str!("../config.default.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// `vouch serve` flags; each is also a `VOUCH_*` environment variable.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Configuration file (TOML); `vouch config` prints a commented one.
    #[arg(long, env = "VOUCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:12111].
    #[arg(long, env = "VOUCH_LISTEN")]
    pub listen: Option<String>,
    /// sqlite://relative/path.db or sqlite:///absolute/path.db [default: sqlite://vouch-data/vouch.db].
    #[arg(long, env = "VOUCH_DATABASE_URL")]
    pub database_url: Option<String>,
    /// A secret key (sk_test_… or sk_live_…); repeat for several accounts.
    #[arg(long = "api-key", env = "VOUCH_API_KEY", value_delimiter = ',')]
    pub api_keys: Vec<String>,
    /// A file with secret keys, one per line.
    #[arg(long, env = "VOUCH_API_KEY_FILE")]
    pub api_key_file: Option<PathBuf>,
    /// Base URL for the hosted-page links [default: http://<listen>].
    #[arg(long, env = "VOUCH_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Log format [default: text].
    #[arg(long, env = "VOUCH_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// How long a redaction stays processing, e.g. 2s, 500ms [default: 2s].
    #[arg(long, env = "VOUCH_REDACTION_DELAY")]
    pub redaction_delay: Option<String>,
    /// Largest request body, in bytes [default: 1048576].
    #[arg(long, env = "VOUCH_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Largest image the hosted page accepts, in bytes [default: 10485760].
    #[arg(long, env = "VOUCH_MAX_IMAGE_BYTES")]
    pub max_image_bytes: Option<usize>,
    /// How long a client may take to send its request headers, and then its body [default: 10s].
    #[arg(long, env = "VOUCH_CLIENT_TIMEOUT")]
    pub client_timeout: Option<String>,
    /// Live mode: the youngest age the built-in verifier accepts, in whole years; 0 for none
    /// [default: 18].
    #[arg(long, env = "VOUCH_MIN_AGE")]
    pub min_age: Option<u32>,
    /// PostgreSQL connections per node [default: 16].
    #[arg(long, env = "VOUCH_DATABASE_POOL_SIZE")]
    pub database_pool_size: Option<usize>,
    /// SQLite: memory for decoded sessions kept between requests, in MiB; 0 for none
    /// [default: 40, about 22,000 sessions].
    #[arg(long, env = "VOUCH_SESSION_CACHE_MB")]
    pub session_cache_mb: Option<usize>,
    /// Testing extension: run as if the clock were this much later (e.g. 49h); refused
    /// with live keys. See docs/testing-your-integration.md.
    #[arg(long, env = "VOUCH_CLOCK_OFFSET", hide = true)]
    pub clock_offset: Option<String>,
    /// How long a node's claim on background work (due sessions, pruning) lasts before another
    /// node may take it over, e.g. 30s [default: 30s].
    #[arg(long, env = "VOUCH_JOB_LEASE")]
    pub job_lease: Option<String>,
    /// Test mode.
    #[command(flatten)]
    pub test_mode: crate::test_mode_config::TestModeArgs,
    /// Rate limits and fault injection (testing extension).
    #[command(flatten)]
    pub faults: crate::faults_config::FaultArgs,
    /// Events and webhook delivery.
    #[command(flatten)]
    pub webhooks: crate::webhook_config::WebhookArgs,
    /// The dashboard's operator password.
    #[command(flatten)]
    pub dashboard: crate::dashboard_config::DashboardArgs,
}

/// The file's shape; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    database_url: Option<String>,
    api_keys: Option<Vec<String>>,
    public_url: Option<String>,
    log_format: Option<LogFormat>,
    redaction_delay: Option<String>,
    max_body_bytes: Option<usize>,
    max_image_bytes: Option<usize>,
    min_age: Option<u32>,
    database_pool_size: Option<usize>,
    session_cache_mb: Option<usize>,
    job_lease: Option<String>,
    client_timeout: Option<String>,
    webhooks: Option<crate::webhook_config::WebhookFile>,
    test_mode: Option<crate::test_mode_config::TestModeFile>,
    faults: Option<crate::faults_config::FaultFile>,
    dashboard: Option<crate::dashboard_config::DashboardFile>,
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    /// A `postgres://` URL.
    Postgres(String),
}

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "SQLite {}", p.display()),
            Database::Postgres(url) => write!(f, "PostgreSQL {}", redact_password(url)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub database: Database,
    pub api_keys: Vec<String>,
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    pub redaction_delay_ms: i64,
    pub max_body_bytes: usize,
    pub max_image_bytes: usize,
    /// Live mode: minimum age in whole years (0: none).
    pub min_age: u32,
    pub database_pool_size: usize,
    /// SQLite: bytes of decoded sessions kept between requests (0: none).
    pub session_cache_bytes: usize,
    /// How long a claim on background work lasts (docs/scaling.md).
    pub job_lease_ms: i64,
    pub client_timeout_ms: i64,
    pub webhooks: crate::webhook_config::WebhookSettings,
    pub test_mode: crate::test_mode_config::TestModeSettings,
    pub faults: vouch_api::faults::FaultConfig,
    /// The dashboard's operator password, if any.
    pub dashboard_password: Option<String>,
    /// Testing extension: how far ahead of the system clock the server runs (0: not at all).
    pub clock_offset_ms: i64,
}

impl Config {
    pub fn resolve(args: ServeArgs) -> Result<Config, String> {
        let defaults: FileConfig =
            toml::from_str(DEFAULTS).map_err(|e| format!("built-in defaults: {e}"))?;
        let file: FileConfig = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let pick = |flag: Option<String>, file: Option<String>, default: Option<String>| {
            flag.or(file).or(default).unwrap_or_default()
        };
        let mut api_keys = args.api_keys;
        if let Some(path) = &args.api_key_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            api_keys.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned),
            );
        }
        if api_keys.is_empty() {
            api_keys = file.api_keys.unwrap_or_default();
        }
        api_keys.retain(|k| !k.trim().is_empty());
        let delay = pick(
            args.redaction_delay,
            file.redaction_delay,
            defaults.redaction_delay,
        );
        let client_timeout = pick(
            args.client_timeout,
            file.client_timeout,
            defaults.client_timeout,
        );
        let public_url = pick(args.public_url, file.public_url, None);
        let clock_offset_ms = clock_offset(args.clock_offset.as_deref(), &api_keys)?;
        let job_lease = pick(args.job_lease, file.job_lease, defaults.job_lease);
        Ok(Config {
            listen: pick(args.listen, file.listen, defaults.listen),
            database: parse_database_url(&pick(
                args.database_url,
                file.database_url,
                defaults.database_url,
            ))?,
            api_keys,
            public_url: (!public_url.is_empty())
                .then(|| public_url.trim_end_matches('/').to_owned()),
            log_format: args
                .log_format
                .or(file.log_format)
                .or(defaults.log_format)
                .unwrap_or(LogFormat::Text),
            redaction_delay_ms: parse_duration_ms(&delay).ok_or_else(|| {
                format!("redaction_delay: cannot read {delay:?} (use e.g. 2s, 500ms)")
            })?,
            max_body_bytes: args
                .max_body_bytes
                .or(file.max_body_bytes)
                .or(defaults.max_body_bytes)
                .unwrap_or(1 << 20),
            max_image_bytes: args
                .max_image_bytes
                .or(file.max_image_bytes)
                .or(defaults.max_image_bytes)
                .filter(|n| *n > 0)
                .unwrap_or(10 << 20),
            min_age: args
                .min_age
                .or(file.min_age)
                .or(defaults.min_age)
                .unwrap_or(18),
            database_pool_size: args
                .database_pool_size
                .or(file.database_pool_size)
                .or(defaults.database_pool_size)
                .unwrap_or(16),
            session_cache_bytes: args
                .session_cache_mb
                .or(file.session_cache_mb)
                .or(defaults.session_cache_mb)
                .map_or(vouch_store::DEFAULT_SESSION_CACHE_BYTES, |mb| {
                    mb.saturating_mul(1 << 20)
                }),
            job_lease_ms: parse_duration_ms(&job_lease)
                .filter(|ms| *ms > 0)
                .ok_or_else(|| format!("job_lease: cannot read {job_lease:?} (use e.g. 30s)"))?,
            client_timeout_ms: parse_duration_ms(&client_timeout)
                .filter(|ms| *ms > 0)
                .ok_or_else(|| {
                    format!("client_timeout: cannot read {client_timeout:?} (use e.g. 10s)")
                })?,
            faults: crate::faults_config::resolve(args.faults, file.faults)?,
            test_mode: crate::test_mode_config::TestModeSettings::resolve(
                args.test_mode,
                file.test_mode,
                defaults.test_mode,
            )?,
            webhooks: crate::webhook_config::WebhookSettings::resolve(
                args.webhooks,
                file.webhooks,
                defaults.webhooks,
            )?,
            dashboard_password: crate::dashboard_config::resolve(args.dashboard, file.dashboard)?,
            clock_offset_ms,
        })
    }

    /// Checks the listen address early so a typo is a clear message, not a bind error.
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        self.listen.parse().map_err(|_| {
            format!(
                "listen: {:?} is not an address like 127.0.0.1:12111",
                self.listen
            )
        })
    }
}

/// `--clock-offset`: a duration ahead of the system clock. Refused with live keys: links,
/// secrets and redactions of real people must follow real time.
fn clock_offset(offset: Option<&str>, api_keys: &[String]) -> Result<i64, String> {
    let Some(offset) = offset.map(str::trim).filter(|o| !o.is_empty()) else {
        return Ok(0);
    };
    let ms = parse_duration_ms(offset).ok_or_else(|| {
        format!("clock_offset: cannot read {offset:?} (a duration ahead, e.g. 49h, 25h, 90m)")
    })?;
    if ms != 0 && api_keys.iter().any(|k| k.starts_with("sk_live_")) {
        return Err(
            "clock_offset is a testing extension and is refused with live keys (sk_live_…): \
             it would expire the links and secrets of real people early"
                .into(),
        );
    }
    Ok(ms)
}

pub fn parse_database_url(url: &str) -> Result<Database, String> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err("database_url: sqlite:// needs a path".into());
        }
        // sqlite:///abs/path keeps its leading slash; sqlite://rel/path is relative.
        return Ok(Database::Sqlite(PathBuf::from(path)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Database::Postgres(url.to_owned()));
    }
    Err(format!(
        "database_url: {url:?} is not sqlite://relative/path.db or sqlite:///absolute/path.db"
    ))
}

/// A URL with its password (if any) replaced, for banners and logs.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:****@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// `500ms`, `2s`, `5m`, `1h`, `30d`, or a bare number of milliseconds.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "ms"),
    };
    let n: i64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            parse_database_url("sqlite://data/v.db").unwrap(),
            Database::Sqlite("data/v.db".into())
        );
        assert_eq!(
            parse_database_url("sqlite:///tmp/v.db").unwrap(),
            Database::Sqlite("/tmp/v.db".into())
        );
        assert_eq!(
            parse_database_url("postgres://u:p@h/db").unwrap(),
            Database::Postgres("postgres://u:p@h/db".into())
        );
        assert_eq!(
            redact_password("postgres://u:secret@h:5432/db"),
            "postgres://u:****@h:5432/db"
        );
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
        assert!(parse_database_url("mysql://x").is_err());
        assert!(parse_database_url("sqlite://").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("2s"), Some(2000));
        assert_eq!(parse_duration_ms("250ms"), Some(250));
        assert_eq!(parse_duration_ms("0s"), Some(0));
        assert_eq!(parse_duration_ms("5m"), Some(300_000));
        assert_eq!(parse_duration_ms("10"), Some(10));
        assert_eq!(parse_duration_ms("fast"), None);
        assert_eq!(parse_duration_ms("2d"), Some(172_800_000));
        assert_eq!(parse_duration_ms("2w"), None);
    }

    #[test]
    fn defaults_parse_and_flags_win() {
        let c = Config::resolve(ServeArgs::default()).unwrap();
        assert_eq!(c.listen, "127.0.0.1:12111");
        assert_eq!(c.database, Database::Sqlite("vouch-data/vouch.db".into()));
        assert_eq!(c.redaction_delay_ms, 2000);
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.min_age, 18);
        assert_eq!(c.job_lease_ms, 30_000);
        assert_eq!(c.session_cache_bytes, 40 << 20);
        let c = Config::resolve(ServeArgs {
            listen: Some("127.0.0.1:0".into()),
            redaction_delay: Some("100ms".into()),
            job_lease: Some("2s".into()),
            session_cache_mb: Some(0),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(c.session_cache_bytes, 0);
        assert_eq!(c.listen, "127.0.0.1:0");
        assert_eq!(c.redaction_delay_ms, 100);
        assert_eq!(c.job_lease_ms, 2000);
        for bad in ["0s", "soon"] {
            let e = Config::resolve(ServeArgs {
                job_lease: Some(bad.into()),
                ..ServeArgs::default()
            })
            .unwrap_err();
            assert!(e.contains("job_lease"), "{e}");
        }
    }

    #[test]
    fn clock_offset_is_a_duration_and_refused_with_live_keys() {
        let test = vec!["sk_test_aaaaaaaaaaaa".to_owned()];
        let live = vec![
            "sk_test_aaaaaaaaaaaa".to_owned(),
            "sk_live_bbbbbbbbbbbb".to_owned(),
        ];
        assert_eq!(clock_offset(None, &live), Ok(0));
        assert_eq!(clock_offset(Some("49h"), &test), Ok(49 * 3_600_000));
        assert_eq!(clock_offset(Some("0s"), &live), Ok(0));
        assert!(clock_offset(Some("49h"), &live)
            .unwrap_err()
            .contains("refused with live keys"));
        assert!(clock_offset(Some("-1h"), &test).is_err());
        assert!(clock_offset(Some("soon"), &test).is_err());
    }

    #[test]
    fn file_sits_between_defaults_and_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9999\"\nlog_format = \"json\"\nmin_age = 21\n",
        )
        .unwrap();
        let c = Config::resolve(ServeArgs {
            config: Some(path.clone()),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:9999");
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.min_age, 21);
        let c = Config::resolve(ServeArgs {
            config: Some(path),
            listen: Some("127.0.0.1:1".into()),
            min_age: Some(0),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:1");
        assert_eq!(c.min_age, 0);
    }
}
