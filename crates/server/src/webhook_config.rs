//! Settings of events and webhook delivery: the `[webhooks]` table of the configuration file,
//! `VOUCH_WEBHOOK_*` / `VOUCH_EVENT_RETENTION` variables and `--webhook-*` / `--event-retention`
//! flags (flags win over the environment, the environment over the file, the file over the
//! defaults in config.default.toml).

use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use crate::config::parse_duration_ms;

#[derive(Debug, Args, Default, Clone)]
pub struct WebhookArgs {
    /// Waits between delivery attempts in test mode, e.g. 1m,5m,30m (then it gives up).
    #[arg(long, env = "VOUCH_WEBHOOK_RETRY_SCHEDULE_TEST")]
    pub webhook_retry_schedule_test: Option<String>,
    /// Waits between delivery attempts in live mode (up to 3 days by default).
    #[arg(long, env = "VOUCH_WEBHOOK_RETRY_SCHEDULE_LIVE")]
    pub webhook_retry_schedule_live: Option<String>,
    /// How long one delivery attempt may take in test mode [default: 5s].
    #[arg(long, env = "VOUCH_WEBHOOK_TIMEOUT_TEST")]
    pub webhook_timeout_test: Option<String>,
    /// How long one delivery attempt may take in live mode [default: 10s].
    #[arg(long, env = "VOUCH_WEBHOOK_TIMEOUT_LIVE")]
    pub webhook_timeout_live: Option<String>,
    /// How often the delivery worker looks for due deliveries [default: 200ms].
    #[arg(long, env = "VOUCH_WEBHOOK_POLL_INTERVAL")]
    pub webhook_poll_interval: Option<String>,
    /// Delivery attempts in flight at most [default: 32].
    #[arg(long, env = "VOUCH_WEBHOOK_CONCURRENCY")]
    pub webhook_concurrency: Option<usize>,
    /// How long events are kept (and listed), e.g. 30d [default: 30d].
    #[arg(long, env = "VOUCH_EVENT_RETENTION")]
    pub event_retention: Option<String>,
}

/// The `[webhooks]` table of the file; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFile {
    retry_schedule_test: Option<String>,
    retry_schedule_live: Option<String>,
    timeout_test: Option<String>,
    timeout_live: Option<String>,
    poll_interval: Option<String>,
    concurrency: Option<usize>,
    event_retention: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    pub retry_test_ms: Vec<i64>,
    pub retry_live_ms: Vec<i64>,
    pub timeout_test: Duration,
    pub timeout_live: Duration,
    pub poll_interval: Duration,
    pub concurrency: usize,
    pub event_retention_ms: i64,
}

impl WebhookSettings {
    pub fn resolve(
        args: WebhookArgs,
        file: Option<WebhookFile>,
        defaults: Option<WebhookFile>,
    ) -> Result<WebhookSettings, String> {
        let file = file.unwrap_or_default();
        let defaults = defaults.unwrap_or_default();
        let pick = |name: &str, flag: Option<String>, f: Option<String>, d: Option<String>| {
            flag.or(f)
                .or(d)
                .ok_or_else(|| format!("webhooks.{name}: no value"))
        };
        let duration = |name: &str, text: String| -> Result<Duration, String> {
            parse_duration_ms(&text)
                .filter(|ms| *ms > 0)
                .map(|ms| Duration::from_millis(ms.unsigned_abs()))
                .ok_or_else(|| {
                    format!("webhooks.{name}: cannot read {text:?} (use e.g. 5s, 500ms)")
                })
        };
        Ok(WebhookSettings {
            retry_test_ms: schedule(
                "retry_schedule_test",
                &pick(
                    "retry_schedule_test",
                    args.webhook_retry_schedule_test,
                    file.retry_schedule_test,
                    defaults.retry_schedule_test,
                )?,
            )?,
            retry_live_ms: schedule(
                "retry_schedule_live",
                &pick(
                    "retry_schedule_live",
                    args.webhook_retry_schedule_live,
                    file.retry_schedule_live,
                    defaults.retry_schedule_live,
                )?,
            )?,
            timeout_test: duration(
                "timeout_test",
                pick(
                    "timeout_test",
                    args.webhook_timeout_test,
                    file.timeout_test,
                    defaults.timeout_test,
                )?,
            )?,
            timeout_live: duration(
                "timeout_live",
                pick(
                    "timeout_live",
                    args.webhook_timeout_live,
                    file.timeout_live,
                    defaults.timeout_live,
                )?,
            )?,
            poll_interval: duration(
                "poll_interval",
                pick(
                    "poll_interval",
                    args.webhook_poll_interval,
                    file.poll_interval,
                    defaults.poll_interval,
                )?,
            )?,
            concurrency: args
                .webhook_concurrency
                .or(file.concurrency)
                .or(defaults.concurrency)
                .unwrap_or(32)
                .max(1),
            event_retention_ms: duration(
                "event_retention",
                pick(
                    "event_retention",
                    args.event_retention,
                    file.event_retention,
                    defaults.event_retention,
                )?,
            )?
            .as_millis() as i64,
        })
    }
}

