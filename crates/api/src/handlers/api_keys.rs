//! vouch extension (never part of Stripe's API): secret keys created at runtime, for key
//! rotation. A created key belongs to the account of the key that created it, in the same mode.
//!
//! - `POST /v1/vouch/api_keys` (`mode`, `name`): the secret is in this response only.
//! - `GET /v1/vouch/api_keys`: the account's configured key and its created keys.
//! - `POST /v1/vouch/api_keys/{id}/revoke`: a revoked key answers 401 like an unknown key
//!   and its dashboard sign-ins end (on other nodes within [`crate::keys::CACHE_TTL`]).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use vouch_domain::ids::random_alnum;
use vouch_domain::session::Account;
use vouch_store::StoredApiKey;

use crate::context::{Auth, PathId, StripeParams};
use crate::error::{ApiError, NotExecuted};
use crate::handlers::events::no_expand;
use crate::handlers::sessions::non_empty;
use crate::keys::{configured_key_id, hash_key};
use crate::state::AppState;

pub const COLLECTION: &str = "/v1/vouch/api_keys";
const MAX_NAME: usize = 200;
const MODES: &[(&str, bool)] = &[("test", false), ("live", true)];

pub async fn create(
    State(state): State<AppState>,
    Auth(account): Auth,
    StripeParams(mut p): StripeParams,
) -> Result<Response, ApiError> {
    no_expand(&mut p, false)?;
    let livemode = non_empty(p.take_enum("mode", MODES)?, "mode")?.unwrap_or(account.livemode);
    let name = non_empty(p.take_str("name", MAX_NAME)?, "name")?;
    p.finish()?;
    if livemode != account.livemode {
        return Err(ApiError::ApiKeyModeMismatch {
            livemode: account.livemode,
        });
    }
    let mode = if livemode { "live" } else { "test" };
    let (secret, id) = {
        let mut rng = rand::thread_rng();
        (random_alnum(&mut rng, 32), random_alnum(&mut rng, 24))
    };
    let secret = format!("sk_{mode}_{secret}");
    let stored = StoredApiKey {
        id: format!("key_{id}"),
        account: account.id,
        livemode,
        name,
        hash: hash_key(&secret),
        last4: secret[secret.len() - 4..].to_owned(),
        created: state.clock.now_ms().div_euclid(1000),
        revoked: None,
    };
    state.store.insert_api_key(&stored).await?;
    state.keys.runtime().forget(&stored);
    let mut body = render(&stored, "created");
    body["secret"] = json!(secret);
    let mut resp = Json(body).into_response();
    // The secret is shown once: an idempotent replay must not store it.
    resp.extensions_mut().insert(NotExecuted);
    Ok(resp)
}

pub async fn list(
    State(state): State<AppState>,
    Auth(account): Auth,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    no_expand(&mut p, true)?;
    p.finish()?;
    let mut data = Vec::new();
    if let Some(k) = configured(&state, &account) {
        data.push(render(&k.0, k.1));
    }
    for k in state.store.list_api_keys(&account.id).await? {
        data.push(render(&k, "created"));
    }
    Ok(Json(crate::render::list(data, false, COLLECTION)))
}

pub async fn revoke(
    State(state): State<AppState>,
    Auth(account): Auth,
    PathId(id): PathId,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    no_expand(&mut p, false)?;
    p.finish()?;
    if configured(&state, &account).is_some_and(|(k, _)| k.id == id) {
        return Err(ApiError::ConfiguredKeyNotRevocable { id });
    }
    let now = state.clock.now_ms().div_euclid(1000);
    let revoked = state
        .store
        .revoke_api_key(&account.id, &id, now)
        .await?
        .ok_or_else(|| ApiError::NoSuch {
            kind: "API key",
            id: id.clone(),
            param: "id",
        })?;
    state.keys.runtime().forget(&revoked);
    Ok(Json(render(&revoked, "created")))
}

/// The account's configured key as a listed key, with its source.
fn configured(state: &AppState, account: &Account) -> Option<(StoredApiKey, &'static str)> {
    let (key, generated) = state.keys.configured_key(&account.id)?;
    let last4 = key.get(key.len().saturating_sub(4)..).unwrap_or_default();
    Some((
        StoredApiKey {
            id: configured_key_id(key),
            account: account.id.clone(),
            livemode: account.livemode,
            name: None,
            hash: String::new(),
            last4: last4.to_owned(),
            created: 0,
            revoked: None,
        },
        if generated { "generated" } else { "config" },
    ))
}

fn render(k: &StoredApiKey, source: &str) -> Value {
    json!({
        "id": k.id,
        "object": "vouch.api_key",
        "created": (k.created > 0).then_some(k.created),
        "last4": k.last4,
        "livemode": k.livemode,
        "mode": if k.livemode { "live" } else { "test" },
        "name": k.name,
        "revoked": k.revoked.is_some(),
        "revoked_at": k.revoked,
        "source": source,
    })
}
