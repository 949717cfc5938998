//! The checks vouch can really decide offline, and the `Verifier` seam live mode runs
//! submissions through. What each check proves (and what it does not) is written down in
//! `docs/verification.md`; the built-in verifier never reports a pass it cannot back up.

pub mod countries;
pub mod document;
pub mod id_number;
pub mod mrz;
mod person;

use serde::{Deserialize, Serialize};

use crate::outputs::Date;
use crate::session::{ErrorCode, SessionType};

pub use document::{
    age_on, check_document, compare_dates, is_valid_date, sniff_image, valid_zone,
    DocumentSubmission, DocumentVerdict, ImageInfo, ImageType,
};
pub use id_number::{
    dob_matches, given_names_match, names_match, validate, IdNumberProblem, IdNumberType,
    NormalizedIdNumber,
};
pub use mrz::{Mrz, MrzField, MrzFormat, MrzProblem, MrzSex};
pub use person::verified_person;

/// Decides a submission. The hosted page holds one (`BuiltinVerifier` unless a plug-in
/// replaces it) and submits the `Verdict` as the attempt's outcome
/// (`flow::AttemptOutcome::Checked`): the report's checks and the session's `last_error`.
pub trait Verifier: Send + Sync {
    fn verify(&self, submission: &Submission, today: Date) -> Verdict;
}

/// What the user entered for an ID-number check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdNumberSubmission {
    pub id_number_type: IdNumberType,
    pub number: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub dob: Option<Date>,
}

/// Everything one verification attempt submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub session_type: SessionType,
    pub document: Option<DocumentSubmission>,
    pub id_number: Option<IdNumberSubmission>,
    /// Whether the session's checks include an ID number (`type=id_number`, or a document
    /// session with `options.document.require_id_number`).
    pub require_id_number: bool,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    Verified,
    Unverified(ErrorCode),
}

impl CheckResult {
    pub fn is_verified(self) -> bool {
        self == CheckResult::Verified
    }

    pub fn error(self) -> Option<ErrorCode> {
        match self {
            CheckResult::Verified => None,
            CheckResult::Unverified(code) => Some(code),
        }
    }
}

/// The checks that ran (absent = not part of the session) and the session's `last_error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub document: Option<CheckResult>,
    pub id_number: Option<CheckResult>,
    pub selfie: Option<CheckResult>,
    /// The first failing check's code, in report order (document, id_number, selfie).
    /// `None` only when at least one check ran and every check that ran is verified.
    pub last_error: Option<ErrorCode>,
}

impl Verdict {
    /// A verdict whose `last_error` is the first failing check's code. With no check at all
    /// it is `document_unverified_other`: an empty verdict must never read as a pass.
    pub fn from_checks(
        document: Option<CheckResult>,
        id_number: Option<CheckResult>,
        selfie: Option<CheckResult>,
    ) -> Verdict {
        let ran = [document, id_number, selfie];
        let last_error = if ran.iter().all(Option::is_none) {
            Some(ErrorCode::DocumentUnverifiedOther)
        } else {
            ran.iter().flatten().find_map(|c| c.error())
        };
        Verdict {
            document,
            id_number,
            selfie,
            last_error,
        }
    }

    pub fn is_verified(&self) -> bool {
        self.last_error.is_none()
    }

    /// Recompute `last_error` after a plug-in changed check results. An age failure keeps its
    /// session code `under_supported_age` while the document check still fails first with
    /// `document_unverified_other`.
    pub fn refreshed(self) -> Verdict {
        let mut fresh = Verdict::from_checks(self.document, self.id_number, self.selfie);
        let age_failure = self.last_error == Some(ErrorCode::UnderSupportedAge);
        if age_failure && fresh.last_error == Some(ErrorCode::DocumentUnverifiedOther) {
            fresh.last_error = self.last_error;
        }
        fresh
    }
}

/// The offline verifier: structure and check digits, MRZ check digits, dates and ages, image
/// headers. A face match and a number-to-person match cannot be decided offline, so those
/// checks come back unverified (`*_unverified_other`) rather than passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BuiltinVerifier {
    /// Minimum age in whole years on the day of the check (0 = no minimum).
    pub min_age: u32,
}

impl Verifier for BuiltinVerifier {
    fn verify(&self, submission: &Submission, today: Date) -> Verdict {
        let run_document = submission.session_type == SessionType::Document
            || (submission.session_type == SessionType::VerificationFlow
                && submission.document.is_some());
        let run_id_number = submission.require_id_number
            || submission.session_type == SessionType::IdNumber
            || (submission.session_type == SessionType::VerificationFlow
                && submission.id_number.is_some());

        let doc = if run_document {
            submission
                .document
                .as_ref()
                .map(|d| check_document(d, today, self.min_age))
        } else {
            None
        };
        let document = match (&doc, run_document) {
            (Some(v), _) => Some(v.document),
            (None, true) => Some(CheckResult::Unverified(ErrorCode::DocumentUnverifiedOther)),
            (None, false) => None,
        };
        let selfie = doc.as_ref().and_then(|v| v.selfie);
        let mrz = doc.as_ref().and_then(|v| v.mrz.as_ref());
        let id_number = run_id_number.then(|| check_id_number(submission.id_number.as_ref(), mrz));

        let mut verdict = Verdict::from_checks(document, id_number, selfie);
        // When the document check is the first failure, the session error is the one the
        // document check implies: `under_supported_age` stays an age code there, while the
        // report's document check carries `document_unverified_other` (Stripe's
        // document-check codes have no age code).
        if let (Some(v), Some(CheckResult::Unverified(code))) = (&doc, document) {
            if verdict.last_error == Some(code) {
                verdict.last_error = v.last_error.or(Some(code));
            }
        }
        verdict
    }
}

/// The built-in ID-number check: structure and check digits always; a pass only when the
/// number appears in a machine-readable zone whose check digits held, and whatever name and
/// date of birth the user entered agree with that zone.
pub fn check_id_number(entered: Option<&IdNumberSubmission>, mrz: Option<&Mrz>) -> CheckResult {
    let unverified = CheckResult::Unverified(ErrorCode::IdNumberUnverifiedOther);
    let Some(entered) = entered else {
        return unverified;
    };
    let Ok(number) = validate(entered.id_number_type, &entered.number) else {
        return unverified;
    };
    let Some(mrz) = mrz else {
        // Structurally valid, but nothing offline ties the number to this person.
        return unverified;
    };
    if !mrz.carries_number(number.as_str()) {
        return unverified;
    }
    let first_ok = entered
        .first_name
        .as_deref()
        .is_none_or(|f| given_names_match(f, &mrz.given_names));
    let last_ok = entered
        .last_name
        .as_deref()
        .is_none_or(|l| names_match(l, &mrz.surname));
    let dob_ok = entered.dob.is_none_or(|d| dob_matches(d, mrz.dob));
    if first_ok && last_ok && dob_ok {
        CheckResult::Verified
    } else {
        CheckResult::Unverified(ErrorCode::IdNumberMismatch)
    }
}

#[cfg(test)]
#[path = "verifier_tests.rs"]
mod tests;
