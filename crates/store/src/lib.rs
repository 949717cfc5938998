//! Storage for vouch: one object-safe async trait and its backends. Errors are
//! storage-neutral; a database outage is `Unavailable`, never "not found".

use async_trait::async_trait;
use vouch_domain::event::Event;
use vouch_domain::ids::{FileId, ReportId, SessionId};
use vouch_domain::report::Report;
use vouch_domain::session::{Session, Status};
use vouch_domain::transition::{DomainError, Outcome};

mod api_keys;
mod file_views;
mod jobs;
mod outbox;
mod postgres;
mod query;
mod session_cache;
mod sqlite;

pub use session_cache::DEFAULT_BYTES as DEFAULT_SESSION_CACHE_BYTES;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

pub use api_keys::{ApiKeyStore, StoredApiKey};
pub use file_views::{FileView, FileViewStore};
pub use jobs::{
    ClaimedSession, DueClaim, HeldJob, JobLease, JobStore, PRUNE_EVENTS, PRUNE_IDEMPOTENCY,
};
pub use outbox::{
    AttemptRecord, ClaimedDelivery, DeliveryClaim, DeliveryFilter, EndpointInsert, EventFilter,
    Settle, StoredEvent, WebhookStore,
};

#[derive(Debug, Clone)]
pub enum StoreError {
    /// A referenced object (for example a list cursor) does not exist.
    NotFound,
    /// The database failed or cannot be reached.
    Unavailable(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::NotFound => f.write_str("not found"),
            StoreError::Unavailable(cause) => write!(f, "storage unavailable: {cause}"),
        }
    }
}

impl std::error::Error for StoreError {}

pub type Result<T> = std::result::Result<T, StoreError>;

pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a connection half-way through a transaction
    // (rusqlite rolls back on drop), and the caches stay consistent, so a poisoned lock is
    // safe to reuse.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `created` bounds of a list request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreatedRange {
    pub gt: Option<i64>,
    pub gte: Option<i64>,
    pub lt: Option<i64>,
    pub lte: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub status: Option<Status>,
    pub client_reference_id: Option<String>,
    pub related_customer: Option<String>,
    pub related_customer_account: Option<String>,
    pub created: CreatedRange,
}

#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub client_reference_id: Option<String>,
    pub kind: Option<vouch_domain::session::SessionType>,
    /// A `vs_…` id.
    pub verification_session: Option<String>,
    pub created: CreatedRange,
}

/// Where a page starts: after (older than) or before (newer than) an object.
#[derive(Debug, Clone)]
pub enum Cursor<Id> {
    After(Id),
    Before(Id),
}

/// One page of a list, newest first; `has_more` looks in the paging direction.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

/// A session change, computed from the session as it is inside the store's transaction
/// (normally `vouch_domain::transition::transition`). The store commits its outcome — the new
/// state, its events, its report, and the erasure of copies when `redacted_now` — together.
/// A store may call it more than once (SQLite re-runs a group commit's jobs when one of them
/// fails); only the outcome of the call whose transaction commits counts.
pub type Change = Box<dyn Fn(Session) -> std::result::Result<Outcome, DomainError> + Send>;

/// A session as read, shareable: the decoded session, the row version it was read at, and a
/// slot where the API keeps its rendering of it. Stores that cache decoded sessions (see
/// `session_cache.rs`) hand out the same entry while the row's version is unchanged.
#[derive(Debug)]
pub struct SessionEntry {
    pub session: Session,
    /// The row's version (incremented by every change); 0 when the store does not say.
    pub version: i64,
    rendered: std::sync::OnceLock<Rendered>,
}

/// A rendering of a session, and until when (exclusive, ms) it stays correct: time alone
/// changes a session's rendering only when one of its links expires.
#[derive(Debug)]
pub struct Rendered {
    pub bytes: bytes::Bytes,
    pub valid_until_ms: i64,
}

impl SessionEntry {
    pub fn new(session: Session, version: i64) -> SessionEntry {
        SessionEntry {
            session,
            version,
            rendered: std::sync::OnceLock::new(),
        }
    }

    /// The kept rendering, if there is one still correct at `now_ms`.
    pub fn rendered(&self, now_ms: i64) -> Option<&bytes::Bytes> {
        self.rendered
            .get()
            .filter(|r| now_ms < r.valid_until_ms)
            .map(|r| &r.bytes)
    }

