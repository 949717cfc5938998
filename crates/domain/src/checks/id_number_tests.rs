#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::outputs::Date;
use crate::session::WireEnum;

fn ok(kind: IdNumberType, raw: &str) -> NormalizedIdNumber {
    match validate(kind, raw) {
        Ok(n) => n,
        Err(e) => panic!("{raw} should be valid: {e:?}"),
    }
}

fn err(kind: IdNumberType, raw: &str) -> IdNumberProblem {
    match validate(kind, raw) {
        Ok(n) => panic!("{raw} should be invalid, got {n:?}"),
        Err(e) => e,
    }
}

use IdNumberType::{BrCpf, SgNric, UsSsn};

#[test]
fn wire_names() {
    assert_eq!(BrCpf.as_str(), "br_cpf");
    assert_eq!(SgNric.as_str(), "sg_nric");
    assert_eq!(UsSsn.as_str(), "us_ssn");
    assert_eq!(IdNumberType::from_wire("us_ssn"), Some(UsSsn));
    assert_eq!(IdNumberType::from_wire("US_SSN"), None);
    assert_eq!(
        serde_json_like(BrCpf),
        "br_cpf",
        "serde spelling matches the wire table"
    );
    assert_eq!(UsSsn.country(), "US");
}

/// serde's snake_case spelling, read back through `Deserialize` of a unit variant name.
fn serde_json_like(t: IdNumberType) -> &'static str {
    use serde::de::value::{Error, StrDeserializer};
    use serde::de::IntoDeserializer;
    use serde::Deserialize;
    let name = t.as_str();
    let de: StrDeserializer<'_, Error> = name.into_deserializer();
    let back = IdNumberType::deserialize(de).unwrap();
    assert_eq!(back, t);
    name
}

// --- CPF -------------------------------------------------------------------------------------

#[test]
fn cpf_valid_numbers_in_any_punctuation() {
    for raw in [
        "529.982.247-25",
        "52998224725",
        " 529 982 247 25 ",
        "529982247/25",
        "746.824.890-70",
        "111.444.777-35",
        "757.331.783-29",
        "841.315.629-79",
        "635.111.771-20",
        "348.536.715-01",
        "000.000.001-91",
    ] {
        let n = ok(BrCpf, raw);
        assert_eq!(n.as_str().len(), 11);
        assert!(n.as_str().bytes().all(|b| b.is_ascii_digit()));
    }
    let n = ok(BrCpf, "529.982.247-25");
    assert_eq!(n.as_str(), "52998224725");
    assert_eq!(n.formatted(), "529.982.247-25");
    assert_eq!(n.last4(), "4725");
    assert_eq!(n.reportable(), "52998224725");
    assert_eq!(n.kind(), BrCpf);
}

#[test]
fn cpf_wrong_check_digits() {
    assert_eq!(err(BrCpf, "529.982.247-24"), IdNumberProblem::CheckDigit);
    assert_eq!(err(BrCpf, "529.982.247-15"), IdNumberProblem::CheckDigit);
    assert_eq!(err(BrCpf, "529.982.248-25"), IdNumberProblem::CheckDigit);
    assert_eq!(err(BrCpf, "123.456.789-00"), IdNumberProblem::CheckDigit);
}

#[test]
fn cpf_every_single_digit_change_is_caught() {
    let good: Vec<u8> = b"52998224725".to_vec();
    for i in 0..good.len() {
        for d in b'0'..=b'9' {
            if d == good[i] {
                continue;
            }
            let mut bad = good.clone();
            bad[i] = d;
            let raw = String::from_utf8(bad).unwrap();
            assert!(validate(BrCpf, &raw).is_err(), "{raw}");
        }
    }
}

#[test]
fn cpf_repeated_digits_rejected_even_though_mod11_holds() {
    for d in 0..=9 {
        let raw = d.to_string().repeat(11);
        assert_eq!(err(BrCpf, &raw), IdNumberProblem::RepeatedDigits, "{raw}");
    }
    assert_eq!(
        err(BrCpf, "111.111.111-11"),
        IdNumberProblem::RepeatedDigits
    );
}

