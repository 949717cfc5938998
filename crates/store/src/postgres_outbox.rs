//! PostgreSQL: events, webhook endpoints and the delivery outbox. Several nodes may run
//! workers on one database: claims lock rows with `FOR UPDATE SKIP LOCKED`, so no two nodes
//! lease the same delivery; endpoint creation takes an advisory lock per account so the limit
//! holds under concurrency.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use vouch_domain::event::Event;
use vouch_domain::ids::{DeliveryId, EventId, IdKind, WebhookEndpointId};
use vouch_domain::session::WireEnum;
use vouch_domain::webhook::{fan_out, Attempt, Delivery, WebhookEndpoint};

use super::{from_json, to_json, unavailable, PostgresStore};
use crate::outbox::{self, DeliveryRow};
use crate::query::{numbered, Arg, Position};
use crate::{
    AttemptRecord, ClaimedDelivery, Cursor, DeliveryClaim, DeliveryFilter, EndpointInsert,
    EventFilter, HeldJob, Page, Result, StoreError, StoredEvent, WebhookStore,
};

/// Runs `sql` (written with `?`) with `args`.
pub(super) async fn query(
    c: &impl GenericClient,
    sql: &str,
    args: Vec<Arg>,
) -> Result<Vec<tokio_postgres::Row>> {
    let boxed: Vec<Box<dyn ToSql + Sync + Send>> = args
        .into_iter()
        .map(|a| -> Box<dyn ToSql + Sync + Send> {
            match a {
                Arg::Text(s) => Box::new(s),
                Arg::Int(i) => Box::new(i),
            }
        })
        .collect();
    let refs: Vec<&(dyn ToSql + Sync)> = boxed
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let stmt = c
        .prepare_cached(&numbered(sql))
        .await
        .map_err(unavailable)?;
    c.query(&stmt, &refs).await.map_err(unavailable)
}

