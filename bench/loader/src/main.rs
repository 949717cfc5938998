//! `vouch-bench-loader`: the helper binary of `bench/run.sh`.
//!
//! ```text
//! vouch-bench-loader load    --db PATH|URL --key KEY --count N [--cref-every 100] [--cancel-every 10]
//!                            [--span-days 365] [--event-retention-days 30] [--batch 50000] [--seed 42]
//! vouch-bench-loader ids     --db PATH|URL --key KEY [--status S] [--newest N] [--limit N] [--shuffle] --out FILE
//! vouch-bench-loader stats   --db PATH|URL
//! vouch-bench-loader startup --runs N --url http://HOST:PORT/healthz -- CMD [ARGS...]
//! ```
//!
//! `load` appends N sessions to a database that vouch has already migrated (start vouch on it
//! once). Every row is what vouch itself would have written: the session comes from
//! `vouch_domain::transition::create` (and `Cancel` for every `--cancel-every`-th one), its JSON
//! is `serde_json` of the domain `Session`, and its `created` (and `canceled`) events are
//! inserted too, exactly like `SqliteStore::insert_session` / `save_session` — except events
//! older than `--event-retention-days` (vouch's `event_retention`, 30 days by default): vouch
//! deletes those itself, so a long-running vouch holds sessions of all ages but only recent
//! events, and that steady state is what gets loaded (0 keeps every event). `created` is
//! spread evenly over the last `--span-days`; every `--cref-every`-th session gets a
//! `client_reference_id` `user_<k>` from a pool of `max(1, N / 1000)` values, so each value
//! matches about ten sessions whatever N is.
//! Sessions left in `requires_input` carry links minted at load time (as a retrieve would leave
//! them), with their `page_links` rows, so the benchmark's retrieve is the read it means to be.
//!
//! `--db` is a SQLite file or a `postgres://` URL of a database vouch has migrated. The same
//! seed gives the same sessions on both. SQLite is loaded in bulk mode (no journal, no fsync;
//! WAL restored at the end); PostgreSQL with ordinary transactions of `--batch` (default 5,000)
//! sessions, multi-row `INSERT … SELECT FROM unnest(…)` into the same columns, then
//! `VACUUM (ANALYZE)` of the loaded tables (the state autovacuum would soon reach; the server's
//! settings are left alone).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rusqlite::{params, Connection};
use sha2::{Digest, Sha256};
use vouch_domain::event::{Event, RequestInfo};
use vouch_domain::session::{Account, Session, SessionType, WireEnum};
use vouch_domain::transition::{self, Command as DomainCommand, Ctx, MetadataPatch, NewSession};

/// The PostgreSQL side of `load`, `ids` and `stats`.
mod pg;

type Res<T> = Result<T, String>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("load") => load(&Opts::parse(&args[1..])),
        Some("ids") => ids(&Opts::parse(&args[1..])),
        Some("stats") => stats(&Opts::parse(&args[1..])),
        Some("startup") => startup(&args[1..]),
        _ => Err("usage: vouch-bench-loader load|ids|stats|startup ... (see src/main.rs)".into()),
    };
    if let Err(e) = result {
        eprintln!("vouch-bench-loader: {e}");
        std::process::exit(1);
    }
}

/// `--name value` pairs and bare `--flag`s.
struct Opts(Vec<(String, Option<String>)>);

impl Opts {
    fn parse(args: &[String]) -> Opts {
        let mut out = Vec::new();
        let mut it = args.iter().peekable();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                let value = match it.peek() {
                    Some(v) if !v.starts_with("--") => it.next().cloned(),
                    _ => None,
                };
                out.push((name.to_owned(), value));
            }
        }
        Opts(out)
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
    fn req(&self, name: &str) -> Res<&str> {
        self.get(name).ok_or_else(|| format!("--{name} is required"))
    }
    fn num(&self, name: &str, default: u64) -> Res<u64> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{name}: not a number: {v}")),
        }
    }
}

