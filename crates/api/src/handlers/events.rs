//! `/v1/events`: retrieve and list (30 days of them; older ones are pruned).

use axum::extract::State;
use axum::Json;
use serde_json::Value;
use vouch_domain::event::EventType;
use vouch_domain::ids::{EventId, Id, IdKind};
use vouch_domain::webhook::type_matches;
use vouch_domain::WireEnum;
use vouch_store::{Cursor, EventFilter, StoreError};

use crate::context::{Auth, PathId, StripeParams};
use crate::error::ApiError;
use crate::handlers::sessions::{created_range, non_empty};
use crate::handlers::take_limit;
use crate::params::{Field, Params};
use crate::state::AppState;

const MAX_STRING: usize = 5000;
pub const COLLECTION: &str = "/v1/events";
/// `types[]` takes at most this many.
const MAX_TYPES: usize = 20;

/// An id from the request; a malformed one cannot exist, so it is "no such" at once.
pub(crate) fn parse_id<K: IdKind>(raw: &str, param: &'static str) -> Result<Id<K>, ApiError> {
    Id::parse(raw).ok_or_else(|| no_such::<K>(raw, param))
}

pub(crate) fn no_such<K: IdKind>(id: &str, param: &'static str) -> ApiError {
    ApiError::NoSuch {
        kind: K::NAME,
        id: id.to_owned(),
        param,
    }
}

/// A list cursor and the parameter it came from.
pub(crate) type ListCursor<K> = Option<(Cursor<Id<K>>, &'static str)>;

/// `starting_after` / `ending_before`.
pub(crate) fn cursor<K: IdKind>(p: &mut Params) -> Result<ListCursor<K>, ApiError> {
    let after = non_empty(p.take_str("starting_after", MAX_STRING)?, "starting_after")?;
    let before = non_empty(p.take_str("ending_before", MAX_STRING)?, "ending_before")?;
    Ok(match (after, before) {
        (Some(_), Some(_)) => {
            return Err(ApiError::Exclusive {
                params: ["starting_after", "ending_before"],
            })
        }
        (Some(a), None) => Some((
            Cursor::After(parse_id(&a, "starting_after")?),
            "starting_after",
        )),
        (None, Some(b)) => Some((
            Cursor::Before(parse_id(&b, "ending_before")?),
            "ending_before",
        )),
        (None, None) => None,
    })
}

/// A store's `NotFound` for a list cursor is the cursor's "no such".
pub(crate) fn cursor_error<K: IdKind>(e: StoreError, cursor: &ListCursor<K>) -> ApiError {
    match (e, cursor) {
        (StoreError::NotFound, Some((c, param))) => match c {
            Cursor::After(id) | Cursor::Before(id) => no_such::<K>(id.as_str(), param),
        },
        (e, _) => e.into(),
    }
}

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
