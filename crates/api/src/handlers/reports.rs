//! `/v1/identity/verification_reports`.

use axum::extract::State;

use vouch_domain::session::SessionType;
use vouch_store::ReportFilter;

use crate::context::{Auth, PathId, StripeParams};
use crate::error::ApiError;
use crate::expand;
use crate::handlers::sessions::{created_range, non_empty};
use crate::handlers::{cursor, cursor_error, parse_report_id, take_limit};
use crate::render::{JsonBody, ListView, ReportView};
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
) -> Result<JsonBody, ApiError> {
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
    Ok(JsonBody::of(&ReportView {
        report: &report,
        expand: &expand,
    }))
}

pub async fn list(
    State(state): State<AppState>,
    Auth(account): Auth,
    StripeParams(mut p): StripeParams,
) -> Result<JsonBody, ApiError> {
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
    let data: Vec<ReportView<'_>> = page
        .items
        .iter()
        .map(|report| ReportView {
            report,
            expand: &expand,
        })
        .collect();
    Ok(JsonBody::of(&ListView {
        data: &data,
        has_more: page.has_more,
        url: COLLECTION,
    }))
}
