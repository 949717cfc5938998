//! Live mode: the details form and the uploaded images become the checks' `Submission`, the
//! page's verifier decides it, and its verdict is the attempt's outcome. There is no chooser
//! and no shortcut: whatever the verifier cannot back stays unverified.

use vouch_domain::checks::{
    self, DocumentSubmission, IdNumberSubmission, IdNumberType, ImageInfo, Submission, Verifier,
};
use vouch_domain::flow::AttemptOutcome;
use vouch_domain::outputs::Date;
use vouch_domain::session::{Session, WireEnum};

use super::chosen_type;
use super::details::form_date;
use crate::form::Fields;

/// What `sniff_image` read from each uploaded image (`None`: not uploaded, or not a complete
/// image).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Images {
    pub front: Option<ImageInfo>,
    pub back: Option<ImageInfo>,
    pub selfie: Option<ImageInfo>,
}

/// The submission of a form that passed `check_details`.
pub(super) fn submission(session: &Session, fields: &Fields, images: Images) -> Submission {
    let text = |name: &str| fields.non_empty(name).map(str::to_owned);
    let document = session.checks_document().then(|| DocumentSubmission {
        document_type: chosen_type(session, fields),
        allowed: session
            .options
            .document
            .as_ref()
            .and_then(|d| d.allowed_types.clone()),
        front: images.front,
        back: images.back,
        selfie: images.selfie,
        expiration: form_date(fields, "expiration"),
        dob: form_date(fields, "dob"),
        mrz: text("mrz"),
        require_selfie: session.checks_selfie(),
    });
    let id_number = if session.checks_id_number() {
        let kind = fields
            .get("id_number_type")
            .and_then(IdNumberType::from_wire);
        kind.zip(text("id_number"))
            .map(|(id_number_type, number)| IdNumberSubmission {
                id_number_type,
                number,
                first_name: text("first_name"),
                last_name: text("last_name"),
                dob: form_date(fields, "dob"),
            })
    } else {
        None
    };
    Submission {
        session_type: session.kind,
        document,
        id_number,
        require_id_number: session.checks_id_number(),
    }
}

/// The verifier's verdict on the submission, with the data it backs, as of `now_ms` (UTC).
pub(super) fn outcome(
    verifier: &dyn Verifier,
    session: &Session,
    fields: &Fields,
    images: Images,
    now_ms: i64,
) -> AttemptOutcome {
    let today = Date::from_unix_ms(now_ms);
    let submission = submission(session, fields, images);
    let verdict = verifier.verify(&submission, today);
    let person = checks::verified_person(&submission, &verdict, today);
    tracing::info!(
        target: "vouch::verify",
        verified = verdict.is_verified(),
        last_error = verdict.last_error.map_or("", |c| c.as_str()),
        "live submission decided"
    );
    AttemptOutcome::Checked {
        verdict,
        person: Box::new(person),
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
