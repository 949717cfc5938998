//! Webhook endpoints and deliveries: which events an endpoint receives, how a URL is judged,
//! and when a failed delivery is tried again. Pure rules; the outbox lives in the store and
//! the sender in the `webhooks` crate.

use serde::{Deserialize, Serialize};

use crate::event_types::ENABLED_EVENTS;
use crate::ids::{DeliveryId, EventId, WebhookEndpointId};
use crate::session::Metadata;

/// At most this many webhook endpoints per account (Stripe's documented limit).
pub const MAX_ENDPOINTS: usize = 16;

/// Event types that `*` does not include: an endpoint receives them only when it names them.
pub const EXPLICIT_ONLY: &[&str] = &["identity.verification_session.redacted"];

/// A webhook endpoint as stored. `secret` is shown only in the create response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub account: String,
    pub livemode: bool,
    pub created: i64,
    pub url: String,
    pub enabled_events: Vec<String>,
    /// The API version events are rendered with; `None` means the server's default.
    pub api_version: Option<String>,
    pub description: Option<String>,
    pub metadata: Metadata,
    pub disabled: bool,
    pub secret: String,
}

impl WebhookEndpoint {
    /// Whether this endpoint should get an event of `event_type` now.
    pub fn wants(&self, event_type: &str) -> bool {
        !self.disabled && accepts(&self.enabled_events, event_type)
    }
}

/// Whether `enabled_events` selects `event_type`: named exactly, or through `*` unless the
/// type needs explicit selection (`identity.verification_session.redacted`).
pub fn accepts(enabled_events: &[String], event_type: &str) -> bool {
    enabled_events
        .iter()
        .any(|e| e == event_type || (e == "*" && !EXPLICIT_ONLY.contains(&event_type)))
}

/// Whether `value` is one of the spec's `enabled_events` values (including `*`).
pub fn is_known_event_type(value: &str) -> bool {
    ENABLED_EVENTS.contains(&value)
}

/// Whether an event type matches a `type` filter, where `*` stands for any run of characters
/// (`identity.*`, `*.created`, `*`).
pub fn type_matches(pattern: &str, event_type: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = event_type.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Why a webhook URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    /// Not `http://host…` or `https://host…`.
    Malformed,
    /// `https://`, which this build cannot deliver to (no TLS client compiled in).
    HttpsUnsupported,
}

/// Checks the shape of an endpoint URL: a scheme of `http` (or `https` when `https_ok`), a
/// host, no whitespace or control characters.
pub fn check_url(url: &str, https_ok: bool) -> Result<(), UrlProblem> {
    let lower = url.to_ascii_lowercase();
    let (rest, https) = if let Some(r) = lower.strip_prefix("http://") {
        (r, false)
    } else if let Some(r) = lower.strip_prefix("https://") {
        (r, true)
    } else {
        return Err(UrlProblem::Malformed);
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty()
        || host.starts_with(':')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(UrlProblem::Malformed);
    }
    if https && !https_ok {
        return Err(UrlProblem::HttpsUnsupported);
    }
    Ok(())
}

/// Where one delivery (an event to an endpoint) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// An attempt got a 2xx.
    Succeeded,
    /// Every attempt of the schedule failed.
    Failed,
    /// The endpoint was disabled or deleted before it succeeded.
    Canceled,
}

impl crate::session::WireEnum for DeliveryState {
    const ALL: &'static [(&'static str, Self)] = &[
        ("pending", DeliveryState::Pending),
        ("succeeded", DeliveryState::Succeeded),
        ("failed", DeliveryState::Failed),
        ("canceled", DeliveryState::Canceled),
    ];
}

/// One attempt to deliver: when, what came back and how long it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Unix time in milliseconds when the request started.
    pub at_ms: i64,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    pub latency_ms: i64,
    /// Why it failed without a response (timeout, connection refused, …), or why a response
    /// did not count (a redirect).
    pub error: Option<String>,
    /// The first bytes of the response body, for people finding out why a webhook failed.
    pub response_body: Option<String>,
}

impl Attempt {
    /// Stripe's rule: any 2xx is a success; redirects and everything else are failures.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// An event on its way to one endpoint: a row of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub account: String,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    pub event_type: String,
    pub created_ms: i64,
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_ms: Option<i64>,
    /// The attempts, oldest first (filled in when read for display).
    pub history: Vec<Attempt>,
}

/// The outbox rows an event creates: one pending delivery, due at once, per endpoint of the
/// event's account that wants its type.
pub fn fan_out(
    event: &crate::event::Event,
    endpoints: &[WebhookEndpoint],
    rng: &mut impl rand::Rng,
) -> Vec<Delivery> {
    let event_type = crate::WireEnum::as_str(event.kind);
    endpoints
        .iter()
        .filter(|ep| ep.account == event.account && ep.wants(event_type))
        .map(|ep| Delivery {
            id: DeliveryId::generate(event.created, rng),
            account: event.account.clone(),
            endpoint_id: ep.id.clone(),
            event_id: event.id.clone(),
            event_type: event_type.to_owned(),
            created_ms: event.created.saturating_mul(1000),
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_ms: Some(event.created.saturating_mul(1000)),
            history: Vec::new(),
        })
        .collect()
}

