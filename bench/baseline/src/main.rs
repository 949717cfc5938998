//! The benchmark ceiling for vouch: the same HTTP stack (axum 0.8 on a multi-thread tokio
//! runtime with one worker per core, like vouch) answering a fixed, pre-serialized
//! VerificationSession on every path the benchmark cases use. No auth, no parsing, no
//! storage: what is left is the cost of HTTP itself on this machine, so each vouch case can
//! be reported as a fraction of it.
//!
//! Usage: vouch-bench-baseline [ADDR]   (default 127.0.0.1:18112)
//! Prints `baseline listening on http://ADDR` on stdout when ready.

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// A realistic `requires_input` document session (~600 bytes), as vouch renders one.
const SESSION: &str = concat!(
    r#"{"id":"vs_1xUrEC9QYePaw2iyjpkNSI0d","object":"identity.verification_session","#,
    r#""client_reference_id":"user_4242","#,
    r#""client_secret":"vs_1xUrEC9QYePaw2iyjpkNSI0d_secret_test_4n0bSliuMoC5RDCgebtJp7Rw","#,
    r#""created":1795291108,"last_error":null,"last_verification_report":null,"livemode":false,"#,
    r#""metadata":{"k":"v","order":"ord_12345"},"#,
    r#""options":{"document":{"require_matching_selfie":true}},"#,
    r#""redaction":null,"related_customer":null,"related_customer_account":null,"#,
    r#""status":"requires_input","type":"document","#,
    r#""url":"http://127.0.0.1:12111/verify/test_7rETnL44eQCKv9HEC6SHKvDd2neXhF57rYYDeqWi"}"#
);

async fn session_get() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], SESSION)
}

/// POSTs read their whole form body first, as any real handler must.
async fn session_post(body: Bytes) -> impl IntoResponse {
    std::hint::black_box(body);
    ([(CONTENT_TYPE, "application/json")], SESSION)
}

async fn healthz() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18112".to_owned());
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/v1/identity/verification_sessions",
            get(session_get).post(session_post),
        )
        .route(
            "/v1/identity/verification_sessions/{id}",
            get(session_get).post(session_post),
        )
        .route(
            "/v1/identity/verification_sessions/{id}/cancel",
            get(session_get).post(session_post),
        );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("baseline listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
