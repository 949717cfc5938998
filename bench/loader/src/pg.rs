//! PostgreSQL: the rows of `load` go in column arrays, one multi-row insert per table per batch
//! (`INSERT … SELECT * FROM unnest($1::text[], …)`), in one ordinary transaction per batch.
//! Same tables and columns as `PostgresStore::insert_session` (plus `redaction_due_ms` and
//! `version`, as the SQLite loader writes them). Nothing changes the server's settings.

use tokio::runtime::Runtime;
use tokio_postgres::{Client, NoTls};
use vouch_domain::event::Event;
use vouch_domain::session::{Session, WireEnum};

use crate::{Res, Sink, STATS_TABLES};

fn pg(e: tokio_postgres::Error) -> String {
    // tokio-postgres says only "db error" at the top: add the causes.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// A current-thread runtime and one connection driven by it.
fn connect(url: &str) -> Res<(Runtime, Client)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let client = rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(pg)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("vouch-bench-loader: postgres connection: {}", pg(e));
            }
        });
        Ok::<_, String>(client)
    })?;
    Ok((rt, client))
}

#[derive(Default)]
struct Sessions {
    id: Vec<String>,
    account: Vec<String>,
    created: Vec<i64>,
    status: Vec<String>,
    client_reference_id: Vec<Option<String>>,
    related_customer: Vec<Option<String>>,
    related_customer_account: Vec<Option<String>>,
    redaction_due_ms: Vec<Option<i64>>,
    due_ms: Vec<Option<i64>>,
    version: Vec<i64>,
    data: Vec<String>,
}

#[derive(Default)]
struct Links {
    token: Vec<String>,
    account: Vec<String>,
    session_id: Vec<String>,
}

#[derive(Default)]
struct Events {
    id: Vec<String>,
    account: Vec<String>,
    created: Vec<i64>,
    kind: Vec<String>,
    session_id: Vec<String>,
    data: Vec<String>,
}

pub struct PgSink {
    rt: Runtime,
    client: Client,
    sessions: Sessions,
    links: Links,
    events: Events,
}

impl PgSink {
    pub fn open(url: &str) -> Res<PgSink> {
        let (rt, client) = connect(url)?;
        let migrated: bool = rt
            .block_on(client.query_one("SELECT to_regclass('sessions') IS NOT NULL", &[]))
            .map_err(pg)?
            .get(0);
        if !migrated {
            return Err("no sessions table: start vouch on the database once first".into());
        }
        Ok(PgSink {
            rt,
            client,
            sessions: Sessions::default(),
            links: Links::default(),
            events: Events::default(),
        })
    }
}

impl Sink for PgSink {
    fn begin(&mut self) -> Res<()> {
        self.sessions = Sessions::default();
        self.links = Links::default();
        self.events = Events::default();
        Ok(())
    }

    fn session(&mut self, s: &Session, version: i64) -> Res<()> {
        let b = &mut self.sessions;
        b.id.push(s.id.as_str().to_owned());
        b.account.push(s.account.clone());
        b.created.push(s.created);
        b.status.push(s.status.as_str().to_owned());
        b.client_reference_id.push(s.client_reference_id.clone());
        b.related_customer.push(s.related_customer.clone());
        b.related_customer_account
            .push(s.related_customer_account.clone());
        b.redaction_due_ms.push(s.redaction_due_ms);
        b.due_ms.push(s.next_due_ms());
        b.version.push(version);
        b.data
            .push(serde_json::to_string(s).map_err(|e| e.to_string())?);
        Ok(())
    }

    fn link(&mut self, token: &str, account: &str, session_id: &str) -> Res<()> {
        self.links.token.push(token.to_owned());
        self.links.account.push(account.to_owned());
        self.links.session_id.push(session_id.to_owned());
        Ok(())
    }

    fn event(&mut self, e: &Event, data: String) -> Res<()> {
        let b = &mut self.events;
        b.id.push(e.id.as_str().to_owned());
        b.account.push(e.account.clone());
        b.created.push(e.created);
        b.kind.push(e.kind.as_str().to_owned());
        b.session_id.push(e.session.id.as_str().to_owned());
        b.data.push(data);
        Ok(())
    }

    fn commit(&mut self) -> Res<()> {
        let (s, l, e) = (&self.sessions, &self.links, &self.events);
        let client = &mut self.client;
        self.rt.block_on(async {
            let tx = client.transaction().await.map_err(pg)?;
            tx.execute(
                "INSERT INTO sessions (id, account, created, status, client_reference_id,
                     related_customer, related_customer_account, redaction_due_ms, due_ms, version, data)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[])",
                &[
                    &s.id,
                    &s.account,
                    &s.created,
                    &s.status,
                    &s.client_reference_id,
                    &s.related_customer,
                    &s.related_customer_account,
                    &s.redaction_due_ms,
                    &s.due_ms,
                    &s.version,
                    &s.data,
                ],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "INSERT INTO page_links (token, account, session_id)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[])",
                &[&l.token, &l.account, &l.session_id],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "INSERT INTO events (id, account, created, type, session_id, data)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])",
                &[&e.id, &e.account, &e.created, &e.kind, &e.session_id, &e.data],
            )
            .await
            .map_err(pg)?;
            tx.commit().await.map_err(pg)
        })
    }

    fn finish(&mut self) -> Res<()> {
        self.rt
            .block_on(
                self.client
                    .batch_execute("VACUUM (ANALYZE) sessions, page_links, events"),
            )
            .map_err(pg)
    }
}

/// The account's session ids (with `status`, only those), newest first.
pub fn ids(url: &str, account: &str, status: Option<&str>) -> Res<Vec<String>> {
    let (rt, client) = connect(url)?;
    let rows = rt
        .block_on(async {
            match status {
                Some(s) => {
                    client
                        .query(
                            "SELECT id FROM sessions WHERE account = $1 AND status = $2
                             ORDER BY created DESC, seq DESC",
                            &[&account, &s],
                        )
                        .await
                }
                None => {
                    client
                        .query(
                            "SELECT id FROM sessions WHERE account = $1 ORDER BY created DESC, seq DESC",
                            &[&account],
                        )
                        .await
                }
            }
        })
        .map_err(pg)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Row counts of `STATS_TABLES`, then the bytes of vouch's tables (`public` schema: heap,
/// indexes and TOAST; the catalog of an empty database is left out).
pub fn stats(url: &str) -> Res<Vec<i64>> {
    let (rt, client) = connect(url)?;
    let mut out = Vec::new();
    for table in STATS_TABLES {
        let n = rt
            .block_on(client.query_one(&format!("SELECT count(*) FROM {table}"), &[]))
            .map_or(-1, |r| r.get::<_, i64>(0));
        out.push(n);
    }
    let size = rt
        .block_on(client.query_one(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'r' AND n.nspname = 'public'",
            &[],
        ))
        .map_err(pg)?
        .get::<_, i64>(0);
    out.push(size);
    Ok(out)
}
