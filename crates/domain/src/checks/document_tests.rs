#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::checks::mrz::tests::{td1, td3};

const TODAY: Date = Date {
    day: 1,
    month: 6,
    year: 2026,
};

fn date(year: i32, month: u32, day: u32) -> Date {
    Date { day, month, year }
}

const IMAGE: Option<ImageInfo> = Some(ImageInfo {
    media_type: ImageType::Jpeg,
    width: 1200,
    height: 800,
});

/// A valid passport zone: born 12 Aug 1974, expires 15 Apr 2030.
fn passport_mrz() -> String {
    td3(
        "ERIKSSON<<ANNA<MARIA",
        "L898902C3",
        "UTO",
        "740812",
        'F',
        "300415",
        "",
    )
}

/// A valid ID-card zone: born 15 Jan 1990, expires 1 Jan 2031.
fn id_card_mrz() -> String {
    td1("SILVA<<JOAO", "AB1234567", "900115", "310101", "")
}

fn passport() -> DocumentSubmission {
    DocumentSubmission {
        document_type: DocumentType::Passport,
        allowed: None,
        front: IMAGE,
        back: None,
        selfie: None,
        expiration: None,
        dob: None,
        mrz: Some(passport_mrz()),
        require_selfie: false,
    }
}

fn id_card() -> DocumentSubmission {
    DocumentSubmission {
        document_type: DocumentType::IdCard,
        back: IMAGE,
        mrz: Some(id_card_mrz()),
        ..passport()
    }
}

fn check(sub: &DocumentSubmission) -> DocumentVerdict {
    check_document(sub, TODAY, 18)
}

fn code(sub: &DocumentSubmission) -> Option<ErrorCode> {
    check(sub).document.error()
}

const OTHER: Option<ErrorCode> = Some(ErrorCode::DocumentUnverifiedOther);

// --- dates -----------------------------------------------------------------------------------

#[test]
fn calendar() {
    assert!(is_valid_date(date(2024, 2, 29)));
    assert!(is_valid_date(date(2000, 2, 29)));
    assert!(!is_valid_date(date(1900, 2, 29)));
    assert!(!is_valid_date(date(2023, 2, 29)));
    assert!(!is_valid_date(date(2023, 4, 31)));
    assert!(is_valid_date(date(2023, 12, 31)));
    assert!(!is_valid_date(date(2023, 13, 1)));
    assert!(!is_valid_date(date(2023, 0, 1)));
    assert!(!is_valid_date(date(2023, 1, 0)));
    assert_eq!(days_in_month(2023, 2), 28);
    assert_eq!(days_in_month(2023, 14), 0);
    assert!(compare_dates(date(2026, 1, 31), date(2026, 2, 1)).is_lt());
    assert!(compare_dates(date(2025, 12, 31), date(2026, 1, 1)).is_lt());
    assert!(compare_dates(date(2026, 6, 1), TODAY).is_eq());
}

#[test]
fn ages() {
    assert_eq!(
        age_on(date(2008, 6, 1), TODAY),
        Some(18),
        "18th birthday today"
    );
    assert_eq!(age_on(date(2008, 6, 2), TODAY), Some(17), "18 tomorrow");
    assert_eq!(age_on(date(1974, 8, 12), TODAY), Some(51));
    assert_eq!(age_on(TODAY, TODAY), Some(0));
    assert_eq!(age_on(date(2026, 6, 2), TODAY), None, "not born yet");
    assert_eq!(age_on(date(2026, 2, 30), TODAY), None, "not a date");
    // Born on 29 February: a year older on 1 March in common years.
    let leapling = date(2008, 2, 29);
    assert_eq!(age_on(leapling, date(2026, 2, 28)), Some(17));
    assert_eq!(age_on(leapling, date(2026, 3, 1)), Some(18));
    assert_eq!(age_on(leapling, date(2028, 2, 29)), Some(20));
}

// --- the document check ----------------------------------------------------------------------

#[test]
fn passport_with_valid_zone_is_verified() {
    let v = check(&passport());
    assert_eq!(v.document, CheckResult::Verified);
    assert_eq!(v.selfie, None);
    assert_eq!(v.last_error, None);
    let m = v.mrz.unwrap();
    assert_eq!(m.document_number, "L898902C3");
    assert_eq!(m.surname, "ERIKSSON");
}

#[test]
fn id_card_with_valid_zone_and_back_is_verified() {
    let v = check(&id_card());
    assert_eq!(v.document, CheckResult::Verified);
    assert_eq!(v.mrz.unwrap().document_number, "AB1234567");
}

