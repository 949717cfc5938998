//! SQLite: events, webhook endpoints and the delivery outbox. Writes run on the single writer
//! connection inside one IMMEDIATE transaction, so a lease is taken without races.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Transaction};
use vouch_domain::event::Event;
use vouch_domain::ids::{DeliveryId, EventId, WebhookEndpointId};
use vouch_domain::session::WireEnum;
use vouch_domain::webhook::{fan_out, Attempt, Delivery, WebhookEndpoint};

use async_trait::async_trait;

use super::{from_json, to_json, unavailable, SqliteStore};
use crate::outbox::{self, DeliveryRow};
use crate::query::{Arg, Position};
use crate::{
    AttemptRecord, ClaimedDelivery, Cursor, DeliveryClaim, DeliveryFilter, EndpointInsert,
    EventFilter, HeldJob, Page, Result, StoreError, StoredEvent, WebhookStore,
};

fn values(args: Vec<Arg>) -> impl Iterator<Item = rusqlite::types::Value> {
    args.into_iter().map(|a| match a {
        Arg::Text(s) => rusqlite::types::Value::Text(s),
        Arg::Int(i) => rusqlite::types::Value::Integer(i),
    })
}

/// Runs `sql` and decodes every row with `f`.
fn rows<T>(
    c: &Connection,
    sql: &str,
    args: Vec<Arg>,
    f: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(unavailable)?;
    let out = stmt
        .query_map(params_from_iter(values(args)), |r| f(r))
        .map_err(unavailable)?
        .collect::<rusqlite::Result<Vec<T>>>()
        .map_err(unavailable)?;
    Ok(out)
}

/// Inserts events (`json`: each one's encoding) and their outbox rows: one pending delivery
/// per enabled endpoint of the event's account that accepts its type, all in the caller's
/// transaction.
pub(crate) fn insert_events(tx: &Transaction<'_>, events: &[Event], json: &[String]) -> Result<()> {
    let mut endpoints: Option<(String, Vec<WebhookEndpoint>)> = None;
    if events.len() != json.len() {
        return Err(StoreError::Unavailable(
            "events without their encoding".into(),
        ));
    }
    let mut rng = rand::thread_rng();
    for (e, data) in events.iter().zip(json) {
        if endpoints.as_ref().is_none_or(|(a, _)| *a != e.account) {
            let eps = rows(
                tx,
                outbox::ENABLED_ENDPOINTS,
                vec![Arg::Text(e.account.clone())],
                |r| r.get::<_, String>(0),
            )?
            .iter()
            .map(|d| from_json(d))
            .collect::<Result<Vec<WebhookEndpoint>>>()?;
            endpoints = Some((e.account.clone(), eps));
        }
        let deliveries = fan_out(e, endpoints.as_ref().map_or(&[][..], |(_, v)| v), &mut rng);
        tx.prepare_cached(outbox::INSERT_EVENT)
            .map_err(unavailable)?
            .execute(params![
                e.id.as_str(),
                e.account,
                e.created,
                e.kind.as_str(),
                e.session.id.as_str(),
                data,
                deliveries.len() as i64
            ])
            .map_err(unavailable)?;
        for d in &deliveries {
            insert_delivery_row(tx, d)?;
        }
    }
    Ok(())
}

fn insert_delivery_row(tx: &Transaction<'_>, d: &Delivery) -> Result<()> {
    tx.prepare_cached(outbox::INSERT_DELIVERY)
        .map_err(unavailable)?
        .execute(params![
            d.id.as_str(),
            d.account,
            d.endpoint_id.as_str(),
            d.event_id.as_str(),
            d.event_type,
            d.created_ms,
            d.state.as_str(),
            i64::from(d.attempts),
            d.next_attempt_ms
        ])
        .map_err(unavailable)?;
    Ok(())
}

pub(crate) fn insert_delivery(tx: &Transaction<'_>, d: &Delivery) -> Result<()> {
    insert_delivery_row(tx, d)?;
    tx.execute(outbox::COUNT_PENDING, [d.event_id.as_str()])
        .map_err(unavailable)?;
    Ok(())
}

/// Where a page starts, from the cursor object's `(created, seq)`.
fn position<K: vouch_domain::ids::IdKind>(
    c: &Connection,
    sql: &str,
    account: &str,
    cursor: Option<&Cursor<vouch_domain::ids::Id<K>>>,
) -> Result<Option<Position>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let (id, ascending) = match cursor {
        Cursor::After(id) => (id, false),
        Cursor::Before(id) => (id, true),
    };
    let (created, seq) = c
        .prepare_cached(sql)
        .map_err(unavailable)?
        .query_row(params![id.as_str(), account], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(unavailable)?
        .ok_or(StoreError::NotFound)?;
    Ok(Some(Position {
        created,
        seq,
        ascending,
    }))
}

