//! What every handler can reach: the store, the clock, the keys and the configuration.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use vouch_domain::outputs::TestPerson;
use vouch_domain::session::Account;
use vouch_store::Store;

/// The source of time. Injected so tests and workers never read the system clock directly.
pub trait Clock: Send + Sync {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}

/// The system clock moved by a fixed offset: `vouch serve --clock-offset 49h` (a testing
/// extension, refused with live keys) runs the whole server — links, secrets, redaction,
/// processing, events — as if it were that much later.
pub struct OffsetClock {
    pub offset_ms: i64,
}

impl Clock for OffsetClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms().saturating_add(self.offset_ms)
    }
}

/// Settings the API needs, resolved by the server from defaults, file, environment and flags.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Base of the hosted page URLs, without a trailing slash.
    pub public_url: String,
    /// How long a redaction stays `processing` before it completes.
    pub redaction_delay_ms: i64,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// How long a client may take to send its request body.
    pub body_read_timeout_ms: u64,
    /// The person test-mode verifications report.
    pub test_person: TestPerson,
    /// How long `simulate_delay` keeps a test-mode attempt in `processing`.
    pub test_processing_delay_ms: i64,
    /// Rate limits and injected faults (vouch extension, off by default).
    pub faults: crate::faults::FaultConfig,
    /// The API version answered when a request names none.
    pub default_api_version: String,
    /// This node, as the owner of the background work it claims (see [`crate::jobs`]).
    pub node_id: String,
    /// How long a claim on background work lasts before another node may take it over.
    pub job_lease_ms: i64,
    /// How the one line per request is written (like the other logs).
    pub access_log: crate::access_log::AccessLogFormat,
}

/// A name for this process among the nodes on one database: `node-<pid>-<random>`, new on
/// every start (claims of a process that died are never mistaken for a new one's).
pub fn new_node_id() -> String {
    use rand::Rng;
    let n: u32 = rand::thread_rng().gen();
    format!("node-{}-{n:08x}", std::process::id())
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            public_url: "http://127.0.0.1:12111".into(),
            redaction_delay_ms: 2000,
            max_body_bytes: 1024 * 1024,
            body_read_timeout_ms: 10_000,
            test_person: TestPerson::default(),
            test_processing_delay_ms: 3000,
            faults: crate::faults::FaultConfig::default(),
            default_api_version: "2026-09-30.endive".into(),
            node_id: new_node_id(),
            job_lease_ms: 30_000,
            access_log: crate::access_log::AccessLogFormat::Text,
        }
    }
}

/// The secret keys this server accepts; each key is one account.
#[derive(Debug, Default)]
pub struct KeyRing {
    accounts: HashMap<String, Account>,
    /// The key generated on first start, if it is one of these.
    generated: Option<String>,
    /// Keys created at runtime, looked up in the store (see [`crate::keys`]).
    runtime: crate::keys::RuntimeKeys,
}

impl KeyRing {
    /// Builds the ring; a key that is neither `sk_test_…` nor `sk_live_…` is refused.
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<KeyRing, String> {
        let mut accounts = HashMap::new();
        for key in keys {
            let livemode = if key.starts_with("sk_live_") {
                true
            } else if key.starts_with("sk_test_") {
                false
            } else {
                return Err(format!(
                    "API key {} must start with sk_test_ or sk_live_",
                    mask_key(key)
                ));
            };
            if key.len() < 12 || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(format!(
                    "API key {} is too short or has invalid characters",
                    mask_key(key)
                ));
            }
            accounts.insert(
                key.to_owned(),
                Account {
                    id: account_id(key),
                    livemode,
                },
            );
        }
        Ok(KeyRing {
            accounts,
            ..KeyRing::default()
        })
    }

    /// Marks `key` as the one generated on first start (listed with source `generated`).
    pub fn set_generated(&mut self, key: &str) {
        self.generated = Some(key.to_owned());
    }

    /// The configured key of an account, and whether it was generated on first start.
    pub fn configured_key(&self, account_id: &str) -> Option<(&str, bool)> {
        self.accounts
            .iter()
            .find(|(_, a)| a.id == account_id)
            .map(|(k, _)| (k.as_str(), self.generated.as_deref() == Some(k.as_str())))
    }

    pub fn runtime(&self) -> &crate::keys::RuntimeKeys {
        &self.runtime
    }

    pub fn account(&self, key: &str) -> Option<&Account> {
        self.accounts.get(key)
    }

    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The configured accounts, test mode first, then by id (the dashboard's account choice).
    pub fn accounts(&self) -> Vec<Account> {
        let mut all: Vec<Account> = self.accounts.values().cloned().collect();
        all.sort_by(|a, b| (a.livemode, &a.id).cmp(&(b.livemode, &b.id)));
        all.dedup();
        all
    }
}

/// A stable account id for a key: `acct_` and 24 hex digits of its SHA-256.
fn account_id(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("acct_{hex}")
}

/// Stripe's masking: the prefix, one `*` per hidden character, and the last four.
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let prefix_len = [
        "sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_",
    ]
    .iter()
    .find(|p| key.starts_with(*p))
    .map_or(0, |p| p.len());
    if chars.len() <= prefix_len + 4 {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - prefix_len - 4;
    let mut out: String = chars[..prefix_len].iter().collect();
    out.push_str(&"*".repeat(hidden));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// What every handler reaches, behind one `Arc`: extractors clone the state several times per
/// request, and one reference count is cheaper than five.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub keys: Arc<KeyRing>,
    pub config: Arc<ApiConfig>,
    /// Per-account request budgets when rate limiting is on.
    pub limiter: Arc<crate::faults::RateLimiter>,
    /// Request log lines waiting to be written (the server flushes them).
    pub access_log: Arc<crate::access_log::AccessLog>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_stripe() {
        assert_eq!(
            mask_key("sk_test_abcdefgh12345678"),
            "sk_test_************5678"
        );
        assert_eq!(mask_key("sk_live_1234"), "************");
        assert_eq!(mask_key("nonsense-key-9999"), "*************9999");
    }

    #[test]
    fn keyring_modes_and_rejections() {
        let ring = KeyRing::new(["sk_test_aaaaaaaa", "sk_live_bbbbbbbb"]).unwrap_or_default();
        assert_eq!(
            ring.account("sk_test_aaaaaaaa").map(|a| a.livemode),
            Some(false)
        );
        assert_eq!(
            ring.account("sk_live_bbbbbbbb").map(|a| a.livemode),
            Some(true)
        );
        assert!(ring.account("sk_test_cccccccc").is_none());
        assert!(KeyRing::new(["pk_test_aaaaaaaa"]).is_err());
        assert!(KeyRing::new(["sk_test_"]).is_err());
    }
}
