//! vouch extension (never part of Stripe's API): the delivery of each event to each webhook
//! endpoint, with every attempt, so people and the dashboard can see why a webhook failed.
//!
//! - `GET /v1/vouch/webhook_deliveries?webhook_endpoint=we_…&event=evt_…` (both optional)
//! - `GET /v1/vouch/webhook_deliveries/{id}`
//! - `POST /v1/vouch/webhook_deliveries/{id}/resend`: a new delivery of the same event to the
//!   same endpoint, due now, with a fresh retry schedule.

use axum::extract::State;
use axum::Json;
use serde_json::Value;
use vouch_domain::ids::{DeliveryId, DeliveryKind, EventKind, WebhookEndpointKind};
use vouch_domain::webhook::{Delivery, DeliveryState};
use vouch_store::DeliveryFilter;

use crate::context::{Auth, PathId, StripeParams};
use crate::error::ApiError;
use crate::handlers::events::no_expand;
use crate::handlers::sessions::non_empty;
use crate::handlers::take_limit;
use crate::handlers::{cursor, cursor_error, no_such, parse_id};
use crate::render_webhooks::delivery;
use crate::state::AppState;

const MAX_STRING: usize = 5000;
pub const COLLECTION: &str = "/v1/vouch/webhook_deliveries";

pub async fn list(
    State(state): State<AppState>,
    Auth(account): Auth,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    no_expand(&mut p, true)?;
    let limit = take_limit(&mut p)?;
    let endpoint = non_empty(
        p.take_str("webhook_endpoint", MAX_STRING)?,
        "webhook_endpoint",
    )?;
    let event = non_empty(p.take_str("event", MAX_STRING)?, "event")?;
    let cursor = cursor(&mut p)?;
    p.finish()?;
    let filter = DeliveryFilter {
        endpoint: endpoint
            .map(|e| parse_id(&e, "webhook_endpoint"))
            .transpose()?,
        event: event.map(|e| parse_id(&e, "event")).transpose()?,
    };
    let page = state
        .store
        .list_deliveries(&account.id, &filter, cursor.as_ref().map(|(c, _)| c), limit)
        .await
        .map_err(|e| cursor_error(e, &cursor))?;
    let data = page.items.iter().map(delivery).collect();
    Ok(Json(crate::render::list(data, page.has_more, COLLECTION)))
}

pub async fn retrieve(
    State(state): State<AppState>,
    Auth(account): Auth,
    PathId(id): PathId,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    no_expand(&mut p, false)?;
    p.finish()?;
    Ok(Json(delivery(&load(&state, &account.id, &id).await?)))
}

pub async fn resend(
    State(state): State<AppState>,
    Auth(account): Auth,
    PathId(id): PathId,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    no_expand(&mut p, false)?;
    p.finish()?;
    Ok(Json(delivery(
        &resend_delivery(&state, &account.id, &id).await?,
    )))
}

/// A new delivery of the delivery's event to the same endpoint, due now, with a fresh retry
/// schedule (also what the dashboard's Resend button calls). A test event's delivery is resent
/// as the same test event.
pub async fn resend_delivery(
    state: &AppState,
    account: &str,
    id: &str,
) -> Result<Delivery, ApiError> {
    let original = load(state, account, id).await?;
    let endpoint = state
        .store
        .get_webhook_endpoint(account, &original.endpoint_id)
        .await?
        .ok_or_else(|| no_such::<WebhookEndpointKind>(original.endpoint_id.as_str(), "id"))?;
    if endpoint.disabled {
        return Err(ApiError::EndpointDisabled {
            id: endpoint.id.to_string(),
        });
    }
    // A test event is never stored (the sender rebuilds it from the delivery).
    let stored_or_test = vouch_domain::test_event::is_test(&original.event_id)
        || state
            .store
            .get_event(account, &original.event_id)
            .await?
            .is_some();
    if !stored_or_test {
        return Err(no_such::<EventKind>(original.event_id.as_str(), "id"));
    }
    let now_ms = state.clock.now_ms();
    let fresh = Delivery {
        id: DeliveryId::generate(now_ms.div_euclid(1000), &mut rand::thread_rng()),
        created_ms: now_ms,
        state: DeliveryState::Pending,
        attempts: 0,
        next_attempt_ms: Some(now_ms),
        history: Vec::new(),
        ..original
    };
    state.store.insert_delivery(&fresh).await?;
    Ok(fresh)
}

async fn load(state: &AppState, account: &str, id: &str) -> Result<Delivery, ApiError> {
    let parsed: DeliveryId = parse_id(id, "id")?;
    state
        .store
        .get_delivery(account, &parsed)
        .await?
        .ok_or_else(|| no_such::<DeliveryKind>(id, "id"))
}