fn stored_event(data: &str, pending: i64) -> Result<StoredEvent> {
    Ok(StoredEvent {
        event: from_json(data)?,
        pending_webhooks: pending,
    })
}

pub(crate) fn get_event(
    c: &Connection,
    account: &str,
    id: &EventId,
) -> Result<Option<StoredEvent>> {
    let row: Option<(String, i64)> = c
        .prepare_cached(outbox::GET_EVENT)
        .map_err(unavailable)?
        .query_row(params![id.as_str(), account], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(unavailable)?;
    row.map(|(d, p)| stored_event(&d, p)).transpose()
}

pub(crate) fn list_events(
    c: &Connection,
    account: &str,
    filter: &EventFilter,
    cursor: Option<&Cursor<EventId>>,
    limit: usize,
) -> Result<Page<StoredEvent>> {
    let pos = position(c, outbox::EVENT_POSITION, account, cursor)?;
    if filter.types.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Page {
            items: Vec::new(),
            has_more: false,
        });
    }
    let (sql, args) = outbox::events_query(account, filter, pos.as_ref(), limit);
    let raw = rows(c, &sql, args, |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let items = raw
        .iter()
        .map(|(d, p)| stored_event(d, *p))
        .collect::<Result<Vec<_>>>()?;
    Ok(outbox::into_page(
        items,
        limit,
        pos.is_some_and(|p| p.ascending),
    ))
}

pub(crate) fn prune_events(tx: &Transaction<'_>, before: i64) -> Result<usize> {
    tx.execute(outbox::PRUNE_ATTEMPTS, [before])
        .map_err(unavailable)?;
    tx.execute(outbox::PRUNE_DELIVERIES, [before])
        .map_err(unavailable)?;
    let before_ms = before.saturating_mul(1000);
    tx.execute(outbox::PRUNE_TEST_ATTEMPTS, [before_ms])
        .map_err(unavailable)?;
    tx.execute(outbox::PRUNE_TEST_DELIVERIES, [before_ms])
        .map_err(unavailable)?;
    tx.execute(outbox::PRUNE_EVENTS, [before])
        .map_err(unavailable)
}

pub(crate) fn insert_endpoint(
    tx: &Transaction<'_>,
    ep: &WebhookEndpoint,
    max: usize,
) -> Result<EndpointInsert> {
    let count: i64 = tx
        .query_row(outbox::COUNT_ENDPOINTS, [&ep.account], |r| r.get(0))
        .map_err(unavailable)?;
    if count >= max as i64 {
        return Ok(EndpointInsert::LimitReached);
    }
    tx.execute(
        outbox::INSERT_ENDPOINT,
        params![
            ep.id.as_str(),
            ep.account,
            ep.created,
            i64::from(ep.disabled),
            to_json(ep)?
        ],
    )
    .map_err(unavailable)?;
    Ok(EndpointInsert::Inserted)
}

pub(crate) fn get_endpoint(
    c: &Connection,
    account: &str,
    id: &WebhookEndpointId,
) -> Result<Option<WebhookEndpoint>> {
    let row: Option<String> = c
        .prepare_cached(outbox::GET_ENDPOINT)
        .map_err(unavailable)?
        .query_row(params![id.as_str(), account], |r| r.get(0))
        .optional()
        .map_err(unavailable)?;
    row.map(|d| from_json(&d)).transpose()
}

