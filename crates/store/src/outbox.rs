//! Events, webhook endpoints and the delivery outbox: the types of the `Store` methods and the
//! SQL both backends share (written with `?`; PostgreSQL numbers them with `numbered`).

use async_trait::async_trait;
use vouch_domain::event::Event;
use vouch_domain::ids::{DeliveryId, EventId, WebhookEndpointId};
use vouch_domain::webhook::{Attempt, Delivery, DeliveryState, WebhookEndpoint};

use crate::query::{Arg, Position};
use crate::{CreatedRange, Cursor, HeldJob, Page, Result};

/// Events, webhook endpoints and the delivery outbox. Both backends insert, in the same
/// transaction as a session's events, one pending delivery per enabled endpoint of the account
/// that accepts the event's type: nothing is committed without its deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn get_event(&self, account: &str, id: &EventId) -> Result<Option<StoredEvent>>;
    /// `Err(NotFound)` when the cursor names no event of this account.
    async fn list_events(
        &self,
        account: &str,
        filter: &EventFilter,
        cursor: Option<&Cursor<EventId>>,
        limit: usize,
    ) -> Result<Page<StoredEvent>>;
    /// Deletes events created (unix seconds) before `before`, with their deliveries, and the
    /// deliveries of test events (which are not stored) created before then, if `job` (a
    /// [`crate::PRUNE_EVENTS`] lease) is still held; how many events it deleted, `None` when
    /// the lease is not held.
    async fn prune_events(&self, before: i64, job: &HeldJob) -> Result<Option<usize>>;

    /// Inserts unless the account already has `max` endpoints.
    async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        max: usize,
    ) -> Result<EndpointInsert>;
    async fn get_webhook_endpoint(
        &self,
        account: &str,
        id: &WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>>;
    /// Saves a changed endpoint; a disabled one has its pending deliveries canceled in the
    /// same transaction. False when it no longer exists.
    async fn update_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<bool>;
    /// Deletes an endpoint and cancels its pending deliveries. False when it did not exist.
    async fn delete_webhook_endpoint(&self, account: &str, id: &WebhookEndpointId) -> Result<bool>;
    /// `Err(NotFound)` when the cursor names no endpoint of this account.
    async fn list_webhook_endpoints(
        &self,
        account: &str,
        cursor: Option<&Cursor<WebhookEndpointId>>,
        limit: usize,
    ) -> Result<Page<WebhookEndpoint>>;

    /// Leases due deliveries to this worker (at most `per_endpoint` per endpoint, none of the
    /// `busy` endpoints); a lease that runs out makes the delivery due again.
    async fn claim_deliveries(&self, claim: DeliveryClaim<'_>) -> Result<Vec<ClaimedDelivery>>;
    /// Records the attempt (if any) and settles the delivery if this lease still holds it and
    /// it is still pending; returns whether it did.
    async fn record_attempt(&self, record: AttemptRecord<'_>) -> Result<bool>;
    /// A delivery with its attempts.
    async fn get_delivery(&self, account: &str, id: &DeliveryId) -> Result<Option<Delivery>>;
    /// Deliveries with their attempts, newest first. `Err(NotFound)` for an unknown cursor.
    async fn list_deliveries(
        &self,
        account: &str,
        filter: &DeliveryFilter,
        cursor: Option<&Cursor<DeliveryId>>,
        limit: usize,
    ) -> Result<Page<Delivery>>;
    /// Adds a delivery (a resend) and counts it in its event's `pending_webhooks`.
    async fn insert_delivery(&self, delivery: &Delivery) -> Result<()>;
}

/// An event with the number of its deliveries that have not succeeded (nor been canceled).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub event: Event,
    pub pending_webhooks: i64,
}

/// Filters of the events list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only these exact types; `None` is every type, an empty list matches nothing.
    pub types: Option<Vec<String>>,
    pub created: CreatedRange,
    /// `true`: every delivery succeeded (or there was none); `false`: some did not.
    pub delivery_success: Option<bool>,
    /// Only the events of this session (a `vs_…` id); the dashboard's timeline.
    pub session: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointInsert {
    Inserted,
    /// The account already has the maximum number of endpoints.
    LimitReached,
}

/// Filters of the deliveries list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub endpoint: Option<WebhookEndpointId>,
    pub event: Option<EventId>,
}

/// What a worker asks for.
#[derive(Debug, Clone)]
pub struct DeliveryClaim<'a> {
    pub now_ms: i64,
    /// The lease lasts until `now_ms + lease_ms`; it must outlast one attempt.
    pub lease_ms: i64,
    pub limit: usize,
    /// At most this many deliveries of one endpoint per claim.
    pub per_endpoint: usize,
    /// Endpoints this worker is still sending to: none of theirs are claimed.
    pub busy: &'a [String],
}