#[test]
fn type_must_be_allowed() {
    let sub = DocumentSubmission {
        allowed: Some(vec![DocumentType::DrivingLicense, DocumentType::IdCard]),
        ..passport()
    };
    assert_eq!(code(&sub), Some(ErrorCode::DocumentTypeNotSupported));
    // Checked before anything else.
    let bare = DocumentSubmission {
        front: None,
        mrz: None,
        ..sub
    };
    assert_eq!(code(&bare), Some(ErrorCode::DocumentTypeNotSupported));
    let listed = DocumentSubmission {
        allowed: Some(vec![DocumentType::Passport]),
        ..passport()
    };
    assert_eq!(code(&listed), None);
    let empty = DocumentSubmission {
        allowed: Some(vec![]),
        ..passport()
    };
    assert_eq!(code(&empty), None, "an empty list allows every type");
}

#[test]
fn required_images() {
    let no_front = DocumentSubmission {
        front: None,
        ..passport()
    };
    assert_eq!(code(&no_front), OTHER);
    let zero = DocumentSubmission {
        front: Some(ImageInfo {
            media_type: ImageType::Png,
            width: 0,
            height: 10,
        }),
        ..passport()
    };
    assert_eq!(code(&zero), OTHER, "a zero-sized image is not readable");
    let no_back = DocumentSubmission {
        back: None,
        ..id_card()
    };
    assert_eq!(code(&no_back), OTHER, "ID cards need a back image");
    let licence = DocumentSubmission {
        document_type: DocumentType::DrivingLicense,
        back: None,
        mrz: None,
        ..passport()
    };
    assert_eq!(code(&licence), OTHER);
    assert_eq!(code(&passport()), None, "passports need no back image");
}

#[test]
fn no_zone_is_never_a_pass() {
    let sub = DocumentSubmission {
        mrz: None,
        expiration: Some(date(2030, 4, 15)),
        dob: Some(date(1974, 8, 12)),
        ..passport()
    };
    let v = check(&sub);
    assert_eq!(v.document.error(), OTHER);
    assert_eq!(v.last_error, OTHER);
    assert_eq!(v.mrz, None);
    let licence = DocumentSubmission {
        document_type: DocumentType::DrivingLicense,
        back: IMAGE,
        ..sub
    };
    assert_eq!(code(&licence), OTHER, "driving licences carry no ICAO zone");
}

#[test]
fn zone_must_validate_and_fit_the_type() {
    let corrupted = passport_mrz().replacen("L898902C3", "L898902C4", 1);
    let sub = DocumentSubmission {
        mrz: Some(corrupted),
        ..passport()
    };
    let v = check(&sub);
    assert_eq!(v.document.error(), OTHER);
    assert_eq!(v.mrz, None);
    let card_zone_on_passport = DocumentSubmission {
        mrz: Some(id_card_mrz()),
        ..passport()
    };
    assert_eq!(code(&card_zone_on_passport), OTHER);
    let passport_zone_on_card = DocumentSubmission {
        mrz: Some(passport_mrz()),
        ..id_card()
    };
    assert_eq!(code(&passport_zone_on_card), OTHER);
    let zone_on_licence = DocumentSubmission {
        document_type: DocumentType::DrivingLicense,
        back: IMAGE,
        ..id_card()
    };
    assert_eq!(code(&zone_on_licence), OTHER);
    assert_eq!(check(&zone_on_licence).mrz, None);
    let garbage = DocumentSubmission {
        mrz: Some("not a zone".into()),
        ..passport()
    };
    assert_eq!(code(&garbage), OTHER);
}

#[test]
fn expiry() {
    // The ICAO specimen expired on 15 Apr 2012.
    let specimen = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
                    L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let expired = DocumentSubmission {
        mrz: Some(specimen.into()),
        ..passport()
    };
    let v = check(&expired);
    assert_eq!(v.document.error(), Some(ErrorCode::DocumentExpired));
    assert_eq!(v.last_error, Some(ErrorCode::DocumentExpired));
    let zone = |expiry: &str| td3("ERIKSSON<<ANNA", "X1", "UTO", "740812", 'F', expiry, "");
    let today = DocumentSubmission {
        mrz: Some(zone("260601")),
        ..passport()
    };
    assert_eq!(code(&today), None, "valid through its expiry date");
    let yesterday = DocumentSubmission {
        mrz: Some(zone("260531")),
        ..passport()
    };
    assert_eq!(code(&yesterday), Some(ErrorCode::DocumentExpired));
    let nineties = DocumentSubmission {
        mrz: Some(zone("980101")),
        ..passport()
    };
    assert_eq!(code(&nineties), Some(ErrorCode::DocumentExpired));
}

