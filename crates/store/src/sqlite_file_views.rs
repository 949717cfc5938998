//! SQLite: the image-view audit trail.

use async_trait::async_trait;
use rusqlite::params;
use vouch_domain::ids::SessionId;

use super::{unavailable, SqliteStore};
use crate::file_views::{decode, FileView, FileViewStore, INSERT, LIST};
use crate::outbox::into_page;
use crate::{Page, Result};

#[async_trait]
impl FileViewStore for SqliteStore {
    async fn record_file_view(&self, view: &FileView) -> Result<()> {
        let v = view.clone();
        self.write(move |tx| {
            tx.prepare_cached(INSERT)
                .map_err(unavailable)?
                .execute(params![
                    v.account,
                    v.session_id.as_str(),
                    v.file_id.as_str(),
                    v.viewer,
                    v.viewed_ms
                ])
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn list_file_views(
        &self,
        account: &str,
        session: &SessionId,
        limit: usize,
    ) -> Result<Page<FileView>> {
        let (account, session) = (account.to_owned(), session.to_string());
        self.read(move |c| {
            let mut stmt = c.prepare_cached(LIST).map_err(unavailable)?;
            let rows = stmt
                .query_map(params![account, session, limit as i64 + 1], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })
                .map_err(unavailable)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(unavailable)?;
            let views = rows
                .into_iter()
                .map(|(s, f, who, at)| decode(&account, &s, &f, who, at))
                .collect::<Result<Vec<_>>>()?;
            Ok(into_page(views, limit, false))
        })
        .await
    }
}