/// Cancels the endpoint's pending deliveries and stops counting them in their events.
fn cancel_for_endpoint(tx: &Transaction<'_>, account: &str, id: &str) -> Result<()> {
    let events = rows(
        tx,
        outbox::CANCEL_FOR_ENDPOINT,
        vec![Arg::Text(account.to_owned()), Arg::Text(id.to_owned())],
        |r| r.get::<_, String>(0),
    )?;
    for event in events {
        tx.execute(outbox::RESOLVE_PENDING, [event])
            .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) fn update_endpoint(tx: &Transaction<'_>, ep: &WebhookEndpoint) -> Result<bool> {
    let changed = tx
        .execute(
            outbox::UPDATE_ENDPOINT,
            params![
                i64::from(ep.disabled),
                to_json(ep)?,
                ep.id.as_str(),
                ep.account
            ],
        )
        .map_err(unavailable)?;
    if changed > 0 && ep.disabled {
        cancel_for_endpoint(tx, &ep.account, ep.id.as_str())?;
    }
    Ok(changed > 0)
}

pub(crate) fn delete_endpoint(
    tx: &Transaction<'_>,
    account: &str,
    id: &WebhookEndpointId,
) -> Result<bool> {
    let changed = tx
        .execute(outbox::DELETE_ENDPOINT, params![id.as_str(), account])
        .map_err(unavailable)?;
    if changed > 0 {
        cancel_for_endpoint(tx, account, id.as_str())?;
    }
    Ok(changed > 0)
}

pub(crate) fn list_endpoints(
    c: &Connection,
    account: &str,
    cursor: Option<&Cursor<WebhookEndpointId>>,
    limit: usize,
) -> Result<Page<WebhookEndpoint>> {
    let pos = position(c, outbox::ENDPOINT_POSITION, account, cursor)?;
    let (sql, args) = outbox::endpoints_query(account, pos.as_ref(), limit);
    let items = rows(c, &sql, args, |r| r.get::<_, String>(0))?
        .iter()
        .map(|d| from_json(d))
        .collect::<Result<Vec<WebhookEndpoint>>>()?;
    Ok(outbox::into_page(
        items,
        limit,
        pos.is_some_and(|p| p.ascending),
    ))
}

fn delivery_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: r.get(0)?,
        account: r.get(1)?,
        endpoint_id: r.get(2)?,
        event_id: r.get(3)?,
        event_type: r.get(4)?,
        created_ms: r.get(5)?,
        state: r.get(6)?,
        attempts: r.get(7)?,
        next_attempt_ms: r.get(8)?,
    })
}

fn deliveries_where_id_in(c: &Connection, ids: &[String]) -> Result<Vec<Delivery>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = outbox::in_list(
        &format!(
            "SELECT {} FROM webhook_deliveries WHERE id",
            outbox::DELIVERY_COLUMNS
        ),
        ids.len(),
        " ORDER BY created_ms, seq",
    );
    let args = ids.iter().map(|i| Arg::Text(i.clone())).collect();
    rows(c, &sql, args, delivery_row)?
        .into_iter()
        .map(DeliveryRow::into_delivery)
        .collect()
}

/// Leases due deliveries and loads what sending them needs.
pub(crate) fn claim(
    tx: &Transaction<'_>,
    claim: &DeliveryClaim<'_>,
) -> Result<Vec<ClaimedDelivery>> {
    let (sql, args) = outbox::due_query(claim);
    let ids = rows(tx, &sql, args, |r| r.get::<_, String>(0))?;
    let lease = claim.now_ms + claim.lease_ms;
    let mut leased = Vec::with_capacity(ids.len());
    for id in ids {
        let n = tx
            .prepare_cached(outbox::LEASE)
            .map_err(unavailable)?
            .execute(params![lease, id, claim.now_ms])
            .map_err(unavailable)?;
        if n == 1 {
            leased.push(id);
        }
    }
    let mut out = Vec::with_capacity(leased.len());
    for delivery in deliveries_where_id_in(tx, &leased)? {
        let event = get_event(tx, &delivery.account, &delivery.event_id)?;
        let endpoint = get_endpoint(tx, &delivery.account, &delivery.endpoint_id)?;
        out.push(ClaimedDelivery {
            delivery,
            lease_until_ms: lease,
            event,
            endpoint,
        });
    }
    Ok(out)
}

pub(crate) fn record_attempt(tx: &Transaction<'_>, rec: &AttemptRecord<'_>) -> Result<bool> {
    if let Some(a) = rec.attempt {
        tx.prepare_cached(outbox::INSERT_ATTEMPT)
            .map_err(unavailable)?
            .execute(params![
                rec.delivery.id.as_str(),
                a.at_ms,
                a.status.map(i64::from),
                a.latency_ms,
                a.error,
                a.response_body
            ])
            .map_err(unavailable)?;
    }
    let settled: Option<String> = tx
        .prepare_cached(outbox::SETTLE)
        .map_err(unavailable)?
        .query_row(
            params![
                i64::from(rec.attempt.is_some()),
                rec.settle.state().as_str(),
                rec.settle.next_attempt_ms(),
                rec.delivery.id.as_str(),
                rec.lease_until_ms
            ],
            |r| r.get(0),
        )
        .optional()
        .map_err(unavailable)?;
    let Some(event) = settled else {
        return Ok(false);
    };
    if rec.settle.resolves() {
        tx.execute(outbox::RESOLVE_PENDING, [event])
            .map_err(unavailable)?;
    }
    Ok(true)
}

