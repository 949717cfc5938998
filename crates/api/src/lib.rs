//! vouch's HTTP API: Stripe's routes, form decoding, errors and authentication.

pub mod context;
pub mod error;
pub mod expand;
pub mod faults;
pub mod form;
pub mod handlers;
pub mod idempotency;
pub mod jobs;
pub mod params;
pub mod render;
pub mod render_webhooks;
pub mod state;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

pub use state::{ApiConfig, AppState, Clock, KeyRing, SystemClock};

use handlers::{events, reports, sessions, test_helpers, webhook_deliveries, webhook_endpoints};

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/v1/identity/verification_sessions",
            post(sessions::create).get(sessions::list),
        )
        .route(
            "/v1/identity/verification_sessions/{id}",
            get(sessions::retrieve).post(sessions::update),
        )
        .route(
            "/v1/identity/verification_sessions/{id}/cancel",
            post(sessions::cancel),
        )
        .route(
            "/v1/identity/verification_sessions/{id}/redact",
            post(sessions::redact),
        )
        .route("/v1/identity/verification_reports", get(reports::list))
        .route(
            "/v1/identity/verification_reports/{id}",
            get(reports::retrieve),
        )
        .route(
            "/v1/test_helpers/identity/verification_sessions/{id}/verify",
            post(test_helpers::verify),
        )
        .route(
            "/v1/test_helpers/identity/verification_sessions/{id}/unverify",
            post(test_helpers::unverify),
        )
        .route(
            "/v1/identity/verification_pages/{id}/testing/verify",
            post(test_helpers::verify),
        )
        .route(
            "/v1/identity/verification_pages/{id}/testing/unverify",
            post(test_helpers::unverify),
        )
        .route("/v1/events", get(events::list))
        .route("/v1/events/{id}", get(events::retrieve))
        .route(
            "/v1/webhook_endpoints",
            post(webhook_endpoints::create).get(webhook_endpoints::list),
        )
        .route(
            "/v1/webhook_endpoints/{id}",
            get(webhook_endpoints::retrieve)
                .post(webhook_endpoints::update)
                .delete(webhook_endpoints::delete),
        )
        .route(
            "/v1/vouch/webhook_deliveries",
            get(webhook_deliveries::list),
        )
        .route(
            "/v1/vouch/webhook_deliveries/{id}",
            get(webhook_deliveries::retrieve),
        )
        .route(
            "/v1/vouch/webhook_deliveries/{id}/resend",
            post(webhook_deliveries::resend),
        )
        .fallback(context::unknown_route)
        .method_not_allowed_fallback(context::unknown_route)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        // Outside idempotency: an injected error_after hides a response that was stored, as a
        // network failure would, so a client's retry gets the stored answer.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            context::request_context,
        ))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
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
