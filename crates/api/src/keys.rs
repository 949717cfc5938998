//! Secret keys created at runtime (`/v1/vouch/api_keys`): how a request's key that is not in
//! the configured [`KeyRing`](crate::state::KeyRing) is authenticated.
//!
//! Only a key's SHA-256 is stored. Each node caches what the store said about a hash — a
//! working key's account, or "no such key / revoked" — for [`CACHE_TTL`], so a revoke made on
//! another node takes effect here within that window (at once on the node that revoked). The
//! dashboard's sign-ins with a created key are checked by key id the same way.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use vouch_domain::session::Account;
use vouch_store::StoredApiKey;

use crate::error::ApiError;
use crate::state::AppState;

/// How long a node trusts what the store said about a key.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
/// At most this many cached answers (unknown keys sent by anyone must not grow it forever).
const CACHE_MAX: usize = 10_000;

/// Per-node cache of runtime-key lookups, keyed by the key's hash.
#[derive(Debug, Default)]
pub struct RuntimeKeys {
    cache: Mutex<HashMap<String, (Option<Account>, Instant)>>,
}

impl RuntimeKeys {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Option<Account>, Instant)>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached answer for `hash`, if still fresh.
    fn cached(&self, hash: &str) -> Option<Option<Account>> {
        let cache = self.lock();
        let (account, at) = cache.get(hash)?;
        (at.elapsed() < CACHE_TTL).then(|| account.clone())
    }

    fn remember(&self, hash: String, account: Option<Account>) {
        let mut cache = self.lock();
        if cache.len() >= CACHE_MAX {
            cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(hash, (account, Instant::now()));
    }

    /// Drops what this node knows about a key (after it was created or revoked here): by its
    /// hash (API requests) and by its id (dashboard sign-ins).
    pub fn forget(&self, key: &StoredApiKey) {
        let mut cache = self.lock();
        cache.remove(&key.hash);
        cache.remove(&id_entry(&key.account, &key.id));
    }
}

/// The cache entry of a key id; hashes are hex, so the two never meet.
fn id_entry(account: &str, id: &str) -> String {
    format!("id:{account}:{id}")
}

/// SHA-256 of a secret key, lower-case hex: what the store keeps.
pub fn hash_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// The id a configured key is listed under: `key_` and 24 hex digits of a hash that is not
/// the account id's.
pub fn configured_key_id(key: &str) -> String {
    let digest = Sha256::digest(format!("vouch api key id:{key}").as_bytes());
    format!("key_{}", &hex(&digest)[..24])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The account of a created, unrevoked key; `None` for any other key.
pub async fn lookup(state: &AppState, key: &str) -> Result<Option<Account>, ApiError> {
    if !(key.starts_with("sk_test_") || key.starts_with("sk_live_")) {
        return Ok(None);
    }
    let hash = hash_key(key);
    let runtime = state.keys.runtime();
    if let Some(answer) = runtime.cached(&hash) {
        return Ok(answer);
    }
    let account = state
        .store
        .api_key_by_hash(&hash)
        .await?
        .filter(|k| k.revoked.is_none())
        .map(|k| Account {
            id: k.account,
            livemode: k.livemode,
        });
    runtime.remember(hash, account.clone());
    Ok(account)
}

/// The created, unrevoked key with this secret, read from the store now (no cache): a
/// dashboard sign-in.
pub async fn find(state: &AppState, key: &str) -> Result<Option<StoredApiKey>, ApiError> {
    if !(key.starts_with("sk_test_") || key.starts_with("sk_live_")) {
        return Ok(None);
    }
    Ok(state
        .store
        .api_key_by_hash(&hash_key(key))
        .await?
        .filter(|k| k.revoked.is_none()))
}

/// The account of the created key `id` of `account` while it is not revoked: whether a
/// dashboard sign-in with that key still holds. Cached like [`lookup`], so a revoke on
/// another node takes effect here within [`CACHE_TTL`].
pub async fn lookup_id(
    state: &AppState,
    account: &str,
    id: &str,
) -> Result<Option<Account>, ApiError> {
    let entry = id_entry(account, id);
    let runtime = state.keys.runtime();
    if let Some(answer) = runtime.cached(&entry) {
        return Ok(answer);
    }
    let found = state
        .store
        .api_key_by_id(account, id)
        .await?
        .filter(|k| k.revoked.is_none())
        .map(|k| Account {
            id: k.account,
            livemode: k.livemode,
        });
    runtime.remember(entry, found.clone());
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_ids() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let id = configured_key_id("sk_test_aaaaaaaa");
        assert!(id.starts_with("key_") && id.len() == 28);
        assert_ne!(id, configured_key_id("sk_test_bbbbbbbb"));
    }

    #[test]
    fn cache_answers_until_forgotten() {
        let keys = RuntimeKeys::default();
        assert_eq!(keys.cached("h"), None);
        let key = StoredApiKey {
            id: "key_1".into(),
            account: "acct_1".into(),
            livemode: false,
            name: None,
            hash: "h".into(),
            last4: "abcd".into(),
            created: 0,
            revoked: None,
        };
        keys.remember("h".into(), None);
        keys.remember(id_entry("acct_1", "key_1"), None);
        assert_eq!(keys.cached("h"), Some(None));
        assert_eq!(keys.cached(&id_entry("acct_1", "key_1")), Some(None));
        keys.forget(&key);
        assert_eq!(keys.cached("h"), None);
        assert_eq!(keys.cached(&id_entry("acct_1", "key_1")), None);
    }
}
