#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::mrz::tests::{td1, td3};
use super::*;
use crate::session::DocumentType;

const TODAY: Date = Date {
    day: 1,
    month: 6,
    year: 2026,
};

const IMAGE: Option<ImageInfo> = Some(ImageInfo {
    media_type: ImageType::Png,
    width: 1000,
    height: 700,
});

const BUILTIN: BuiltinVerifier = BuiltinVerifier { min_age: 18 };

const TAN: Date = Date {
    day: 2,
    month: 3,
    year: 1985,
};

/// A Singapore passport whose personal-number field carries the holder's NRIC.
pub(super) fn sg_passport() -> DocumentSubmission {
    DocumentSubmission {
        document_type: DocumentType::Passport,
        allowed: None,
        front: IMAGE,
        back: None,
        selfie: None,
        expiration: None,
        dob: None,
        mrz: Some(td3(
            "TAN<<WEI<LING",
            "K1234567A",
            "SGP",
            "850302",
            'F',
            "310101",
            "S1234567D",
        )),
        require_selfie: false,
    }
}

fn nric(first: Option<&str>, last: Option<&str>, dob: Option<Date>) -> IdNumberSubmission {
    IdNumberSubmission {
        id_number_type: IdNumberType::SgNric,
        number: "s1234567d".into(),
        first_name: first.map(str::to_owned),
        last_name: last.map(str::to_owned),
        dob,
    }
}

fn document_session(
    document: Option<DocumentSubmission>,
    id_number: Option<IdNumberSubmission>,
) -> Submission {
    Submission {
        session_type: SessionType::Document,
        require_id_number: id_number.is_some(),
        document,
        id_number,
    }
}

fn id_number_session(id_number: Option<IdNumberSubmission>) -> Submission {
    Submission {
        session_type: SessionType::IdNumber,
        document: None,
        id_number,
        require_id_number: true,
    }
}

const fn unverified(code: ErrorCode) -> Option<CheckResult> {
    Some(CheckResult::Unverified(code))
}

#[test]
fn check_result_helpers() {
    assert!(CheckResult::Verified.is_verified());
    assert_eq!(CheckResult::Verified.error(), None);
    let failed = CheckResult::Unverified(ErrorCode::DocumentExpired);
    assert!(!failed.is_verified());
    assert_eq!(failed.error(), Some(ErrorCode::DocumentExpired));
}

#[test]
fn an_empty_verdict_is_not_a_pass() {
    let v = Verdict::from_checks(None, None, None);
    assert!(!v.is_verified());
    assert_eq!(v.last_error, Some(ErrorCode::DocumentUnverifiedOther));
    let v = Verdict::from_checks(
        Some(CheckResult::Verified),
        unverified(ErrorCode::IdNumberMismatch),
        unverified(ErrorCode::SelfieUnverifiedOther),
    );
    assert_eq!(
        v.last_error,
        Some(ErrorCode::IdNumberMismatch),
        "report order"
    );
}

#[test]
fn id_number_session_cannot_be_verified_offline() {
    for number in ["S1234567D", "S1234567A", ""] {
        let entered = IdNumberSubmission {
            number: number.into(),
            ..nric(Some("Wei Ling"), Some("Tan"), Some(TAN))
        };
        let v = BUILTIN.verify(&id_number_session(Some(entered)), TODAY);
        assert_eq!(v.id_number, unverified(ErrorCode::IdNumberUnverifiedOther));
        assert_eq!(v.document, None);
        assert_eq!(v.selfie, None);
        assert_eq!(v.last_error, Some(ErrorCode::IdNumberUnverifiedOther));
        assert!(!v.is_verified());
    }
    let v = BUILTIN.verify(&id_number_session(None), TODAY);
    assert_eq!(v.id_number, unverified(ErrorCode::IdNumberUnverifiedOther));
}

#[test]
fn document_session_with_valid_passport_is_verified() {
    let v = BUILTIN.verify(&document_session(Some(sg_passport()), None), TODAY);
    assert_eq!(v.document, Some(CheckResult::Verified));
    assert_eq!(v.id_number, None);
    assert_eq!(v.selfie, None);
    assert!(v.is_verified());
}

#[test]
fn document_session_without_a_document() {
    let v = BUILTIN.verify(&document_session(None, None), TODAY);
    assert_eq!(v.document, unverified(ErrorCode::DocumentUnverifiedOther));
    assert_eq!(v.last_error, Some(ErrorCode::DocumentUnverifiedOther));
}

