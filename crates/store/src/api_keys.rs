//! Secret keys created at runtime (the `/v1/vouch/api_keys` extension). Only a key's SHA-256
//! is stored; the secret itself is shown once, in the create response.

use async_trait::async_trait;

use crate::Result;

/// A created key as stored: never the secret, only its hash and last four characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredApiKey {
    /// `key_…`.
    pub id: String,
    /// The account (`acct_…`) of the key that created it.
    pub account: String,
    pub livemode: bool,
    pub name: Option<String>,
    /// SHA-256 of the secret, lower-case hex.
    pub hash: String,
    pub last4: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds; `None` while the key works.
    pub revoked: Option<i64>,
}

impl StoredApiKey {
    pub(crate) fn mode(&self) -> &'static str {
        if self.livemode {
            "live"
        } else {
            "test"
        }
    }
}

/// Runtime API keys.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn insert_api_key(&self, key: &StoredApiKey) -> Result<()>;
    /// The key with this hash, revoked or not.
    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<StoredApiKey>>;
    /// The account's key with this id, revoked or not.
    async fn api_key_by_id(&self, account: &str, id: &str) -> Result<Option<StoredApiKey>>;
    /// The account's created keys, oldest first (revoked ones included).
    async fn list_api_keys(&self, account: &str) -> Result<Vec<StoredApiKey>>;
    /// Marks the key revoked at `now` (unless it already is) and returns it as it is now;
    /// `None` when the account has no such key.
    async fn revoke_api_key(
        &self,
        account: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<StoredApiKey>>;
}

pub(crate) const COLUMNS: &str = "id, account, mode, name, hash, last4, created, revoked";
pub(crate) const INSERT: &str = "INSERT INTO api_keys (id, account, mode, name, hash, last4, \
                                 created, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
