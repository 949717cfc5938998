//! vouch extensions for test mode: finish a session from code, with any outcome.
//!
//! - `POST /v1/test_helpers/identity/verification_sessions/{id}/verify`: `simulate_delay`
//!   (stay `processing` for the configured time first), `verified_outputs[…]` overrides of
//!   the test person.
//! - `POST /v1/test_helpers/identity/verification_sessions/{id}/unverify`: `last_error[code]`
//!   (any code of the spec that fits the session's checks; default
//!   `document_unverified_other` or `id_number_unverified_other`), `simulate_delay`.
//! - Stripe's private client routes `POST /v1/identity/verification_pages/{id}/testing/verify`
//!   and `…/unverify` do the same (the official mobile SDKs call them).

use axum::extract::{Extension, State};
use vouch_domain::outputs::{Date, TestPerson};
use vouch_domain::session::{ErrorCode, WireEnum};
use vouch_domain::transition::Command;

use crate::context::{Auth, PathId, RequestCtx, StripeParams};
use crate::error::ApiError;
use crate::handlers::session_action;
use crate::handlers::sessions::non_empty;
use crate::params::{Field, Params};
use crate::state::AppState;

const MAX_STRING: usize = 5000;

pub async fn verify(
    State(state): State<AppState>,
    Auth(account): Auth,
    Extension(rc): Extension<RequestCtx>,
    PathId(id): PathId,
    StripeParams(p): StripeParams,
) -> Result<crate::render::JsonBody, ApiError> {
    session_action(&state, &account.id, rc.info(), &id, p, |p| {
        let delay_ms = simulate_delay(p, &state)?;
        let person = Box::new(person_overrides(p, state.config.test_person.clone())?);
        Ok(Command::TestVerify { person, delay_ms })
    })
    .await
}

pub async fn unverify(
    State(state): State<AppState>,
    Auth(account): Auth,
    Extension(rc): Extension<RequestCtx>,
    PathId(id): PathId,
    StripeParams(p): StripeParams,
) -> Result<crate::render::JsonBody, ApiError> {
    session_action(&state, &account.id, rc.info(), &id, p, |p| {
        let delay_ms = simulate_delay(p, &state)?;
        let code = match p.take_obj("last_error")? {
            None => None,
            Some(Field::Empty) => {
                return Err(ApiError::EmptyNotAllowed {
                    param: "last_error".into(),
                })
            }
            Some(Field::Value(mut e)) => {
                let code = non_empty(e.take_enum("code", ErrorCode::ALL)?, "last_error[code]")?;
                e.finish_nested()?;
                code
            }
        };
        Ok(Command::TestUnverify { code, delay_ms })
    })
    .await
}

/// `simulate_delay=true`: stay in `processing` for the configured time.
fn simulate_delay(p: &mut Params, state: &AppState) -> Result<Option<i64>, ApiError> {
    let delay = non_empty(p.take_bool("simulate_delay")?, "simulate_delay")?;
    Ok(delay
        .unwrap_or(false)
        .then_some(state.config.test_processing_delay_ms))
}

/// `verified_outputs[first_name|last_name|id_number|dob][…]|address[…]` override the test
/// person for this verification.
fn person_overrides(p: &mut Params, mut person: TestPerson) -> Result<TestPerson, ApiError> {
    let Some(field) = p.take_obj("verified_outputs")? else {
        return Ok(person);
    };
    let Field::Value(mut o) = field else {
        return Err(ApiError::EmptyNotAllowed {
            param: "verified_outputs".into(),
        });
    };
    let text = |o: &mut Params, name: &str| -> Result<Option<String>, ApiError> {
        let path = o.path(name);
        non_empty(o.take_str(name, MAX_STRING)?, &path)
    };
    if let Some(v) = text(&mut o, "first_name")? {
        person.first_name = v;
    }
    if let Some(v) = text(&mut o, "last_name")? {
        person.last_name = v;
    }
    if let Some(v) = text(&mut o, "id_number")? {
        person.id_number = v;
    }
    if let Some(v) = text(&mut o, "sex")? {
        person.sex = v;
    }
    if let Some(Field::Value(mut d)) = o.take_obj("dob")? {
        let mut part = |name: &str| -> Result<Option<i64>, ApiError> {
            let path = d.path(name);
            non_empty(d.take_i64(name)?, &path)
        };
        let (day, month, year) = (part("day")?, part("month")?, part("year")?);
        d.finish_nested()?;
        person.dob = Date {
            day: day.map_or(person.dob.day, |v| v.clamp(1, 31) as u32),
            month: month.map_or(person.dob.month, |v| v.clamp(1, 12) as u32),
            year: year.map_or(person.dob.year, |v| v.clamp(1, 9999) as i32),
        };
    }
    if let Some(Field::Value(mut a)) = o.take_obj("address")? {
        for (name, slot) in [
            ("city", &mut person.address.city),
            ("country", &mut person.address.country),
            ("line1", &mut person.address.line1),
            ("line2", &mut person.address.line2),
            ("postal_code", &mut person.address.postal_code),
            ("state", &mut person.address.state),
        ] {
            let path = a.path(name);
            if let Some(v) = non_empty(a.take_str(name, MAX_STRING)?, &path)? {
                *slot = Some(v);
            }
        }
        a.finish_nested()?;
    }
    o.finish_nested()?;
    Ok(person)
}
