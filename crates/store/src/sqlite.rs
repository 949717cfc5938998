//! The embedded SQLite backend: WAL, `synchronous=FULL` (a write is on disk before it is
//! acknowledged), one writer connection and a pool of readers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use vouch_domain::event::Event;
use vouch_domain::ids::{FileId, ReportId, SessionId};
use vouch_domain::report::Report;
use vouch_domain::session::{Session, Status, WireEnum};
use vouch_domain::transition::{DomainError, Outcome};

use crate::query::{cursor_parts, list_query, position_query, Arg, ListSpec, Position};
use crate::session_cache::SessionCache;
use crate::{
    lock, Change, Cursor, HeldJob, IdempotencyBegin, IdempotencyClaim, Page, ReportFilter, Result,
    SessionEntry, SessionFilter, Store, StoreError, StoredFile,
};

/// Events, webhook endpoints and the delivery outbox.
#[path = "sqlite_outbox.rs"]
mod outbox;

/// Runtime API keys.
#[path = "sqlite_api_keys.rs"]
mod api_keys;

/// The image-view audit trail.
#[path = "sqlite_file_views.rs"]
mod file_views;

/// Claims on background jobs.
#[path = "sqlite_jobs.rs"]
mod jobs;

/// Whether this process is alone on the file.
#[path = "sqlite_share.rs"]
mod share;

/// Idempotency keys of running requests, held in memory while alone on the file.
#[path = "sqlite_claims.rs"]
mod claims;

pub(crate) const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        "0002_idempotency",
        include_str!("../migrations/sqlite/0002_idempotency.sql"),
    ),
    (
        "0003_webhooks",
        include_str!("../migrations/sqlite/0003_webhooks.sql"),
    ),
    (
        "0004_due",
        include_str!("../migrations/sqlite/0004_due.sql"),
    ),
    (
        "0005_hosted_page",
        include_str!("../migrations/sqlite/0005_hosted_page.sql"),
    ),
    (
        "0006_api_keys",
        include_str!("../migrations/sqlite/0006_api_keys.sql"),
    ),
    (
        "0007_job_leases",
        include_str!("../migrations/sqlite/0007_job_leases.sql"),
    ),
    (
        "0008_file_views",
        include_str!("../migrations/sqlite/0008_file_views.sql"),
    ),
];

pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// The writer thread's queue (group commit; see `writer_loop`).
    writer: std::sync::mpsc::Sender<WriterCommand>,
    readers: Mutex<Vec<Connection>>,
    /// Decoded sessions (see `session_cache.rs`).
    sessions: Arc<SessionCache>,
    /// The lock that says whether this process is alone on the file (`sqlite_share.rs`).
    _share: Arc<std::fs::File>,
    /// Idempotency keys of running requests (`sqlite_claims.rs`).
    claims: Arc<claims::Claims>,
}

/// WAL pages after which the writer's commit checkpoints (see `SqliteStore::open_with`).
const WAL_AUTOCHECKPOINT_PAGES: i64 = 4000;

/// Most write jobs committed together in one transaction.
const MAX_BATCH: usize = 256;

/// What the writer thread does: a write job, or a WAL checkpoint between batches.
enum WriterCommand {
    Write(Box<dyn WriteJob>),
    Checkpoint(tokio::sync::oneshot::Sender<Result<bool>>),
}

/// One caller's write. It runs inside the batch's transaction and is answered only after
/// that transaction committed (or failed to). A job may run more than once: when another job
/// of its batch fails, the batch is rolled back and run again with each job in its own
/// savepoint (see `run_batch`); only the last run's result is kept.
trait WriteJob: Send {
    /// Runs the job; keeps its result for `answer`. False when it failed.
    fn run(&mut self, tx: &rusqlite::Transaction<'_>) -> bool;
    /// Runs the job in its own savepoint, so that its failure undoes only its own writes.
    fn run_isolated(&mut self, tx: &rusqlite::Transaction<'_>) {
        if let Err(e) = exec_cached(tx, "SAVEPOINT job") {
            self.set_error(unavailable(e));
            return;
        }
        let ran = self.run(tx);
        let end = if ran {
            exec_cached(tx, "RELEASE job")
        } else {
            exec_cached(tx, "ROLLBACK TO job").and_then(|()| exec_cached(tx, "RELEASE job"))
        };
        if let Err(e) = end {
            self.set_error(unavailable(e));
        }
    }
    /// Replaces the kept result with an error.
    fn set_error(&mut self, error: StoreError);
    /// Answers the caller: the kept result if the batch committed, else the commit's error.
    fn answer(self: Box<Self>, commit: Result<()>);
}

struct PendingWrite<T, F> {
    f: F,
    reply: tokio::sync::oneshot::Sender<Result<T>>,
    /// The result of the last run.
    out: Result<T>,
}

impl<T, F> WriteJob for PendingWrite<T, F>
where
    T: Send + 'static,
    F: FnMut(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
{
    fn run(&mut self, tx: &rusqlite::Transaction<'_>) -> bool {
        let f = &mut self.f;
        self.out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(tx)))
            .unwrap_or_else(|_| Err(StoreError::Unavailable("write job panicked".into())));
        self.out.is_ok()
    }

    fn set_error(&mut self, error: StoreError) {
        self.out = Err(error);
    }

    fn answer(self: Box<Self>, commit: Result<()>) {
        let PendingWrite { f, reply, out } = *self;
        // What the job captured is dropped before its caller wakes up: a caller that shares
        // it with the job (`modify_session`) then gets it back whole, without a copy.
        drop(f);
        let _ = reply.send(commit.and(out));
    }
}

