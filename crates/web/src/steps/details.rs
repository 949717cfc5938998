//! The details step: the ID number (with name and date of birth for `type=id_number`) and,
//! in test mode, the outcome chooser; and the checks of what was entered.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use vouch_domain::flow;
use vouch_domain::session::{ErrorCode, Session, SessionType, WireEnum};

use super::form_html::{error_summary, text_field};
use super::{base, carried, load_live, page, query, see_other};
use crate::form::Fields;
use crate::html::{escape, fill, Html};
use crate::{Page, PageError, Step, Web};

const DETAILS: &str = include_str!("../../templates/details.html");
/// Longest accepted ID number.
const MAX_ID_NUMBER: usize = 40;
/// Longest accepted name.
const MAX_NAME: usize = 100;

/// The outcomes test mode offers, as Stripe's test page does.
const TEST_OUTCOMES: &[(&str, &str)] = &[
    ("verified", "Verification success"),
    ("failed", "Verification failure"),
    ("verified_async", "Verification success (async)"),
    ("failed_async", "Verification failure (async)"),
];

/// The failure codes that fit the session, check codes first.
fn failure_codes(session: &Session) -> Vec<ErrorCode> {
    let (mut checks, mut user): (Vec<ErrorCode>, Vec<ErrorCode>) = ErrorCode::ALL
        .iter()
        .map(|(_, c)| *c)
        .filter(|c| flow::code_fits(session, *c))
        .partition(|c| !flow::is_user_side(*c));
    checks.append(&mut user);
    checks
}

pub(super) fn default_failure(session: &Session) -> ErrorCode {
    if session.checks_document() {
        ErrorCode::DocumentUnverifiedOther
    } else if session.checks_id_number() {
        ErrorCode::IdNumberUnverifiedOther
    } else {
        ErrorCode::Abandoned
    }
}

fn chooser(session: &Session, fields: &Fields) -> Html {
    if session.livemode {
        return Html::default();
    }
    let current = fields.get("outcome").unwrap_or("verified");
    let mut out = Html::trusted(
        "<fieldset><legend>Test mode: choose the outcome</legend>\
         <p class=\"hint\">Test mode performs no checks; the session ends as you choose here. \
         The asynchronous outcomes stay in processing for a while first.</p>",
    );
    for (value, label) in TEST_OUTCOMES {
        let checked = if *value == current { " checked" } else { "" };
        out.push(Html::trusted(format!(
            "<div class=\"choice\"><input type=\"radio\" id=\"outcome-{value}\" name=\"outcome\" \
             value=\"{value}\"{checked}><label for=\"outcome-{value}\">{label}</label></div>"
        )));
    }
    let chosen = fields
        .get("error_code")
        .and_then(ErrorCode::from_wire)
        .unwrap_or_else(|| default_failure(session));
    out.push(Html::trusted(
        "<div class=\"field\"><label for=\"error_code\">Failure reason</label>\
         <span class=\"hint\" id=\"error_code-hint\">Used by the failure outcomes: the session's \
         <code>last_error</code>.</span>\
         <select id=\"error_code\" name=\"error_code\" aria-describedby=\"error_code-hint\">",
    ));
    for code in failure_codes(session) {
        let selected = if code == chosen { " selected" } else { "" };
        out.push(Html::trusted(format!(
            "<option value=\"{0}\"{selected}>{0}: {1}</option>",
            code.as_str(),
            escape(code.reason())
        )));
    }
    out.push(Html::trusted("</select></div></fieldset>"));
    out
}

