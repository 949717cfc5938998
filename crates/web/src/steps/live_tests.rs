#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::rngs::StdRng;
use rand::SeedableRng;
use vouch_domain::checks::{BuiltinVerifier, CheckResult, ImageType};
use vouch_domain::event::RequestInfo;
use vouch_domain::session::{
    Account, DocumentOptions, DocumentType, ErrorCode, SessionOptions, SessionType,
};
use vouch_domain::transition::{create, Ctx, NewSession};

use super::*;

/// 2026-06-01T12:00:00Z.
const NOW_MS: i64 = 1_780_315_200_000;

const BUILTIN: BuiltinVerifier = BuiltinVerifier { min_age: 18 };

fn live_session(kind: SessionType, options: DocumentOptions) -> Session {
    let mut rng = StdRng::seed_from_u64(1);
    let mut ctx = Ctx {
        now_ms: NOW_MS,
        request: RequestInfo::default(),
        rng: &mut rng,
    };
    let account = Account {
        id: "acct_live".into(),
        livemode: true,
    };
    let new = NewSession {
        kind: Some(kind),
        ..NewSession::default()
    };
    let (mut s, _) = create(&account, new, &mut ctx).unwrap();
    s.options = SessionOptions {
        document: Some(options),
    };
    s
}

fn front() -> Images {
    Images {
        front: Some(ImageInfo {
            media_type: ImageType::Png,
            width: 40,
            height: 30,
        }),
        ..Images::default()
    }
}

/// The ICAO 9303 specimen passport (Utopia, Anna Maria Eriksson, born 12 Aug 1974), with its
/// expiry moved to 15 Apr 2040 and the expiry and composite check digits recomputed.
const SPECIMEN: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\r\n\
                        L898902C36UTO7408122F4004154ZE184226B<<<<<14";

fn form(pairs: &[(&str, &str)]) -> Fields {
    let mut f = Fields::default();
    for (n, v) in pairs {
        f.set(n, v);
    }
    f
}

#[test]
fn the_form_becomes_a_submission() {
    let session = live_session(
        SessionType::Document,
        DocumentOptions {
            require_id_number: Some(true),
            allowed_types: Some(vec![DocumentType::Passport]),
            ..DocumentOptions::default()
        },
    );
    let fields = form(&[
        ("document_type", "passport"),
        ("mrz", SPECIMEN),
        ("expiration", "2040-04-15"),
        ("dob", "1974-08-12"),
        ("id_number_type", "br_cpf"),
        ("id_number", " 529.982.247-25 "),
        ("first_name", "Anna"),
    ]);
    let sub = submission(&session, &fields, front());
    let doc = sub.document.unwrap();
    assert_eq!(doc.document_type, DocumentType::Passport);
    assert_eq!(doc.allowed, Some(vec![DocumentType::Passport]));
    assert!(doc.front.is_some() && doc.back.is_none());
    assert_eq!(doc.mrz.as_deref(), Some(SPECIMEN));
    assert_eq!(
        doc.expiration,
        Some(Date {
            day: 15,
            month: 4,
            year: 2040
        })
    );
    assert!(!doc.require_selfie);
    let n = sub.id_number.unwrap();
    assert_eq!(n.id_number_type, IdNumberType::BrCpf);
    assert_eq!(n.number, "529.982.247-25");
    assert_eq!(n.first_name.as_deref(), Some("Anna"));
    assert_eq!(n.last_name, None);
    assert!(sub.require_id_number);
}

#[test]
fn a_valid_zone_verifies_with_the_zone_as_the_person() {
    let session = live_session(SessionType::Document, DocumentOptions::default());
    let fields = form(&[
        ("document_type", "passport"),
        ("mrz", SPECIMEN),
        ("expiration", "2040-04-15"),
        ("dob", "1974-08-12"),
    ]);
    let AttemptOutcome::Checked { verdict, person } =
        outcome(&BUILTIN, &session, &fields, front(), NOW_MS)
    else {
        panic!("a live outcome is the verifier's verdict");
    };
    assert!(verdict.is_verified(), "{verdict:?}");
    assert_eq!(person.first_name.as_deref(), Some("ANNA MARIA"));
    assert_eq!(person.last_name.as_deref(), Some("ERIKSSON"));
    assert_eq!(person.address, None);
}

#[test]
fn without_an_image_or_a_zone_nothing_verifies() {
    let session = live_session(SessionType::Document, DocumentOptions::default());
    let with_zone = form(&[("document_type", "passport"), ("mrz", SPECIMEN)]);
    let no_zone = form(&[("document_type", "passport")]);
    for (fields, images) in [(&with_zone, Images::default()), (&no_zone, front())] {
        let AttemptOutcome::Checked { verdict, .. } =
            outcome(&BUILTIN, &session, fields, images, NOW_MS)
        else {
            panic!("a live outcome is the verifier's verdict");
        };
        assert_eq!(
            verdict.document,
            Some(CheckResult::Unverified(ErrorCode::DocumentUnverifiedOther))
        );
    }
}

#[test]
fn an_id_number_without_its_type_is_not_submitted() {
    let session = live_session(SessionType::IdNumber, DocumentOptions::default());
    let fields = form(&[("id_number", "52998224725")]);
    let sub = submission(&session, &fields, Images::default());
    assert_eq!(sub.id_number, None);
    assert_eq!(sub.document, None);
    let verdict = BUILTIN.verify(&sub, Date::from_unix_ms(NOW_MS));
    assert_eq!(verdict.last_error, Some(ErrorCode::IdNumberUnverifiedOther));
}