/// A write job running `f`, and where its answer arrives.
fn write_job<T, F>(f: F) -> (Box<dyn WriteJob>, tokio::sync::oneshot::Receiver<Result<T>>)
where
    T: Send + 'static,
    F: FnMut(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
{
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job = Box::new(PendingWrite {
        f,
        reply,
        out: Err(StoreError::Unavailable("the write job did not run".into())),
    });
    (job, answer)
}

/// Runs one statement through the connection's statement cache (no parse per call).
fn exec_cached(tx: &rusqlite::Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// The writer thread: takes every queued job (up to `MAX_BATCH`), runs them in one IMMEDIATE
/// transaction, commits once (one fsync), then answers them all. Concurrent writers share the
/// cost of durability instead of queueing behind one fsync each.
fn writer_loop(
    mut conn: Connection,
    rx: std::sync::mpsc::Receiver<WriterCommand>,
    sessions: Arc<SessionCache>,
) {
    while let Ok(first) = rx.recv() {
        let mut jobs = Vec::new();
        let mut checkpoints = Vec::new();
        let mut next = Some(first);
        while let Some(cmd) = next.take() {
            match cmd {
                WriterCommand::Write(job) => jobs.push(job),
                WriterCommand::Checkpoint(reply) => checkpoints.push(reply),
            }
            if jobs.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !jobs.is_empty() {
            run_batch(&mut conn, jobs, &sessions);
        }
        for reply in checkpoints {
            // (busy, log frames, checkpointed frames); busy = 1 when readers kept it from finishing.
            let done = conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|busy| busy == 0)
                .map_err(unavailable);
            let _ = reply.send(done);
        }
    }
}

/// Runs the jobs, commits, answers. The jobs first run one after the other with no savepoint
/// (a savepoint copies every page its job first touches into a journal: about a tenth of the
/// writer's time). Should one fail, nothing is committed yet: the transaction is rolled back
/// and the batch runs again with each job in its own savepoint, so the failed job leaves
/// nothing behind and the others still commit.
fn run_batch(conn: &mut Connection, mut jobs: Vec<Box<dyn WriteJob>>, sessions: &SessionCache) {
    let mut isolated = false;
    let committed = loop {
        let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => break Err(unavailable(e)),
        };
        if isolated {
            for job in &mut jobs {
                if tx.is_autocommit() {
                    // SQLite rolled the whole transaction back (an I/O error, a full disk):
                    // the commit below fails and every job is answered with its error.
                    job.set_error(StoreError::Unavailable("transaction rolled back".into()));
                } else {
                    job.run_isolated(&tx);
                }
            }
        } else if !jobs
            .iter_mut()
            .all(|job| job.run(&tx) && !tx.is_autocommit())
        {
            // Dropping `tx` rolls the batch back.
            isolated = true;
            continue;
        }
        break tx.commit().map_err(unavailable);
    };
    // Before anyone hears of the commit: the sessions it changed may be cached again.
    sessions.settle();
    for job in jobs {
        job.answer(committed.clone());
    }
}

/// A running claim written to the database when the file becomes shared; a row already
/// newer (its response, committed meanwhile) is kept.
const FLUSH_CLAIM: &str =
    "INSERT INTO idempotency (account, key, created_ms, fingerprint, locked_until_ms)
     VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (account, key) DO UPDATE SET created_ms = excluded.created_ms,
         fingerprint = excluded.fingerprint, status = NULL, body = NULL, session_id = NULL,
         locked_until_ms = excluded.locked_until_ms
     WHERE idempotency.created_ms < excluded.created_ms";

/// A key's row and its response, written once when a claim held in memory completes. The
/// writer serializes this with redaction: a response rendered before the session's redaction
/// completed keeps no body.
const COMPLETE_CLAIM: &str =
    "INSERT INTO idempotency (account, key, created_ms, fingerprint, status, body, session_id,
         locked_until_ms)
     SELECT ?1, ?2, ?3, ?4, ?5,
         CASE WHEN EXISTS (SELECT 1 FROM sessions WHERE id = ?7
             AND json_extract(data, '$.redaction') = 'redacted') THEN NULL ELSE ?6 END,
         ?7, ?8
     WHERE true
     ON CONFLICT (account, key) DO UPDATE SET created_ms = excluded.created_ms,
         fingerprint = excluded.fingerprint, status = excluded.status, body = excluded.body,
         session_id = excluded.session_id, locked_until_ms = excluded.locked_until_ms";

const READ_KEY: &str = "SELECT created_ms, fingerprint, status, body, session_id, locked_until_ms
     FROM idempotency WHERE account = ?1 AND key = ?2";

fn read_key(c: &Connection, account: &str, key: &str) -> Result<Option<claims::StoredKey>> {
    c.prepare_cached(READ_KEY)
        .map_err(unavailable)?
        .query_row(params![account, key], |r| {
            Ok(claims::StoredKey {
                created_ms: r.get(0)?,
                fingerprint: r.get(1)?,
                status: r.get(2)?,
                body: r.get(3)?,
                session_id: r.get(4)?,
                locked_until_ms: r.get(5)?,
            })
        })
        .optional()
        .map_err(unavailable)
}

/// What a process alone on its file does before it lets another one in: its running claims
/// go to the database (queued ahead of their completions), and it waits until they did.
fn flush_claims(
    claims: Arc<claims::Claims>,
    queue: std::sync::mpsc::Sender<WriterCommand>,
) -> Box<dyn FnOnce() + Send> {
    Box::new(move || {
        let mut answer = None;
        claims.share(|running| {
            if running.is_empty() {
                return;
            }
            let (job, reply) = write_job(move |tx| {
                let mut insert = tx.prepare_cached(FLUSH_CLAIM).map_err(unavailable)?;
                for ((account, key), run) in &running {
                    insert
                        .execute(params![
                            account,
                            key,
                            run.created_ms,
                            run.fingerprint,
                            run.locked_until_ms
                        ])
                        .map_err(unavailable)?;
                }
                Ok(())
            });
            if queue.send(WriterCommand::Write(job)).is_ok() {
                answer = Some(reply);
            }
        });
        if let Some(reply) = answer {
            match reply.blocking_recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "writing running idempotency claims"),
                Err(_) => tracing::error!("writing running idempotency claims: writer stopped"),
            }
        }
    })
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and runs the embedded migrations.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        SqliteStore::open_with(path, crate::DEFAULT_SESSION_CACHE_BYTES)
    }

    /// [`SqliteStore::open`] with a cache of decoded sessions of at most `cache_bytes`
    /// (0: none).
    pub fn open_with(path: &Path, cache_bytes: usize) -> Result<SqliteStore> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(unavailable)?;
            }
        }
        // First of all: alone on the file, or sharing it with another process.
        let (lock, alone) = share::join(path)?;
        let lock = Arc::new(lock);
        let sessions = Arc::new(SessionCache::new(cache_bytes));
        sessions.set_alone(alone);
        let claims = Arc::new(claims::Claims::new(alone));
        let mut writer = open_connection(path)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        // Checkpoint every 4,000 WAL pages (about 16 MiB, the size the `-wal` file then
        // keeps) instead of SQLite's 1,000: each batch rewrites the last page of every b-tree
        // it touches, and a checkpoint copies a page once however often the log holds it, so
        // a longer log copies fewer pages per write (create +13% measured; 8,000 gained
        // nothing more).
        writer
            .pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
            .map_err(unavailable)?;
        migrate(&mut writer)?;
        let (queue, rx) = std::sync::mpsc::channel();
        let writer_sessions = sessions.clone();
        std::thread::Builder::new()
            .name("vouch-sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx, writer_sessions))
            .map_err(unavailable)?;
        if alone {
            let before_sharing = flush_claims(claims.clone(), queue.clone());
            share::watch(
                path,
                lock.clone(),
                Arc::downgrade(&sessions),
                before_sharing,
            )?;
        }
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: queue,
                readers: Mutex::new(Vec::new()),
                sessions,
                _share: lock,
                claims,
            }),
        })
    }

    /// Runs `f` on the writer connection inside a transaction (shared with the other writes
    /// queued at the same moment: group commit) and answers once that transaction committed.
    /// `f` may run more than once (when another job of its batch fails; see `run_batch`):
    /// it must depend only on what it captured and on the transaction.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let (job, answer) = write_job(f);
        self.inner
            .writer
            .send(WriterCommand::Write(job))
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?
    }

    /// The sessions of a list page's rows, for a process alone on the file: from the cache,
    /// or read by `seq`. `None` when one of them no longer matches the filter (it changed
    /// since the page was read): the caller then reads the page again with its sessions in
    /// one statement.
    fn trusted_page(
        &self,
        account: &str,
        filter: &SessionFilter,
        seqs: &[i64],
        ticket: crate::session_cache::Ticket,
    ) -> Result<Option<Vec<Arc<SessionEntry>>>> {
        let cache = &self.inner.sessions;
        let mut items = Vec::with_capacity(seqs.len());
        for (&seq, cached) in seqs.iter().zip(cache.get_trusted_seqs(seqs)) {
            let entry = match cached {
                Some(entry) => entry,
                None => {
                    let read = self.read_now(|c| {
                        c.prepare_cached(
                            "SELECT seq, version, id, data FROM sessions
                             WHERE seq = ?1 AND account = ?2",
                        )
                        .map_err(unavailable)?
                        .query_row(params![seq, account], |r| Ok(session_row(cache, ticket)(r)))
                        .optional()
                        .map_err(unavailable)
                    })?;
                    match read {
                        Some(entry) => entry?,
                        None => return Ok(None),
                    }
                }
            };
            if entry.session.account != account || !filter.matches(&entry.session) {
                return Ok(None);
            }
            items.push(entry);
        }
        Ok(Some(items))
    }

    /// A separate connection to the database file (tests inspect query plans with it).
    #[cfg(test)]
    pub(crate) fn test_connection(&self) -> Connection {
        #[allow(clippy::expect_used)]
        open_connection(&self.inner.path).expect("open a test connection")
    }

    /// Runs `f` on a pooled read connection on the calling thread. For point reads and
    /// bounded pages, which take microseconds when their pages are cached: handing them to the
    /// blocking pool and back would cost more than the query (two thread wake-ups).
    pub(crate) fn read_now<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = lock(&self.inner.readers).pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_connection(&self.inner.path)?,
        };
        let out = f(&conn);
        lock(&self.inner.readers).push(conn);
        out
    }

    /// Runs `f` on a pooled read connection in the blocking pool (reads that may scan).
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = lock(&inner.readers).pop();
            let conn = match pooled {
                Some(c) => c,
                None => open_connection(&inner.path)?,
            };
            let out = f(&conn);
            lock(&inner.readers).push(conn);
            out
        })
        .await
        .map_err(unavailable)?
    }
}

