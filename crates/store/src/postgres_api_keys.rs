//! PostgreSQL: runtime API keys.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{unavailable, PostgresStore};
use crate::api_keys::{ApiKeyStore, StoredApiKey, COLUMNS, INSERT};
use crate::query::numbered;
use crate::Result;

fn decode(r: &Row) -> StoredApiKey {
    StoredApiKey {
        id: r.get(0),
        account: r.get(1),
        livemode: r.get::<_, &str>(2) == "live",
        name: r.get(3),
        hash: r.get(4),
        last4: r.get(5),
        created: r.get(6),
        revoked: r.get(7),
    }
}

#[async_trait]
impl ApiKeyStore for PostgresStore {
    async fn insert_api_key(&self, key: &StoredApiKey) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                &numbered(INSERT),
                &[
                    &key.id,
                    &key.account,
                    &key.mode(),
                    &key.name,
                    &key.hash,
                    &key.last4,
                    &key.created,
                    &key.revoked,
                ],
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<StoredApiKey>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM api_keys WHERE hash = $1"),
                &[&hash],
            )
            .await
            .map_err(unavailable)?;
        Ok(row.as_ref().map(decode))
    }

    async fn api_key_by_id(&self, account: &str, id: &str) -> Result<Option<StoredApiKey>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1 AND account = $2"),
                &[&id, &account],
            )
            .await
            .map_err(unavailable)?;
        Ok(row.as_ref().map(decode))
    }

    async fn list_api_keys(&self, account: &str) -> Result<Vec<StoredApiKey>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("SELECT {COLUMNS} FROM api_keys WHERE account = $1 ORDER BY seq"),
                &[&account],
            )
            .await
            .map_err(unavailable)?;
        Ok(rows.iter().map(decode).collect())
    }

    async fn revoke_api_key(
        &self,
        account: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<StoredApiKey>> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE api_keys SET revoked = $3
                 WHERE id = $1 AND account = $2 AND revoked IS NULL",
                &[&id, &account, &now],
            )
            .await
            .map_err(unavailable)?;
        drop(client);
        self.api_key_by_id(account, id).await
    }
}
