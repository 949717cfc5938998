//! `vouch`: a Stripe Identity-compatible verification server in one binary.

mod cli;
mod config;
mod dashboard_config;
mod faults_config;
mod listen;
mod test_mode_config;
mod webhook_config;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use tokio::sync::watch;
use vouch_api::{ApiConfig, AppState, Clock, KeyRing, OffsetClock, SystemClock};
use vouch_domain::ids::random_alnum;
use vouch_store::{PostgresStore, SqliteStore, Store};

use config::{Config, Database, LogFormat, ServeArgs};

/// mimalloc instead of the system allocator: vouch allocates many small, short-lived buffers
/// per request (forms, JSON, SQL rows); glibc's malloc/free cost a fifth of a request's
/// instructions (measured with callgrind; docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Setting under which a generated test key is kept.
const GENERATED_KEY: &str = "generated_test_key";

#[derive(Parser)]
#[command(
    name = "vouch",
    version,
    about = "A self-hostable, Stripe Identity-compatible verification server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Print the commented default configuration.
    Config,
    /// Run the database migrations and exit (`vouch serve` also runs them at start).
    Migrate(ServeArgs),
    /// Forward a running vouch's events to a local URL, like `stripe listen`.
    Listen(listen::ListenArgs),
    /// Sessions of a running vouch: list, show, verify, unverify, cancel, redact.
    Sessions(cli::sessions::SessionsArgs),
    /// Events of a running vouch: tail.
    Events(cli::events::EventsArgs),
    /// Webhook endpoints and deliveries of a running vouch: list, deliveries, resend.
    Webhooks(cli::webhooks::WebhooksArgs),
    /// Secret keys of a running vouch: create, list, revoke.
    Keys(cli::keys::KeysArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(cli::CompletionsArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Config => {
            print!("{}", config::DEFAULTS);
            std::process::ExitCode::SUCCESS
        }
        Command::Serve(args) => run(args, |config| Box::pin(serve(config))),
        Command::Listen(args) => listen::run(args),
        Command::Sessions(args) => cli::run(cli::sessions::run(args)),
        Command::Events(args) => cli::run(cli::events::run(args)),
        Command::Webhooks(args) => cli::run(cli::webhooks::run(args)),
        Command::Keys(args) => cli::run(cli::keys::run(args)),
        Command::Completions(args) => cli::completions(&args, Cli::command()),
        Command::Migrate(args) => run(args, |config| {
            Box::pin(async move {
                open_store(&config).await?;
                println!("vouch: migrations applied to {}", config.database);
                Ok(())
            })
        }),
    }
}

type Task = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>>>>;

