//! The record of who viewed which uploaded image (the dashboard's image views). Ids only, no
//! personal data, kept when redaction deletes the files.

use async_trait::async_trait;
use vouch_domain::ids::{FileId, SessionId};

use crate::{Page, Result};

/// One viewing of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileView {
    pub account: String,
    pub session_id: SessionId,
    pub file_id: FileId,
    /// Who: a key id (`key_…`) or `operator`.
    pub viewer: String,
    /// Unix milliseconds.
    pub viewed_ms: i64,
}

/// The image-view audit trail.
#[async_trait]
pub trait FileViewStore: Send + Sync {
    async fn record_file_view(&self, view: &FileView) -> Result<()>;
    /// The views of the session's files, newest first; `has_more` when there are older ones.
    async fn list_file_views(
        &self,
        account: &str,
        session: &SessionId,
        limit: usize,
    ) -> Result<Page<FileView>>;
}

pub(crate) const INSERT: &str = "INSERT INTO file_views (account, session_id, file_id, viewer, \
                                 viewed_ms) VALUES (?, ?, ?, ?, ?)";
pub(crate) const LIST: &str = "SELECT session_id, file_id, viewer, viewed_ms FROM file_views \
                               WHERE account = ? AND session_id = ? ORDER BY seq DESC LIMIT ?";

/// A row of `LIST` as a view; a corrupt id is an error.
pub(crate) fn decode(
    account: &str,
    session_id: &str,
    file_id: &str,
    viewer: String,
    viewed_ms: i64,
) -> Result<FileView> {
    let corrupt = || crate::StoreError::Unavailable("corrupt file view".into());
    Ok(FileView {
        account: account.to_owned(),
        session_id: SessionId::parse(session_id).ok_or_else(corrupt)?,
        file_id: FileId::parse(file_id).ok_or_else(corrupt)?,
        viewer,
        viewed_ms,
    })
}