fn history(c: &Connection, deliveries: &mut [Delivery]) -> Result<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let sql = outbox::in_list(
        &format!(
            "SELECT {} FROM webhook_attempts WHERE delivery_id",
            outbox::ATTEMPT_COLUMNS
        ),
        deliveries.len(),
        " ORDER BY seq",
    );
    let args = deliveries
        .iter()
        .map(|d| Arg::Text(d.id.to_string()))
        .collect();
    let attempts = rows(c, &sql, args, |r| {
        Ok((
            r.get::<_, String>(0)?,
            Attempt {
                at_ms: r.get(1)?,
                status: r
                    .get::<_, Option<i64>>(2)?
                    .and_then(|s| u16::try_from(s).ok()),
                latency_ms: r.get(3)?,
                error: r.get(4)?,
                response_body: r.get(5)?,
            },
        ))
    })?;
    outbox::attach_history(deliveries, attempts);
    Ok(())
}

pub(crate) fn get_delivery(
    c: &Connection,
    account: &str,
    id: &DeliveryId,
) -> Result<Option<Delivery>> {
    let mut found: Vec<Delivery> = deliveries_where_id_in(c, &[id.to_string()])?
        .into_iter()
        .filter(|d| d.account == account)
        .collect();
    history(c, &mut found)?;
    Ok(found.pop())
}

