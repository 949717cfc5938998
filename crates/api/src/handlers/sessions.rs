//! `/v1/identity/verification_sessions`: create, retrieve, update, list, cancel, redact.

use axum::extract::{Extension, State};
use vouch_domain::ids::SessionId;
use vouch_domain::session::{DocumentType, RelatedPerson, SessionType, Status, WireEnum};
use vouch_domain::transition::{
    self, Command, Ctx, DocumentOptionsPatch, MetadataPatch, NewSession, Patch,
    ProvidedDetailsPatch, SessionUpdate,
};
use vouch_store::{CreatedRange, SessionFilter};

use crate::context::{Auth, PathId, RequestCtx, StripeParams};
use crate::error::ApiError;
use crate::expand::{self, SessionExpand};
use crate::handlers::{
    cursor, cursor_error, expanded_report, mutate, parse_session_id, render_entry, render_session,
    rendered, session_action, take_limit,
};
use crate::params::{Field, Params};
use crate::render::{JsonBody, ListView, SessionView};
use crate::state::AppState;

const MAX_STRING: usize = 5000;
pub const COLLECTION: &str = "/v1/identity/verification_sessions";

/// `type` values accepted on create and update (`verification_flow` is output-only).
const TYPES: &[(&str, SessionType)] = &[
    ("document", SessionType::Document),
    ("id_number", SessionType::IdNumber),
];

pub async fn create(
    State(state): State<AppState>,
    Auth(account): Auth,
    Extension(rc): Extension<RequestCtx>,
    StripeParams(mut p): StripeParams,
) -> Result<JsonBody, ApiError> {
    let expand = expand::session(&mut p, false)?;
    let kind = non_empty(p.take_enum("type", TYPES)?, "type")?;
    let verification_flow = non_empty(
        p.take_str("verification_flow", MAX_STRING)?,
        "verification_flow",
    )?;
    match (&kind, &verification_flow) {
        (Some(_), Some(_)) => {
            return Err(ApiError::Exclusive {
                params: ["type", "verification_flow"],
            })
        }
        (None, None) => {
            return Err(ApiError::MissingParam {
                param: "type".into(),
            })
        }
        _ => {}
    }
    let new = NewSession {
        kind,
        verification_flow,
        client_reference_id: non_empty(
            p.take_str("client_reference_id", MAX_STRING)?,
            "client_reference_id",
        )?,
        metadata: metadata(&mut p)?,
        document_options: options(&mut p)?,
        provided_details: provided_details(&mut p)?,
        related_customer: non_empty(
            p.take_str("related_customer", MAX_STRING)?,
            "related_customer",
        )?,
        related_customer_account: non_empty(
            p.take_str("related_customer_account", MAX_STRING)?,
            "related_customer_account",
        )?,
        related_person: related_person(&mut p)?,
        return_url: non_empty(p.take_str("return_url", MAX_STRING)?, "return_url")?,
    };
    p.finish()?;
    let (session, event) = {
        let mut rng = rand::thread_rng();
        let mut ctx = Ctx {
            now_ms: state.clock.now_ms(),
            request: rc.info(),
            rng: &mut rng,
        };
        transition::create(&account, new, &mut ctx)?
    };
    state.store.insert_session(&session, &[event]).await?;
    render_session(&state, &session, &expand).await
}

pub async fn retrieve(
    State(state): State<AppState>,
    Auth(account): Auth,
    Extension(rc): Extension<RequestCtx>,
    PathId(id): PathId,
    StripeParams(mut p): StripeParams,
) -> Result<JsonBody, ApiError> {
    let expand = expand::session(&mut p, false)?;
    p.finish()?;
    let id = parse_session_id(&id, "id")?;
    let entry = state
        .store
        .get_session_entry(&account.id, &id)
        .await?
        .ok_or_else(|| no_such(&id))?;
    // A requires_input session whose link was used or expired gets fresh ones, as at Stripe.
    let now_ms = state.clock.now_ms();
    let session = &entry.session;
    if session.status == Status::RequiresInput
        && !session.is_redacted()
        && (session.live_client_secret(now_ms).is_none()
            || session.live_url_token(now_ms).is_none())
    {
        let session = mutate(&state, &account.id, &id, rc.info(), Command::RefreshSecrets)
            .await?
            .session;
        return render_session(&state, &session, &expand).await;
    }
    render_entry(&state, &entry, &expand).await
}

