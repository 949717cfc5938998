//! The PostgreSQL backend, for several `vouch serve` nodes on one database. Same schema shape,
//! same contract as SQLite; concurrency between nodes is optimistic (versioned rows) for
//! sessions and row locks for idempotency keys.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::types::ToSql;
use tokio_postgres::NoTls;
use vouch_domain::event::Event;
use vouch_domain::ids::{FileId, ReportId, SessionId};
use vouch_domain::report::Report;
use vouch_domain::session::{Session, WireEnum};
use vouch_domain::transition::{DomainError, Outcome};

use crate::query::{cursor_parts, list_query, numbered, position_query, Arg, ListSpec, Position};
use crate::{
    Change, Cursor, HeldJob, IdempotencyBegin, IdempotencyClaim, Page, ReportFilter, Result,
    SessionFilter, Store, StoreError, StoredFile,
};

/// Events, webhook endpoints and the delivery outbox.
#[path = "postgres_outbox.rs"]
mod outbox;

/// Runtime API keys.
#[path = "postgres_api_keys.rs"]
mod api_keys;

/// The image-view audit trail.
#[path = "postgres_file_views.rs"]
mod file_views;

/// Claims on background jobs.
#[path = "postgres_jobs.rs"]
mod jobs;

pub(crate) const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        "0002_idempotency",
        include_str!("../migrations/postgres/0002_idempotency.sql"),
    ),
    (
        "0003_webhooks",
        include_str!("../migrations/postgres/0003_webhooks.sql"),
    ),
    (
        "0004_due",
        include_str!("../migrations/postgres/0004_due.sql"),
    ),
    (
        "0005_hosted_page",
        include_str!("../migrations/postgres/0005_hosted_page.sql"),
    ),
    (
        "0006_api_keys",
        include_str!("../migrations/postgres/0006_api_keys.sql"),
    ),
    (
        "0007_job_leases",
        include_str!("../migrations/postgres/0007_job_leases.sql"),
    ),
    (
        "0008_file_views",
        include_str!("../migrations/postgres/0008_file_views.sql"),
    ),
];

/// Key of the advisory lock that serializes migrations across nodes.
const MIGRATION_LOCK: i64 = 0x0076_6f75_6368; // "vouch" in ASCII

pub struct PostgresStore {
    pool: Pool,
}

/// The error with its causes (tokio-postgres says only "db error" at the top).
fn unavailable(e: impl std::error::Error) -> StoreError {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    StoreError::Unavailable(message)
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Unavailable(format!("corrupt stored object: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(unavailable)
}

impl PostgresStore {
    /// Connects with a pool of at most `pool_size` connections and runs the migrations.
    pub async fn connect(url: &str, pool_size: usize) -> Result<PostgresStore> {
        let config: tokio_postgres::Config = url.parse().map_err(unavailable)?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .build()
            .map_err(unavailable)?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(unavailable)
    }

    /// One page of any listable table; `cursor` is (object id, ascending).
    async fn list_page<T: serde::de::DeserializeOwned>(
        &self,
        spec: &ListSpec,
        account: &str,
        cursor: Option<(String, bool)>,
        limit: usize,
    ) -> Result<Page<T>> {
        let client = self.client().await?;
        let position = match cursor {
            None => None,
            Some((id, ascending)) => {
                let row = client
                    .query_opt(&numbered(&position_query(spec.table)), &[&id, &account])
                    .await
                    .map_err(unavailable)?
                    .ok_or(StoreError::NotFound)?;
                Some(Position {
                    created: row.get(0),
                    seq: row.get(1),
                    ascending,
                })
            }
        };
        let ascending = position.as_ref().is_some_and(|p| p.ascending);
        let (sql, args) = list_query(spec, "data", account, position.as_ref(), limit);
        let params: Vec<Box<dyn ToSql + Sync + Send>> = args
            .into_iter()
            .map(|a| -> Box<dyn ToSql + Sync + Send> {
                match a {
                    Arg::Text(s) => Box::new(s),
                    Arg::Int(i) => Box::new(i),
                }
            })
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let stmt = client
            .prepare_cached(&numbered(&sql))
            .await
            .map_err(unavailable)?;
        let rows = client.query(&stmt, &refs).await.map_err(unavailable)?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(from_json::<T>(row.get(0))?);
        }
        let has_more = items.len() > limit;
        items.truncate(limit);
        if ascending {
            items.reverse();
        }
        Ok(Page { items, has_more })
    }

    async fn migrate(&self) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(unavailable)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version TEXT PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(unavailable)?;
        for (version, sql) in MIGRATIONS {
            let done = tx
                .query_opt(
                    "SELECT 1 FROM schema_migrations WHERE version = $1",
                    &[version],
                )
                .await
                .map_err(unavailable)?
                .is_some();
            if !done {
                tx.batch_execute(sql).await.map_err(unavailable)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)",
                    &[version],
                )
                .await
                .map_err(unavailable)?;
            }
        }
        tx.commit().await.map_err(unavailable)
    }
}