pub(super) fn details_page(
    token: &str,
    session: &Session,
    fields: &Fields,
    errors: &[(&str, String)],
) -> Page {
    let mut hidden = Html::default();
    for (name, value) in carried(fields).iter() {
        hidden.push(Html::trusted(format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        )));
    }
    let error = |n: &str| errors.iter().find(|(f, _)| *f == n).map(|(_, m)| m);
    let mut inputs = Html::default();
    let live = session.livemode;
    if session.kind == SessionType::IdNumber {
        let v = |n: &str| fields.get(n).unwrap_or("").to_owned();
        inputs.push(text_field(
            "first_name",
            "First name",
            "As on your official documents.",
            &v("first_name"),
            error("first_name"),
            live,
            "text",
        ));
        inputs.push(text_field(
            "last_name",
            "Last name",
            "As on your official documents.",
            &v("last_name"),
            error("last_name"),
            live,
            "text",
        ));
        inputs.push(text_field(
            "dob",
            "Date of birth",
            "Year, month and day.",
            &v("dob"),
            error("dob"),
            live,
            "date",
        ));
    }
    if session.checks_id_number() {
        inputs.push(text_field(
            "id_number",
            "ID number",
            "For example your Social Security number (US) or national ID number.",
            fields.get("id_number").unwrap_or(""),
            error("id_number"),
            live,
            "text",
        ));
    }
    let heading = if session.checks_id_number() {
        "Your details"
    } else {
        "Review and submit"
    };
    let intro = if inputs == Html::default() && live {
        Html::trusted("<p>Submit your verification. This link can be used once.</p>")
    } else {
        Html::default()
    };
    inputs.push(intro);
    let body = fill(
        DETAILS,
        &[
            ("heading", &Html::text(heading)),
            ("errors", &error_summary(errors)),
            ("action", &Html::text(&format!("{}/submit", base(token)))),
            ("hidden", &hidden),
            ("fields", &inputs),
            ("chooser", &chooser(session, fields)),
        ],
    );
    page(session, heading, Step::Details, body)
}

pub(crate) async fn details(
    State(web): State<Web>,
    token: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Response, PageError> {
    let (token, session) = load_live(&web, &token).await?;
    let q = query(&uri);
    if q.get("consent") != Some("yes") {
        return Ok(see_other(&base(&token)));
    }
    Ok(details_page(&token, &session, &q, &[]).into_response())
}

/// Checks the entered details; the errors name their fields.
pub(super) fn check_details(session: &Session, fields: &Fields) -> Vec<(&'static str, String)> {
    let mut errors = Vec::new();
    let live = session.livemode;
    if session.kind == SessionType::IdNumber {
        for (name, label) in [("first_name", "first name"), ("last_name", "last name")] {
            match fields.non_empty(name) {
                None if live => errors.push((name, format!("Enter your {label}."))),
                Some(v) if v.chars().count() > MAX_NAME || v.contains(char::is_control) => errors
                    .push((
                        name,
                        format!("Enter your {label} in at most {MAX_NAME} characters."),
                    )),
                _ => {}
            }
        }
        match fields.non_empty("dob") {
            None if live => errors.push(("dob", "Enter your date of birth.".into())),
            Some(v) if parse_date(v).is_none() => {
                errors.push(("dob", "Enter your date of birth as YYYY-MM-DD.".into()))
            }
            _ => {}
        }
    }
    if session.checks_id_number() {
        match fields.non_empty("id_number") {
            None if live => errors.push(("id_number", "Enter your ID number.".into())),
            Some(v)
                if v.chars().count() > MAX_ID_NUMBER
                    || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ') =>
            {
                errors.push((
                    "id_number",
                    format!("An ID number has at most {MAX_ID_NUMBER} letters, digits, spaces or dashes."),
                ))
            }
            _ => {}
        }
    }
    errors
}

fn parse_date(v: &str) -> Option<(i32, u32, u32)> {
    let mut it = v.splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    ((1900..=2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then_some((y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked() {
        assert_eq!(parse_date("1990-01-31"), Some((1990, 1, 31)));
        assert_eq!(parse_date("1990-13-01"), None);
        assert_eq!(parse_date("x"), None);
        assert_eq!(parse_date("1990-01"), None);
    }
}