/// A leased delivery with what sending it needs. `event` or `endpoint` is `None` when it is
/// gone (pruned, deleted): the worker cancels the delivery. A test event's `event` is always
/// `None` (it is never stored); the worker rebuilds it from the delivery.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub delivery: Delivery,
    /// The lease; settling the delivery needs it.
    pub lease_until_ms: i64,
    pub event: Option<StoredEvent>,
    pub endpoint: Option<WebhookEndpoint>,
}

/// How a delivery ends up after an attempt (or without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    Succeeded,
    RetryAt(i64),
    Failed,
    Canceled,
}

impl Settle {
    pub(crate) fn state(self) -> DeliveryState {
        match self {
            Settle::Succeeded => DeliveryState::Succeeded,
            Settle::RetryAt(_) => DeliveryState::Pending,
            Settle::Failed => DeliveryState::Failed,
            Settle::Canceled => DeliveryState::Canceled,
        }
    }

    pub(crate) fn next_attempt_ms(self) -> Option<i64> {
        match self {
            Settle::RetryAt(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the delivery stops counting in its event's `pending_webhooks`.
    pub(crate) fn resolves(self) -> bool {
        matches!(self, Settle::Succeeded | Settle::Canceled)
    }
}

#[derive(Debug, Clone)]
pub struct AttemptRecord<'a> {
    pub delivery: &'a Delivery,
    pub lease_until_ms: i64,
    /// `None` when the delivery is settled without sending (its endpoint is gone).
    pub attempt: Option<&'a Attempt>,
    pub settle: Settle,
}

// ---- SQL ---------------------------------------------------------------------------------

pub(crate) const ENABLED_ENDPOINTS: &str =
    "SELECT data FROM webhook_endpoints WHERE account = ? AND disabled = 0 ORDER BY seq";

pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO events (id, account, created, type, session_id, data, pending_webhooks)
     VALUES (?, ?, ?, ?, ?, ?, ?)";

pub(crate) const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries
     (id, account, endpoint_id, event_id, event_type, created_ms, state, attempts,
      next_attempt_ms, lease_until_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)";

pub(crate) const COUNT_PENDING: &str =
    "UPDATE events SET pending_webhooks = pending_webhooks + 1 WHERE id = ?";

pub(crate) const RESOLVE_PENDING: &str =
    "UPDATE events SET pending_webhooks = pending_webhooks - 1 WHERE id = ? AND pending_webhooks > 0";

pub(crate) const GET_EVENT: &str =
    "SELECT data, pending_webhooks FROM events WHERE id = ? AND account = ?";

pub(crate) const EVENT_POSITION: &str =
    "SELECT created, seq FROM events WHERE id = ? AND account = ?";

pub(crate) const PRUNE_ATTEMPTS: &str = "DELETE FROM webhook_attempts WHERE delivery_id IN
     (SELECT d.id FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
      WHERE e.created < ?)";
pub(crate) const PRUNE_DELIVERIES: &str =
    "DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM events WHERE created < ?)";
pub(crate) const PRUNE_EVENTS: &str = "DELETE FROM events WHERE created < ?";
/// Test events (`vouch_domain::test_event`, ids `evt_000000…`) are not stored: their
/// deliveries and attempts go when the delivery is older than the retention (`?` in unix ms).
/// The id range is served by `webhook_deliveries_by_event`.
pub(crate) const PRUNE_TEST_ATTEMPTS: &str = "DELETE FROM webhook_attempts WHERE delivery_id IN
     (SELECT id FROM webhook_deliveries
      WHERE event_id >= 'evt_000000' AND event_id < 'evt_000001' AND created_ms < ?)";
pub(crate) const PRUNE_TEST_DELIVERIES: &str = "DELETE FROM webhook_deliveries
     WHERE event_id >= 'evt_000000' AND event_id < 'evt_000001' AND created_ms < ?";

pub(crate) const COUNT_ENDPOINTS: &str = "SELECT COUNT(*) FROM webhook_endpoints WHERE account = ?";
pub(crate) const INSERT_ENDPOINT: &str =
    "INSERT INTO webhook_endpoints (id, account, created, disabled, data) VALUES (?, ?, ?, ?, ?)";
pub(crate) const GET_ENDPOINT: &str =
    "SELECT data FROM webhook_endpoints WHERE id = ? AND account = ?";
pub(crate) const UPDATE_ENDPOINT: &str =
    "UPDATE webhook_endpoints SET disabled = ?, data = ? WHERE id = ? AND account = ?";
pub(crate) const DELETE_ENDPOINT: &str =
    "DELETE FROM webhook_endpoints WHERE id = ? AND account = ?";
pub(crate) const ENDPOINT_POSITION: &str =
    "SELECT created, seq FROM webhook_endpoints WHERE id = ? AND account = ?";
/// Cancels an endpoint's pending deliveries; returns their events.
pub(crate) const CANCEL_FOR_ENDPOINT: &str = "UPDATE webhook_deliveries
     SET state = 'canceled', next_attempt_ms = NULL
     WHERE account = ? AND endpoint_id = ? AND state = 'pending' RETURNING event_id";

pub(crate) const DELIVERY_COLUMNS: &str =
    "id, account, endpoint_id, event_id, event_type, created_ms, state, attempts, next_attempt_ms";
pub(crate) const DELIVERY_POSITION: &str =
    "SELECT created_ms, seq FROM webhook_deliveries WHERE id = ? AND account = ?";
pub(crate) const INSERT_ATTEMPT: &str = "INSERT INTO webhook_attempts
     (delivery_id, at_ms, status, latency_ms, error, response_body) VALUES (?, ?, ?, ?, ?, ?)";
/// Settles a leased delivery; returns its event when it did.
pub(crate) const SETTLE: &str = "UPDATE webhook_deliveries
     SET attempts = attempts + ?, state = ?, next_attempt_ms = ?, lease_until_ms = NULL
     WHERE id = ? AND lease_until_ms = ? AND state = 'pending' RETURNING event_id";
pub(crate) const LEASE: &str = "UPDATE webhook_deliveries SET lease_until_ms = ?
     WHERE id = ? AND state = 'pending' AND (lease_until_ms IS NULL OR lease_until_ms <= ?)";

/// The ids of due, unleased deliveries: the oldest first, at most `per_endpoint` of each
/// endpoint, none of the `busy` endpoints. Served by `webhook_deliveries_due`.
pub(crate) fn due_query(claim: &DeliveryClaim<'_>) -> (String, Vec<Arg>) {
    let mut sql = String::from(
        "SELECT id FROM (
             SELECT id, next_attempt_ms, seq, ROW_NUMBER() OVER (
                 PARTITION BY endpoint_id ORDER BY next_attempt_ms, seq) AS rn
             FROM webhook_deliveries
             WHERE state = 'pending' AND next_attempt_ms <= ?
               AND (lease_until_ms IS NULL OR lease_until_ms <= ?)",
    );
    let mut args = vec![Arg::Int(claim.now_ms), Arg::Int(claim.now_ms)];
    if !claim.busy.is_empty() {
        sql.push_str(" AND endpoint_id NOT IN (");
        sql.push_str(&vec!["?"; claim.busy.len()].join(", "));
        sql.push(')');
        args.extend(claim.busy.iter().map(|b| Arg::Text(b.clone())));
    }
    sql.push_str(") ranked WHERE rn <= ? ORDER BY next_attempt_ms, seq LIMIT ?");
    args.push(Arg::Int(claim.per_endpoint as i64));
    args.push(Arg::Int(claim.limit as i64));
    (sql, args)
}

/// `SELECT … WHERE id IN (?, …)` for a batch of ids.
pub(crate) fn in_list(prefix: &str, n: usize, suffix: &str) -> String {
    format!("{prefix} IN ({}){suffix}", vec!["?"; n].join(", "))
}

/// One page of a list ordered newest first by `(order, seq)`; `conditions` are ANDed.
pub(crate) fn page_query(
    select: &str,
    order: &str,
    mut conditions: Vec<(String, Vec<Arg>)>,
    position: Option<&Position>,
    limit: usize,
) -> (String, Vec<Arg>) {
    if let Some(p) = position {
        let op = if p.ascending { ">" } else { "<" };
        conditions.push((
            format!("({order}, seq) {op} (?, ?)"),
            vec![Arg::Int(p.created), Arg::Int(p.seq)],
        ));
    }
    let mut sql = String::from(select);
    let mut args = Vec::new();
    for (i, (cond, a)) in conditions.into_iter().enumerate() {
        sql.push_str(if i == 0 { " WHERE " } else { " AND " });
        sql.push_str(&cond);
        args.extend(a);
    }
    let dir = if position.is_some_and(|p| p.ascending) {
        "ASC"
    } else {
        "DESC"
    };
    sql.push_str(&format!(" ORDER BY {order} {dir}, seq {dir} LIMIT ?"));
    args.push(Arg::Int(limit as i64 + 1));
    (sql, args)
}

/// The events list: served by `events_by_type` (one type), `events_undelivered`
/// (`delivery_success=false`) or `events_by_created`.
pub(crate) fn events_query(
    account: &str,
    filter: &EventFilter,
    position: Option<&Position>,
    limit: usize,
) -> (String, Vec<Arg>) {
    let mut conds = vec![(
        "account = ?".to_owned(),
        vec![Arg::Text(account.to_owned())],
    )];
    if let Some(types) = &filter.types {
        conds.push((
            in_list("type", types.len(), ""),
            types.iter().map(|t| Arg::Text(t.clone())).collect(),
        ));
    }
    conds.extend(created_conditions("created", &filter.created));
    if let Some(session) = &filter.session {
        conds.push(("session_id = ?".into(), vec![Arg::Text(session.clone())]));
    }
    match filter.delivery_success {
        Some(true) => conds.push(("pending_webhooks = 0".into(), vec![])),
        Some(false) => conds.push(("pending_webhooks > 0".into(), vec![])),
        None => {}
    }
    page_query(
        "SELECT data, pending_webhooks FROM events",
        "created",
        conds,
        position,
        limit,
    )
}

fn created_conditions(column: &str, range: &CreatedRange) -> Vec<(String, Vec<Arg>)> {
    [
        (">", range.gt),
        (">=", range.gte),
        ("<", range.lt),
        ("<=", range.lte),
    ]
    .into_iter()
    .filter_map(|(op, v)| v.map(|v| (format!("{column} {op} ?"), vec![Arg::Int(v)])))
    .collect()
}

pub(crate) fn endpoints_query(
    account: &str,
    position: Option<&Position>,
    limit: usize,
) -> (String, Vec<Arg>) {
    page_query(
        "SELECT data FROM webhook_endpoints",
        "created",
        vec![("account = ?".into(), vec![Arg::Text(account.to_owned())])],
        position,
        limit,
    )
}

pub(crate) fn deliveries_query(
    account: &str,
    filter: &DeliveryFilter,
    position: Option<&Position>,
    limit: usize,
) -> (String, Vec<Arg>) {
    let mut conds = vec![(
        "account = ?".to_owned(),
        vec![Arg::Text(account.to_owned())],
    )];
    if let Some(ep) = &filter.endpoint {
        conds.push(("endpoint_id = ?".into(), vec![Arg::Text(ep.to_string())]));
    }
    if let Some(ev) = &filter.event {
        conds.push(("event_id = ?".into(), vec![Arg::Text(ev.to_string())]));
    }
    page_query(
        &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries"),
        "created_ms",
        conds,
        position,
        limit,
    )
}

/// A delivery row in `DELIVERY_COLUMNS` order, decoded by the backends.
pub(crate) struct DeliveryRow {
    pub id: String,
    pub account: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub created_ms: i64,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_ms: Option<i64>,
}

impl DeliveryRow {
    pub(crate) fn into_delivery(self) -> Result<Delivery> {
        use vouch_domain::WireEnum;
        let corrupt =
            |what: &str| crate::StoreError::Unavailable(format!("corrupt delivery {what}"));
        Ok(Delivery {
            id: vouch_domain::ids::DeliveryId::parse(&self.id).ok_or_else(|| corrupt("id"))?,
            account: self.account,
            endpoint_id: WebhookEndpointId::parse(&self.endpoint_id)
                .ok_or_else(|| corrupt("endpoint"))?,
            event_id: EventId::parse(&self.event_id).ok_or_else(|| corrupt("event"))?,
            event_type: self.event_type,
            created_ms: self.created_ms,
            state: DeliveryState::from_wire(&self.state).ok_or_else(|| corrupt("state"))?,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            next_attempt_ms: self.next_attempt_ms,
            history: Vec::new(),
        })
    }
}

/// An attempt row: (delivery id, attempt).
pub(crate) const ATTEMPT_COLUMNS: &str =
    "delivery_id, at_ms, status, latency_ms, error, response_body";

/// Attaches attempts (oldest first) to their deliveries.
pub(crate) fn attach_history(deliveries: &mut [Delivery], attempts: Vec<(String, Attempt)>) {
    for (delivery_id, attempt) in attempts {
        if let Some(d) = deliveries.iter_mut().find(|d| d.id.as_str() == delivery_id) {
            d.history.push(attempt);
        }
    }
}

/// `limit + 1` rows → a page (reversed back to newest first for `ending_before`).
pub(crate) fn into_page<T>(mut items: Vec<T>, limit: usize, ascending: bool) -> Page<T> {
    let has_more = items.len() > limit;
    items.truncate(limit);
    if ascending {
        items.reverse();
    }
    Page { items, has_more }
}