#[test]
fn cpf_structure() {
    assert_eq!(
        err(BrCpf, "529.982.247-2"),
        IdNumberProblem::WrongLength {
            expected: 11,
            found: 10
        }
    );
    assert_eq!(
        err(BrCpf, "529.982.247-255"),
        IdNumberProblem::WrongLength {
            expected: 11,
            found: 12
        }
    );
    assert_eq!(
        err(BrCpf, "529.982.247-2A"),
        IdNumberProblem::InvalidCharacter
    );
    assert_eq!(
        err(BrCpf, "529,982,247-25"),
        IdNumberProblem::InvalidCharacter
    );
    assert_eq!(err(BrCpf, ""), IdNumberProblem::Empty);
    assert_eq!(err(BrCpf, " .-/ "), IdNumberProblem::Empty);
    assert_eq!(err(BrCpf, "５２９"), IdNumberProblem::InvalidCharacter);
}

// --- NRIC / FIN ------------------------------------------------------------------------------

#[test]
fn nric_valid_all_prefixes() {
    // Vectors from samliew/singapore-nric tests/nric.test.ts, plus M1234567K.
    for raw in [
        "S1234567D",
        "S6995241J",
        "T8890856I",
        "F8234009L",
        "G1166318X",
        "M1134985K",
        "M1234567K",
        "S0000001I",
        "S0000002G",
        "S0000003E",
        "S0000004C",
        "S0000005A",
        "S0000006Z",
        "S0000007H",
    ] {
        assert_eq!(ok(SgNric, raw).as_str(), raw);
    }
}

#[test]
fn nric_normalises_case_and_spacing() {
    let n = ok(SgNric, " s1234567d ");
    assert_eq!(n.as_str(), "S1234567D");
    assert_eq!(n.formatted(), "S1234567D");
    assert_eq!(n.last4(), "567D");
    assert_eq!(n.reportable(), "S1234567D");
    assert_eq!(ok(SgNric, "S-1234567-D").as_str(), "S1234567D");
}

#[test]
fn nric_wrong_checksum_letter() {
    for raw in [
        "S1234567A",
        "S6995241A",
        "T8890856A",
        "F8234009A",
        "G1166318A",
        "M1134985A",
        "M1234567L",
        // Right letter for the wrong series.
        "T1234567D",
        "F1234567D",
        "G1234567D",
        "M1234567D",
    ] {
        assert_eq!(err(SgNric, raw), IdNumberProblem::CheckDigit, "{raw}");
    }
}

#[test]
fn nric_exactly_one_letter_is_valid_per_number() {
    for prefix in ['S', 'T', 'F', 'G', 'M'] {
        for digits in ["1234567", "0000000", "9999999", "3141592"] {
            let valid = ('A'..='Z')
                .filter(|l| validate(SgNric, &format!("{prefix}{digits}{l}")).is_ok())
                .count();
            assert_eq!(valid, 1, "{prefix}{digits}");
        }
    }
}

#[test]
fn nric_structure() {
    assert_eq!(err(SgNric, "A1234567D"), IdNumberProblem::InvalidPrefix);
    assert_eq!(err(SgNric, "11234567D"), IdNumberProblem::InvalidPrefix);
    assert_eq!(
        err(SgNric, "S123456D"),
        IdNumberProblem::WrongLength {
            expected: 9,
            found: 8
        }
    );
    assert_eq!(err(SgNric, "S12345678"), IdNumberProblem::InvalidCharacter);
    assert_eq!(err(SgNric, "S12A4567D"), IdNumberProblem::InvalidCharacter);
    assert_eq!(err(SgNric, "S1234567#"), IdNumberProblem::InvalidCharacter);
}

// --- SSN -------------------------------------------------------------------------------------

#[test]
fn ssn_valid_structure() {
    let n = ok(UsSsn, "123-45-6789");
    assert_eq!(n.as_str(), "123456789");
    assert_eq!(n.formatted(), "123-45-6789");
    assert_eq!(n.last4(), "6789");
    assert_eq!(
        n.reportable(),
        "6789",
        "reports show only the last 4 of an SSN"
    );
    for raw in [
        "123456789",
        "123 45 6789",
        "001-01-0001",
        "665-99-9999",
        "667-01-0001",
        "899-99-9999",
    ] {
        ok(UsSsn, raw);
    }
}

#[test]
fn ssn_never_issued_parts() {
    assert_eq!(err(UsSsn, "000-12-3456"), IdNumberProblem::InvalidArea);
    assert_eq!(err(UsSsn, "666-12-3456"), IdNumberProblem::InvalidArea);
    assert_eq!(err(UsSsn, "900-12-3456"), IdNumberProblem::InvalidArea);
    assert_eq!(err(UsSsn, "987-65-4321"), IdNumberProblem::InvalidArea);
    assert_eq!(err(UsSsn, "999-99-9999"), IdNumberProblem::InvalidArea);
    assert_eq!(err(UsSsn, "123-00-4567"), IdNumberProblem::InvalidGroup);
    assert_eq!(err(UsSsn, "123-45-0000"), IdNumberProblem::InvalidSerial);
}

