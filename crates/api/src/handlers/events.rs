//! `/v1/events`: retrieve and list (30 days of them; older ones are pruned).

use axum::extract::State;
use axum::Json;
use serde_json::Value;
use vouch_domain::event::EventType;
use vouch_domain::ids::EventId;
use vouch_domain::webhook::type_matches;
use vouch_domain::WireEnum;
use vouch_store::EventFilter;

use crate::context::{Auth, PathId, StripeParams};
use crate::error::ApiError;
use crate::handlers::sessions::{created_range, non_empty};
use crate::handlers::{cursor, cursor_error, no_such, parse_id, take_limit};
use crate::params::{Field, Params};
use crate::state::AppState;

const MAX_STRING: usize = 5000;
pub const COLLECTION: &str = "/v1/events";
/// `types[]` takes at most this many.
const MAX_TYPES: usize = 20;

/// Nothing of an event (or an endpoint, or a delivery) can be expanded.
pub(crate) fn no_expand(p: &mut Params, is_list: bool) -> Result<(), ApiError> {
    match p.take_str_list("expand", MAX_STRING, 50)? {
        None | Some(Field::Empty) => Ok(()),
        Some(Field::Value(paths)) => match paths.into_iter().next() {
            None => Ok(()),
            Some(path) => Err(ApiError::CannotExpand {
                list_hint: is_list && !path.starts_with("data."),
                path,
            }),
        },
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
    let id: EventId = parse_id(&id, "id")?;
    let event = state
        .store
        .get_event(&account.id, &id)
        .await?
        .ok_or_else(|| no_such::<vouch_domain::ids::EventKind>(id.as_str(), "id"))?;
    Ok(Json(render(&state, &event)))
}

fn render(state: &AppState, e: &vouch_store::StoredEvent) -> Value {
    crate::render_webhooks::event(
        e,
        &state.config.default_api_version,
        &state.config.public_url,
    )
}

/// The event types a `type` filter selects: itself, or every type its `*`s match.
fn types_matching(pattern: &str) -> Vec<String> {
    if !pattern.contains('*') {
        return vec![pattern.to_owned()];
    }
    EventType::ALL
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| type_matches(pattern, name))
        .map(str::to_owned)
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    Auth(account): Auth,
    StripeParams(mut p): StripeParams,
) -> Result<Json<Value>, ApiError> {
    no_expand(&mut p, true)?;
    let limit = take_limit(&mut p)?;
    let one = non_empty(p.take_str("type", MAX_STRING)?, "type")?;
    let many = non_empty(p.take_str_list("types", MAX_STRING, MAX_TYPES)?, "types")?;
    let types = match (one, many) {
        (Some(_), Some(_)) => {
            return Err(ApiError::Exclusive {
                params: ["type", "types"],
            })
        }
        (Some(pattern), None) => Some(types_matching(&pattern)),
        (None, Some(list)) => Some(list),
        (None, None) => None,
    };
    let filter = EventFilter {
        types,
        created: created_range(&mut p)?,
        delivery_success: non_empty(p.take_bool("delivery_success")?, "delivery_success")?,
        session: None,
    };
    let cursor = cursor(&mut p)?;
    p.finish()?;
    let page = state
        .store
        .list_events(&account.id, &filter, cursor.as_ref().map(|(c, _)| c), limit)
        .await
        .map_err(|e| cursor_error(e, &cursor))?;
    let data = page.items.iter().map(|e| render(&state, e)).collect();
    Ok(Json(crate::render::list(data, page.has_more, COLLECTION)))
}

#[cfg(test)]
mod tests {
    use super::types_matching;

    #[test]
    fn wildcards_become_the_types_they_match() {
        assert_eq!(types_matching("identity.*").len(), 6);
        assert_eq!(types_matching("*").len(), 6);
        assert_eq!(
            types_matching("*.canceled"),
            vec!["identity.verification_session.canceled"]
        );
        assert!(types_matching("charge.*").is_empty());
        assert_eq!(types_matching("charge.succeeded"), vec!["charge.succeeded"]);
    }
}
