#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::checks::mrz::tests::td3;
use crate::checks::tests::sg_passport;
use crate::checks::{BuiltinVerifier, IdNumberSubmission, IdNumberType, Verifier};
use crate::session::{ErrorCode, SessionType};

const TODAY: Date = Date {
    day: 1,
    month: 6,
    year: 2026,
};

const BUILTIN: BuiltinVerifier = BuiltinVerifier { min_age: 18 };

/// The Singapore passport of the verifier's tests (Tan Wei Ling, born 2 March 1985, expires
/// 1 January 2031, NRIC S1234567D in the personal-number field) with the given zone.
fn passport(mrz: Option<String>, selfie: bool) -> Submission {
    let mut document = sg_passport();
    document.mrz = mrz;
    document.require_selfie = selfie;
    document.selfie = document.front.filter(|_| selfie);
    Submission {
        session_type: SessionType::Document,
        document: Some(document),
        id_number: None,
        require_id_number: false,
    }
}

fn singapore_zone() -> String {
    sg_passport().mrz.unwrap()
}

#[test]
fn a_verified_document_gives_what_its_zone_carries_and_nothing_more() {
    let sub = passport(Some(singapore_zone()), false);
    let verdict = BUILTIN.verify(&sub, TODAY);
    assert!(verdict.is_verified());
    let p = verified_person(&sub, &verdict, TODAY);
    assert_eq!(p.first_name.as_deref(), Some("WEI LING"));
    assert_eq!(p.last_name.as_deref(), Some("TAN"));
    assert_eq!(
        p.dob,
        Some(Date {
            day: 2,
            month: 3,
            year: 1985
        })
    );
    assert_eq!(p.sex.as_deref(), Some("female"));
    assert_eq!(p.document_number.as_deref(), Some("K1234567A"));
    assert_eq!(
        p.document_expiration,
        Some(Date {
            day: 1,
            month: 1,
            year: 2031
        })
    );
    // Not read offline: never filled in.
    assert_eq!(p.address, None);
    assert_eq!(p.document_issued, None);
    assert_eq!(p.id_number, None);
    // Issued by the specimens' Utopia (`UTO`), which is no country.
    assert_eq!(p.issuing_country, None);
}

#[test]
fn the_issuing_state_of_a_verified_zone_is_the_issuing_country() {
    for (state, country) in [("SGP", Some("SG")), ("D<<", Some("DE")), ("XXA", None)] {
        let zone = singapore_zone().replacen("P<UTO", &format!("P<{state}"), 1);
        let sub = passport(Some(zone), false);
        let verdict = BUILTIN.verify(&sub, TODAY);
        assert!(verdict.is_verified(), "{state}: {verdict:?}");
        let p = verified_person(&sub, &verdict, TODAY);
        assert_eq!(p.issuing_country.as_deref(), country, "{state}");
    }
    // A document check that did not pass reports no country either.
    let zone = singapore_zone()
        .replacen("P<UTO", "P<SGP", 1)
        .replacen("K1234567A", "K1234567B", 1);
    let sub = passport(Some(zone), false);
    let verdict = BUILTIN.verify(&sub, TODAY);
    assert!(!verdict.is_verified());
    assert_eq!(verified_person(&sub, &verdict, TODAY).issuing_country, None);
}

#[test]
fn checks_that_did_not_pass_give_no_data() {
    // An expired zone: the document check fails, so nothing of it is verified data.
    let expired = td3(
        "TAN<<WEI<LING",
        "K1234567A",
        "SGP",
        "850302",
        'F',
        "200101",
        "",
    );
    let sub = passport(Some(expired), false);
    let verdict = BUILTIN.verify(&sub, TODAY);
    assert_eq!(verdict.last_error, Some(ErrorCode::DocumentExpired));
    assert_eq!(
        verified_person(&sub, &verdict, TODAY),
        VerifiedPerson::default()
    );
    // No zone at all.
    let sub = passport(None, false);
    let verdict = BUILTIN.verify(&sub, TODAY);
    assert_eq!(
        verified_person(&sub, &verdict, TODAY),
        VerifiedPerson::default()
    );
}

#[test]
fn a_verified_document_keeps_its_data_when_the_selfie_fails() {
    let sub = passport(Some(singapore_zone()), true);
    let verdict = BUILTIN.verify(&sub, TODAY);
    assert_eq!(verdict.document, Some(CheckResult::Verified));
    assert_eq!(
        verdict.selfie,
        Some(CheckResult::Unverified(ErrorCode::SelfieUnverifiedOther))
    );
    let p = verified_person(&sub, &verdict, TODAY);
    assert_eq!(p.last_name.as_deref(), Some("TAN"));
}

#[test]
fn a_verified_id_number_adds_the_number_and_its_type() {
    let mut sub = passport(Some(singapore_zone()), false);
    sub.require_id_number = true;
    sub.id_number = Some(IdNumberSubmission {
        id_number_type: IdNumberType::SgNric,
        number: "s1234567d".into(),
        first_name: Some("Wei".into()),
        last_name: None,
        dob: None,
    });
    let verdict = BUILTIN.verify(&sub, TODAY);
    assert!(verdict.is_verified(), "{verdict:?}");
    let p = verified_person(&sub, &verdict, TODAY);
    assert_eq!(p.id_number.as_deref(), Some("S1234567D"));
    assert_eq!(p.id_number_type.as_deref(), Some("sg_nric"));
    // The zone's names win over what was typed.
    assert_eq!(p.first_name.as_deref(), Some("WEI LING"));

    // A structurally valid number alone is not verified, so it is not verified data either.
    let alone = Submission {
        session_type: SessionType::IdNumber,
        document: None,
        id_number: sub.id_number.clone(),
        require_id_number: true,
    };
    let verdict = BUILTIN.verify(&alone, TODAY);
    assert_eq!(verdict.last_error, Some(ErrorCode::IdNumberUnverifiedOther));
    assert_eq!(
        verified_person(&alone, &verdict, TODAY),
        VerifiedPerson::default()
    );
}
