//! vouch extension: finish a test-mode session from code.
//! `POST /v1/test_helpers/identity/verification_sessions/{id}/verify`.

use axum::extract::{Extension, State};
use axum::Json;
use serde_json::Value;
use vouch_domain::transition::Command;

use crate::context::{Auth, PathId, RequestCtx, StripeParams};
use crate::error::ApiError;
use crate::expand;
use crate::handlers::{mutate, parse_session_id, render_session};
use crate::state::AppState;

pub async fn verify(
    State(state): State<AppState>,
    Auth(account): Auth,
    Extension(rc): Extension<RequestCtx>,
    PathId(id): PathId,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::session(&mut p, false)?;
    p.finish()?;
    let id = parse_session_id(&id, "id")?;
    let person = Box::new(state.config.test_person.clone());
    let session = mutate(
        &state,
        &account.id,
        &id,
        rc.info(),
        Command::TestVerify { person },
    )
    .await?
    .session;
    Ok(Json(render_session(&state, &session, &expand).await?))
}