/// The retry schedule: after the `n`-th failed attempt (1-based) the next one waits
/// `schedule[n - 1]` milliseconds; once the schedule is used up the delivery has failed.
/// So a delivery gets `schedule.len() + 1` attempts in all.
pub fn next_retry_delay_ms(schedule: &[i64], failed_attempts: u32) -> Option<i64> {
    let n = usize::try_from(failed_attempts).ok()?;
    n.checked_sub(1)
        .and_then(|i| schedule.get(i))
        .map(|d| (*d).max(0))
}

/// The outcome of an attempt for the delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Succeeded,
    /// Try again at this time (unix ms).
    RetryAt(i64),
    /// The schedule is used up.
    GaveUp,
}

/// What an attempt means for its delivery: `attempts_before` were made before this one,
/// which started at `now_ms`.
pub fn after_attempt(
    attempt: &Attempt,
    attempts_before: u32,
    schedule: &[i64],
    now_ms: i64,
) -> AttemptOutcome {
    if attempt.succeeded() {
        return AttemptOutcome::Succeeded;
    }
    match next_retry_delay_ms(schedule, attempts_before.saturating_add(1)) {
        Some(delay) => AttemptOutcome::RetryAt(now_ms.saturating_add(delay)),
        None => AttemptOutcome::GaveUp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn star_selects_everything_but_explicit_only_types() {
        let star = events(&["*"]);
        assert!(accepts(&star, "identity.verification_session.created"));
        assert!(accepts(&star, "identity.verification_session.verified"));
        assert!(!accepts(&star, "identity.verification_session.redacted"));
        let named = events(&["*", "identity.verification_session.redacted"]);
        assert!(accepts(&named, "identity.verification_session.redacted"));
        let one = events(&["identity.verification_session.canceled"]);
        assert!(accepts(&one, "identity.verification_session.canceled"));
        assert!(!accepts(&one, "identity.verification_session.created"));
        assert!(!accepts(&[], "identity.verification_session.created"));
    }

    #[test]
    fn the_spec_list_knows_the_identity_types_and_star() {
        assert!(is_known_event_type("*"));
        for (name, _) in <crate::event::EventType as crate::WireEnum>::ALL {
            assert!(is_known_event_type(name), "{name}");
        }
        assert!(!is_known_event_type(
            "identity.verification_session.updated"
        ));
        assert_eq!(ENABLED_EVENTS.len(), 269);
    }

    #[test]
    fn wildcard_patterns() {
        let t = "identity.verification_session.created";
        for p in [
            "*",
            "identity.*",
            "identity.verification_session.*",
            "*.created",
            "identity.*.created",
            "*session*",
            t,
        ] {
            assert!(type_matches(p, t), "{p}");
        }
        for p in [
            "identity",
            "identity.",
            "charge.*",
            "*.canceled",
            "identity.*.canceled",
            "",
            "IDENTITY.*",
        ] {
            assert!(!type_matches(p, t), "{p}");
        }
        assert!(type_matches("a*a", "aa"));
        assert!(!type_matches("ab*ba", "aba"));
    }

    #[test]
    fn urls() {
        assert_eq!(check_url("http://127.0.0.1:3000/hooks", false), Ok(()));
        assert_eq!(check_url("HTTP://example.com", false), Ok(()));
        assert_eq!(check_url("https://example.com/x", true), Ok(()));
        assert_eq!(
            check_url("https://example.com/x", false),
            Err(UrlProblem::HttpsUnsupported)
        );
        for bad in [
            "",
            "example.com",
            "ftp://example.com",
            "http://",
            "http:///path",
            "http://:80/",
            "http://exa mple.com",
            "http://example.com/\n",
        ] {
            assert_eq!(check_url(bad, true), Err(UrlProblem::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn backoff_follows_the_schedule_then_gives_up() {
        let schedule = [60_000, 300_000];
        assert_eq!(next_retry_delay_ms(&schedule, 0), None);
        assert_eq!(next_retry_delay_ms(&schedule, 1), Some(60_000));
        assert_eq!(next_retry_delay_ms(&schedule, 2), Some(300_000));
        assert_eq!(next_retry_delay_ms(&schedule, 3), None);
        let fail = Attempt {
            at_ms: 0,
            status: Some(500),
            latency_ms: 3,
            error: None,
            response_body: None,
        };
        assert_eq!(
            after_attempt(&fail, 0, &schedule, 1_000),
            AttemptOutcome::RetryAt(61_000)
        );
        assert_eq!(
            after_attempt(&fail, 1, &schedule, 1_000),
            AttemptOutcome::RetryAt(301_000)
        );
        assert_eq!(
            after_attempt(&fail, 2, &schedule, 1_000),
            AttemptOutcome::GaveUp
        );
        let redirect = Attempt {
            status: Some(302),
            ..fail.clone()
        };
        assert!(!redirect.succeeded());
        let ok = Attempt {
            status: Some(204),
            ..fail
        };
        assert_eq!(
            after_attempt(&ok, 5, &schedule, 1_000),
            AttemptOutcome::Succeeded
        );
    }
}