async fn insert_events(tx: &impl GenericClient, events: &[Event]) -> Result<()> {
    outbox::insert_events(tx, events).await
}

async fn erase_copies(tx: &impl GenericClient, session_id: &str) -> Result<()> {
    // The keys stay; a replay answers the session as it is now.
    tx.execute(
        "UPDATE idempotency SET body = NULL WHERE session_id = $1",
        &[&session_id],
    )
    .await
    .map_err(unavailable)?;
    tx.execute("DELETE FROM files WHERE session_id = $1", &[&session_id])
        .await
        .map_err(unavailable)?;
    for row in tx
        .query(
            "SELECT seq, data FROM reports WHERE session_id = $1 FOR UPDATE",
            &[&session_id],
        )
        .await
        .map_err(unavailable)?
    {
        let (seq, data): (i64, String) = (row.get(0), row.get(1));
        let mut report: Report = from_json(&data)?;
        report.redact();
        tx.execute(
            "UPDATE reports SET data = $1 WHERE seq = $2",
            &[&to_json(&report)?, &seq],
        )
        .await
        .map_err(unavailable)?;
    }
    for row in tx
        .query(
            "SELECT seq, data FROM events WHERE session_id = $1 FOR UPDATE",
            &[&session_id],
        )
        .await
        .map_err(unavailable)?
    {
        let (seq, data): (i64, String) = (row.get(0), row.get(1));
        let mut event: Event = from_json(&data)?;
        event.session.erase_personal_data();
        tx.execute(
            "UPDATE events SET data = $1 WHERE seq = $2",
            &[&to_json(&event)?, &seq],
        )
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

/// Remembers the session's current hosted-page token (every token ever minted stays).
async fn record_page_link(tx: &impl GenericClient, session: &Session) -> Result<()> {
    if let Some(token) = &session.url_token {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO page_links (token, account, session_id) VALUES ($1, $2, $3)
                 ON CONFLICT (token) DO NOTHING",
            )
            .await
            .map_err(unavailable)?;
        tx.execute(&stmt, &[token, &session.account, &session.id.as_str()])
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

/// Commits a transition's outcome inside the caller's transaction.
async fn write_outcome(tx: &impl GenericClient, outcome: &Outcome) -> Result<()> {
    let session = &outcome.session;
    record_page_link(tx, session).await?;
    let stmt = tx
        .prepare_cached(
            "UPDATE sessions SET status = $1, due_ms = $2, data = $3,
                 version = version + 1
             WHERE id = $4 AND account = $5",
        )
        .await
        .map_err(unavailable)?;
    tx.execute(
        &stmt,
        &[
            &session.status.as_str(),
            &session.next_due_ms(),
            &to_json(session)?,
            &session.id.as_str(),
            &session.account,
        ],
    )
    .await
    .map_err(unavailable)?;
    if let Some(r) = &outcome.report {
        tx.execute(
            "INSERT INTO reports (id, account, created, session_id, client_reference_id, type, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &r.id.as_str(),
                &r.account,
                &r.created,
                &r.verification_session.as_ref().map(|s| s.as_str()),
                &r.client_reference_id,
                &r.kind.as_str(),
                &to_json(r)?,
            ],
        )
        .await
        .map_err(unavailable)?;
    }
    insert_events(tx, &outcome.events).await?;
    if outcome.redacted_now {
        erase_copies(tx, session.id.as_str()).await?;
    }
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> Result<()> {
        let client = self.client().await?;
        client.execute("SELECT 1", &[]).await.map_err(unavailable)?;
        Ok(())
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT value FROM settings WHERE key = $1", &[&key])
            .await
            .map_err(unavailable)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<String> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                &[&key, &value],
            )
            .await
            .map_err(unavailable)?;
        let row = client
            .query_one("SELECT value FROM settings WHERE key = $1", &[&key])
            .await
            .map_err(unavailable)?;
        Ok(row.get(0))
    }

    async fn insert_session(&self, session: &Session, events: &[Event]) -> Result<()> {
        let data = to_json(session)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO sessions (id, account, created, status, client_reference_id,
                     related_customer, related_customer_account, due_ms, version, data)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
            )
            .await
            .map_err(unavailable)?;
        tx.execute(
            &stmt,
            &[
                &session.id.as_str(),
                &session.account,
                &session.created,
                &session.status.as_str(),
                &session.client_reference_id,
                &session.related_customer,
                &session.related_customer_account,
                &session.next_due_ms(),
                &data,
            ],
        )
        .await
        .map_err(unavailable)?;
        record_page_link(&tx, session).await?;
        insert_events(&tx, events).await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn get_session(&self, account: &str, id: &SessionId) -> Result<Option<Session>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT data FROM sessions WHERE id = $1 AND account = $2")
            .await
            .map_err(unavailable)?;
        let row = client
            .query_opt(&stmt, &[&id.as_str(), &account])
            .await
            .map_err(unavailable)?;
        row.map(|r| from_json(r.get(0))).transpose()
    }

    async fn modify_session(
        &self,
        account: &str,
        id: &SessionId,
        change: Change,
    ) -> Result<Option<std::result::Result<Outcome, DomainError>>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        // The row lock serializes changes to one session across every node.
        let stmt = tx
            .prepare_cached("SELECT data FROM sessions WHERE id = $1 AND account = $2 FOR UPDATE")
            .await
            .map_err(unavailable)?;
        let Some(row) = tx
            .query_opt(&stmt, &[&id.as_str(), &account])
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let outcome = match change(from_json(row.get(0))?) {
            Ok(outcome) => outcome,
            Err(e) => return Ok(Some(Err(e))),
        };
        if !outcome.unchanged {
            write_outcome(&tx, &outcome).await?;
            tx.commit().await.map_err(unavailable)?;
        }
        Ok(Some(Ok(outcome)))
    }

    async fn list_sessions(
        &self,
        account: &str,
        filter: &SessionFilter,
        cursor: Option<&Cursor<SessionId>>,
        limit: usize,
    ) -> Result<Page<Session>> {
        self.list_page(&filter.spec(), account, cursor.map(cursor_parts), limit)
            .await
    }

    async fn list_reports(
        &self,
        account: &str,
        filter: &ReportFilter,
        cursor: Option<&Cursor<ReportId>>,
        limit: usize,
    ) -> Result<Page<Report>> {
        self.list_page(&filter.spec(), account, cursor.map(cursor_parts), limit)
            .await
    }

    async fn get_report(&self, account: &str, id: &ReportId) -> Result<Option<Report>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT data FROM reports WHERE id = $1 AND account = $2",
                &[&id.as_str(), &account],
            )
            .await
            .map_err(unavailable)?;
        row.map(|r| from_json(r.get(0))).transpose()
    }

    async fn idempotency_begin(&self, claim: IdempotencyClaim<'_>) -> Result<IdempotencyBegin> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        let inserted = tx
            .execute(
                "INSERT INTO idempotency (account, key, created_ms, fingerprint, locked_until_ms)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account, key) DO NOTHING",
                &[
                    &claim.account,
                    &claim.key,
                    &claim.now_ms,
                    &claim.fingerprint,
                    &(claim.now_ms + claim.lease_ms),
                ],
            )
            .await
            .map_err(unavailable)?;
        if inserted == 1 {
            tx.commit().await.map_err(unavailable)?;
            return Ok(IdempotencyBegin::Started);
        }
        let row = tx
            .query_one(
                "SELECT created_ms, fingerprint, status, body, session_id, locked_until_ms
                 FROM idempotency WHERE account = $1 AND key = $2 FOR UPDATE",
                &[&claim.account, &claim.key],
            )
            .await
            .map_err(unavailable)?;
        let (created, stored_fp, status, body, session_id, locked_until): (
            i64,
            String,
            Option<i32>,
            Option<String>,
            Option<String>,
            i64,
        ) = (
            row.get(0),
            row.get(1),
            row.get(2),
            row.get(3),
            row.get(4),
            row.get(5),
        );
        let live = created > claim.now_ms - claim.ttl_ms;
        let abandoned = status.is_none() && locked_until <= claim.now_ms;
        let outcome = if live && !abandoned {
            if stored_fp != claim.fingerprint {
                IdempotencyBegin::Mismatch
            } else {
                IdempotencyBegin::finished(status.map(i64::from), body, session_id)
            }
        } else {
            tx.execute(
                "UPDATE idempotency SET created_ms = $3, fingerprint = $4, status = NULL,
                     body = NULL, session_id = NULL, locked_until_ms = $5
                 WHERE account = $1 AND key = $2",
                &[
                    &claim.account,
                    &claim.key,
                    &claim.now_ms,
                    &claim.fingerprint,
                    &(claim.now_ms + claim.lease_ms),
                ],
            )
            .await
            .map_err(unavailable)?;
            IdempotencyBegin::Started
        };
        tx.commit().await.map_err(unavailable)?;
        Ok(outcome)
    }

    async fn idempotency_complete(
        &self,
        account: &str,
        key: &str,
        status: u16,
        body: &str,
        session_id: Option<&str>,
    ) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                // The shown session's row lock waits for a redaction in progress, and then
                // reads the redacted row: a response rendered before the redaction completed
                // keeps no body.
                "WITH shown AS (SELECT data FROM sessions WHERE id = $5 FOR KEY SHARE)
                 UPDATE idempotency SET status = $3, session_id = $5,
                     body = CASE WHEN EXISTS (SELECT 1 FROM shown
                         WHERE (data::jsonb ->> 'redaction') = 'redacted')
                         THEN NULL ELSE $4 END
                 WHERE account = $1 AND key = $2",
                &[&account, &key, &i32::from(status), &body, &session_id],
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn idempotency_release(&self, account: &str, key: &str) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM idempotency WHERE account = $1 AND key = $2 AND status IS NULL",
                &[&account, &key],
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn prune_idempotency(&self, before_ms: i64, job: &HeldJob) -> Result<Option<usize>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        if !jobs::holds(&tx, job).await? {
            return Ok(None);
        }
        let n = tx
            .execute(
                "DELETE FROM idempotency WHERE created_ms < $1",
                &[&before_ms],
            )
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(Some(n as usize))
    }

    async fn flush_erased(&self) -> Result<bool> {
        // Dead row versions are reclaimed by (auto)vacuum; see docs/scaling.md.
        Ok(true)
    }

    async fn session_by_url_token(&self, token: &str) -> Result<Option<Session>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT s.data FROM page_links l
                 JOIN sessions s ON s.id = l.session_id AND s.account = l.account
                 WHERE l.token = $1",
            )
            .await
            .map_err(unavailable)?;
        let row = client
            .query_opt(&stmt, &[&token])
            .await
            .map_err(unavailable)?;
        row.map(|r| from_json(r.get(0))).transpose()
    }

    async fn put_file(&self, file: &StoredFile) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO files (id, account, session_id, purpose, media_type, size, created,
                     bytes)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &file.id.as_str(),
                    &file.account,
                    &file.session_id.as_str(),
                    &file.purpose,
                    &file.media_type,
                    &(file.bytes.len() as i64),
                    &file.created,
                    &file.bytes,
                ],
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get_file(&self, account: &str, id: &FileId) -> Result<Option<StoredFile>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT session_id, purpose, media_type, created, bytes FROM files
                 WHERE id = $1 AND account = $2",
                &[&id.as_str(), &account],
            )
            .await
            .map_err(unavailable)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let session_id: String = row.get(0);
        let session_id = SessionId::parse(&session_id)
            .ok_or_else(|| StoreError::Unavailable("corrupt file row".into()))?;
        Ok(Some(StoredFile {
            id: id.clone(),
            account: account.to_owned(),
            session_id,
            purpose: row.get(1),
            media_type: row.get(2),
            created: row.get(3),
            bytes: row.get(4),
        }))
    }

    async fn session_counts(
        &self,
        account: &str,
    ) -> Result<Vec<(vouch_domain::session::Status, u64)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT status, COUNT(*) FROM sessions WHERE account = $1 GROUP BY status",
                &[&account],
            )
            .await
            .map_err(unavailable)?;
        Ok(crate::query::session_counts(
            rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
        ))
    }
}