    /// Keeps a rendering (the first one kept stays).
    pub fn keep_rendered(&self, rendered: Rendered) {
        let _ = self.rendered.set(rendered);
    }
}

/// An uploaded file (a File object, `file_…`) with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub id: FileId,
    pub account: String,
    /// The session it was uploaded for; redaction deletes it.
    pub session_id: SessionId,
    /// Stripe's `purpose` (`identity_document` for the hosted page's uploads).
    pub purpose: String,
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub media_type: String,
    pub created: i64,
    pub bytes: Vec<u8>,
}

/// What `idempotency_begin` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// No live entry: this request runs, holding the key until it completes or its lease ends.
    Started,
    /// A finished request with this key: answer with its status and body.
    Replay { status: u16, body: String },
    /// A finished request whose response showed a session that has since been redacted: the
    /// stored body was erased with the session's personal data. Answer with its status and
    /// the session as it is now (its placeholders), without running the request again.
    ReplayRedacted { status: u16, session_id: String },
    /// The key was used with other parameters or on another endpoint.
    Mismatch,
    /// Another request with this key is still running.
    InProgress,
}

/// One idempotency key's claim.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim<'a> {
    pub account: &'a str,
    pub key: &'a str,
    /// Method, path and parameters, hashed.
    pub fingerprint: &'a str,
    pub now_ms: i64,
    /// How long a running request holds the key before another may take it over.
    pub lease_ms: i64,
    /// Entries older than this are treated as gone.
    pub ttl_ms: i64,
}

impl IdempotencyBegin {
    /// What a live entry with this key and fingerprint answers: its stored response; an erased
    /// one (the session it showed was redacted); or, without a status, a request still running.
    pub(crate) fn finished(
        status: Option<i64>,
        body: Option<String>,
        session_id: Option<String>,
    ) -> IdempotencyBegin {
        match (status, body, session_id) {
            (Some(status), Some(body), _) => IdempotencyBegin::Replay {
                status: u16::try_from(status).unwrap_or(500),
                body,
            },
            (Some(status), None, Some(session_id)) => IdempotencyBegin::ReplayRedacted {
                status: u16::try_from(status).unwrap_or(500),
                session_id,
            },
            // A status without a body is only ever written for a session's response.
            _ => IdempotencyBegin::InProgress,
        }
    }
}

#[async_trait]
/// Everything vouch stores; events, endpoints and the outbox are in [`WebhookStore`], runtime
/// API keys in [`ApiKeyStore`], the image-view audit trail in [`FileViewStore`], claims
/// on background jobs in [`JobStore`].
pub trait Store: WebhookStore + ApiKeyStore + FileViewStore + JobStore + Send + Sync {
    /// Succeeds once the store can serve requests.
    async fn ping(&self) -> Result<()>;