/// A connection with vouch's settings. Each keeps its own page cache of 8 MiB (SQLite's
/// default is 2 MiB): the writer plus the few readers that run at once stay well inside the
/// memory budget (docs/benchmarks.md), and hot index pages stop being re-read from the OS.
/// Temporary storage in memory: each write job runs in a savepoint, whose statement journal
/// (the pages it first touched, so a failed job can roll back alone) otherwise goes to a
/// temporary file, two write syscalls per page per job. Nothing durable lives there.
fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(unavailable)?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA busy_timeout = 5000;
         PRAGMA secure_delete = ON;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -8192;
         PRAGMA temp_store = MEMORY;",
    )
    .map_err(unavailable)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version TEXT PRIMARY KEY,
             applied_at INTEGER NOT NULL DEFAULT (unixepoch())
         )",
    )
    .map_err(unavailable)?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction().map_err(unavailable)?;
        let done: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [version],
                |r| r.get(0),
            )
            .map_err(unavailable)?;
        if !done {
            tx.execute_batch(sql).map_err(unavailable)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                [version],
            )
            .map_err(unavailable)?;
        }
        tx.commit().map_err(unavailable)?;
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(unavailable)
}

/// The JSON object in the row's column `index`, decoded from SQLite's buffer (no copy).
fn decode_column<T: serde::de::DeserializeOwned>(
    row: &rusqlite::Row<'_>,
    index: usize,
) -> Result<T> {
    let text = row
        .get_ref(index)
        .and_then(|v| v.as_str().map_err(rusqlite::Error::from))
        .map_err(unavailable)?;
    from_json(text)
}

/// Reads a `seq, version, id, data` row of `sessions` into the cache's entry for it.
fn session_row(
    cache: &SessionCache,
    ticket: crate::session_cache::Ticket,
) -> impl Fn(&rusqlite::Row<'_>) -> Result<Arc<SessionEntry>> + '_ {
    move |r| {
        let row = (
            r.get(0).map_err(unavailable)?,
            r.get(1).map_err(unavailable)?,
        );
        let id = r
            .get_ref(2)
            .and_then(|v| v.as_str().map_err(rusqlite::Error::from))
            .map_err(unavailable)?;
        cache.entry(ticket, row, id, || decode_sized(r, 3))
    }
}

/// [`decode_column`], with the length of the stored JSON (what caching it costs).
fn decode_sized<T: serde::de::DeserializeOwned>(
    row: &rusqlite::Row<'_>,
    index: usize,
) -> Result<(T, usize)> {
    let len = row
        .get_ref(index)
        .map_or(0, |v| v.as_bytes().map_or(0, <[u8]>::len));
    Ok((decode_column(row, index)?, len))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Unavailable(format!("corrupt stored object: {e}")))
}

/// The JSON of each event, encoded before the write reaches the writer thread.
fn encode_events(events: &[Event]) -> Result<Vec<String>> {
    events.iter().map(to_json).collect()
}

/// A transition's outcome with the JSON of its session and events already encoded: encoding
/// is done before the job is queued, off the writer thread that every write waits for.
struct Encoded {
    outcome: Outcome,
    session: String,
    events: Vec<String>,
}

impl Encoded {
    fn new(outcome: Outcome) -> Result<Encoded> {
        Ok(Encoded {
            session: to_json(&outcome.session)?,
            events: encode_events(&outcome.events)?,
            outcome,
        })
    }
}

/// The session row a change is written to.
enum Target<'a> {
    /// Row `seq`, read in the writer's transaction.
    Seq(i64),
    /// Row `seq`, the session `id` of `account`, only if the row is still at `version` (it was
    /// read before the job reached the writer). The row is found by `seq` (no search of the
    /// `id` index); `id` and `account` only check it.
    Version {
        seq: i64,
        id: &'a str,
        account: &'a str,
        version: i64,
    },
}

/// What a session's row held before a change: the columns whose indexes the change may
/// have to move, and its hosted-page token.
struct Before {
    status: Status,
    due_ms: Option<i64>,
    token: Option<String>,
}

impl Before {
    fn of(session: &Session) -> Before {
        Before {
            status: session.status,
            due_ms: session.next_due_ms(),
            token: session.url_token.clone(),
        }
    }
}

/// The four forms of the statement that writes a changed session, by how the row is found
/// (`Target`) and whether its indexed columns change. Setting a column, even to the value it
/// has, makes SQLite move the row's entry in each index on it (`sessions_by_status`,
/// `sessions_due`): a change that keeps them (an update of metadata, a refreshed link)
/// sets only `data` and `version`, and writes one b-tree page fewer. (The shorter forms leave
/// `?1` and `?2` unused; every form takes the same parameters.)
const UPDATE_BY_SEQ: &str = "UPDATE sessions SET status = ?1, due_ms = ?2, data = ?3,
     version = version + 1 WHERE seq = ?4";
const UPDATE_DATA_BY_SEQ: &str = "UPDATE sessions SET data = ?3, version = version + 1
     WHERE seq = ?4";