/// Runs a statement written with `?` and returns how many rows it changed.
pub(super) async fn execute(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64> {
    let stmt = c
        .prepare_cached(&numbered(sql))
        .await
        .map_err(unavailable)?;
    c.execute(&stmt, params).await.map_err(unavailable)
}

/// Inserts events and their outbox rows in the caller's transaction (see the SQLite twin).
pub(crate) async fn insert_events(tx: &impl GenericClient, events: &[Event]) -> Result<()> {
    let mut endpoints: Option<(String, Vec<WebhookEndpoint>)> = None;
    for e in events {
        if endpoints.as_ref().is_none_or(|(a, _)| *a != e.account) {
            let rows = query(
                tx,
                outbox::ENABLED_ENDPOINTS,
                vec![Arg::Text(e.account.clone())],
            )
            .await?;
            let eps = rows
                .iter()
                .map(|r| from_json(r.get::<_, &str>(0)))
                .collect::<Result<Vec<WebhookEndpoint>>>()?;
            endpoints = Some((e.account.clone(), eps));
        }
        let deliveries = {
            let mut rng = rand::thread_rng();
            fan_out(e, endpoints.as_ref().map_or(&[][..], |(_, v)| v), &mut rng)
        };
        execute(
            tx,
            outbox::INSERT_EVENT,
            &[
                &e.id.as_str(),
                &e.account,
                &e.created,
                &e.kind.as_str(),
                &e.session.id.as_str(),
                &to_json(e)?,
                &(deliveries.len() as i64),
            ],
        )
        .await?;
        for d in &deliveries {
            insert_delivery_row(tx, d).await?;
        }
    }
    Ok(())
}

async fn insert_delivery_row(tx: &impl GenericClient, d: &Delivery) -> Result<()> {
    execute(
        tx,
        outbox::INSERT_DELIVERY,
        &[
            &d.id.as_str(),
            &d.account,
            &d.endpoint_id.as_str(),
            &d.event_id.as_str(),
            &d.event_type,
            &d.created_ms,
            &d.state.as_str(),
            &i64::from(d.attempts),
            &d.next_attempt_ms,
        ],
    )
    .await?;
    Ok(())
}

async fn position<K: IdKind>(
    c: &impl GenericClient,
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
    let rows = query(
        c,
        sql,
        vec![Arg::Text(id.to_string()), Arg::Text(account.to_owned())],
    )
    .await?;
    let row = rows.first().ok_or(StoreError::NotFound)?;
    Ok(Some(Position {
        created: row.get(0),
        seq: row.get(1),
        ascending,
    }))
}

fn stored_event(row: &tokio_postgres::Row) -> Result<StoredEvent> {
    Ok(StoredEvent {
        event: from_json(row.get::<_, &str>(0))?,
        pending_webhooks: row.get(1),
    })
}

async fn get_event(
    c: &impl GenericClient,
    account: &str,
    id: &EventId,
) -> Result<Option<StoredEvent>> {
    let rows = query(
        c,
        outbox::GET_EVENT,
        vec![Arg::Text(id.to_string()), Arg::Text(account.to_owned())],
    )
    .await?;
    rows.first().map(stored_event).transpose()
}

async fn get_endpoint(
    c: &impl GenericClient,
    account: &str,
    id: &WebhookEndpointId,
) -> Result<Option<WebhookEndpoint>> {
    let rows = query(
        c,
        outbox::GET_ENDPOINT,
        vec![Arg::Text(id.to_string()), Arg::Text(account.to_owned())],
    )
    .await?;
    rows.first()
        .map(|r| from_json(r.get::<_, &str>(0)))
        .transpose()
}

async fn cancel_for_endpoint(tx: &impl GenericClient, account: &str, id: &str) -> Result<()> {
    let rows = query(
        tx,
        outbox::CANCEL_FOR_ENDPOINT,
        vec![Arg::Text(account.to_owned()), Arg::Text(id.to_owned())],
    )
    .await?;
    for row in rows {
        let event: &str = row.get(0);
        execute(tx, outbox::RESOLVE_PENDING, &[&event]).await?;
    }
    Ok(())
}

fn delivery(row: &tokio_postgres::Row) -> Result<Delivery> {
    DeliveryRow {
        id: row.get(0),
        account: row.get(1),
        endpoint_id: row.get(2),
        event_id: row.get(3),
        event_type: row.get(4),
        created_ms: row.get(5),
        state: row.get(6),
        attempts: row.get(7),
        next_attempt_ms: row.get(8),
    }
    .into_delivery()
}

async fn deliveries_where_id_in(c: &impl GenericClient, ids: &[String]) -> Result<Vec<Delivery>> {
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
    query(c, &sql, args).await?.iter().map(delivery).collect()
}

async fn history(c: &impl GenericClient, deliveries: &mut [Delivery]) -> Result<()> {
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
    let attempts = query(c, &sql, args)
        .await?
        .iter()
        .map(|r| {
            (
                r.get::<_, String>(0),
                Attempt {
                    at_ms: r.get(1),
                    status: r
                        .get::<_, Option<i64>>(2)
                        .and_then(|s| u16::try_from(s).ok()),
                    latency_ms: r.get(3),
                    error: r.get(4),
                    response_body: r.get(5),
                },
            )
        })
        .collect();
    outbox::attach_history(deliveries, attempts);
    Ok(())
}

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn get_event(&self, account: &str, id: &EventId) -> Result<Option<StoredEvent>> {
        get_event(&self.client().await?, account, id).await
    }

    async fn list_events(
        &self,
        account: &str,
        filter: &EventFilter,
        cursor: Option<&Cursor<EventId>>,
        limit: usize,
    ) -> Result<Page<StoredEvent>> {
        let client = self.client().await?;
        let pos = position(&client, outbox::EVENT_POSITION, account, cursor).await?;
        if filter.types.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Page {
                items: Vec::new(),
                has_more: false,
            });
        }
        let (sql, args) = outbox::events_query(account, filter, pos.as_ref(), limit);
        let items = query(&client, &sql, args)
            .await?
            .iter()
            .map(stored_event)
            .collect::<Result<Vec<_>>>()?;
        Ok(outbox::into_page(
            items,
            limit,
            pos.is_some_and(|p| p.ascending),
        ))
    }

    async fn prune_events(&self, before: i64, job: &HeldJob) -> Result<Option<usize>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        if !super::jobs::holds(&tx, job).await? {
            return Ok(None);
        }
        execute(&tx, outbox::PRUNE_ATTEMPTS, &[&before]).await?;
        execute(&tx, outbox::PRUNE_DELIVERIES, &[&before]).await?;
        let before_ms = before.saturating_mul(1000);
        execute(&tx, outbox::PRUNE_TEST_ATTEMPTS, &[&before_ms]).await?;
        execute(&tx, outbox::PRUNE_TEST_DELIVERIES, &[&before_ms]).await?;
        let n = execute(&tx, outbox::PRUNE_EVENTS, &[&before]).await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(Some(n as usize))
    }

    async fn insert_webhook_endpoint(
        &self,
        ep: &WebhookEndpoint,
        max: usize,
    ) -> Result<EndpointInsert> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        // Serializes creations per account on every node, so the count below stays true.
        let lock_key = format!("vouch.webhook_endpoints:{}", ep.account);
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&lock_key])
            .await
            .map_err(unavailable)?;
        let count: i64 = query(
            &tx,
            outbox::COUNT_ENDPOINTS,
            vec![Arg::Text(ep.account.clone())],
        )
        .await?
        .first()
        .map_or(0, |r| r.get(0));
        if count >= max as i64 {
            return Ok(EndpointInsert::LimitReached);
        }
        execute(
            &tx,
            outbox::INSERT_ENDPOINT,
            &[
                &ep.id.as_str(),
                &ep.account,
                &ep.created,
                &i64::from(ep.disabled),
                &to_json(ep)?,
            ],
        )
        .await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(EndpointInsert::Inserted)
    }

    async fn get_webhook_endpoint(
        &self,
        account: &str,
        id: &WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>> {
        get_endpoint(&self.client().await?, account, id).await
    }

    async fn update_webhook_endpoint(&self, ep: &WebhookEndpoint) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        let changed = execute(
            &tx,
            outbox::UPDATE_ENDPOINT,
            &[
                &i64::from(ep.disabled),
                &to_json(ep)?,
                &ep.id.as_str(),
                &ep.account,
            ],
        )
        .await?;
        if changed > 0 && ep.disabled {
            cancel_for_endpoint(&tx, &ep.account, ep.id.as_str()).await?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(changed > 0)
    }

    async fn delete_webhook_endpoint(&self, account: &str, id: &WebhookEndpointId) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        let changed = execute(&tx, outbox::DELETE_ENDPOINT, &[&id.as_str(), &account]).await?;
        if changed > 0 {
            cancel_for_endpoint(&tx, account, id.as_str()).await?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(changed > 0)
    }

    async fn list_webhook_endpoints(
        &self,
        account: &str,
        cursor: Option<&Cursor<WebhookEndpointId>>,
        limit: usize,
    ) -> Result<Page<WebhookEndpoint>> {
        let client = self.client().await?;
        let pos = position(&client, outbox::ENDPOINT_POSITION, account, cursor).await?;
        let (sql, args) = outbox::endpoints_query(account, pos.as_ref(), limit);
        let items = query(&client, &sql, args)
            .await?
            .iter()
            .map(|r| from_json(r.get::<_, &str>(0)))
            .collect::<Result<Vec<WebhookEndpoint>>>()?;
        Ok(outbox::into_page(
            items,
            limit,
            pos.is_some_and(|p| p.ascending),
        ))
    }

    async fn claim_deliveries(&self, claim: DeliveryClaim<'_>) -> Result<Vec<ClaimedDelivery>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        let (sql, args) = outbox::due_query(&claim);
        let candidates: Vec<String> = query(&tx, &sql, args)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let lease = claim.now_ms + claim.lease_ms;
        let mut leased = Vec::with_capacity(candidates.len());
        if !candidates.is_empty() {
            // Rows another node is claiming right now are skipped, not waited for; the
            // conditions are checked again on the locked row.
            let lock = tx
                .query(
                    "SELECT id FROM webhook_deliveries
                     WHERE id = ANY($1) AND state = 'pending'
                       AND (lease_until_ms IS NULL OR lease_until_ms <= $2)
                     FOR UPDATE SKIP LOCKED",
                    &[&candidates, &claim.now_ms],
                )
                .await
                .map_err(unavailable)?;
            for row in lock {
                let id: String = row.get(0);
                execute(&tx, outbox::LEASE, &[&lease, &id, &claim.now_ms]).await?;
                leased.push(id);
            }
        }
        let mut out = Vec::with_capacity(leased.len());
        for delivery in deliveries_where_id_in(&tx, &leased).await? {
            let event = get_event(&tx, &delivery.account, &delivery.event_id).await?;
            let endpoint = get_endpoint(&tx, &delivery.account, &delivery.endpoint_id).await?;
            out.push(ClaimedDelivery {
                delivery,
                lease_until_ms: lease,
                event,
                endpoint,
            });
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(out)
    }

    async fn record_attempt(&self, rec: AttemptRecord<'_>) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        if let Some(a) = rec.attempt {
            execute(
                &tx,
                outbox::INSERT_ATTEMPT,
                &[
                    &rec.delivery.id.as_str(),
                    &a.at_ms,
                    &a.status.map(i64::from),
                    &a.latency_ms,
                    &a.error,
                    &a.response_body,
                ],
            )
            .await?;
        }
        let stmt = tx
            .prepare_cached(&numbered(outbox::SETTLE))
            .await
            .map_err(unavailable)?;
        let settled = tx
            .query_opt(
                &stmt,
                &[
                    &i64::from(rec.attempt.is_some()),
                    &rec.settle.state().as_str(),
                    &rec.settle.next_attempt_ms(),
                    &rec.delivery.id.as_str(),
                    &rec.lease_until_ms,
                ],
            )
            .await
            .map_err(unavailable)?;
        let done = match settled {
            Some(row) => {
                if rec.settle.resolves() {
                    let event: &str = row.get(0);
                    execute(&tx, outbox::RESOLVE_PENDING, &[&event]).await?;
                }
                true
            }
            None => false,
        };
        tx.commit().await.map_err(unavailable)?;
        Ok(done)
    }

    async fn get_delivery(&self, account: &str, id: &DeliveryId) -> Result<Option<Delivery>> {
        let client = self.client().await?;
        let mut found: Vec<Delivery> = deliveries_where_id_in(&client, &[id.to_string()])
            .await?
            .into_iter()
            .filter(|d| d.account == account)
            .collect();
        history(&client, &mut found).await?;
        Ok(found.pop())
    }

    async fn list_deliveries(
        &self,
        account: &str,
        filter: &DeliveryFilter,
        cursor: Option<&Cursor<DeliveryId>>,
        limit: usize,
    ) -> Result<Page<Delivery>> {
        let client = self.client().await?;
        let pos = position(&client, outbox::DELIVERY_POSITION, account, cursor).await?;
        let (sql, args) = outbox::deliveries_query(account, filter, pos.as_ref(), limit);
        let items = query(&client, &sql, args)
            .await?
            .iter()
            .map(delivery)
            .collect::<Result<Vec<_>>>()?;
        let mut page = outbox::into_page(items, limit, pos.is_some_and(|p| p.ascending));
        history(&client, &mut page.items).await?;
        Ok(page)
    }

    async fn insert_delivery(&self, d: &Delivery) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        insert_delivery_row(&tx, d).await?;
        execute(&tx, outbox::COUNT_PENDING, &[&d.event_id.as_str()]).await?;
        tx.commit().await.map_err(unavailable)
    }
}