/// vouch's account id for a key (crates/api/src/state.rs `account_id`).
fn account_for(key: &str) -> Account {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    Account {
        id: format!("acct_{hex}"),
        livemode: key.starts_with("sk_live_"),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn sql(e: rusqlite::Error) -> String {
    e.to_string()
}

/// Where `--db` points: a SQLite file, or a `postgres://` URL (a database vouch has migrated).
enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

fn db_arg(o: &Opts) -> Res<Db> {
    let db = o.req("db")?;
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        Ok(Db::Postgres(db.to_owned()))
    } else {
        Ok(Db::Sqlite(PathBuf::from(db)))
    }
}

/// Where `load` writes its rows: one transaction per batch, rows exactly as vouch's store
/// writes them (same tables, same columns).
trait Sink {
    fn begin(&mut self) -> Res<()>;
    fn session(&mut self, s: &Session, version: i64) -> Res<()>;
    fn link(&mut self, token: &str, account: &str, session_id: &str) -> Res<()>;
    fn event(&mut self, e: &Event, data: String) -> Res<()>;
    fn commit(&mut self) -> Res<()>;
    /// After the last batch.
    fn finish(&mut self) -> Res<()>;
}

/// SQLite in bulk mode: no journal, no fsync, a big page cache; WAL (what vouch uses) is
/// restored at the end. Safe because nothing else has the file open while we load.
struct SqliteSink(Connection);

impl SqliteSink {
    fn open(db: &PathBuf) -> Res<SqliteSink> {
        if !db.exists() {
            return Err(format!(
                "{} does not exist: start vouch on it once so it is migrated",
                db.display()
            ));
        }
        let conn = Connection::open(db).map_err(sql)?;
        let migrated: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions')",
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        if !migrated {
            return Err("no sessions table: start vouch on the database once first".into());
        }
        conn.execute_batch(
            "PRAGMA journal_mode = DELETE;
             PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA cache_size = -1048576;",
        )
        .map_err(sql)?;
        Ok(SqliteSink(conn))
    }
}

impl Sink for SqliteSink {
    fn begin(&mut self) -> Res<()> {
        self.0.execute_batch("BEGIN").map_err(sql)
    }
    fn session(&mut self, s: &Session, version: i64) -> Res<()> {
        let data = serde_json::to_string(s).map_err(|e| e.to_string())?;
        self.0
            .prepare_cached(
                "INSERT INTO sessions (id, account, created, status, client_reference_id,
                     related_customer, related_customer_account, redaction_due_ms, due_ms, version, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(sql)?
            .execute(params![
                s.id.as_str(),
                s.account,
                s.created,
                s.status.as_str(),
                s.client_reference_id,
                s.related_customer,
                s.related_customer_account,
                s.redaction_due_ms,
                s.next_due_ms(),
                version,
                data
            ])
            .map_err(sql)?;
        Ok(())
    }
    fn link(&mut self, token: &str, account: &str, session_id: &str) -> Res<()> {
        self.0
            .prepare_cached("INSERT INTO page_links (token, account, session_id) VALUES (?1, ?2, ?3)")
            .map_err(sql)?
            .execute(params![token, account, session_id])
            .map_err(sql)?;
        Ok(())
    }
    fn event(&mut self, e: &Event, data: String) -> Res<()> {
        self.0
            .prepare_cached(
                "INSERT INTO events (id, account, created, type, session_id, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(sql)?
            .execute(params![
                e.id.as_str(),
                e.account,
                e.created,
                e.kind.as_str(),
                e.session.id.as_str(),
                data
            ])
            .map_err(sql)?;
        Ok(())
    }
    fn commit(&mut self) -> Res<()> {
        self.0.execute_batch("COMMIT").map_err(sql)
    }
    fn finish(&mut self) -> Res<()> {
        self.0
            .execute_batch(
                "PRAGMA locking_mode = NORMAL;
                 PRAGMA journal_mode = WAL;",
            )
            .map_err(sql)?;
        // Leaving exclusive mode takes effect at the next access; make sure the lock is dropped.
        self.0
            .query_row("SELECT count(*) FROM settings", [], |_| Ok(()))
            .map_err(sql)
    }
}

fn load(o: &Opts) -> Res<()> {
    let db = db_arg(o)?;
    let account = account_for(o.req("key")?);
    let count = o.num("count", 1_000_000)?;
    let cref_every = o.num("cref-every", 100)?.max(1);
    let cancel_every = o.num("cancel-every", 10)?;
    let span_ms = o.num("span-days", 365)? as i64 * 86_400_000;
    let retention_ms = o.num("event-retention-days", 30)? as i64 * 86_400_000;
    let default_batch = if matches!(db, Db::Postgres(_)) { 5_000 } else { 50_000 };
    let batch = o.num("batch", default_batch)?.max(1);
    let seed = o.num("seed", 42)?;
    let pool = (count / 1000).max(1);
    let mut sink: Box<dyn Sink> = match &db {
        Db::Sqlite(path) => Box::new(SqliteSink::open(path)?),
        Db::Postgres(url) => Box::new(pg::PgSink::open(url)?),
    };

    let mut rng = StdRng::seed_from_u64(seed);
    let load_now_ms = now_ms();
    let end_ms = load_now_ms - 60_000;
    let start_ms = end_ms - span_ms;
    let events_from_s = if retention_ms > 0 { (end_ms - retention_ms) / 1000 } else { i64::MIN };
    let started = Instant::now();
    let mut done: u64 = 0;
    let mut events: u64 = 0;
    while done < count {
        let n = batch.min(count - done);
        sink.begin()?;
        for i in done..done + n {
            let t_ms = start_ms + ((span_ms as i128 * i as i128) / count as i128) as i64;
            let client_reference_id =
                (i % cref_every == 0).then(|| format!("user_{}", (i / cref_every) % pool));
            let new = NewSession {
                kind: Some(SessionType::Document),
                client_reference_id,
                metadata: Some(MetadataPatch::Set(vec![(
                    "k".to_owned(),
                    Some(format!("v{i}")),
                )])),
                ..NewSession::default()
            };
            let mut ctx = Ctx {
                now_ms: t_ms,
                request: RequestInfo {
                    id: Some(format!("req_bulk{i:010}")),
                    idempotency_key: None,
                },
                rng: &mut rng,
            };
            let (mut session, created_event) =
                transition::create(&account, new, &mut ctx).map_err(|e| format!("{e:?}"))?;
            let mut evs: Vec<Event> = vec![created_event];
            // Version 2: every session went through one change after its creation.
            let version = 2;
            if cancel_every > 0 && i % cancel_every == cancel_every - 1 {
                ctx.now_ms = t_ms + 30_000;
                let outcome = transition::transition(session, DomainCommand::Cancel, &mut ctx)
                    .map_err(|e| format!("{e:?}"))?;
                session = outcome.session;
                evs.extend(outcome.events);
            } else {
                // The state a retrieve leaves behind: links minted now, so `retrieve` in
                // the benchmark measures the read path (a retrieve of a session whose
                // links expired mints fresh ones: a write, once per 24 h per session).
                ctx.now_ms = load_now_ms;
                session = transition::transition(session, DomainCommand::RefreshSecrets, &mut ctx)
                    .map_err(|e| format!("{e:?}"))?
                    .session;
            }
            sink.session(&session, version)?;
            if let Some(token) = &session.url_token {
                sink.link(token, &session.account, session.id.as_str())?;
            }
            for e in evs.iter().filter(|e| e.created >= events_from_s) {
                let data = serde_json::to_string(e).map_err(|e| e.to_string())?;
                sink.event(e, data)?;
                events += 1;
            }
        }
        sink.commit()?;
        done += n;
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "  loaded {done}/{count} sessions ({:.0}/s, {secs:.1} s)",
            done as f64 / secs
        );
    }
    sink.finish()?;
    drop(sink);
    println!(
        "loaded {count} sessions and {events} events (none older than the event retention) in {:.1} s (client_reference_id pool {pool})",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes session ids, one a line (newest first, or shuffled).
fn ids(o: &Opts) -> Res<()> {
    let account = account_for(o.req("key")?);
    let out = o.req("out")?;
    let limit = o.num("limit", u64::MAX >> 1)?;
    let status = o.get("status");
    let mut ids: Vec<String> = match db_arg(o)? {
        Db::Sqlite(path) => {
            let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(sql)?;
            conn.busy_timeout(Duration::from_secs(5)).map_err(sql)?;
            let (q, status) = match status {
                Some(s) => (
                    "SELECT id FROM sessions WHERE account = ?1 AND status = ?2 ORDER BY created DESC, seq DESC",
                    s.to_owned(),
                ),
                None => (
                    "SELECT id FROM sessions WHERE account = ?1 AND ?2 = ?2 ORDER BY created DESC, seq DESC",
                    String::new(),
                ),
            };
            let mut stmt = conn.prepare(q).map_err(sql)?;
            let rows = stmt
                .query_map(params![account.id, status], |r| r.get::<_, String>(0))
                .map_err(sql)?;
            rows.collect::<rusqlite::Result<_>>().map_err(sql)?
        }
        Db::Postgres(url) => pg::ids(&url, &account.id, status)?,
    };
    // --newest N: only the N newest (the list is newest first), then shuffled; --limit N
    // keeps N of the shuffled list (N random ones among all).
    ids.truncate(o.num("newest", u64::MAX >> 1)? as usize);
    if o.has("shuffle") {
        ids.shuffle(&mut StdRng::seed_from_u64(7));
    }
    ids.truncate(limit as usize);
    let mut f = std::io::BufWriter::new(std::fs::File::create(out).map_err(|e| e.to_string())?);
    for id in &ids {
        writeln!(f, "{id}").map_err(|e| e.to_string())?;
    }
    f.flush().map_err(|e| e.to_string())?;
    println!("{}", ids.len());
    Ok(())
}

const STATS_TABLES: [&str; 3] = ["sessions", "events", "idempotency"];

/// `sessions events idempotency` row counts, one line; for PostgreSQL a fourth field, the
/// bytes of vouch's tables with their indexes and TOAST.
fn stats(o: &Opts) -> Res<()> {
    let out = match db_arg(o)? {
        Db::Sqlite(path) => {
            let conn =
                Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .map_err(sql)?;
            conn.busy_timeout(Duration::from_secs(5)).map_err(sql)?;
            let mut out = Vec::new();
            for table in STATS_TABLES {
                let n: i64 = conn
                    .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                    .unwrap_or(-1);
                out.push(n);
            }
            out
        }
        Db::Postgres(url) => pg::stats(&url)?,
    };
    let out: Vec<String> = out.iter().map(i64::to_string).collect();
    println!("{}", out.join(" "));
    Ok(())
}

/// Start-up time: from spawning CMD to the first 200 from URL (polled every 2 ms), N times.
/// Each run is stopped with SIGTERM and waited for. Prints one line per run and the median.
fn startup(args: &[String]) -> Res<()> {
    let split = args
        .iter()
        .position(|a| a == "--")
        .ok_or("startup: missing -- CMD")?;
    let o = Opts::parse(&args[..split]);
    let cmd = &args[split + 1..];
    let runs = o.num("runs", 5)?.max(1);
    let url = o.req("url")?;
    let rest = url.strip_prefix("http://").ok_or("startup: --url must be http://")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = format!("/{path}");
    let program = cmd.first().ok_or("startup: empty command")?;
    if TcpStream::connect(host).is_ok() {
        return Err(format!("startup: something already listens on {host}"));
    }
    let mut times = Vec::new();
    for run in 1..=runs {
        let t0 = Instant::now();
        let mut child = Command::new(program)
            .args(&cmd[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("startup: {program}: {e}"))?;
        let ready = loop {
            if healthy(host, &path) {
                break Some(t0.elapsed());
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("startup: server exited early: {status}"));
            }
            if t0.elapsed() > Duration::from_secs(60) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
        // Wait for the port to be released before the next run.
        let t = Instant::now();
        while TcpStream::connect(host).is_ok() && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let ready = ready.ok_or("startup: not healthy within 60 s")?;
        let ms = ready.as_secs_f64() * 1000.0;
        println!("run {run}: {ms:.1} ms");
        times.push(ms);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "median {:.1} ms min {:.1} ms max {:.1} ms",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    Ok(())
}

fn healthy(host: &str, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(host) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut line = String::new();
    let mut r = BufReader::new(&mut s);
    r.read_line(&mut line).is_ok() && line.split_whitespace().nth(1) == Some("200")
}
