//! vouch's HTTP API: Stripe's routes, form decoding, errors and authentication.

pub mod access_log;
pub mod context;
pub mod error;
pub mod expand;
pub mod faults;
pub mod form;
pub mod handlers;
pub mod idempotency;
pub mod jobs;
pub mod keys;
pub mod params;
pub mod render;
pub mod render_webhooks;
pub mod routes;
pub mod state;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, Router};
use serde_json::json;

pub use state::{ApiConfig, AppState, Clock, KeyRing, OffsetClock, SystemClock};

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes::ROUTES {
        router = router.route(route.path, route.method_router());
    }
    router
        .fallback(context::unknown_route)
        .method_not_allowed_fallback(context::unknown_route)
        .layer(axum::extract::DefaultBodyLimit::disable())
        // Request ids, faults, idempotency and the request log, in one layer.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            context::api_layer,
        ))
        .with_state(state)
}

pub(crate) async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ok"}))),
        Err(e) => {
            tracing::warn!(cause = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable"})),
            )
        }
    }
}
