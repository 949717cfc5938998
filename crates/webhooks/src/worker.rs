//! The outbox worker: leases due deliveries from the store and sends each in its own task.
//!
//! - Concurrency is bounded by a semaphore; each endpoint has at most `per_endpoint` attempts
//!   in flight and gets no new lease while it has any, so a slow or dead endpoint holds only
//!   its own slots and never delays the others.
//! - A test event (the dashboard's "Send test event") is not stored: its event is rebuilt from
//!   the delivery (`vouch_domain::test_event`) and sent like any other.
//! - Every attempt is recorded with the delivery's new state in one transaction; the lease
//!   outlasts the attempt timeout, so in normal operation nothing is sent twice, and a worker
//!   that dies mid-attempt only delays that delivery until its lease runs out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify, Semaphore};
use vouch_domain::webhook::{after_attempt, Attempt, AttemptOutcome, WebhookEndpoint};
use vouch_store::{
    AttemptRecord, ClaimedDelivery, DeliveryClaim, Settle, Store, StoreError, StoredEvent,
};

/// Renders an event's JSON for an endpoint (the endpoint's `api_version`, if any).
pub type Render = Arc<dyn Fn(&StoredEvent, Option<&str>) -> String + Send + Sync>;
/// Unix time in milliseconds.
pub type Now = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How much of a response body an attempt keeps.
const KEEP_BODY_BYTES: usize = 2048;
/// A lease lasts the attempt timeout plus this.
const LEASE_MARGIN_MS: i64 = 30_000;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Waits after the 1st, 2nd, … failed attempt in test mode (ms); then it gives up.
    pub retry_test_ms: Vec<i64>,
    /// The same in live mode.
    pub retry_live_ms: Vec<i64>,
    pub timeout_test: Duration,
    pub timeout_live: Duration,
    /// Attempts in flight at most.
    pub concurrency: usize,
    /// Attempts in flight at most per endpoint.
    pub per_endpoint: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            retry_test_ms: vec![60_000, 300_000, 1_800_000],
            retry_live_ms: vec![60_000, 300_000, 1_800_000, 7_200_000],
            timeout_test: Duration::from_secs(5),
            timeout_live: Duration::from_secs(10),
            concurrency: 32,
            per_endpoint: 4,
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    now: Now,
    render: Render,
    config: WorkerConfig,
    client: reqwest::Client,
    slots: Arc<Semaphore>,
    /// Attempts in flight per endpoint.
    busy: Mutex<HashMap<String, usize>>,
    in_flight: AtomicUsize,
    /// Wakes the run loop when an attempt finishes (a slot and an endpoint are free again).
    finished: Notify,
    /// Wakes `idle` waiters.
    drained: Notify,
}

