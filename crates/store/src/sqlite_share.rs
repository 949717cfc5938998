//! Whether this process is alone on its SQLite file, and the handshake that ends that.
//!
//! Next to `vouch.db`, `vouch.db-vouch.lock` carries an advisory lock. The first process
//! takes it exclusively and runs *alone*: its session cache trusts itself without asking
//! the database (`session_cache.rs`). Another process that opens the same file (a second
//! node on the same machine) cannot take it; it creates `vouch.db-vouch.join` and waits for
//! a shared lock. The process that is alone looks for that file every
//! [`WATCH_EVERY_MS`]; when it appears, it stops trusting its cache *first*, then turns its
//! lock into a shared one, which lets the newcomer in. From then on every process shares
//! the file and checks each cached session against the row's version, until it restarts.
//! A process killed outright releases its lock with it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::session_cache::SessionCache;
use crate::{Result, StoreError};

/// How often a process that is alone looks for a newcomer.
pub(crate) const WATCH_EVERY_MS: u64 = 25;
/// How long a newcomer waits for the process that is alone to share the file.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("{what}: {e}"))
}

/// Takes this process's place on the file at `db`: `(lock, true)` when alone.
pub(crate) fn join(db: &Path) -> Result<(File, bool)> {
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(sibling(db, "-vouch.lock"))
        .map_err(|e| failed("the database's lock file", e))?;
    let ask = sibling(db, "-vouch.join");
    match lock.try_lock() {
        Ok(()) => {
            // Nobody else holds the file: a request to share left by a process gone since
            // is stale (one still waiting asks again).
            let _ = std::fs::remove_file(&ask);
            return Ok((lock, true));
        }
        Err(TryLockError::WouldBlock) => {}
        Err(TryLockError::Error(e)) => return Err(failed("locking the database's lock file", e)),
    }
    let deadline = Instant::now() + JOIN_TIMEOUT;
    loop {
        match lock.try_lock_shared() {
            Ok(()) => return Ok((lock, false)),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => {
                return Err(failed("locking the database's lock file", e))
            }
        }
        if Instant::now() > deadline {
            return Err(StoreError::Unavailable(format!(
                "another process holds {} and did not share it within {} s",
                db.display(),
                JOIN_TIMEOUT.as_secs()
            )));
        }
        // (Again on every round: the process that is alone may have removed a stale one.)
        let _ = File::create(&ask);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// For a process that is alone: watches for a newcomer until the store is dropped, and
/// shares the file when one asks, after `before_sharing` (which writes what only this
/// process knew: its running idempotency claims).
pub(crate) fn watch(
    db: &Path,
    lock: Arc<File>,
    cache: Weak<SessionCache>,
    before_sharing: Box<dyn FnOnce() + Send>,
) -> Result<()> {
    let ask = sibling(db, "-vouch.join");
    std::thread::Builder::new()
        .name("vouch-sqlite-share".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_millis(WATCH_EVERY_MS));
            let Some(cache) = cache.upgrade() else {
                return;
            };
            if ask.exists() {
                // Stop trusting the cache before anyone else can write.
                cache.set_alone(false);
                drop(cache);
                before_sharing();
                if let Err(e) = lock.lock_shared() {
                    tracing::error!(error = %e, "sharing the SQLite file with another process");
                }
                let _ = std::fs::remove_file(&ask);
                tracing::info!(
                    "another process opened the SQLite file: sessions kept in memory are now \
                     checked against the database on every read"
                );
                return;
            }
        })
        .map(|_| ())
        .map_err(|e| failed("starting the share watcher", e))
}