pub async fn update(
    State(state): State<AppState>,
    Auth(account): Auth,
    Extension(rc): Extension<RequestCtx>,
    PathId(id): PathId,
    StripeParams(p): StripeParams,
) -> Result<JsonBody, ApiError> {
    session_action(&state, &account.id, rc.info(), &id, p, |p| {
        Ok(Command::Update(SessionUpdate {
            kind: non_empty(p.take_enum("type", TYPES)?, "type")?,
            metadata: metadata(p)?,
            document_options: options(p)?,
            provided_details: provided_details(p)?,
        }))
    })
    .await
}

pub async fn cancel(
    State(state): State<AppState>,
    Auth(account): Auth,
    Extension(rc): Extension<RequestCtx>,
    PathId(id): PathId,
    StripeParams(p): StripeParams,
) -> Result<JsonBody, ApiError> {
    session_action(&state, &account.id, rc.info(), &id, p, |_| {
        Ok(Command::Cancel)
    })
    .await
}

pub async fn redact(
    State(state): State<AppState>,
    Auth(account): Auth,
    Extension(rc): Extension<RequestCtx>,
    PathId(id): PathId,
    StripeParams(p): StripeParams,
) -> Result<JsonBody, ApiError> {
    let due_ms = state.clock.now_ms() + state.config.redaction_delay_ms;
    session_action(&state, &account.id, rc.info(), &id, p, |_| {
        Ok(Command::Redact { due_ms })
    })
    .await
}

const STATUSES: &[(&str, Status)] = Status::ALL;

pub async fn list(
    State(state): State<AppState>,
    Auth(account): Auth,
    StripeParams(mut p): StripeParams,
) -> Result<JsonBody, ApiError> {
    let expand = expand::session(&mut p, true)?;
    let limit = take_limit(&mut p)?;
    let filter = SessionFilter {
        status: non_empty(p.take_enum("status", STATUSES)?, "status")?,
        client_reference_id: non_empty(
            p.take_str("client_reference_id", MAX_STRING)?,
            "client_reference_id",
        )?,
        related_customer: non_empty(
            p.take_str("related_customer", MAX_STRING)?,
            "related_customer",
        )?,
        related_customer_account: non_empty(
            p.take_str("related_customer_account", MAX_STRING)?,
            "related_customer_account",
        )?,
        created: created_range(&mut p)?,
    };
    let cursor = cursor(&mut p)?;
    p.finish()?;
    let page = state
        .store
        .list_session_entries(&account.id, &filter, cursor.as_ref().map(|(c, _)| c), limit)
        .await
        .map_err(|e| cursor_error(e, &cursor))?;
    if expand == SessionExpand::default() {
        let items: Vec<bytes::Bytes> = page.items.iter().map(|e| rendered(&state, e)).collect();
        return Ok(JsonBody::list(&items, page.has_more, COLLECTION));
    }
    let mut reports = Vec::with_capacity(page.items.len());
    for e in &page.items {
        reports.push(expanded_report(&state, &e.session, &expand).await?);
    }
    let now_ms = state.clock.now_ms();
    let data: Vec<SessionView<'_>> = page
        .items
        .iter()
        .zip(&reports)
        .map(|(entry, report)| SessionView {
            session: &entry.session,
            expand: &expand,
            report: report.as_ref(),
            public_url: &state.config.public_url,
            now_ms,
        })
        .collect();
    Ok(JsonBody::of(&ListView {
        data: &data,
        has_more: page.has_more,
        url: COLLECTION,
    }))
}

fn no_such(id: &SessionId) -> ApiError {
    ApiError::NoSuch {
        kind: "VerificationSession",
        id: id.to_string(),
        param: "id",
    }
}

