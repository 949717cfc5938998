//! The details step: in live mode what the checks need (a document's machine-readable zone,
//! expiry and date of birth; the ID number, its type, name and date of birth); in test mode
//! the ID number (with name and date of birth for `type=id_number`) and the outcome chooser;
//! and the checks of what was entered.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use vouch_domain::checks::IdNumberType;
use vouch_domain::flow;
use vouch_domain::outputs::Date;
use vouch_domain::session::{DocumentType, ErrorCode, Session, SessionType, WireEnum};

use super::form_html::{error_summary, select_field, text_field, textarea_field};
use super::{base, carried, chosen_type, load_live, page, query, see_other};
use crate::form::Fields;
use crate::html::{escape, fill, Html};
use crate::{Page, PageError, Step, Web};

const DETAILS: &str = include_str!("../../templates/details.html");
/// Longest accepted ID number.
const MAX_ID_NUMBER: usize = 40;
/// Longest accepted name.
const MAX_NAME: usize = 100;
/// Longest accepted machine-readable zone (3 × 30 or 2 × 44 characters and line breaks).
const MAX_MRZ: usize = 200;

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
    let v = |n: &str| fields.get(n).unwrap_or("").to_owned();
    let mut inputs = Html::default();
    let live = session.livemode;
    let live_document = live && session.checks_document();
    if live_document {
        inputs.push(document_fields(session, fields, &error));
    }
    if session.kind == SessionType::IdNumber || (live && session.checks_id_number()) {
        // Required for `type=id_number`; a document session's zone carries them already.
        let names_required = live && session.kind == SessionType::IdNumber;
        let hint = if names_required {
            "As on your official documents."
        } else {
            "Optional: compared with your document."
        };
        inputs.push(text_field(
            "first_name",
            "First name",
            hint,
            &v("first_name"),
            error("first_name"),
            names_required,
            "text",
        ));
        inputs.push(text_field(
            "last_name",
            "Last name",
            hint,
            &v("last_name"),
            error("last_name"),
            names_required,
            "text",
        ));
        if !live_document {
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
    }
    if live && session.checks_id_number() {
        let options: Vec<(&str, &str)> = ID_NUMBER_TYPES
            .iter()
            .map(|(t, label)| (t.as_str(), *label))
            .collect();
        inputs.push(select_field(
            "id_number_type",
            "Type of ID number",
            "The country and scheme that issued the number.",
            &options,
            &v("id_number_type"),
            error("id_number_type"),
            true,
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
    let heading = if session.checks_id_number() || live_document {
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

/// The ID-number types the live form offers (the types the built-in checks know).
const ID_NUMBER_TYPES: &[(IdNumberType, &str)] = &[
    (IdNumberType::BrCpf, "CPF (Brazil)"),
    (IdNumberType::SgNric, "NRIC or FIN (Singapore)"),
    (
        IdNumberType::UsSsn,
        "Social Security number (United States)",
    ),
];

/// Live mode, document sessions: what the document checks need besides the photos.
fn document_fields<'a>(
    session: &Session,
    fields: &Fields,
    error: &impl Fn(&str) -> Option<&'a String>,
) -> Html {
    let v = |n: &str| fields.get(n).unwrap_or("").to_owned();
    let mut out = Html::default();
    let zone = match chosen_type(session, fields) {
        DocumentType::Passport => Some((
            "The two lines of 44 characters at the bottom of the photo page, as printed, \
             with every &lt;.",
            2,
        )),
        DocumentType::IdCard => Some((
            "The three lines of 30 characters on the back of the card, as printed, with \
             every &lt;.",
            3,
        )),
        DocumentType::DrivingLicense => None,
    };
    if let Some((hint, rows)) = zone {
        out.push(textarea_field(
            "mrz",
            "Machine-readable zone (optional)",
            &format!("{hint} Without it the document cannot be verified."),
            &v("mrz"),
            error("mrz"),
            rows,
        ));
    }
    out.push(text_field(
        "expiration",
        "Expiry date",
        "As printed on the document.",
        &v("expiration"),
        error("expiration"),
        true,
        "date",
    ));
    out.push(text_field(
        "dob",
        "Date of birth",
        "As printed on the document.",
        &v("dob"),
        error("dob"),
        true,
        "date",
    ));
    out
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

/// Checks the entered details; the errors name their fields. Only the form is checked here:
/// whether the zone's check digits hold, the document is valid, the number is well-formed is
/// for the verifier to decide.
pub(super) fn check_details(session: &Session, fields: &Fields) -> Vec<(&'static str, String)> {
    let mut errors = Vec::new();
    let live = session.livemode;
    let live_document = live && session.checks_document();
    if session.kind == SessionType::IdNumber || (live && session.checks_id_number()) {
        let required = live && session.kind == SessionType::IdNumber;
        for (name, label) in [("first_name", "first name"), ("last_name", "last name")] {
            match fields.non_empty(name) {
                None if required => errors.push((name, format!("Enter your {label}."))),
                Some(v) if v.chars().count() > MAX_NAME || v.contains(char::is_control) => errors
                    .push((
                        name,
                        format!("Enter your {label} in at most {MAX_NAME} characters."),
                    )),
                _ => {}
            }
        }
    }
    if live_document {
        if let Some(zone) = fields.non_empty("mrz") {
            let allowed = |c: char| c.is_ascii_alphanumeric() || c == '<' || c.is_whitespace();
            if zone.chars().count() > MAX_MRZ || !zone.chars().all(allowed) {
                errors.push((
                    "mrz",
                    "Type the machine-readable zone as printed: letters, digits and <, \
                     line by line."
                        .into(),
                ));
            }
        }
        check_date(fields, &mut errors, "expiration", "the expiry date", true);
    }
    if live_document || session.kind == SessionType::IdNumber {
        check_date(fields, &mut errors, "dob", "your date of birth", live);
    }
    if live && session.checks_id_number() {
        let known = fields
            .get("id_number_type")
            .and_then(IdNumberType::from_wire)
            .is_some_and(|t| ID_NUMBER_TYPES.iter().any(|(k, _)| *k == t));
        if !known {
            errors.push((
                "id_number_type",
                "Choose the type of your ID number.".into(),
            ));
        }
    }
    if session.checks_id_number() {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | ' ' | '.' | '/');
        match fields.non_empty("id_number") {
            None if live => errors.push(("id_number", "Enter your ID number.".into())),
            Some(v) if v.chars().count() > MAX_ID_NUMBER || !v.chars().all(allowed) => {
                errors.push((
                    "id_number",
                    format!(
                        "An ID number has at most {MAX_ID_NUMBER} letters, digits, spaces, \
                         dots, dashes or slashes."
                    ),
                ))
            }
            _ => {}
        }
    }
    errors
}

/// A date field: required or not, and YYYY-MM-DD when given.
fn check_date(
    fields: &Fields,
    errors: &mut Vec<(&'static str, String)>,
    name: &'static str,
    what: &str,
    required: bool,
) {
    match fields.non_empty(name) {
        None if required => errors.push((name, format!("Enter {what}."))),
        Some(v) if parse_date(v).is_none() => {
            errors.push((name, format!("Enter {what} as YYYY-MM-DD.")))
        }
        _ => {}
    }
}

/// A date the form checked (`YYYY-MM-DD`), as the checks' `Date`.
pub(super) fn form_date(fields: &Fields, name: &str) -> Option<Date> {
    let (year, month, day) = parse_date(fields.non_empty(name)?)?;
    Some(Date { day, month, year })
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