const UPDATE_AT_VERSION: &str = "UPDATE sessions SET status = ?1, due_ms = ?2, data = ?3,
     version = version + 1 WHERE seq = ?4 AND id = ?5 AND account = ?6 AND version = ?7";
const UPDATE_DATA_AT_VERSION: &str = "UPDATE sessions SET data = ?3, version = version + 1
     WHERE seq = ?4 AND id = ?5 AND account = ?6 AND version = ?7";

fn insert_report(tx: &rusqlite::Transaction<'_>, r: &Report) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO reports (id, account, created, session_id, client_reference_id, type, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .map_err(unavailable)?
    .execute(params![
        r.id.as_str(),
        r.account,
        r.created,
        r.verification_session
            .as_ref()
            .map(|s| s.as_str().to_owned()),
        r.client_reference_id,
        r.kind.as_str(),
        to_json(r)?
    ])
    .map_err(unavailable)?;
    Ok(())
}

/// Rewrites every report and event of `session_id` with personal data erased, and erases the
/// bodies of the idempotent responses that showed it (their keys stay: a replay answers the
/// session as it is now).
fn erase_copies(tx: &rusqlite::Transaction<'_>, session_id: &str) -> Result<()> {
    tx.execute(
        "UPDATE idempotency SET body = NULL WHERE session_id = ?1",
        [session_id],
    )
    .map_err(unavailable)?;
    tx.execute("DELETE FROM files WHERE session_id = ?1", [session_id])
        .map_err(unavailable)?;
    let reports: Vec<(i64, String)> = {
        let mut stmt = tx
            .prepare_cached("SELECT seq, data FROM reports WHERE session_id = ?1")
            .map_err(unavailable)?;
        let rows = stmt
            .query_map([session_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(unavailable)?;
        rows.collect::<rusqlite::Result<_>>().map_err(unavailable)?
    };
    for (seq, data) in reports {
        let mut report: Report = from_json(&data)?;
        report.redact();
        tx.execute(
            "UPDATE reports SET data = ?1 WHERE seq = ?2",
            params![to_json(&report)?, seq],
        )
        .map_err(unavailable)?;
    }
    let events: Vec<(i64, String)> = {
        let mut stmt = tx
            .prepare_cached("SELECT seq, data FROM events WHERE session_id = ?1")
            .map_err(unavailable)?;
        let rows = stmt
            .query_map([session_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(unavailable)?;
        rows.collect::<rusqlite::Result<_>>().map_err(unavailable)?
    };
    for (seq, data) in events {
        let mut event: Event = from_json(&data)?;
        event.session.erase_personal_data();
        tx.execute(
            "UPDATE events SET data = ?1 WHERE seq = ?2",
            params![to_json(&event)?, seq],
        )
        .map_err(unavailable)?;
    }
    Ok(())
}

/// Remembers the session's current hosted-page token (every token ever minted stays).
fn record_page_link(tx: &rusqlite::Transaction<'_>, session: &Session) -> Result<()> {
    if let Some(token) = &session.url_token {
        tx.prepare_cached(
            "INSERT INTO page_links (token, account, session_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (token) DO NOTHING",
        )
        .map_err(unavailable)?
        .execute(params![token, session.account, session.id.as_str()])
        .map_err(unavailable)?;
    }
    Ok(())
}

/// Commits a transition's outcome inside the caller's transaction, to the session row
/// `target` that held `before` (its token is already in `page_links`: every token is recorded
/// when it is minted, so an unchanged one needs no second lookup of that index).
/// False when the row is no longer at the version `target` names: then nothing was written.
/// The one statement that changes a session's row: its caller takes the session out of the
/// cache first (`SessionCache::begin_change`), which a process alone on the file relies on.
fn write_outcome(
    tx: &rusqlite::Transaction<'_>,
    target: Target<'_>,
    before: &Before,
    encoded: &Encoded,
) -> Result<bool> {
    let outcome = &encoded.outcome;
    let session = &outcome.session;
    let (status, due, data) = (
        session.status.as_str(),
        session.next_due_ms(),
        &encoded.session,
    );
    let indexed_kept = session.status == before.status && due == before.due_ms;
    let updated = match target {
        Target::Seq(seq) => {
            let sql = if indexed_kept {
                UPDATE_DATA_BY_SEQ
            } else {
                UPDATE_BY_SEQ
            };
            tx.prepare_cached(sql)
                .and_then(|mut u| u.execute(params![status, due, data, seq]))
        }
        Target::Version {
            seq,
            id,
            account,
            version,
        } => {
            let sql = if indexed_kept {
                UPDATE_DATA_AT_VERSION
            } else {
                UPDATE_AT_VERSION
            };
            tx.prepare_cached(sql)
                .and_then(|mut u| u.execute(params![status, due, data, seq, id, account, version]))
        }
    }
    .map_err(unavailable)?;
    if updated == 0 {
        return Ok(false);
    }
    if session.url_token != before.token {
        record_page_link(tx, session)?;
    }
    if let Some(r) = &outcome.report {
        insert_report(tx, r)?;
    }
    outbox::insert_events(tx, &outcome.events, &encoded.events)?;
    if outcome.redacted_now {
        erase_copies(tx, session.id.as_str())?;
    }
    Ok(true)
}

/// What `modify_session`'s write job did.
enum Modified {
    /// It wrote the outcome computed before the job was queued.
    Prepared,
    /// The row had moved on (or was not read first): the change ran on the row as it is.
    InWriter(Box<Option<std::result::Result<Outcome, DomainError>>>),
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(unavailable))
            .await
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_owned();
        self.read(move |c| {
            c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(unavailable)
        })
        .await
    }

    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<String> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![key, value],
            )
            .map_err(unavailable)?;
            tx.query_row("SELECT value FROM settings WHERE key = ?1", [&key], |r| {
                r.get(0)
            })
            .map_err(unavailable)
        })
        .await
    }

    async fn insert_session(&self, session: &Session, events: &[Event]) -> Result<()> {
        let data = to_json(session)?;
        let events_json = encode_events(events)?;
        let session = session.clone();
        let events = events.to_vec();
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO sessions (id, account, created, status, client_reference_id,
                     related_customer, related_customer_account, due_ms, version, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9)",
            )
            .map_err(unavailable)?
            .execute(params![
                session.id.as_str(),
                session.account,
                session.created,
                session.status.as_str(),
                session.client_reference_id,
                session.related_customer,
                session.related_customer_account,
                session.next_due_ms(),
                data
            ])
            .map_err(unavailable)?;
            record_page_link(tx, &session)?;
            outbox::insert_events(tx, &events, &events_json)
        })
        .await
    }

    async fn get_session(&self, account: &str, id: &SessionId) -> Result<Option<Session>> {
        Ok(self
            .get_session_entry(account, id)
            .await?
            .map(|e| e.session.clone()))
    }

    async fn get_session_entry(
        &self,
        account: &str,
        id: &SessionId,
    ) -> Result<Option<Arc<SessionEntry>>> {
        let cache = &self.inner.sessions;
        if let Some(entry) = cache.get_trusted(id.as_str()) {
            return Ok((entry.session.account == account).then_some(entry));
        }
        let ticket = cache.ticket();
        self.read_now(|c| {
            c.prepare_cached(
                "SELECT seq, version, data FROM sessions WHERE id = ?1 AND account = ?2",
            )
            .map_err(unavailable)?
            .query_row(params![id.as_str(), account], |r| {
                let row = (r.get(0)?, r.get(1)?);
                Ok(cache.entry(ticket, row, id.as_str(), || decode_sized(r, 2)))
            })
            .optional()
            .map_err(unavailable)?
            .transpose()
        })
    }

    async fn modify_session(
        &self,
        account: &str,
        id: &SessionId,
        change: Change,
    ) -> Result<Option<std::result::Result<Outcome, DomainError>>> {
        // When the cache has the session (a process alone on its file), first, off the writer
        // thread: the change and the JSON of its outcome. The writer then only writes it, if
        // the row is still at the cached version; if it moved on, the writer runs the change
        // again on the row as it is then (`Change` may run more than once). Without a cached
        // session the writer reads the row itself: a read on the caller's thread (a read
        // transaction, decoding) costs more CPU than it saves the writer (measured).
        let cached = self
            .inner
            .sessions
            .get_trusted_row(id.as_str())
            .filter(|(entry, _)| entry.session.account == account);
        let prepared = match cached {
            Some((entry, seq)) => {
                let before = Before::of(&entry.session);
                match change(entry.session.clone()) {
                    // Decided on a committed version of the session, as a read is: nothing
                    // to write, and the answer is the one the writer would have given had
                    // the job run just after that version committed.
                    Err(e) => return Ok(Some(Err(e))),
                    Ok(outcome) if outcome.unchanged => return Ok(Some(Ok(outcome))),
                    Ok(outcome) => {
                        let row = (seq, entry.version, before);
                        Some((row, Arc::new(Encoded::new(outcome)?)))
                    }
                }
            }
            None => None,
        };
        let (account, id) = (account.to_owned(), id.as_str().to_owned());
        let sessions = self.inner.sessions.clone();
        let kept = prepared.as_ref().map(|(_, encoded)| encoded.clone());
        // The single writer connection is the lock: nothing else writes until this commits.
        let modified = self
            .write(move |tx| {
                if let Some(((seq, version, before), encoded)) = &prepared {
                    // Out of the cache until the batch is over (`run_batch` settles it).
                    sessions.begin_change(&id);
                    let target = Target::Version {
                        seq: *seq,
                        id: &id,
                        account: &account,
                        version: *version,
                    };
                    if write_outcome(tx, target, before, encoded)? {
                        return Ok(Modified::Prepared);
                    }
                }
                let row: Option<(i64, Result<Session>)> = tx
                    .prepare_cached("SELECT data, seq FROM sessions WHERE id = ?1 AND account = ?2")
                    .map_err(unavailable)?
                    .query_row(params![id, account], |r| {
                        Ok((r.get(1)?, decode_column(r, 0)))
                    })
                    .optional()
                    .map_err(unavailable)?;
                let Some((seq, session)) = row else {
                    return Ok(Modified::InWriter(Box::new(None)));
                };
                let session = session?;
                let before = Before::of(&session);
                let outcome = match change(session) {
                    Ok(outcome) => outcome,
                    Err(e) => return Ok(Modified::InWriter(Box::new(Some(Err(e))))),
                };
                if outcome.unchanged {
                    return Ok(Modified::InWriter(Box::new(Some(Ok(outcome)))));
                }
                sessions.begin_change(&id);
                let encoded = Encoded::new(outcome)?;
                write_outcome(tx, Target::Seq(seq), &before, &encoded)?;
                Ok(Modified::InWriter(Box::new(Some(Ok(encoded.outcome)))))
            })
            .await?;
        match (modified, kept) {
            (Modified::Prepared, Some(encoded)) => {
                // The job, and its copy of `encoded`, were dropped before it answered.
                let outcome = Arc::try_unwrap(encoded)
                    .map_or_else(|shared| shared.outcome.clone(), |e| e.outcome);
                Ok(Some(Ok(outcome)))
            }
            (Modified::InWriter(result), _) => Ok(*result),
            (Modified::Prepared, None) => Err(StoreError::Unavailable(
                "a prepared change without its outcome".into(),
            )),
        }
    }

    async fn list_sessions(
        &self,
        account: &str,
        filter: &SessionFilter,
        cursor: Option<&Cursor<SessionId>>,
        limit: usize,
    ) -> Result<Page<Session>> {
        let page = self
            .list_session_entries(account, filter, cursor, limit)
            .await?;
        Ok(Page {
            items: page.items.iter().map(|e| e.session.clone()).collect(),
            has_more: page.has_more,
        })
    }

    async fn list_session_entries(
        &self,
        account: &str,
        filter: &SessionFilter,
        cursor: Option<&Cursor<SessionId>>,
        limit: usize,
    ) -> Result<Page<Arc<SessionEntry>>> {
        let spec = filter.spec();
        let cursor = cursor.map(cursor_parts);
        let cache = &self.inner.sessions;
        let ticket = cache.ticket();
        if cache.alone() {
            // Alone on the file: the page's rows from the index alone (no table lookups),
            // each session from the cache.
            let rows = |r: &rusqlite::Row<'_>| r.get::<_, i64>(0).map_err(unavailable);
            let seqs = self
                .read_now(|c| list_page(c, &spec, ("seq", rows), account, cursor.clone(), limit))?;
            if let Some(items) = self.trusted_page(account, filter, &seqs.items, ticket)? {
                return Ok(Page {
                    items,
                    has_more: seqs.has_more,
                });
            }
        }
        self.read_now(|c| {
            list_page(
                c,
                &spec,
                ("seq, version, id, data", session_row(cache, ticket)),
                account,
                cursor,
                limit,
            )
        })
    }

    async fn list_reports(
        &self,
        account: &str,
        filter: &ReportFilter,
        cursor: Option<&Cursor<ReportId>>,
        limit: usize,
    ) -> Result<Page<Report>> {
        let spec = filter.spec();
        let cursor = cursor.map(cursor_parts);
        let read = |r: &rusqlite::Row<'_>| decode_column(r, 0);
        self.read_now(|c| list_page(c, &spec, ("data", read), account, cursor, limit))
    }

    async fn get_report(&self, account: &str, id: &ReportId) -> Result<Option<Report>> {
        self.read_now(|c| {
            c.prepare_cached("SELECT data FROM reports WHERE id = ?1 AND account = ?2")
                .map_err(unavailable)?
                .query_row(params![id.as_str(), account], |r| Ok(decode_column(r, 0)))
                .optional()
                .map_err(unavailable)?
                .transpose()
        })
    }

    async fn idempotency_begin(&self, claim: IdempotencyClaim<'_>) -> Result<IdempotencyBegin> {
        // Alone on the file: held in memory until the response is stored (`sqlite_claims.rs`).
        let read = || self.read_now(|c| read_key(c, claim.account, claim.key));
        if let Some(begun) = self.inner.claims.begin(&claim, read) {
            return begun;
        }
        let account = claim.account.to_owned();
        let key = claim.key.to_owned();
        let fingerprint = claim.fingerprint.to_owned();
        let (now, lease, ttl) = (claim.now_ms, claim.lease_ms, claim.ttl_ms);
        self.write(move |tx| {
            let claim = IdempotencyClaim {
                account: &account,
                key: &key,
                fingerprint: &fingerprint,
                now_ms: now,
                lease_ms: lease,
                ttl_ms: ttl,
            };
            if let Some(answer) = read_key(tx, &account, &key)?.and_then(|r| r.answer(&claim)) {
                return Ok(answer);
            }
            tx.prepare_cached(
                "INSERT INTO idempotency (account, key, created_ms, fingerprint, locked_until_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (account, key) DO UPDATE SET created_ms = excluded.created_ms,
                     fingerprint = excluded.fingerprint, status = NULL, body = NULL,
                     session_id = NULL, locked_until_ms = excluded.locked_until_ms",
            )
            .map_err(unavailable)?
            .execute(params![account, key, now, fingerprint, now + lease])
            .map_err(unavailable)?;
            Ok(IdempotencyBegin::Started)
        })
        .await
    }

    async fn idempotency_complete(
        &self,
        account: &str,
        key: &str,
        status: u16,
        body: &str,
        session_id: Option<&str>,
    ) -> Result<()> {
        let claims = &self.inner.claims;
        let (account, key, body) = (account.to_owned(), key.to_owned(), body.to_owned());
        let session_id = session_id.map(str::to_owned);
        if let Some(run) = claims.get(&account, &key) {
            // The key's row is written now, with its response; the claim goes once that
            // committed (a retry meanwhile is told the request is still running).
            let (a, k) = (account.clone(), key.clone());
            self.write(move |tx| {
                tx.prepare_cached(COMPLETE_CLAIM)
                    .map_err(unavailable)?
                    .execute(params![
                        a,
                        k,
                        run.created_ms,
                        run.fingerprint,
                        status,
                        body,
                        session_id,
                        run.locked_until_ms
                    ])
                    .map_err(unavailable)?;
                Ok(())
            })
            .await?;
            claims.remove(&account, &key);
            return Ok(());
        }
        self.write(move |tx| {
            // The writer serializes this with redaction: a response rendered before the
            // session's redaction completed keeps no body.
            tx.prepare_cached(
                "UPDATE idempotency SET status = ?3, session_id = ?5,
                     body = CASE WHEN EXISTS (SELECT 1 FROM sessions WHERE id = ?5
                         AND json_extract(data, '$.redaction') = 'redacted')
                         THEN NULL ELSE ?4 END
                 WHERE account = ?1 AND key = ?2",
            )
            .map_err(unavailable)?
            .execute(params![account, key, status, body, session_id])
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn idempotency_release(&self, account: &str, key: &str) -> Result<()> {
        if self.inner.claims.remove(account, key) {
            // Held in memory only: nothing was written.
            return Ok(());
        }
        let (account, key) = (account.to_owned(), key.to_owned());
        self.write(move |tx| {
            tx.prepare_cached(
                "DELETE FROM idempotency WHERE account = ?1 AND key = ?2 AND status IS NULL",
            )
            .map_err(unavailable)?
            .execute(params![account, key])
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn prune_idempotency(&self, before_ms: i64, job: &HeldJob) -> Result<Option<usize>> {
        let job = job.clone();
        self.write(move |tx| {
            if !jobs::holds(tx, &job)? {
                return Ok(None);
            }
            tx.prepare_cached("DELETE FROM idempotency WHERE created_ms < ?1")
                .map_err(unavailable)?
                .execute([before_ms])
                .map(Some)
                .map_err(unavailable)
        })
        .await
    }

    async fn flush_erased(&self) -> Result<bool> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.inner
            .writer
            .send(WriterCommand::Checkpoint(reply))
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?
    }

    async fn session_by_url_token(&self, token: &str) -> Result<Option<Session>> {
        let token = token.to_owned();
        self.read(move |c| {
            let row: Option<String> = c
                .prepare_cached(
                    "SELECT s.data FROM page_links l
                     JOIN sessions s ON s.id = l.session_id AND s.account = l.account
                     WHERE l.token = ?1",
                )
                .map_err(unavailable)?
                .query_row([token], |r| r.get(0))
                .optional()
                .map_err(unavailable)?;
            row.map(|data| from_json(&data)).transpose()
        })
        .await
    }

    async fn put_file(&self, file: &StoredFile) -> Result<()> {
        let file = file.clone();
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO files (id, account, session_id, purpose, media_type, size, created,
                     bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(unavailable)?
            .execute(params![
                file.id.as_str(),
                file.account,
                file.session_id.as_str(),
                file.purpose,
                file.media_type,
                file.bytes.len() as i64,
                file.created,
                file.bytes
            ])
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn get_file(&self, account: &str, id: &FileId) -> Result<Option<StoredFile>> {
        let (account, id) = (account.to_owned(), id.clone());
        self.read(move |c| {
            let row: Option<(String, String, String, i64, Vec<u8>)> = c
                .prepare_cached(
                    "SELECT session_id, purpose, media_type, created, bytes FROM files
                     WHERE id = ?1 AND account = ?2",
                )
                .map_err(unavailable)?
                .query_row(params![id.as_str(), account], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()
                .map_err(unavailable)?;
            let Some((session_id, purpose, media_type, created, bytes)) = row else {
                return Ok(None);
            };
            let session_id = SessionId::parse(&session_id)
                .ok_or_else(|| StoreError::Unavailable("corrupt file row".into()))?;
            Ok(Some(StoredFile {
                id,
                account,
                session_id,
                purpose,
                media_type,
                created,
                bytes,
            }))
        })
        .await
    }

    async fn session_counts(
        &self,
        account: &str,
    ) -> Result<Vec<(vouch_domain::session::Status, u64)>> {
        let account = account.to_owned();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(crate::query::SESSION_COUNTS)
                .map_err(unavailable)?;
            let rows = stmt
                .query_map(params![account], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(unavailable)?
                .collect::<rusqlite::Result<Vec<(String, i64)>>>()
                .map_err(unavailable)?;
            Ok(crate::query::session_counts(rows))
        })
        .await
    }
}

fn sql_value(arg: Arg) -> rusqlite::types::Value {
    match arg {
        Arg::Text(s) => rusqlite::types::Value::Text(s),
        Arg::Int(i) => rusqlite::types::Value::Integer(i),
    }
}

/// One page of any listable table; `cursor` is (object id, ascending).
fn list_page<T>(
    c: &Connection,
    spec: &ListSpec,
    (columns, mut read): (&str, impl FnMut(&rusqlite::Row<'_>) -> Result<T>),
    account: &str,
    cursor: Option<(String, bool)>,
    limit: usize,
) -> Result<Page<T>> {
    let position = match cursor {
        None => None,
        Some((id, ascending)) => {
            let pos: Option<(i64, i64)> = c
                .prepare_cached(&position_query(spec.table))
                .map_err(unavailable)?
                .query_row(params![id, account], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(unavailable)?;
            let (created, seq) = pos.ok_or(StoreError::NotFound)?;
            Some(Position {
                created,
                seq,
                ascending,
            })
        }
    };
    let ascending = position.as_ref().is_some_and(|p| p.ascending);
    let (sql, args) = list_query(spec, columns, account, position.as_ref(), limit);
    let mut stmt = c.prepare_cached(&sql).map_err(unavailable)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args.into_iter().map(sql_value)))
        .map_err(unavailable)?;
    let mut items = Vec::with_capacity(limit);
    let mut has_more = false;
    while let Some(row) = rows.next().map_err(unavailable)? {
        if items.len() == limit {
            // The query reads one row more than the page: it only says there are more.
            has_more = true;
            break;
        }
        items.push(read(row)?);
    }
    if ascending {
        items.reverse();
    }
    Ok(Page { items, has_more })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::CreatedRange;
    use vouch_domain::session::Status;

    type Reply<T> = tokio::sync::oneshot::Receiver<Result<T>>;

    /// A write job for `run_batch`, and where its answer arrives.
    fn job<T, F>(f: F) -> (Box<dyn WriteJob>, Reply<T>)
    where
        T: Send + 'static,
        F: FnMut(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let out = Err(StoreError::Unavailable("did not run".into()));
        (Box::new(PendingWrite { f, reply, out }), answer)
    }

    /// A job that stores `key` in settings, then fails when `fail` says so.
    fn put(key: &'static str, fail: fn() -> Result<()>) -> (Box<dyn WriteJob>, Reply<()>) {
        job(move |tx| {
            tx.execute("INSERT INTO settings (key, value) VALUES (?1, 'v')", [key])
                .map_err(unavailable)?;
            fail()
        })
    }

    fn ok() -> Result<()> {
        Ok(())
    }

    fn settings(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT key FROM settings ORDER BY key")
            .unwrap();
        let keys = stmt.query_map([], |r| r.get(0)).unwrap();
        keys.collect::<rusqlite::Result<_>>().unwrap()
    }

    /// One failing job (an error, a panic, a constraint its own insert breaks) leaves nothing
    /// behind; every other job of its batch still commits and gets its own answer, including
    /// jobs that read what an earlier job of the batch wrote.
    #[test]
    #[allow(clippy::panic)]
    fn a_failing_job_leaves_nothing_and_the_rest_of_its_batch_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("batch.db");
        drop(SqliteStore::open(&path).unwrap());
        let mut conn = open_connection(&path).unwrap();
        let (a, mut ra) = put("a", ok);
        let (b, mut rb) = put("b", || Err(StoreError::Unavailable("b failed".into())));
        let (c, mut rc) = put("c", || panic!("c panics"));
        // Fails on the unique key: "a" is already there when it runs.
        let (d, mut rd) = put("a", ok);
        let mut runs = 0;
        let (e, mut re) = job(move |tx| {
            runs += 1;
            tx.execute("INSERT INTO settings (key, value) VALUES ('e', 'v')", [])
                .map_err(unavailable)?;
            tx.query_row("SELECT count(*) FROM settings", [], |r| r.get::<_, i64>(0))
                .map(|n| (n, runs))
                .map_err(unavailable)
        });
        let cache = SessionCache::new(0);
        run_batch(&mut conn, vec![a, e, b, c, d], &cache);
        assert!(ra.try_recv().unwrap().is_ok());
        assert!(
            matches!(rb.try_recv().unwrap(), Err(StoreError::Unavailable(m)) if m == "b failed")
        );
        assert!(
            matches!(rc.try_recv().unwrap(), Err(StoreError::Unavailable(m)) if m.contains("panicked"))
        );
        assert!(rd.try_recv().unwrap().is_err());
        // "e" saw "a" and itself; it ran in the first pass (which stopped at "b") and again
        // in the isolated one, whose answer it got.
        assert_eq!(re.try_recv().unwrap().unwrap(), (2, 2));
        assert_eq!(settings(&conn), ["a", "e"]);

        // A batch with no failure commits in one pass.
        let (f, mut rf) = put("f", ok);
        let (g, mut rg) = put("g", ok);
        run_batch(&mut conn, vec![f, g], &cache);
        assert!(rf.try_recv().unwrap().is_ok());
        assert!(rg.try_recv().unwrap().is_ok());
        assert_eq!(settings(&conn), ["a", "e", "f", "g"]);
    }

    /// A session of `acct_a` just created, and its `created` event.
    fn new_session() -> (Session, Event) {
        let account = vouch_domain::session::Account {
            id: "acct_a".into(),
            livemode: false,
        };
        let mut rng = rand::thread_rng();
        let mut ctx = vouch_domain::transition::Ctx {
            now_ms: 1_700_000_000_000,
            request: vouch_domain::event::RequestInfo::default(),
            rng: &mut rng,
        };
        let new = vouch_domain::transition::NewSession::default();
        vouch_domain::transition::create(&account, new, &mut ctx).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_claim_held_in_memory_is_written_before_another_process_shares_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("claims.db");
        let alone = SqliteStore::open(&path).unwrap();
        let claim = IdempotencyClaim {
            account: "acct_a",
            key: "k",
            fingerprint: "f",
            now_ms: 1_000,
            lease_ms: 60_000,
            ttl_ms: 86_400_000,
        };
        let begun = alone.idempotency_begin(claim.clone()).await.unwrap();
        assert!(matches!(begun, IdempotencyBegin::Started));
        let stored = |s: &SqliteStore| read_key(&s.test_connection(), "acct_a", "k").unwrap();
        assert!(
            stored(&alone).is_none(),
            "alone, a running claim is not written"
        );
        // A second process opens the file: it gets in only once the claim is in the database.
        let newcomer = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
            .await
            .unwrap()
            .unwrap();
        assert!(stored(&newcomer).is_some_and(|row| row.status.is_none()));
        let begun = newcomer.idempotency_begin(claim.clone()).await.unwrap();
        assert!(matches!(begun, IdempotencyBegin::InProgress), "{begun:?}");
        alone
            .idempotency_complete("acct_a", "k", 200, "{}", None)
            .await
            .unwrap();
        let begun = newcomer.idempotency_begin(claim.clone()).await.unwrap();
        assert!(
            matches!(&begun, IdempotencyBegin::Replay { status: 200, body } if body == "{}"),
            "{begun:?}"
        );
        // From now on the first one claims durably too.
        let other = IdempotencyClaim { key: "k2", ..claim };
        let begun = alone.idempotency_begin(other).await.unwrap();
        assert!(matches!(begun, IdempotencyBegin::Started));
        assert!(read_key(&alone.test_connection(), "acct_a", "k2")
            .unwrap()
            .is_some());
    }

    #[test]
    fn a_stored_session_leaves_out_empty_fields_and_reads_rows_that_have_them() {
        let (s, _) = new_session();
        let short = to_json(&s).unwrap();
        assert!(!short.contains("null"), "{short}");
        assert!(!short.contains("\"url_used\""), "{short}");
        // A row written before: every field present, the empty ones as null or false.
        let mut full = serde_json::to_value(&s).unwrap();
        let map = full.as_object_mut().unwrap();
        for field in [
            "verification_flow",
            "client_reference_id",
            "last_error",
            "last_verification_report",
            "provided_details",
            "redaction",
            "related_customer",
            "related_customer_account",
            "related_person",
            "return_url",
            "verified_outputs",
            "redaction_due_ms",
            "pending",
        ] {
            assert!(map.insert(field.into(), serde_json::Value::Null).is_none());
        }
        map.insert("url_used".into(), false.into());
        map.insert("metadata".into(), serde_json::json!([]));
        let old: Session = from_json(&full.to_string()).unwrap();
        assert_eq!(old, s);
        assert_eq!(from_json::<Session>(&short).unwrap(), s);
    }

    /// A change computed from the cached session is written only if the row is still at that
    /// version; when another write moved it on in between, the writer runs the change again
    /// on the row as it is, so nothing is lost and the first computation leaves no trace.
    #[tokio::test]
    async fn a_change_prepared_from_the_cache_is_redone_when_the_row_moved() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("race.db")).unwrap());
        let (session, created) = new_session();
        store.insert_session(&session, &[created]).await.unwrap();
        let row = |conn: &Connection| -> (i64, Session) {
            conn.query_row(
                "SELECT version, data FROM sessions WHERE id = ?1",
                [session.id.as_str()],
                |r| Ok((r.get(0)?, from_json(&r.get::<_, String>(1)?).unwrap())),
            )
            .unwrap()
        };
        // Sets metadata `key` and counts its runs; on its first run, `race` writes the row
        // behind the store's back (the cache still holds the old version).
        let set = |key: &'static str, runs: Arc<AtomicUsize>, race: Option<Connection>| -> Change {
            let race = Mutex::new(race);
            Box::new(move |mut s: Session| {
                runs.fetch_add(1, Ordering::SeqCst);
                if let Some(conn) = lock(&race).take() {
                    conn.execute(
                        "UPDATE sessions SET version = version + 1,
                             data = json_set(data, '$.metadata', json_array(json_array('raced', 'yes')))
                         WHERE id = ?1",
                        [s.id.as_str()],
                    )
                    .unwrap();
                }
                s.metadata.push((key.into(), "v".into()));
                Ok(Outcome {
                    session: s,
                    events: Vec::new(),
                    report: None,
                    unchanged: false,
                    redacted_now: false,
                })
            })
        };
        let conn = store.test_connection();
        // Caches the session, then changes it: how often the change ran, and what it returned.
        let cached_then_set = |key: &'static str, race: Option<Connection>| {
            let (store, id, runs) = (
                store.clone(),
                session.id.clone(),
                Arc::new(AtomicUsize::new(0)),
            );
            let change = set(key, runs.clone(), race);
            async move {
                store.get_session("acct_a", &id).await.unwrap().unwrap();
                let out = store.modify_session("acct_a", &id, change).await;
                (runs.load(Ordering::SeqCst), out.unwrap().unwrap().unwrap())
            }
        };

        // Unchanged since it was cached: computed once, outside the writer, and written.
        let (runs, out) = cached_then_set("first", None).await;
        assert_eq!(runs, 1);
        let (version, stored) = row(&conn);
        assert_eq!(version, 2);
        assert_eq!(stored, out.session);

        // Moved on by another write after it was cached: redone on the row as it is.
        let (runs, out) = cached_then_set("second", Some(store.test_connection())).await;
        assert_eq!(runs, 2);
        let (version, stored) = row(&conn);
        assert_eq!(version, 4);
        assert_eq!(stored, out.session);
        let keys: Vec<&str> = stored.metadata.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["raced", "second"]);
        // The store's reads see the row, not the outcome computed from the old version.
        let read = store
            .get_session("acct_a", &session.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read, stored);
    }

    /// Every list shape must walk an index in order: no full scan, no sort of the result.
    #[test]
    fn a_changed_session_is_found_by_its_row_number() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("plan.db")).unwrap();
        let conn = store.test_connection();
        for sql in [
            UPDATE_BY_SEQ,
            UPDATE_DATA_BY_SEQ,
            UPDATE_AT_VERSION,
            UPDATE_DATA_AT_VERSION,
        ] {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let unbound = vec![rusqlite::types::Null; stmt.parameter_count()];
            let plan: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(unbound), |r| {
                    r.get::<_, String>(3)
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let plan = plan.join(" | ");
            assert_eq!(
                plan, "SEARCH sessions USING INTEGER PRIMARY KEY (rowid=?)",
                "{sql}"
            );
        }
    }

    #[test]
    fn every_list_query_is_served_by_an_index_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("plan.db")).unwrap();
        let conn = store.test_connection();
        let filters = [
            SessionFilter::default(),
            SessionFilter {
                status: Some(Status::Verified),
                ..SessionFilter::default()
            },
            SessionFilter {
                client_reference_id: Some("x".into()),
                ..SessionFilter::default()
            },
            SessionFilter {
                related_customer: Some("cus_1".into()),
                ..SessionFilter::default()
            },
            SessionFilter {
                related_customer_account: Some("acct_1".into()),
                ..SessionFilter::default()
            },
            SessionFilter {
                created: CreatedRange {
                    gte: Some(1),
                    lt: Some(5),
                    ..CreatedRange::default()
                },
                ..SessionFilter::default()
            },
            SessionFilter {
                status: Some(Status::Canceled),
                created: CreatedRange {
                    gt: Some(1),
                    ..CreatedRange::default()
                },
                ..SessionFilter::default()
            },
        ];
        let positions = [
            None,
            Some(Position {
                created: 3,
                seq: 9,
                ascending: false,
            }),
            Some(Position {
                created: 3,
                seq: 9,
                ascending: true,
            }),
        ];
        let reports = [
            ReportFilter::default(),
            ReportFilter {
                client_reference_id: Some("x".into()),
                ..ReportFilter::default()
            },
            ReportFilter {
                kind: Some(vouch_domain::session::SessionType::Document),
                ..ReportFilter::default()
            },
            ReportFilter {
                verification_session: Some("vs_1".into()),
                created: CreatedRange {
                    lte: Some(9),
                    ..CreatedRange::default()
                },
                ..ReportFilter::default()
            },
        ];
        let specs = filters
            .iter()
            .map(SessionFilter::spec)
            .chain(reports.iter().map(ReportFilter::spec));
        for spec in specs {
            // The columns the store reads from each table, and how the plan must read them:
            // a process alone on its file reads a sessions page from the index alone.
            let shapes: &[(&str, &str)] = match spec.table {
                "sessions" => &[
                    ("seq, version, id, data", "INDEX"),
                    ("seq", "COVERING INDEX"),
                ],
                _ => &[("data", "INDEX")],
            };
            for ((columns, how), position) in shapes
                .iter()
                .flat_map(|shape| positions.iter().map(move |p| (shape, p)))
            {
                let (sql, args) = list_query(&spec, columns, "acct", position.as_ref(), 10);
                let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                let args = args.into_iter().map(sql_value);
                let plan: Vec<String> = stmt
                    .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                let plan = plan.join(" | ");
                let index = format!("USING {how} {}_by_", spec.table);
                assert!(plan.contains(&index), "{sql}: {plan}");
                assert!(!plan.contains("TEMP B-TREE"), "{sql}: {plan}");
            }
        }
    }
}
