//! `/v1/webhook_endpoints`: create, retrieve, update, list, delete. The `whsec_` secret is in
//! the create response only.

use axum::extract::State;
use axum::Json;
use serde_json::Value;
use vouch_domain::api_versions::API_VERSIONS;
use vouch_domain::event_types::ENABLED_EVENTS;
use vouch_domain::ids::{random_alnum, WebhookEndpointId, WebhookEndpointKind};
use vouch_domain::session::Metadata;
use vouch_domain::transition::apply_metadata;
use vouch_domain::webhook::{check_url, WebhookEndpoint, MAX_ENDPOINTS};
use vouch_store::EndpointInsert;

use crate::context::{Auth, PathId, StripeParams};
use crate::error::ApiError;
use crate::handlers::events::no_expand;
use crate::handlers::sessions::{metadata, non_empty};
use crate::handlers::take_limit;
use crate::handlers::{cursor, cursor_error, no_such, parse_id};
use crate::params::{Field, ParamError, Params};
use crate::render_webhooks::{deleted_webhook_endpoint, webhook_endpoint};
use crate::state::AppState;

const MAX_STRING: usize = 5000;
pub const COLLECTION: &str = "/v1/webhook_endpoints";
/// More `enabled_events` than there are event types cannot be meant.
const MAX_EVENTS: usize = 300;

pub async fn create(
    State(state): State<AppState>,
    Auth(account): Auth,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    no_expand(&mut p, false)?;
    let url = non_empty(p.take_str("url", MAX_STRING)?, "url")?;
    let enabled_events = enabled_events(&mut p)?;
    let api_version = non_empty(p.take_str("api_version", MAX_STRING)?, "api_version")?;
    if let Some(v) = &api_version {
        if !API_VERSIONS.contains(&v.as_str()) {
            return Err(ParamError::InvalidEnum {
                param: "api_version".into(),
                value: v.clone(),
                allowed: API_VERSIONS.to_vec(),
            }
            .into());
        }
    }
    if non_empty(p.take_bool("connect")?, "connect")? == Some(true) {
        return Err(ApiError::ConnectUnsupported);
    }
    let description = description(&mut p)?;
    let mut meta = Metadata::new();
    if let Some(patch) = metadata(&mut p)? {
        apply_metadata(&mut meta, patch)?;
    }
    p.finish()?;
    let url = url.ok_or_else(|| ApiError::MissingParam {
        param: "url".into(),
    })?;
    check(&url)?;
    let enabled_events = enabled_events.ok_or_else(|| ApiError::MissingParam {
        param: "enabled_events".into(),
    })?;
    let now = state.clock.now_ms().div_euclid(1000);
    let (id, secret) = {
        let mut rng = rand::thread_rng();
        (
            WebhookEndpointId::generate(now, &mut rng),
            format!("whsec_{}", random_alnum(&mut rng, 32)),
        )
    };
    let endpoint = WebhookEndpoint {
        id,
        account: account.id.clone(),
        livemode: account.livemode,
        created: now,
        url,
        enabled_events,
        api_version,
        description: description.flatten(),
        metadata: meta,
        disabled: false,
        secret,
    };
    match state
        .store
        .insert_webhook_endpoint(&endpoint, MAX_ENDPOINTS)
        .await?
    {
        EndpointInsert::Inserted => Ok(Json(webhook_endpoint(&endpoint, true))),
        EndpointInsert::LimitReached => Err(ApiError::WebhookEndpointLimit {
            livemode: account.livemode,
        }),
    }
}

pub async fn retrieve(
    State(state): State<AppState>,
    Auth(account): Auth,
    PathId(id): PathId,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    no_expand(&mut p, false)?;
    p.finish()?;
    let endpoint = load(&state, &account.id, &id).await?;
    Ok(Json(webhook_endpoint(&endpoint, false)))
}