#[test]
fn ssn_known_invalid_numbers() {
    for raw in ["078-05-1120", "219-09-9999", "457-55-5462"] {
        assert_eq!(err(UsSsn, raw), IdNumberProblem::KnownInvalid, "{raw}");
    }
}

#[test]
fn ssn_structure() {
    assert_eq!(
        err(UsSsn, "123-45-678"),
        IdNumberProblem::WrongLength {
            expected: 9,
            found: 8
        }
    );
    assert_eq!(err(UsSsn, "123-45-678X"), IdNumberProblem::InvalidCharacter);
    assert_eq!(err(UsSsn, "123_45_6789"), IdNumberProblem::InvalidCharacter);
}

#[test]
fn debug_output_masks_the_number() {
    let n = ok(UsSsn, "123-45-6789");
    let shown = format!("{n:?}");
    assert!(!shown.contains("12345"), "{shown}");
    assert!(
        shown.contains("6789") && shown.contains("us_ssn"),
        "{shown}"
    );
}

#[test]
fn problems_have_messages() {
    let all = [
        IdNumberProblem::Empty,
        IdNumberProblem::InvalidCharacter,
        IdNumberProblem::WrongLength {
            expected: 9,
            found: 3,
        },
        IdNumberProblem::InvalidPrefix,
        IdNumberProblem::RepeatedDigits,
        IdNumberProblem::CheckDigit,
        IdNumberProblem::InvalidArea,
        IdNumberProblem::InvalidGroup,
        IdNumberProblem::InvalidSerial,
        IdNumberProblem::KnownInvalid,
    ];
    for p in all {
        assert!(!p.to_string().is_empty());
    }
}

// --- names and dates -------------------------------------------------------------------------

#[test]
fn names_match_ignores_case_accents_spacing_and_punctuation() {
    for (a, b) in [
        ("Jenny", "JENNY"),
        ("  jenny ", "Jenny"),
        ("José", "JOSE"),
        ("Zoë O'Neil-Smith", "ZOE ONEIL SMITH"),
        ("O’Brien", "OBRIEN"),
        ("Jean-Luc", "Jean Luc"),
        ("Françoise", "FRANCOISE"),
        ("Łukasz", "LUKASZ"),
        ("Ørsted", "ORSTED"),
        ("Ørsted", "OERSTED"),
        ("Müller", "MULLER"),
        ("Müller", "MUELLER"),
        ("MUELLER", "Müller"),
        ("Strauß", "STRAUSS"),
        ("Ångström", "AANGSTROEM"),
        ("Ñúñez", "NUNEZ"),
        ("Dvořák", "DVORAK"),
        ("Jose\u{301}", "JOSE"),
        ("ERIKSSON", "Eriksson"),
        ("St. John", "ST JOHN"),
        ("Иван", "иван"),
    ] {
        assert!(names_match(a, b), "{a} ~ {b}");
    }
}

#[test]
fn names_match_rejects_different_names() {
    for (a, b) in [
        ("Jenny", "Jennie"),
        ("Anna", "ANNA MARIA"),
        ("Rosen", "Rosenberg"),
        ("", ""),
        ("  ", "-"),
        ("Jenny", ""),
        ("Иван", "Ivan"),
    ] {
        assert!(!names_match(a, b), "{a} !~ {b}");
    }
}

#[test]
fn given_names_may_be_the_leading_names() {
    assert!(given_names_match("Anna", "ANNA MARIA"));
    assert!(given_names_match("anna maria", "ANNA MARIA"));
    assert!(given_names_match("Anna-Maria", "ANNA MARIA"));
    assert!(!given_names_match("Maria", "ANNA MARIA"));
    assert!(!given_names_match("Ann", "ANNA MARIA"));
    assert!(!given_names_match("", "ANNA MARIA"));
    assert!(given_names_match("Jürgen", "JUERGEN KLAUS"));
}

#[test]
fn dob_equality() {
    let d = Date {
        day: 12,
        month: 8,
        year: 1974,
    };
    assert!(dob_matches(d, d));
    assert!(!dob_matches(d, Date { day: 13, ..d }));
    assert!(!dob_matches(d, Date { year: 2074, ..d }));
    let impossible = Date {
        day: 31,
        month: 2,
        year: 1990,
    };
    assert!(!dob_matches(impossible, impossible));
}
