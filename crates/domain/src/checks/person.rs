//! What a verdict backs: the person data of the checks that passed, and nothing else.

use crate::outputs::{Date, VerifiedPerson};
use crate::session::WireEnum;

use super::countries::alpha2;
use super::{valid_zone, validate, CheckResult, Submission, Verdict};

/// The data a verdict verified. A passed document check contributes what its validated
/// machine-readable zone carries (names, date of birth, sex, document number, expiry, and the
/// issuing state as an ISO 3166-1 alpha-2 country when it names one); a passed ID-number check
/// the number (the last four digits of a `us_ssn`), its type and the name and date of birth
/// entered with it, where the zone did not already give them. Address and issue date are never
/// read offline and stay `None`; so does everything of a check that did not pass. A plug-in
/// that verifies without a zone gets no data from here.
pub fn verified_person(sub: &Submission, verdict: &Verdict, today: Date) -> VerifiedPerson {
    let passed = |c: Option<CheckResult>| c.is_some_and(CheckResult::is_verified);
    let mut person = VerifiedPerson::default();
    if passed(verdict.document) {
        if let Some(zone) = sub.document.as_ref().and_then(|d| valid_zone(d, today)) {
            person.first_name = Some(zone.given_names.clone());
            person.last_name = Some(zone.surname.clone());
            person.dob = Some(zone.dob);
            person.sex = Some(zone.sex.as_wire().to_owned());
            person.document_number = Some(zone.document_number.clone());
            person.document_expiration = Some(zone.expiry);
            person.issuing_country = alpha2(&zone.issuing_state).map(str::to_owned);
        }
    }
    if passed(verdict.id_number) {
        if let Some(entered) = &sub.id_number {
            if let Ok(number) = validate(entered.id_number_type, &entered.number) {
                person.id_number = Some(number.reportable().to_owned());
                person.id_number_type = Some(entered.id_number_type.as_str().to_owned());
                person.first_name = person.first_name.or_else(|| entered.first_name.clone());
                person.last_name = person.last_name.or_else(|| entered.last_name.clone());
                person.dob = person.dob.or(entered.dob);
            }
        }
    }
    person
}

#[cfg(test)]
#[path = "person_tests.rs"]
mod tests;
