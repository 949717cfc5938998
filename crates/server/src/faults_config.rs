//! Settings of the testing extension: Stripe's rate limits and injected faults — the `[faults]`
//! table of the configuration file, `VOUCH_RATE_LIMIT` / `VOUCH_FAULT_*` variables and
//! `--rate-limit` / `--fault-*` flags. All off by default (see
//! docs/testing-your-integration.md).

use clap::Args;
use serde::Deserialize;
use vouch_api::faults::FaultConfig;

use crate::config::parse_duration_ms;

#[derive(Debug, Args, Default, Clone)]
pub struct FaultArgs {
    /// Apply Stripe's rate limits (25 requests/s per test account, 100 per live account).
    #[arg(long, env = "VOUCH_RATE_LIMIT", num_args = 0..=1, default_missing_value = "true")]
    pub rate_limit: Option<bool>,
    /// Share of requests answered 500 before they run, e.g. 0.1.
    #[arg(long, env = "VOUCH_FAULT_ERROR_RATE")]
    pub fault_error_rate: Option<f64>,
    /// Share of requests answered 500 after they ran (retry them idempotently).
    #[arg(long, env = "VOUCH_FAULT_ERROR_AFTER_RATE")]
    pub fault_error_after_rate: Option<f64>,
    /// Share of requests whose connection is dropped without an answer.
    #[arg(long, env = "VOUCH_FAULT_DROP_RATE")]
    pub fault_drop_rate: Option<f64>,
    /// Latency added to each request, e.g. 300ms.
    #[arg(long, env = "VOUCH_FAULT_LATENCY")]
    pub fault_latency: Option<String>,
    /// Route prefixes the faults apply to, comma-separated (default: every /v1/ route).
    #[arg(long, env = "VOUCH_FAULT_ROUTES", value_delimiter = ',')]
    pub fault_routes: Vec<String>,
}

/// `[faults]` of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultFile {
    rate_limit: Option<bool>,
    error_rate: Option<f64>,
    error_after_rate: Option<f64>,
    drop_rate: Option<f64>,
    latency: Option<String>,
    routes: Option<Vec<String>>,
}

pub fn resolve(args: FaultArgs, file: Option<FaultFile>) -> Result<FaultConfig, String> {
    let file = file.unwrap_or_default();
    let share = |name: &str, v: Option<f64>| -> Result<f64, String> {
        match v {
            Some(x) if !(0.0..=1.0).contains(&x) => {
                Err(format!("{name}: {x} is not a share between 0 and 1"))
            }
            Some(x) => Ok(x),
            None => Ok(0.0),
        }
    };
    let latency = args.fault_latency.or(file.latency);
    let latency_ms = match latency {
        None => 0,
        Some(l) => parse_duration_ms(&l)
            .filter(|ms| *ms >= 0)
            .ok_or_else(|| format!("fault latency: cannot read {l:?}"))?
            .unsigned_abs(),
    };
    Ok(FaultConfig {
        rate_limit: args.rate_limit.or(file.rate_limit).unwrap_or(false),
        error_rate: share(
            "fault_error_rate",
            args.fault_error_rate.or(file.error_rate),
        )?,
        error_after_rate: share(
            "fault_error_after_rate",
            args.fault_error_after_rate.or(file.error_after_rate),
        )?,
        drop_rate: share("fault_drop_rate", args.fault_drop_rate.or(file.drop_rate))?,
        latency_ms,
        routes: if args.fault_routes.is_empty() {
            file.routes.unwrap_or_default()
        } else {
            args.fault_routes
        },
    })
}