impl Worker {
    pub fn new(
        store: Arc<dyn Store>,
        now: Now,
        render: Render,
        config: WorkerConfig,
    ) -> Result<Worker, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent("Stripe/1.0 (+https://stripe.com/docs/webhooks)")
            .build()
            .map_err(|e| format!("webhook HTTP client: {e}"))?;
        Ok(Worker {
            inner: Arc::new(Inner {
                store,
                now,
                render,
                slots: Arc::new(Semaphore::new(config.concurrency.max(1))),
                config,
                client,
                busy: Mutex::new(HashMap::new()),
                in_flight: AtomicUsize::new(0),
                finished: Notify::new(),
                drained: Notify::new(),
            }),
        })
    }

    /// Leases the deliveries that are due and starts one attempt each; returns how many.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        let inner = &self.inner;
        let free = inner.slots.available_permits();
        if free == 0 {
            return Ok(0);
        }
        let busy: Vec<String> = lock(&inner.busy).keys().cloned().collect();
        let timeout = inner.config.timeout_test.max(inner.config.timeout_live);
        let claimed = inner
            .store
            .claim_deliveries(DeliveryClaim {
                now_ms: (inner.now)(),
                lease_ms: timeout.as_millis() as i64 + LEASE_MARGIN_MS,
                limit: free,
                per_endpoint: inner.config.per_endpoint.max(1),
                busy: &busy,
            })
            .await?;
        let started = claimed.len();
        for c in claimed {
            let Ok(permit) = inner.slots.clone().acquire_owned().await else {
                break;
            };
            let endpoint = c.delivery.endpoint_id.to_string();
            *lock(&inner.busy).entry(endpoint.clone()).or_default() += 1;
            inner.in_flight.fetch_add(1, Ordering::SeqCst);
            let worker = self.clone();
            tokio::spawn(async move {
                worker.deliver(c).await;
                drop(permit);
                let inner = &worker.inner;
                {
                    let mut busy = lock(&inner.busy);
                    if let Some(n) = busy.get_mut(&endpoint) {
                        *n -= 1;
                        if *n == 0 {
                            busy.remove(&endpoint);
                        }
                    }
                }
                inner.in_flight.fetch_sub(1, Ordering::SeqCst);
                inner.finished.notify_one();
                inner.drained.notify_waiters();
            });
        }
        Ok(started)
    }

    /// Waits until every started attempt has finished.
    pub async fn idle(&self) {
        loop {
            let drained = self.inner.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if self.inner.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            drained.await;
        }
    }

    /// Ticks every `poll` (and whenever an attempt finishes) until `stop` turns true, then
    /// lets the attempts in flight finish.
    pub async fn run(self, poll: Duration, mut stop: watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.tick().await {
                tracing::error!(target: "vouch::webhooks", error = %e, "claiming deliveries");
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = self.inner.finished.notified() => {}
                _ = stop.changed() => break,
            }
        }
        let grace = self
            .inner
            .config
            .timeout_live
            .max(self.inner.config.timeout_test);
        let _ = tokio::time::timeout(grace + Duration::from_secs(1), self.idle()).await;
    }

    async fn deliver(&self, c: ClaimedDelivery) {
        let inner = &self.inner;
        let test = c.event.is_none().then(|| test_event(&c)).flatten();
        let (event, endpoint) = match (c.event.as_ref().or(test.as_ref()), &c.endpoint) {
            (Some(ev), Some(ep)) if !ep.disabled => (ev, ep),
            // The endpoint was deleted or disabled (or the event pruned) after the row was
            // written: nothing to send.
            _ => {
                self.settle(&c, None, Settle::Canceled).await;
                return;
            }
        };
        let attempt = self.send(event, endpoint).await;
        let schedule = if endpoint.livemode {
            &inner.config.retry_live_ms
        } else {
            &inner.config.retry_test_ms
        };
        let settle = match after_attempt(&attempt, c.delivery.attempts, schedule, (inner.now)()) {
            AttemptOutcome::Succeeded => Settle::Succeeded,
            AttemptOutcome::RetryAt(t) => Settle::RetryAt(t),
            AttemptOutcome::GaveUp => Settle::Failed,
        };
        tracing::info!(
            target: "vouch::webhooks",
            delivery = %c.delivery.id,
            event = %c.delivery.event_id,
            event_type = %c.delivery.event_type,
            endpoint = %c.delivery.endpoint_id,
            attempt = c.delivery.attempts + 1,
            status = attempt.status,
            latency_ms = attempt.latency_ms,
            error = attempt.error.as_deref().unwrap_or(""),
            outcome = ?settle,
            "webhook attempt"
        );
        self.settle(&c, Some(&attempt), settle).await;
    }

    async fn settle(&self, c: &ClaimedDelivery, attempt: Option<&Attempt>, settle: Settle) {
        let record = AttemptRecord {
            delivery: &c.delivery,
            lease_until_ms: c.lease_until_ms,
            attempt,
            settle,
        };
        match self.inner.store.record_attempt(record).await {
            Ok(true) => {}
            Ok(false) => tracing::info!(
                target: "vouch::webhooks",
                delivery = %c.delivery.id,
                "delivery changed during the attempt (endpoint disabled or deleted, or lease lost)"
            ),
            // The lease runs out and the delivery is tried again.
            Err(e) => tracing::error!(
                target: "vouch::webhooks",
                delivery = %c.delivery.id,
                error = %e,
                "recording a webhook attempt"
            ),
        }
    }

    /// One POST of the event, signed now; never longer than the mode's timeout.
    async fn send(&self, event: &StoredEvent, endpoint: &WebhookEndpoint) -> Attempt {
        let inner = &self.inner;
        let body = (inner.render)(event, endpoint.api_version.as_deref());
        let at_ms = (inner.now)();
        let signature =
            crate::sign::header(&endpoint.secret, at_ms.div_euclid(1000), body.as_bytes());
        let timeout = if endpoint.livemode {
            inner.config.timeout_live
        } else {
            inner.config.timeout_test
        };
        let started = Instant::now();
        let request = inner
            .client
            .post(&endpoint.url)
            .header("content-type", "application/json; charset=utf-8")
            .header("stripe-signature", signature)
            .body(body);
        let result = tokio::time::timeout(timeout, async {
            let mut resp = request.send().await?;
            let status = resp.status().as_u16();
            let mut kept = Vec::new();
            while kept.len() < KEEP_BODY_BYTES {
                match resp.chunk().await? {
                    Some(chunk) => kept.extend_from_slice(&chunk),
                    None => break,
                }
            }
            kept.truncate(KEEP_BODY_BYTES);
            Ok::<_, reqwest::Error>((status, kept))
        })
        .await;
        let latency_ms = started.elapsed().as_millis() as i64;
        let (status, error, response_body) = match result {
            Ok(Ok((status, body))) => {
                let error = (300..400)
                    .contains(&status)
                    .then(|| "redirects are not followed".to_owned());
                let text = String::from_utf8_lossy(&body).into_owned();
                (Some(status), error, (!text.is_empty()).then_some(text))
            }
            Ok(Err(e)) => (None, Some(describe(&e)), None),
            Err(_) => (
                None,
                Some(format!("timed out after {} ms", timeout.as_millis())),
                None,
            ),
        };
        Attempt {
            at_ms,
            status,
            latency_ms,
            error,
            response_body,
        }
    }
}

/// The test event a delivery carries (`vouch_domain::test_event`), rebuilt from the delivery:
/// it is never stored. `None` for any other delivery.
fn test_event(c: &ClaimedDelivery) -> Option<StoredEvent> {
    use vouch_domain::WireEnum;
    let endpoint = c.endpoint.as_ref()?;
    let kind = vouch_domain::event::EventType::from_wire(&c.delivery.event_type)?;
    let event = vouch_domain::test_event::build(
        &c.delivery.event_id,
        &c.delivery.account,
        endpoint.livemode,
        kind,
    )?;
    // This delivery is the event's one webhook, pending while it is sent.
    Some(StoredEvent {
        event,
        pending_webhooks: 1,
    })
}

/// A transport error in words, without the URL (it may carry credentials).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "connection failed"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "reading the response failed"
    } else {
        "request failed"
    };
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    match causes.last() {
        Some(root) => format!("{kind}: {root}"),
        None => kind.to_owned(),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