pub async fn update(
    State(state): State<AppState>,
    Auth(account): Auth,
    PathId(id): PathId,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    no_expand(&mut p, false)?;
    let description = description(&mut p)?;
    let disabled = non_empty(p.take_bool("disabled")?, "disabled")?;
    let enabled_events = enabled_events(&mut p)?;
    let url = non_empty(p.take_str("url", MAX_STRING)?, "url")?;
    let meta = metadata(&mut p)?;
    p.finish()?;
    let mut endpoint = load(&state, &account.id, &id).await?;
    if let Some(patch) = meta {
        apply_metadata(&mut endpoint.metadata, patch)?;
    }
    if let Some(url) = url {
        check(&url)?;
        endpoint.url = url;
    }
    if let Some(d) = description {
        endpoint.description = d;
    }
    if let Some(d) = disabled {
        endpoint.disabled = d;
    }
    if let Some(e) = enabled_events {
        endpoint.enabled_events = e;
    }
    if !state.store.update_webhook_endpoint(&endpoint).await? {
        return Err(no_such::<WebhookEndpointKind>(&id, "id"));
    }
    Ok(Json(webhook_endpoint(&endpoint, false)))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(account): Auth,
    PathId(id): PathId,
    StripeParams(p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    p.finish()?;
    let parsed: WebhookEndpointId = parse_id(&id, "id")?;
    if !state
        .store
        .delete_webhook_endpoint(&account.id, &parsed)
        .await?
    {
        return Err(no_such::<WebhookEndpointKind>(&id, "id"));
    }
    Ok(Json(deleted_webhook_endpoint(parsed.as_str())))
}

pub async fn list(
    State(state): State<AppState>,
    Auth(account): Auth,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    no_expand(&mut p, true)?;
    let limit = take_limit(&mut p)?;
    let cursor = cursor(&mut p)?;
    p.finish()?;
    let page = state
        .store
        .list_webhook_endpoints(&account.id, cursor.as_ref().map(|(c, _)| c), limit)
        .await
        .map_err(|e| cursor_error(e, &cursor))?;
    let data = page
        .items
        .iter()
        .map(|e| webhook_endpoint(e, false))
        .collect();
    Ok(Json(crate::render::list(data, page.has_more, COLLECTION)))
}

async fn load(state: &AppState, account: &str, id: &str) -> Result<WebhookEndpoint, ApiError> {
    let parsed: WebhookEndpointId = parse_id(id, "id")?;
    state
        .store
        .get_webhook_endpoint(account, &parsed)
        .await?
        .ok_or_else(|| no_such::<WebhookEndpointKind>(id, "id"))
}

fn check(url: &str) -> Result<(), ApiError> {
    check_url(url, true).map_err(|_| ApiError::InvalidUrl {
        url: url.chars().take(200).collect(),
    })
}

/// `enabled_events[]`: at least one value of the spec's list (`*` included), in the order
/// sent, without repeats.
fn enabled_events(p: &mut Params) -> Result<Option<Vec<String>>, ApiError> {
    let Some(list) = non_empty(
        p.take_str_list("enabled_events", MAX_STRING, MAX_EVENTS)?,
        "enabled_events",
    )?
    else {
        return Ok(None);
    };
    if list.is_empty() {
        return Err(ApiError::EmptyNotAllowed {
            param: "enabled_events".into(),
        });
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, value) in list.into_iter().enumerate() {
        if !ENABLED_EVENTS.contains(&value.as_str()) {
            // Stripe's message lists every value but `*`.
            return Err(ParamError::InvalidEnum {
                param: format!("enabled_events[{i}]"),
                value,
                allowed: ENABLED_EVENTS
                    .iter()
                    .copied()
                    .filter(|e| *e != "*")
                    .collect(),
            }
            .into());
        }
        if !out.contains(&value) {
            out.push(value);
        }
    }
    Ok(Some(out))
}

/// `description`: a string, or `''` to unset (`Some(None)`).
fn description(p: &mut Params) -> Result<Option<Option<String>>, ApiError> {
    Ok(match p.take_str("description", MAX_STRING)? {
        None => None,
        Some(Field::Empty) => Some(None),
        Some(Field::Value(d)) => Some(Some(d)),
    })
}