    async fn get_setting(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` unless the key has one already; returns the value now stored.
    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<String>;

    /// A new session with its `created` event.
    async fn insert_session(&self, session: &Session, events: &[Event]) -> Result<()>;
    async fn get_session(&self, account: &str, id: &SessionId) -> Result<Option<Session>>;
    /// [`Store::get_session`], as a shareable entry (from the store's cache, when it has one).
    async fn get_session_entry(
        &self,
        account: &str,
        id: &SessionId,
    ) -> Result<Option<std::sync::Arc<SessionEntry>>> {
        Ok(self
            .get_session(account, id)
            .await?
            .map(|s| std::sync::Arc::new(SessionEntry::new(s, 0))))
    }
    /// Applies `change` to the session with the session locked against concurrent changes
    /// (on every node), and commits its outcome. `Ok(None)`: no such session in the account.
    async fn modify_session(
        &self,
        account: &str,
        id: &SessionId,
        change: Change,
    ) -> Result<Option<std::result::Result<Outcome, DomainError>>>;
    /// `Err(NotFound)` when the cursor names no session of this account.
    async fn list_sessions(
        &self,
        account: &str,
        filter: &SessionFilter,
        cursor: Option<&Cursor<SessionId>>,
        limit: usize,
    ) -> Result<Page<Session>>;
    /// [`Store::list_sessions`], as shareable entries (from the store's cache, when it has one).
    async fn list_session_entries(
        &self,
        account: &str,
        filter: &SessionFilter,
        cursor: Option<&Cursor<SessionId>>,
        limit: usize,
    ) -> Result<Page<std::sync::Arc<SessionEntry>>> {
        let page = self.list_sessions(account, filter, cursor, limit).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|s| std::sync::Arc::new(SessionEntry::new(s, 0)))
                .collect(),
            has_more: page.has_more,
        })
    }

    async fn get_report(&self, account: &str, id: &ReportId) -> Result<Option<Report>>;
    /// `Err(NotFound)` when the cursor names no report of this account.
    async fn list_reports(
        &self,
        account: &str,
        filter: &ReportFilter,
        cursor: Option<&Cursor<ReportId>>,
        limit: usize,
    ) -> Result<Page<Report>>;

    async fn idempotency_begin(&self, claim: IdempotencyClaim<'_>) -> Result<IdempotencyBegin>;
    /// Stores the response of a request that ran; `session_id` is the session it shows.
    /// When that session is already redacted, only the status is kept (the body could hold
    /// personal data the redaction erased): a replay is then `ReplayRedacted`.
    async fn idempotency_complete(
        &self,
        account: &str,
        key: &str,
        status: u16,
        body: &str,
        session_id: Option<&str>,
    ) -> Result<()>;
    /// Forgets a claim whose request never executed (it failed validation).
    async fn idempotency_release(&self, account: &str, key: &str) -> Result<()>;
    /// Deletes entries created before `before_ms` if `job` (a [`PRUNE_IDEMPOTENCY`] lease) is
    /// still held; returns how many, `None` when the lease is not held.
    async fn prune_idempotency(&self, before_ms: i64, job: &HeldJob) -> Result<Option<usize>>;

    /// Makes erased data physically unrecoverable from the store's files. SQLite overwrites
    /// freed space (`secure_delete`) and checkpoints and truncates its write-ahead log, which
    /// still holds old page images; PostgreSQL keeps dead row versions until VACUUM (see
    /// docs/scaling.md). Returns false when it could not finish now (for example, readers
    /// held the log); call it again later.
    async fn flush_erased(&self) -> Result<bool>;

    /// The session a hosted-page link token was minted for, whether or not the link can
    /// still be used (the page decides that with `Session::live_url_token`).
    async fn session_by_url_token(&self, token: &str) -> Result<Option<Session>>;
    /// Stores an uploaded file.
    async fn put_file(&self, file: &StoredFile) -> Result<()>;
    async fn get_file(&self, account: &str, id: &FileId) -> Result<Option<StoredFile>>;

    /// How many sessions the account has in each status (statuses with none are left out).
    async fn session_counts(&self, account: &str) -> Result<Vec<(Status, u64)>>;
}

#[cfg(test)]
mod migration_tests {
    #![allow(clippy::unwrap_used)]

    /// The migrations a backend runs: every `.sql` file of its directory, each once, in name
    /// order — so a migration merged from another branch (a lower number arriving after a
    /// higher one was applied) cannot be left out, and runs by its name on databases that
    /// lack it.
    #[test]
    fn every_migration_file_is_listed_in_name_order() {
        for (backend, listed) in [
            ("sqlite", crate::sqlite::MIGRATIONS),
            ("postgres", crate::postgres::MIGRATIONS),
        ] {
            let names: Vec<&str> = listed.iter().map(|(n, _)| *n).collect();
            assert!(
                names.windows(2).all(|w| w[0] < w[1]),
                "{backend}: not in strictly ascending name order: {names:?}"
            );
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend);
            let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                .map(|p| {
                    let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                    (stem, std::fs::read_to_string(&p).unwrap())
                })
                .collect();
            files.sort();
            let listed: Vec<(String, String)> = listed
                .iter()
                .map(|(n, sql)| ((*n).to_owned(), (*sql).to_owned()))
                .collect();
            assert_eq!(listed, files, "{backend}: MIGRATIONS and {dir:?} differ");
        }
        let names = |m: &[(&str, &str)]| m.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            names(crate::sqlite::MIGRATIONS),
            names(crate::postgres::MIGRATIONS),
            "both backends have the same migrations"
        );
    }
}
