//! vouch extension for testing clients against Stripe's bad days. Off by default.
//!
//! - Rate limits: Stripe's 25 requests/s per account in test mode and 100 in live mode,
//!   answered with Stripe's 429 body (`code: rate_limit`).
//! - Injected faults on matching routes: a share of 500s (before the request runs, or after it
//!   ran — `error_after` — so clients must retry idempotently), added latency, and dropped
//!   connections.
//! - Per request, with a test-mode key, the `Vouch-Fault` header asks for one fault:
//!   `error`, `error_after`, `drop`, `latency=<duration>` (comma-separated to combine).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::Rng;

use crate::context::{authenticate, InternalCause};
use crate::error::ApiError;
use crate::state::AppState;

/// What to inject; all zero/false by default.
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// Apply Stripe's rate limits.
    pub rate_limit: bool,
    /// Share (0..=1) of matching requests answered 500 before they run.
    pub error_rate: f64,
    /// Share (0..=1) of matching requests answered 500 after they ran.
    pub error_after_rate: f64,
    /// Share (0..=1) of matching requests whose connection is dropped without an answer.
    pub drop_rate: f64,
    /// Latency added to every matching request.
    pub latency_ms: u64,
    /// Path prefixes the faults apply to (a trailing `*` is allowed); empty means every
    /// `/v1/` route.
    pub routes: Vec<String>,
}

impl FaultConfig {
    fn any_fault(&self) -> bool {
        self.error_rate > 0.0
            || self.error_after_rate > 0.0
            || self.drop_rate > 0.0
            || self.latency_ms > 0
    }

    fn matches(&self, path: &str) -> bool {
        if self.routes.is_empty() {
            return path.starts_with("/v1/");
        }
        self.routes
            .iter()
            .any(|r| path.starts_with(r.trim_end_matches('*')))
    }
}

/// Per-account token buckets (per node: several nodes each allow the full rate).
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, i64)>>,
}

impl RateLimiter {
    /// Takes one token from the account's bucket (`rate` per second, burst `rate`).
    fn allow(&self, account: &str, rate: f64, now_ms: i64) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = buckets.entry(account.to_owned()).or_insert((rate, now_ms));
        let elapsed = (now_ms - *last).max(0) as f64 / 1000.0;
        *tokens = (*tokens + elapsed * rate).min(rate);
        *last = now_ms;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Test mode: 25 requests per second; live mode: 100 (Stripe's defaults).
pub fn stripe_rate(livemode: bool) -> f64 {
    if livemode {
        100.0
    } else {
        25.0
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Plan {
    error: bool,
    error_after: bool,
    drop: bool,
    latency_ms: u64,
}

/// The `Vouch-Fault` header: `error`, `error_after`, `drop`, `latency=500ms`.
fn parse_header(value: &str) -> Plan {
    let mut plan = Plan::default();
    for part in value.split(',').map(str::trim) {
        match part {
            "error" => plan.error = true,
            "error_after" => plan.error_after = true,
            "drop" => plan.drop = true,
            other => {
                if let Some(d) = other.strip_prefix("latency=") {
                    plan.latency_ms = parse_ms(d).unwrap_or(0);
                }
            }
        }
    }
    plan
}

fn parse_ms(s: &str) -> Option<u64> {
    let (num, factor) = match s.strip_suffix("ms") {
        Some(n) => (n, 1),
        None => match s.strip_suffix('s') {
            Some(n) => (n, 1000),
            None => (s, 1),
        },
    };
    num.parse::<u64>().ok().map(|n| (n * factor).min(60_000))
}

/// The request header that asks for a fault (see the module's docs).
const VOUCH_FAULT: axum::http::HeaderName = axum::http::HeaderName::from_static("vouch-fault");

pub async fn around<F, Fut>(state: &AppState, req: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let faults = &state.config.faults;
    let header = req
        .headers()
        .get(&VOUCH_FAULT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if !faults.rate_limit && !faults.any_fault() && header.is_none() {
        return inner(req).await;
    }
    let account = authenticate(req.headers(), state).await.ok();
    if faults.rate_limit {
        if let Some(a) = &account {
            if !state
                .limiter
                .allow(&a.id, stripe_rate(a.livemode), state.clock.now_ms())
            {
                return ApiError::RateLimited.into_response();
            }
        }
    }
    let mut plan = Plan::default();
    if faults.matches(req.uri().path()) {
        let mut rng = rand::thread_rng();
        plan.error = faults.error_rate > 0.0 && rng.gen_bool(faults.error_rate.min(1.0));
        plan.error_after =
            faults.error_after_rate > 0.0 && rng.gen_bool(faults.error_after_rate.min(1.0));
        plan.drop = faults.drop_rate > 0.0 && rng.gen_bool(faults.drop_rate.min(1.0));
        plan.latency_ms = faults.latency_ms;
    }
    // The header works for test-mode keys only: nobody can degrade live traffic with it.
    if let (Some(h), Some(a)) = (&header, &account) {
        if !a.livemode {
            let asked = parse_header(h);
            plan.error |= asked.error;
            plan.error_after |= asked.error_after;
            plan.drop |= asked.drop;
            plan.latency_ms = plan.latency_ms.max(asked.latency_ms);
        }
    }
    if plan.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.latency_ms)).await;
    }
    if plan.drop {
        return dropped_connection();
    }
    if plan.error {
        return ApiError::InjectedFault.into_response();
    }
    let mut resp = inner(req).await;
    if plan.error_after {
        // The cause of a real internal error behind the fault is still logged.
        let cause = resp.extensions_mut().remove::<InternalCause>();
        let mut injected = ApiError::InjectedFault.into_response();
        if let Some(cause) = cause {
            injected.extensions_mut().insert(cause);
        }
        return injected;
    }
    resp
}

/// A response whose body fails at once: hyper aborts the connection, so the client sees it
/// closed without a complete answer.
fn dropped_connection() -> Response {
    let failing = futures_once_error();
    let mut resp = Response::new(Body::from_stream(failing));
    *resp.status_mut() = StatusCode::OK;
    resp
}

fn futures_once_error(
) -> impl futures_core::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    OnceError(false)
}

/// A stream that yields one error.
struct OnceError(bool);

impl futures_core::Stream for OnceError {
    type Item = Result<bytes::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if self.0 {
            return std::task::Poll::Ready(None);
        }
        self.0 = true;
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "vouch fault injection: connection dropped",
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_at_the_rate() {
        let l = RateLimiter::default();
        let allowed = (0..30).filter(|_| l.allow("a", 25.0, 0)).count();
        assert_eq!(allowed, 25);
        assert!(!l.allow("a", 25.0, 10));
        assert!(l.allow("b", 25.0, 10), "accounts are separate");
        assert!(l.allow("a", 25.0, 80), "40 ms refills one token");
    }

    #[test]
    fn header_plans() {
        assert_eq!(
            parse_header("error_after, latency=250ms"),
            Plan {
                error_after: true,
                latency_ms: 250,
                ..Plan::default()
            }
        );
        assert!(parse_header("drop").drop);
        assert_eq!(parse_header("latency=2s").latency_ms, 2000);
        assert_eq!(parse_header("nonsense"), Plan::default());
    }

    #[test]
    fn routes_match_by_prefix() {
        let f = FaultConfig {
            routes: vec!["/v1/identity/verification_sessions*".into()],
            ..FaultConfig::default()
        };
        assert!(f.matches("/v1/identity/verification_sessions/vs_1/cancel"));
        assert!(!f.matches("/v1/events"));
        assert!(FaultConfig::default().matches("/v1/events"));
        assert!(!FaultConfig::default().matches("/healthz"));
    }
}
