//! `/v1/identity/verification_reports`.

use axum::extract::State;
use axum::Json;
use serde_json::Value;

use vouch_domain::session::SessionType;
use vouch_store::ReportFilter;

use crate::context::{Auth, PathId, StripeParams};
use crate::error::ApiError;
use crate::expand;
use crate::handlers::sessions::{created_range, non_empty};
use crate::handlers::{cursor, cursor_error, parse_report_id, take_limit};
use crate::state::AppState;

pub const COLLECTION: &str = "/v1/identity/verification_reports";
const TYPES: &[(&str, SessionType)] = &[
    ("document", SessionType::Document),
    ("id_number", SessionType::IdNumber),
];

pub async fn retrieve(
    State(state): State<AppState>,
    Auth(account): Auth,
    PathId(id): PathId,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::report(&mut p, false)?;
    p.finish()?;
    let id = parse_report_id(&id, "id")?;
    let report = state
        .store
        .get_report(&account.id, &id)
        .await?
        .ok_or_else(|| ApiError::NoSuch {
            kind: "VerificationReport",
            id: id.to_string(),
            param: "id",
        })?;
    Ok(Json(crate::render::report(&report, &expand)))
}

pub async fn list(
    State(state): State<AppState>,
    Auth(account): Auth,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::report(&mut p, true)?;
    let limit = take_limit(&mut p)?;
    let filter = ReportFilter {
        client_reference_id: non_empty(
            p.take_str("client_reference_id", 5000)?,
            "client_reference_id",
        )?,
        kind: non_empty(p.take_enum("type", TYPES)?, "type")?,
        // Stripe also accepts a legacy VerificationIntent id here; vouch has none, so any
        // string is looked up as given.
        verification_session: non_empty(
            p.take_str("verification_session", 5000)?,
            "verification_session",
        )?,
        created: created_range(&mut p)?,
    };
    let cursor = cursor(&mut p)?;
    p.finish()?;
    let page = state
        .store
        .list_reports(&account.id, &filter, cursor.as_ref().map(|(c, _)| c), limit)
        .await
        .map_err(|e| cursor_error(e, &cursor))?;
    let data = page
        .items
        .iter()
        .map(|r| crate::render::report(r, &expand))
        .collect();
    Ok(Json(crate::render::list(data, page.has_more, COLLECTION)))
}