#[test]
fn id_number_cross_checked_against_the_zone() {
    let cases = [
        (nric(None, None, None), Some(CheckResult::Verified)),
        (
            nric(Some("Wei Ling"), Some("TAN"), Some(TAN)),
            Some(CheckResult::Verified),
        ),
        (
            nric(Some("wei"), Some("tan"), None),
            Some(CheckResult::Verified),
        ),
        (
            nric(Some("Ling"), None, None),
            unverified(ErrorCode::IdNumberMismatch),
        ),
        (
            nric(None, Some("Lim"), None),
            unverified(ErrorCode::IdNumberMismatch),
        ),
        (
            nric(None, None, Some(Date { day: 3, ..TAN })),
            unverified(ErrorCode::IdNumberMismatch),
        ),
        (
            IdNumberSubmission {
                number: "S6995241J".into(),
                ..nric(None, None, None)
            },
            unverified(ErrorCode::IdNumberUnverifiedOther),
        ),
        (
            IdNumberSubmission {
                number: "S1234567A".into(),
                ..nric(None, None, None)
            },
            unverified(ErrorCode::IdNumberUnverifiedOther),
        ),
        (
            IdNumberSubmission {
                id_number_type: IdNumberType::UsSsn,
                number: "123-45-6789".into(),
                ..nric(None, None, None)
            },
            unverified(ErrorCode::IdNumberUnverifiedOther),
        ),
    ];
    for (i, (entered, expected)) in cases.into_iter().enumerate() {
        let v = BUILTIN.verify(&document_session(Some(sg_passport()), Some(entered)), TODAY);
        assert_eq!(v.document, Some(CheckResult::Verified), "case {i}");
        assert_eq!(v.id_number, expected, "case {i}");
        assert_eq!(
            v.last_error,
            expected.and_then(CheckResult::error),
            "case {i}"
        );
    }
}

#[test]
fn cpf_on_an_id_card_zone() {
    let card = DocumentSubmission {
        document_type: DocumentType::IdCard,
        back: IMAGE,
        mrz: Some(td1(
            "SILVA<<JOAO",
            "AB1234567",
            "900115",
            "310101",
            "52998224725",
        )),
        ..sg_passport()
    };
    let entered = IdNumberSubmission {
        id_number_type: IdNumberType::BrCpf,
        number: "529.982.247-25".into(),
        first_name: Some("João".into()),
        last_name: Some("Silva".into()),
        dob: Some(Date {
            day: 15,
            month: 1,
            year: 1990,
        }),
    };
    let v = BUILTIN.verify(&document_session(Some(card), Some(entered)), TODAY);
    assert!(v.is_verified(), "{v:?}");
    assert_eq!(v.id_number, Some(CheckResult::Verified));
}

#[test]
fn id_number_required_but_missing_or_without_zone() {
    let v = BUILTIN.verify(
        &Submission {
            require_id_number: true,
            ..document_session(Some(sg_passport()), None)
        },
        TODAY,
    );
    assert_eq!(v.id_number, unverified(ErrorCode::IdNumberUnverifiedOther));
    assert_eq!(v.last_error, Some(ErrorCode::IdNumberUnverifiedOther));

    let no_zone = DocumentSubmission {
        mrz: None,
        ..sg_passport()
    };
    let v = BUILTIN.verify(
        &document_session(Some(no_zone), Some(nric(None, None, None))),
        TODAY,
    );
    assert_eq!(v.document, unverified(ErrorCode::DocumentUnverifiedOther));
    assert_eq!(v.id_number, unverified(ErrorCode::IdNumberUnverifiedOther));
    assert_eq!(v.last_error, Some(ErrorCode::DocumentUnverifiedOther));
}

#[test]
fn an_id_number_is_not_checked_unless_required() {
    let v = BUILTIN.verify(
        &Submission {
            require_id_number: false,
            ..document_session(Some(sg_passport()), Some(nric(None, None, None)))
        },
        TODAY,
    );
    assert_eq!(v.id_number, None);
    assert!(v.is_verified());
}

#[test]
fn expired_document_still_cross_checks_the_number() {
    let expired = DocumentSubmission {
        mrz: Some(td3(
            "TAN<<WEI",
            "K1",
            "SGP",
            "850302",
            'F',
            "200101",
            "S1234567D",
        )),
        ..sg_passport()
    };
    let v = BUILTIN.verify(
        &document_session(Some(expired), Some(nric(None, None, None))),
        TODAY,
    );
    assert_eq!(v.document, unverified(ErrorCode::DocumentExpired));
    assert_eq!(v.id_number, Some(CheckResult::Verified));
    assert_eq!(v.last_error, Some(ErrorCode::DocumentExpired));
}

#[test]
fn under_age_is_the_session_error() {
    let young = DocumentSubmission {
        mrz: Some(td3("TAN<<MEI", "K2", "SGP", "100101", 'F', "300101", "")),
        ..sg_passport()
    };
    let v = BUILTIN.verify(&document_session(Some(young.clone()), None), TODAY);
    assert_eq!(v.document, unverified(ErrorCode::DocumentUnverifiedOther));
    assert_eq!(v.last_error, Some(ErrorCode::UnderSupportedAge));
    let no_minimum = BuiltinVerifier { min_age: 0 };
    assert!(no_minimum
        .verify(&document_session(Some(young), None), TODAY)
        .is_verified());
}

