//! `/v1/identity/verification_reports`.

use axum::extract::State;
use axum::Json;
use serde_json::Value;

use crate::context::{Auth, PathId, StripeParams};
use crate::error::ApiError;
use crate::expand;
use crate::handlers::parse_report_id;
use crate::state::AppState;

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
