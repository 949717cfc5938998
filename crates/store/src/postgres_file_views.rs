//! PostgreSQL: the image-view audit trail.

use async_trait::async_trait;
use vouch_domain::ids::SessionId;

use super::{unavailable, PostgresStore};
use crate::file_views::{decode, FileView, FileViewStore, INSERT, LIST};
use crate::outbox::into_page;
use crate::query::numbered;
use crate::{Page, Result};

#[async_trait]
impl FileViewStore for PostgresStore {
    async fn record_file_view(&self, v: &FileView) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                &numbered(INSERT),
                &[
                    &v.account,
                    &v.session_id.as_str(),
                    &v.file_id.as_str(),
                    &v.viewer,
                    &v.viewed_ms,
                ],
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn list_file_views(
        &self,
        account: &str,
        session: &SessionId,
        limit: usize,
    ) -> Result<Page<FileView>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &numbered(LIST),
                &[&account, &session.as_str(), &(limit as i64 + 1)],
            )
            .await
            .map_err(unavailable)?;
        let views = rows
            .iter()
            .map(|r| decode(account, r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect::<Result<Vec<_>>>()?;
        Ok(into_page(views, limit, false))
    }
}