pub(crate) fn list_deliveries(
    c: &Connection,
    account: &str,
    filter: &DeliveryFilter,
    cursor: Option<&Cursor<DeliveryId>>,
    limit: usize,
) -> Result<Page<Delivery>> {
    let pos = position(c, outbox::DELIVERY_POSITION, account, cursor)?;
    let (sql, args) = outbox::deliveries_query(account, filter, pos.as_ref(), limit);
    let items = rows(c, &sql, args, delivery_row)?
        .into_iter()
        .map(DeliveryRow::into_delivery)
        .collect::<Result<Vec<_>>>()?;
    let mut page = outbox::into_page(items, limit, pos.is_some_and(|p| p.ascending));
    history(c, &mut page.items)?;
    Ok(page)
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn get_event(&self, account: &str, id: &EventId) -> Result<Option<StoredEvent>> {
        self.read_now(|c| get_event(c, account, id))
    }

    async fn list_events(
        &self,
        account: &str,
        filter: &EventFilter,
        cursor: Option<&Cursor<EventId>>,
        limit: usize,
    ) -> Result<Page<StoredEvent>> {
        let (account, filter, cursor) = (account.to_owned(), filter.clone(), cursor.cloned());
        self.read(move |c| list_events(c, &account, &filter, cursor.as_ref(), limit))
            .await
    }

    async fn prune_events(&self, before: i64, job: &HeldJob) -> Result<Option<usize>> {
        let job = job.clone();
        self.write(move |tx| {
            if !super::jobs::holds(tx, &job)? {
                return Ok(None);
            }
            prune_events(tx, before).map(Some)
        })
        .await
    }

    async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        max: usize,
    ) -> Result<EndpointInsert> {
        let endpoint = endpoint.clone();
        self.write(move |tx| insert_endpoint(tx, &endpoint, max))
            .await
    }

    async fn get_webhook_endpoint(
        &self,
        account: &str,
        id: &WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>> {
        let (account, id) = (account.to_owned(), id.clone());
        self.read(move |c| get_endpoint(c, &account, &id)).await
    }

    async fn update_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<bool> {
        let endpoint = endpoint.clone();
        self.write(move |tx| update_endpoint(tx, &endpoint)).await
    }

    async fn delete_webhook_endpoint(&self, account: &str, id: &WebhookEndpointId) -> Result<bool> {
        let (account, id) = (account.to_owned(), id.clone());
        self.write(move |tx| delete_endpoint(tx, &account, &id))
            .await
    }

    async fn list_webhook_endpoints(
        &self,
        account: &str,
        cursor: Option<&Cursor<WebhookEndpointId>>,
        limit: usize,
    ) -> Result<Page<WebhookEndpoint>> {
        let (account, cursor) = (account.to_owned(), cursor.cloned());
        self.read(move |c| list_endpoints(c, &account, cursor.as_ref(), limit))
            .await
    }

    async fn claim_deliveries(&self, req: DeliveryClaim<'_>) -> Result<Vec<ClaimedDelivery>> {
        let busy = req.busy.to_vec();
        let (now_ms, lease_ms, limit, per_endpoint) =
            (req.now_ms, req.lease_ms, req.limit, req.per_endpoint);
        self.write(move |tx| {
            let req = DeliveryClaim {
                now_ms,
                lease_ms,
                limit,
                per_endpoint,
                busy: &busy,
            };
            claim(tx, &req)
        })
        .await
    }

    async fn record_attempt(&self, record: AttemptRecord<'_>) -> Result<bool> {
        let delivery = record.delivery.clone();
        let attempt = record.attempt.cloned();
        let (lease_until_ms, settle) = (record.lease_until_ms, record.settle);
        self.write(move |tx| {
            record_attempt(
                tx,
                &AttemptRecord {
                    delivery: &delivery,
                    lease_until_ms,
                    attempt: attempt.as_ref(),
                    settle,
                },
            )
        })
        .await
    }

    async fn get_delivery(&self, account: &str, id: &DeliveryId) -> Result<Option<Delivery>> {
        let (account, id) = (account.to_owned(), id.clone());
        self.read(move |c| get_delivery(c, &account, &id)).await
    }

    async fn list_deliveries(
        &self,
        account: &str,
        filter: &DeliveryFilter,
        cursor: Option<&Cursor<DeliveryId>>,
        limit: usize,
    ) -> Result<Page<Delivery>> {
        let (account, filter, cursor) = (account.to_owned(), filter.clone(), cursor.cloned());
        self.read(move |c| list_deliveries(c, &account, &filter, cursor.as_ref(), limit))
            .await
    }

    async fn insert_delivery(&self, delivery: &Delivery) -> Result<()> {
        let delivery = delivery.clone();
        self.write(move |tx| insert_delivery(tx, &delivery)).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::CreatedRange;

    fn plan(c: &Connection, sql: &str, args: Vec<Arg>) -> String {
        let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows: Vec<String> = stmt
            .query_map(params_from_iter(values(args)), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        rows.join(" | ")
    }

    /// Event and delivery lists walk an index in order: no full scan, no sort of the result.
    #[test]
    fn lists_are_served_by_an_index_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("plan.db")).unwrap();
        let conn = store.test_connection();
        let one = |t: &str| Some(vec![t.to_owned()]);
        let filters = [
            EventFilter::default(),
            EventFilter {
                types: one("identity.verification_session.created"),
                ..EventFilter::default()
            },
            EventFilter {
                types: Some(vec!["a".into(), "b".into(), "c".into()]),
                ..EventFilter::default()
            },
            EventFilter {
                delivery_success: Some(false),
                ..EventFilter::default()
            },
            EventFilter {
                delivery_success: Some(true),
                created: CreatedRange {
                    gte: Some(5),
                    ..CreatedRange::default()
                },
                ..EventFilter::default()
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
        for position in &positions {
            for filter in &filters {
                let (sql, args) = outbox::events_query("acct", filter, position.as_ref(), 10);
                let p = plan(&conn, &sql, args);
                assert!(p.contains("USING INDEX events_"), "{sql}: {p}");
                assert!(!p.contains("TEMP B-TREE"), "{sql}: {p}");
            }
            for filter in [
                DeliveryFilter::default(),
                DeliveryFilter {
                    endpoint: WebhookEndpointId::parse("we_000000000000000000000000"),
                    ..DeliveryFilter::default()
                },
                DeliveryFilter {
                    event: EventId::parse("evt_000000000000000000000000"),
                    ..DeliveryFilter::default()
                },
            ] {
                let (sql, args) = outbox::deliveries_query("acct", &filter, position.as_ref(), 10);
                let p = plan(&conn, &sql, args);
                assert!(
                    p.contains("USING INDEX webhook_deliveries_by_"),
                    "{sql}: {p}"
                );
                assert!(!p.contains("TEMP B-TREE"), "{sql}: {p}");
            }
            let (sql, args) = outbox::endpoints_query("acct", position.as_ref(), 10);
            let p = plan(&conn, &sql, args);
            assert!(
                p.contains("USING INDEX webhook_endpoints_by_created"),
                "{sql}: {p}"
            );
        }
        let busy = ["we_1".to_owned()];
        let (sql, args) = outbox::due_query(&DeliveryClaim {
            now_ms: 1,
            lease_ms: 1,
            limit: 10,
            per_endpoint: 2,
            busy: &busy,
        });
        assert!(plan(&conn, &sql, args).contains("USING INDEX webhook_deliveries_due"));
    }
}