fn run(args: ServeArgs, task: impl FnOnce(Config) -> Task) -> std::process::ExitCode {
    let result = Config::resolve(args).and_then(|config| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"))?;
        runtime.block_on(task(config))
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vouch: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Opens the configured store and runs its migrations.
async fn open_store(config: &Config) -> Result<Arc<dyn Store>, String> {
    Ok(match &config.database {
        Database::Sqlite(path) => {
            let (path, cache) = (path.clone(), config.session_cache_bytes);
            let opened = tokio::task::spawn_blocking(move || SqliteStore::open_with(&path, cache))
                .await
                .map_err(|e| e.to_string())?;
            Arc::new(opened.map_err(|e| format!("database: {e}"))?)
        }
        Database::Postgres(url) => Arc::new(
            PostgresStore::connect(url, config.database_pool_size)
                .await
                .map_err(|e| format!("database: {e}"))?,
        ),
    })
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VOUCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
}

async fn serve(config: Config) -> Result<(), String> {
    init_logging(config.log_format);
    let addr = config.listen_addr()?;
    let store = open_store(&config).await?;

    let mut keys = config.api_keys.clone();
    let generated = if keys.is_empty() {
        let fresh = format!("sk_test_{}", random_alnum(&mut rand::thread_rng(), 32));
        let key = store
            .put_setting_if_absent(GENERATED_KEY, &fresh)
            .await
            .map_err(|e| format!("database: {e}"))?;
        keys.push(key);
        true
    } else {
        false
    };
    let mut keyring = KeyRing::new(keys.iter().map(String::as_str))?;
    if let (true, Some(key)) = (generated, keys.last()) {
        keyring.set_generated(key);
    }

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let base_url = format!("http://{local}");
    let api_config = ApiConfig {
        public_url: config
            .public_url
            .clone()
            .unwrap_or_else(|| base_url.clone()),
        redaction_delay_ms: config.redaction_delay_ms,
        max_body_bytes: config.max_body_bytes,
        body_read_timeout_ms: config.client_timeout_ms.unsigned_abs(),
        test_person: config.test_mode.person.clone(),
        test_processing_delay_ms: config.test_mode.processing_delay_ms,
        faults: config.faults.clone(),
        node_id: vouch_api::state::new_node_id(),
        job_lease_ms: config.job_lease_ms,
        access_log: match config.log_format {
            LogFormat::Json => vouch_api::access_log::AccessLogFormat::Json,
            LogFormat::Text => vouch_api::access_log::AccessLogFormat::Text,
        },
        ..ApiConfig::default()
    };
    let clock: Arc<dyn Clock> = match config.clock_offset_ms {
        0 => Arc::new(SystemClock),
        offset_ms => {
            tracing::warn!(
                offset_ms,
                "the clock is shifted (--clock-offset, a testing extension): links, secrets, \
                 redactions and events all run ahead of real time"
            );
            Arc::new(OffsetClock { offset_ms })
        }
    };
    let access_log = Arc::new(vouch_api::access_log::AccessLog::new(api_config.access_log));
    let state = AppState::new(vouch_api::state::Shared {
        access_log: access_log.clone(),
        store,
        clock,
        keys: Arc::new(keyring),
        config: Arc::new(api_config),
        limiter: Arc::default(),
    });

    print_banner(&base_url, &config, &keys, generated);

    let (stop_tx, stop_rx) = watch::channel(false);
    let delivery = webhooks::spawn(&state, &config.webhooks, stop_rx.clone())?;
    let worker = tokio::spawn(background_worker(state.clone(), stop_rx));
    let page = vouch_web::PageConfig {
        max_image_bytes: config.max_image_bytes,
        verifier: Arc::new(vouch_domain::checks::BuiltinVerifier {
            min_age: config.min_age,
        }),
    };
    let dashboard = vouch_web::dashboard::DashboardConfig {
        operator_password: config.dashboard_password.clone(),
    };
    let app = vouch_api::router(state.clone())
        .merge(vouch_web::dashboard::router(state.clone(), dashboard))
        .merge(vouch_web::router(state, page));
    tracing::info!(address = %local, "listening");
    let header_timeout = Duration::from_millis(config.client_timeout_ms.unsigned_abs());
    let log_flusher = tokio::spawn(flush_access_log(access_log.clone(), stop_tx.subscribe()));
    serve_http(listener, app, header_timeout).await;
    let _ = stop_tx.send(true);
    let _ = log_flusher.await;
    access_log.flush();
    let _ = worker.await;
    for task in delivery {
        let _ = task.await;
    }
    tracing::info!("stopped");
    Ok(())
}

fn print_banner(base_url: &str, config: &Config, keys: &[String], generated: bool) {
    let test_key = keys.iter().find(|k| k.starts_with("sk_test_"));
    let mut out = format!(
        "vouch {} listening on {base_url}\n",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(&format!("  database   {}\n", config.database));
    match test_key {
        Some(k) if generated => out.push_str(&format!(
            "  test key   {k}  (generated on first start, kept in the database)\n"
        )),
        Some(k) => out.push_str(&format!("  test key   {k}\n")),
        None => out.push_str("  test key   none configured (live keys only)\n"),
    }
    if config.clock_offset_ms != 0 {
        out.push_str(&format!(
            "  clock      SHIFTED {}s ahead of real time (--clock-offset; testing only)\n",
            config.clock_offset_ms.div_euclid(1000)
        ));
    }
    let live = keys.iter().filter(|k| k.starts_with("sk_live_")).count();
    if live > 0 {
        out.push_str(&format!("  live keys  {live} configured\n"));
    }
    let key = test_key.map_or("sk_test_…", String::as_str);
    let (host, port) = base_url
        .trim_start_matches("http://")
        .rsplit_once(':')
        .unwrap_or(("127.0.0.1", "12111"));
    out.push_str(&format!(
        "  python     stripe.api_key = \"{key}\"; stripe.api_base = \"{base_url}\"\n"
    ));
    out.push_str(&format!(
        "  node       new Stripe(\"{key}\", {{host: \"{host}\", port: {port}, protocol: \"http\"}})\n"
    ));
    out.push_str(&format!(
        "  curl       curl {base_url}/v1/identity/verification_sessions -u {key}: -d type=document\n"
    ));
    print!("{out}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

/// Writes the waiting request log lines every few milliseconds, until told to stop.
async fn flush_access_log(
    log: Arc<vouch_api::access_log::AccessLog>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick =
        tokio::time::interval(Duration::from_millis(vouch_api::access_log::FLUSH_EVERY_MS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => log.flush(),
            _ = stop.changed() => return,
        }
    }
}

/// Claims and runs due work (delayed outcomes, redactions) every 200 ms, and prunes expired
/// idempotency keys every minute (when no other node is pruning them), until told to stop.
async fn background_worker(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut round: u64 = 0;
    let mut flush_pending = false;
    loop {
        if let Err(e) = vouch_api::jobs::due_tick(&state, &mut flush_pending).await {
            tracing::error!(error = ?e, "due-work worker");
        }
        if round.is_multiple_of(300) {
            if let Err(e) = vouch_api::jobs::prune_tick(&state).await {
                tracing::error!(error = ?e, "idempotency pruning");
            }
        }
        round = round.wrapping_add(1);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// How long in-flight requests may take to finish once shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Accepts HTTP/1.1 connections until SIGINT/SIGTERM, then drains in-flight requests.
/// (hyper's builder, rather than `axum::serve`, so slow clients are cut off.)
async fn serve_http(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    header_timeout: Duration,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: back off briefly.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(app.clone());
                let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection closed with an error");
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown: some requests did not finish within the drain timeout");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
