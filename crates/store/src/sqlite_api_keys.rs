//! SQLite: runtime API keys.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{unavailable, SqliteStore};
use crate::api_keys::{ApiKeyStore, StoredApiKey, COLUMNS, INSERT};
use crate::Result;

fn decode(r: &Row<'_>) -> rusqlite::Result<StoredApiKey> {
    Ok(StoredApiKey {
        id: r.get(0)?,
        account: r.get(1)?,
        livemode: r.get::<_, String>(2)? == "live",
        name: r.get(3)?,
        hash: r.get(4)?,
        last4: r.get(5)?,
        created: r.get(6)?,
        revoked: r.get(7)?,
    })
}

/// The account's key with this id, revoked or not.
fn by_id(c: &Connection, account: &str, id: &str) -> Result<Option<StoredApiKey>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE id = ?1 AND account = ?2"
    ))
    .map_err(unavailable)?
    .query_row(params![id, account], decode)
    .optional()
    .map_err(unavailable)
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn insert_api_key(&self, key: &StoredApiKey) -> Result<()> {
        let key = key.clone();
        self.write(move |tx| {
            tx.prepare_cached(INSERT)
                .map_err(unavailable)?
                .execute(params![
                    key.id,
                    key.account,
                    key.mode(),
                    key.name,
                    key.hash,
                    key.last4,
                    key.created,
                    key.revoked
                ])
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<StoredApiKey>> {
        let hash = hash.to_owned();
        self.read(move |c| {
            c.prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys WHERE hash = ?1"))
                .map_err(unavailable)?
                .query_row([hash], decode)
                .optional()
                .map_err(unavailable)
        })
        .await
    }

    async fn api_key_by_id(&self, account: &str, id: &str) -> Result<Option<StoredApiKey>> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.read(move |c| by_id(c, &account, &id)).await
    }

    async fn list_api_keys(&self, account: &str) -> Result<Vec<StoredApiKey>> {
        let account = account.to_owned();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM api_keys WHERE account = ?1 ORDER BY seq"
                ))
                .map_err(unavailable)?;
            let keys = stmt
                .query_map([account], decode)
                .map_err(unavailable)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(unavailable)?;
            Ok(keys)
        })
        .await
    }

    async fn revoke_api_key(
        &self,
        account: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<StoredApiKey>> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.write(move |tx| {
            tx.prepare_cached(
                "UPDATE api_keys SET revoked = ?3
                 WHERE id = ?1 AND account = ?2 AND revoked IS NULL",
            )
            .map_err(unavailable)?
            .execute(params![id, account, now])
            .map_err(unavailable)?;
            by_id(tx, &account, &id)
        })
        .await
    }
}