#[test]
fn entered_dates_are_cross_checked() {
    let agree = DocumentSubmission {
        expiration: Some(date(2030, 4, 15)),
        dob: Some(date(1974, 8, 12)),
        ..passport()
    };
    assert_eq!(code(&agree), None);
    let exp_differs = DocumentSubmission {
        expiration: Some(date(2031, 4, 15)),
        ..passport()
    };
    assert_eq!(code(&exp_differs), OTHER);
    let dob_differs = DocumentSubmission {
        dob: Some(date(1974, 8, 13)),
        ..passport()
    };
    assert_eq!(code(&dob_differs), OTHER);
    let impossible = DocumentSubmission {
        dob: Some(date(1974, 2, 30)),
        ..passport()
    };
    assert_eq!(code(&impossible), OTHER);
    // Without a zone, an entered past expiry is still a definite failure…
    let expired_entered = DocumentSubmission {
        mrz: None,
        expiration: Some(date(2020, 1, 1)),
        ..passport()
    };
    assert_eq!(code(&expired_entered), Some(ErrorCode::DocumentExpired));
    // …and so is an entered age under the minimum.
    let young_entered = DocumentSubmission {
        mrz: None,
        dob: Some(date(2010, 1, 1)),
        ..passport()
    };
    assert_eq!(
        check(&young_entered).last_error,
        Some(ErrorCode::UnderSupportedAge)
    );
    let unborn = DocumentSubmission {
        mrz: None,
        dob: Some(date(2030, 1, 1)),
        ..passport()
    };
    assert_eq!(check(&unborn).last_error, OTHER);
}

#[test]
fn minimum_age() {
    let zone = |dob: &str| td3("ERIKSSON<<ANNA", "X1", "UTO", dob, 'F', "300101", "");
    let turns_18_today = DocumentSubmission {
        mrz: Some(zone("080601")),
        ..passport()
    };
    assert_eq!(check(&turns_18_today).last_error, None);
    let turns_18_tomorrow = DocumentSubmission {
        mrz: Some(zone("080602")),
        ..passport()
    };
    let v = check(&turns_18_tomorrow);
    // The document check keeps to Stripe's document codes; the session error names the age.
    assert_eq!(
        v.document,
        CheckResult::Unverified(ErrorCode::DocumentUnverifiedOther)
    );
    assert_eq!(v.last_error, Some(ErrorCode::UnderSupportedAge));
    assert!(v.mrz.is_some());
    assert_eq!(
        check_document(&turns_18_tomorrow, TODAY, 0).last_error,
        None
    );
    assert_eq!(
        check_document(&turns_18_tomorrow, TODAY, 17).last_error,
        None
    );
    assert_eq!(
        check_document(&passport(), TODAY, 60).last_error,
        Some(ErrorCode::UnderSupportedAge)
    );
}

#[test]
fn expiry_is_reported_before_age() {
    let sub = DocumentSubmission {
        mrz: Some(td3("A<<B", "X1", "UTO", "150101", 'F', "200101", "")),
        ..passport()
    };
    assert_eq!(check(&sub).last_error, Some(ErrorCode::DocumentExpired));
}

#[test]
fn selfie_is_never_verified_offline() {
    let with_selfie = DocumentSubmission {
        selfie: IMAGE,
        require_selfie: true,
        ..passport()
    };
    let v = check(&with_selfie);
    assert_eq!(v.document, CheckResult::Verified);
    assert_eq!(
        v.selfie,
        Some(CheckResult::Unverified(ErrorCode::SelfieUnverifiedOther))
    );
    assert_eq!(v.last_error, Some(ErrorCode::SelfieUnverifiedOther));

    let missing = DocumentSubmission {
        selfie: None,
        ..with_selfie.clone()
    };
    assert_eq!(
        check(&missing).selfie,
        Some(CheckResult::Unverified(ErrorCode::SelfieUnverifiedOther))
    );

    let no_document_photo = DocumentSubmission {
        front: None,
        ..with_selfie.clone()
    };
    let v = check(&no_document_photo);
    assert_eq!(
        v.selfie,
        Some(CheckResult::Unverified(
            ErrorCode::SelfieDocumentMissingPhoto
        ))
    );
    assert_eq!(v.last_error, OTHER, "the document failure comes first");

    let not_required = DocumentSubmission {
        require_selfie: false,
        ..with_selfie
    };
    assert_eq!(check(&not_required).selfie, None);
}