#[test]
fn matching_selfie_blocks_a_builtin_pass() {
    let with_selfie = DocumentSubmission {
        selfie: IMAGE,
        require_selfie: true,
        ..sg_passport()
    };
    let v = BUILTIN.verify(
        &document_session(Some(with_selfie), Some(nric(None, None, None))),
        TODAY,
    );
    assert_eq!(v.document, Some(CheckResult::Verified));
    assert_eq!(v.id_number, Some(CheckResult::Verified));
    assert_eq!(v.selfie, unverified(ErrorCode::SelfieUnverifiedOther));
    assert_eq!(v.last_error, Some(ErrorCode::SelfieUnverifiedOther));
}

#[test]
fn verification_flow_runs_what_was_submitted() {
    let flow = |document, id_number| Submission {
        session_type: SessionType::VerificationFlow,
        document,
        id_number,
        require_id_number: false,
    };
    let v = BUILTIN.verify(&flow(None, None), TODAY);
    assert!(!v.is_verified());
    assert_eq!(v.last_error, Some(ErrorCode::DocumentUnverifiedOther));
    let v = BUILTIN.verify(&flow(Some(sg_passport()), None), TODAY);
    assert!(v.is_verified());
    let v = BUILTIN.verify(&flow(None, Some(nric(None, None, None))), TODAY);
    assert_eq!(v.document, None);
    assert_eq!(v.id_number, unverified(ErrorCode::IdNumberUnverifiedOther));
    let v = BUILTIN.verify(
        &flow(Some(sg_passport()), Some(nric(None, None, None))),
        TODAY,
    );
    assert!(v.is_verified());
}

/// A plug-in that can match faces wraps the built-in verifier and decides the selfie.
struct FaceMatcher {
    inner: BuiltinVerifier,
    matches: bool,
}

impl Verifier for FaceMatcher {
    fn verify(&self, submission: &Submission, today: Date) -> Verdict {
        let mut verdict = self.inner.verify(submission, today);
        verdict.selfie = verdict.selfie.map(|s| match (s, self.matches) {
            (CheckResult::Unverified(ErrorCode::SelfieUnverifiedOther), true) => {
                CheckResult::Verified
            }
            (CheckResult::Unverified(ErrorCode::SelfieUnverifiedOther), false) => {
                CheckResult::Unverified(ErrorCode::SelfieFaceMismatch)
            }
            (other, _) => other,
        });
        verdict.refreshed()
    }
}

#[test]
fn a_plug_in_can_decide_the_selfie() {
    let sub = document_session(
        Some(DocumentSubmission {
            selfie: IMAGE,
            require_selfie: true,
            ..sg_passport()
        }),
        None,
    );
    let verifiers: Vec<Box<dyn Verifier>> = vec![
        Box::new(FaceMatcher {
            inner: BUILTIN,
            matches: true,
        }),
        Box::new(FaceMatcher {
            inner: BUILTIN,
            matches: false,
        }),
    ];
    assert!(verifiers[0].verify(&sub, TODAY).is_verified());
    assert_eq!(
        verifiers[1].verify(&sub, TODAY).last_error,
        Some(ErrorCode::SelfieFaceMismatch)
    );
    // The age code survives the plug-in's recomputation.
    let young = document_session(
        Some(DocumentSubmission {
            selfie: IMAGE,
            require_selfie: true,
            mrz: Some(td3("TAN<<MEI", "K2", "SGP", "100101", 'F', "300101", "")),
            ..sg_passport()
        }),
        None,
    );
    let v = verifiers[0].verify(&young, TODAY);
    assert_eq!(v.selfie, Some(CheckResult::Verified));
    assert_eq!(v.last_error, Some(ErrorCode::UnderSupportedAge));
}

#[test]
fn refreshed_recomputes_last_error() {
    let v = Verdict {
        document: Some(CheckResult::Verified),
        id_number: None,
        selfie: Some(CheckResult::Verified),
        last_error: Some(ErrorCode::SelfieUnverifiedOther),
    };
    assert!(v.refreshed().is_verified());
    let v = Verdict {
        document: Some(CheckResult::Unverified(ErrorCode::DocumentExpired)),
        id_number: None,
        selfie: None,
        last_error: Some(ErrorCode::UnderSupportedAge),
    };
    assert_eq!(
        v.refreshed().last_error,
        Some(ErrorCode::DocumentExpired),
        "the age code only stands for a document_unverified_other failure"
    );
}

#[test]
fn submissions_round_trip_through_serde() {
    fn assert_serde<T: serde::Serialize + serde::de::DeserializeOwned>() {}
    assert_serde::<Submission>();
    assert_serde::<Verdict>();
    assert_serde::<DocumentVerdict>();
}