/// `1m,5m,30m`: the waits after the first, second, … failed attempt. `none` (or empty) means
/// a single attempt.
fn schedule(name: &str, text: &str) -> Result<Vec<i64>, String> {
    let text = text.trim();
    if text.is_empty() || text == "none" {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|part| {
            parse_duration_ms(part)
                .filter(|ms| *ms >= 0)
                .ok_or_else(|| {
                    format!(
                        "webhooks.{name}: cannot read {part:?} in {text:?} (use e.g. 1m,5m,30m)"
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn schedules() {
        assert_eq!(
            schedule("x", "1m, 5m,30m").unwrap(),
            vec![60_000, 300_000, 1_800_000]
        );
        assert_eq!(schedule("x", "100ms,200ms").unwrap(), vec![100, 200]);
        assert_eq!(schedule("x", "none").unwrap(), Vec::<i64>::new());
        assert!(schedule("x", "1m,soon").is_err());
    }

    /// The `[webhooks]` table of the built-in defaults.
    #[derive(Deserialize)]
    struct Probe {
        webhooks: Option<WebhookFile>,
    }

    #[test]
    fn defaults_then_file_then_flags() {
        let defaults: Probe = toml::from_str(crate::config::DEFAULTS).unwrap();
        let d = WebhookSettings::resolve(WebhookArgs::default(), None, defaults.webhooks).unwrap();
        assert_eq!(d.retry_test_ms, vec![60_000, 300_000, 1_800_000]);
        let live_total: i64 = d.retry_live_ms.iter().sum();
        assert!(
            (70 * 3_600_000..=72 * 3_600_000).contains(&live_total),
            "{live_total}"
        );
        assert_eq!(d.timeout_test, Duration::from_secs(5));
        assert_eq!(d.timeout_live, Duration::from_secs(10));
        assert_eq!(d.event_retention_ms, 30 * 86_400_000);
        let file: WebhookFile = toml::from_str("timeout_test = \"1s\"\nconcurrency = 4").unwrap();
        let defaults: Probe = toml::from_str(crate::config::DEFAULTS).unwrap();
        let s = WebhookSettings::resolve(
            WebhookArgs {
                webhook_retry_schedule_test: Some("100ms,200ms".into()),
                ..WebhookArgs::default()
            },
            Some(file),
            defaults.webhooks,
        )
        .unwrap();
        assert_eq!(s.retry_test_ms, vec![100, 200]);
        assert_eq!(s.timeout_test, Duration::from_secs(1));
        assert_eq!(s.concurrency, 4);
        assert!(toml::from_str::<WebhookFile>("bogus = 1").is_err());
    }
}
