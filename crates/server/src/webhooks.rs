//! Wiring of event delivery: the outbox worker (rendering events with the API's renderer)
//! and the pruning of events past their retention, both stopped with the server.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use vouch_api::AppState;
use vouch_webhooks::{Now, Render, Worker, WorkerConfig};

use crate::webhook_config::WebhookSettings;

/// Starts the delivery worker and the event pruner; both end when `stop` turns true.
pub fn spawn(
    state: &AppState,
    settings: &WebhookSettings,
    stop: watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<()>>, String> {
    let clock = state.clock.clone();
    let now: Now = Arc::new(move || clock.now_ms());
    let config = state.config.clone();
    let render: Render = Arc::new(move |event, api_version| {
        let version = api_version.unwrap_or(&config.default_api_version);
        vouch_api::render_webhooks::event(event, version, &config.public_url).to_string()
    });
    let worker = Worker::new(
        state.store.clone(),
        now,
        render,
        WorkerConfig {
            retry_test_ms: settings.retry_test_ms.clone(),
            retry_live_ms: settings.retry_live_ms.clone(),
            timeout_test: settings.timeout_test,
            timeout_live: settings.timeout_live,
            concurrency: settings.concurrency,
            per_endpoint: 4,
        },
    )?;
    let delivering = tokio::spawn(worker.run(settings.poll_interval, stop.clone()));
    let pruning = tokio::spawn(prune_events(
        state.clone(),
        settings.event_retention_ms,
        stop,
    ));
    Ok(vec![delivering, pruning])
}

/// Deletes events older than the retention (with their deliveries) every few seconds, when no
/// other node is pruning them.
async fn prune_events(state: AppState, retention_ms: i64, mut stop: watch::Receiver<bool>) {
    loop {
        match vouch_api::jobs::prune_events_tick(&state, retention_ms).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(target: "vouch::webhooks", pruned = n, "events past retention deleted")
            }
            Err(e) => tracing::error!(target: "vouch::webhooks", error = ?e, "pruning events"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5).min(Duration::from_millis(retention_ms.max(1).unsigned_abs()))) => {}
            _ = stop.changed() => return,
        }
    }
}