/// A parameter that cannot be unset: `''` is `parameter_invalid_empty`.
pub(crate) fn non_empty<T>(f: Option<Field<T>>, param: &str) -> Result<Option<T>, ApiError> {
    match f {
        None => Ok(None),
        Some(Field::Value(v)) => Ok(Some(v)),
        Some(Field::Empty) => Err(ApiError::EmptyNotAllowed {
            param: param.to_owned(),
        }),
    }
}

pub(crate) fn metadata(p: &mut Params) -> Result<Option<MetadataPatch>, ApiError> {
    Ok(match p.take_string_map("metadata")? {
        None => None,
        Some(Field::Empty) => Some(MetadataPatch::Clear),
        Some(Field::Value(pairs)) => Some(MetadataPatch::Set(
            pairs
                .into_iter()
                .map(|(k, v)| (k, (!v.is_empty()).then_some(v)))
                .collect(),
        )),
    })
}

/// A sub-field of an object that may be unset with `''`.
fn patch<T>(f: Option<Field<T>>) -> Patch<T> {
    match f {
        None => Patch::Keep,
        Some(Field::Empty) => Patch::Unset,
        Some(Field::Value(v)) => Patch::Set(v),
    }
}

fn options(p: &mut Params) -> Result<Patch<DocumentOptionsPatch>, ApiError> {
    let mut options = match p.take_obj("options")? {
        None => return Ok(Patch::Keep),
        Some(Field::Empty) => {
            return Err(ApiError::EmptyNotAllowed {
                param: "options".into(),
            })
        }
        Some(Field::Value(o)) => o,
    };
    let document = match options.take_obj("document")? {
        None => Patch::Keep,
        Some(Field::Empty) => Patch::Unset,
        Some(Field::Value(mut d)) => {
            let patch = DocumentOptionsPatch {
                allowed_types: patch(d.take_enum_list("allowed_types", DocumentType::ALL, 3)?),
                require_id_number: patch(d.take_bool("require_id_number")?),
                require_live_capture: patch(d.take_bool("require_live_capture")?),
                require_matching_selfie: patch(d.take_bool("require_matching_selfie")?),
            };
            d.finish_nested()?;
            Patch::Set(patch)
        }
    };
    options.finish_nested()?;
    Ok(document)
}

fn provided_details(p: &mut Params) -> Result<Patch<ProvidedDetailsPatch>, ApiError> {
    Ok(match p.take_obj("provided_details")? {
        None => Patch::Keep,
        Some(Field::Empty) => Patch::Unset,
        Some(Field::Value(mut d)) => {
            let email = patch(d.take_str("email", MAX_STRING)?);
            let phone = patch(d.take_str("phone", MAX_STRING)?);
            d.finish_nested()?;
            Patch::Set(ProvidedDetailsPatch { email, phone })
        }
    })
}

fn related_person(p: &mut Params) -> Result<Option<RelatedPerson>, ApiError> {
    let mut o = match non_empty(p.take_obj("related_person")?, "related_person")? {
        None => return Ok(None),
        Some(o) => o,
    };
    let account = non_empty(
        o.take_str("account", MAX_STRING)?,
        "related_person[account]",
    )?;
    let person = non_empty(o.take_str("person", MAX_STRING)?, "related_person[person]")?;
    o.finish_nested()?;
    let account = account.ok_or_else(|| ApiError::MissingParam {
        param: "related_person[account]".into(),
    })?;
    let person = person.ok_or_else(|| ApiError::MissingParam {
        param: "related_person[person]".into(),
    })?;
    Ok(Some(RelatedPerson { account, person }))
}

pub(crate) fn created_range(p: &mut Params) -> Result<CreatedRange, ApiError> {
    Ok(
        match non_empty(p.take_int_or_range("created")?, "created")? {
            None => CreatedRange::default(),
            Some(r) => CreatedRange {
                gt: r.gt,
                gte: match (r.eq, r.gte) {
                    (Some(eq), Some(gte)) => Some(eq.max(gte)),
                    (eq, gte) => eq.or(gte),
                },
                lt: r.lt,
                lte: match (r.eq, r.lte) {
                    (Some(eq), Some(lte)) => Some(eq.min(lte)),
                    (eq, lte) => eq.or(lte),
                },
            },
        },
    )
}
