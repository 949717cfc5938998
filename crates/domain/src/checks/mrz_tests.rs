#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

const TODAY: Date = Date {
    day: 1,
    month: 6,
    year: 2026,
};

fn date(year: i32, month: u32, day: u32) -> Date {
    Date { day, month, year }
}

// ICAO 9303 part 4 (TD3) and part 5 (TD1) specimens of Utopia.
const TD3_L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
const TD3_L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
const TD1_L1: &str = "I<UTOD231458907<<<<<<<<<<<<<<<";
const TD1_L2: &str = "7408122F1204159UTO<<<<<<<<<<<6";
const TD1_L3: &str = "ERIKSSON<<ANNA<MARIA<<<<<<<<<<";

fn td3_specimen() -> String {
    format!("{TD3_L1}\n{TD3_L2}")
}

fn td1_specimen() -> String {
    format!("{TD1_L1}\n{TD1_L2}\n{TD1_L3}")
}

fn pad(s: &str, n: usize) -> String {
    assert!(s.len() <= n, "{s} longer than {n}");
    format!("{s}{}", "<".repeat(n - s.len()))
}

fn cd(s: &str) -> String {
    check_digit(s).unwrap().to_string()
}

/// A TD3 zone with correct check digits.
#[allow(clippy::too_many_arguments)]
pub(crate) fn td3(
    names: &str,
    number: &str,
    nationality: &str,
    dob: &str,
    sex: char,
    expiry: &str,
    personal: &str,
) -> String {
    let l1 = format!("P<UTO{}", pad(names, 39));
    let num = pad(number, 9);
    let personal = pad(personal, 14);
    let head = format!(
        "{num}{}{}{dob}{}{sex}{expiry}{}{personal}{}",
        cd(&num),
        pad(nationality, 3),
        cd(dob),
        cd(expiry),
        cd(&personal)
    );
    let composite = format!("{}{}{}", &head[0..10], &head[13..20], &head[21..43]);
    format!("{l1}\n{head}{}", cd(&composite))
}

/// A TD1 zone with correct check digits (document number of at most 9 characters).
pub(crate) fn td1(names: &str, number: &str, dob: &str, expiry: &str, optional: &str) -> String {
    let num = pad(number, 9);
    let l1 = format!("I<UTO{num}{}{}", cd(&num), pad(optional, 15));
    let l2 = format!(
        "{dob}{}F{expiry}{}UTO{}",
        cd(dob),
        cd(expiry),
        "<".repeat(11)
    );
    let composite = format!("{}{}{}{}", &l1[5..30], &l2[0..7], &l2[8..15], &l2[18..29]);
    format!("{l1}\n{l2}{}\n{}", cd(&composite), pad(names, 30))
}

/// Replace the character at (line, column) of a newline-separated zone.
fn set(zone: &str, line: usize, col: usize, c: char) -> String {
    let mut lines: Vec<String> = zone.lines().map(str::to_owned).collect();
    lines[line].replace_range(col..col + 1, &c.to_string());
    lines.join("\n")
}

#[test]
fn check_digit_algorithm() {
    assert_eq!(check_digit("L898902C3"), Some(6));
    assert_eq!(check_digit("740812"), Some(2));
    assert_eq!(check_digit("120415"), Some(9));
    assert_eq!(check_digit("ZE184226B<<<<<"), Some(1));
    assert_eq!(check_digit("D23145890734"), Some(9));
    assert_eq!(check_digit("<<<<<<"), Some(0));
    assert_eq!(check_digit(""), Some(0));
    // A=10 weighs like 0 in every position: a known blind spot of the 7-3-1 scheme.
    assert_eq!(check_digit("A"), check_digit("0"));
    assert_eq!(check_digit("l898902c3"), None);
    assert_eq!(check_digit("L898-902"), None);
}

#[test]
fn td3_specimen_parses() {
    let m = parse(&td3_specimen(), TODAY).unwrap();
    assert_eq!(m.format, MrzFormat::Td3);
    assert_eq!(m.document_code, "P");
    assert_eq!(m.issuing_state, "UTO");
    assert_eq!(m.surname, "ERIKSSON");
    assert_eq!(m.given_names, "ANNA MARIA");
    assert_eq!(m.document_number, "L898902C3");
    assert_eq!(m.nationality, "UTO");
    assert_eq!(m.dob, date(1974, 8, 12));
    assert_eq!(m.sex, MrzSex::Female);
    assert_eq!(m.expiry, date(2012, 4, 15));
    assert_eq!(m.optional_data, "ZE184226B");
    assert_eq!(m.optional_data_2, "");
    assert!(m.is_passport());
    assert!(!m.is_id_card());
    assert!(m.carries_number("L898902C3"));
    assert!(m.carries_number("ZE184226B"));
    assert!(!m.carries_number("L898902C"));
    assert!(!m.carries_number(""));
}

#[test]
fn td3_input_forms() {
    let joined = format!("{TD3_L1}{TD3_L2}");
    let expected = parse(&td3_specimen(), TODAY).unwrap();
    for text in [
        joined.clone(),
        joined.to_ascii_lowercase(),
        format!("  {TD3_L1}  \r\n\t{TD3_L2}\r\n\n"),
        format!("\n{}\n{}\n", TD3_L1.to_ascii_lowercase(), TD3_L2),
    ] {
        assert_eq!(parse(&text, TODAY).as_ref(), Ok(&expected), "{text:?}");
    }
}

#[test]
fn td1_specimen_parses() {
    let m = parse(&td1_specimen(), TODAY).unwrap();
    assert_eq!(m.format, MrzFormat::Td1);
    assert_eq!(m.document_code, "I");
    assert_eq!(m.issuing_state, "UTO");
    assert_eq!(m.document_number, "D23145890");
    assert_eq!(m.dob, date(1974, 8, 12));
    assert_eq!(m.sex, MrzSex::Female);
    assert_eq!(m.expiry, date(2012, 4, 15));
    assert_eq!(m.nationality, "UTO");
    assert_eq!(m.surname, "ERIKSSON");
    assert_eq!(m.given_names, "ANNA MARIA");
    assert_eq!(m.optional_data, "");
    assert!(m.is_id_card());
    assert!(!m.is_passport());
    let joined = format!("{TD1_L1}{TD1_L2}{TD1_L3}");
    assert_eq!(parse(&joined, TODAY), Ok(m));
}

/// ICAO 9303 part 11 appendix D.2: a document number longer than 9 characters continues in
/// optional data 1 after a `<` in the check-digit position.
#[test]
fn td1_extended_document_number() {
    let text = "I<UTOD23145890<7349<<<<<<<<<<<\n\
                3407127M9507122UTO<<<<<<<<<<<2\n\
                STEVENSON<<PETER<JOHN<<<<<<<<<";
    let m = parse(text, TODAY).unwrap();
    assert_eq!(m.document_number, "D23145890734");
    assert_eq!(m.optional_data, "");
    assert_eq!(m.dob, date(1934, 7, 12));
    assert_eq!(m.expiry, date(1995, 7, 12));
    assert_eq!(m.sex, MrzSex::Male);
    assert_eq!(m.surname, "STEVENSON");
    assert_eq!(m.given_names, "PETER JOHN");
    // The overflow's own check digit is verified.
    let bad = set(text, 0, 18, '8');
    assert_eq!(
        parse(&bad, TODAY),
        Err(MrzProblem::CheckDigit(MrzField::DocumentNumber))
    );
    // An overflow that is only a check digit is malformed.
    let short = "I<UTOD23145890<9<<<<<<<<<<<<<<\n\
                 3407127M9507122UTO<<<<<<<<<<<2\n\
                 STEVENSON<<PETER<JOHN<<<<<<<<<";
    assert_eq!(
        parse(short, TODAY),
        Err(MrzProblem::InvalidField(MrzField::DocumentNumber))
    );
}

/// Part 11 appendix D.2 printed this TD1 with composite digit 1; the correct digit is 2
/// (libraries that test it note the erratum).
#[test]
fn td1_icao_erratum_composite() {
    let wrong = "I<UTOL898902C<3<<<<<<<<<<<<<<<\n\
                 6908061F9406236UTO<<<<<<<<<<<1\n\
                 ERIKSSON<<ANNA<MARIA<<<<<<<<<<";
    assert_eq!(
        parse(wrong, TODAY),
        Err(MrzProblem::CheckDigit(MrzField::Composite))
    );
    let fixed = set(wrong, 1, 29, '2');
    let m = parse(&fixed, TODAY).unwrap();
    assert_eq!(m.document_number, "L898902C");
    assert_eq!(m.dob, date(1969, 8, 6));
    assert_eq!(m.expiry, date(1994, 6, 23));
}

#[test]
fn td3_empty_personal_number_may_have_filler_check_digit() {
    let line2 = "HA672242<6YTO5802254M9601086<<<<<<<<<<<<<<<8";
    let text = format!("P<YTO{}\n{line2}", pad("SPECIMEN<<TEST", 39));
    let m = parse(&text, TODAY).unwrap();
    assert_eq!(m.document_number, "HA672242");
    assert_eq!(m.issuing_state, "YTO");
    assert_eq!(m.optional_data, "");
    assert_eq!(m.sex, MrzSex::Male);
    // `0` is the other permitted digit; anything else is wrong.
    let zero = td3(
        "SPECIMEN<<TEST",
        "HA672242",
        "YTO",
        "580225",
        'M',
        "960108",
        "",
    );
    assert!(parse(&zero, TODAY).is_ok());
    assert_eq!(zero.lines().nth(1).unwrap().as_bytes()[42], b'0');
    let five = set(&zero, 1, 42, '5');
    assert_eq!(
        parse(&five, TODAY),
        Err(MrzProblem::CheckDigit(MrzField::OptionalData))
    );
}

#[test]
fn td3_corruptions_name_the_failing_check_digit() {
    let ok = td3_specimen();
    let cases = [
        (1, 0, 'M', MrzField::DocumentNumber),
        (1, 9, '7', MrzField::DocumentNumber),
        (1, 14, '5', MrzField::DateOfBirth),
        (1, 19, '3', MrzField::DateOfBirth),
        (1, 22, '3', MrzField::Expiry),
        (1, 27, '0', MrzField::Expiry),
        (1, 30, 'F', MrzField::OptionalData),
        (1, 42, '2', MrzField::OptionalData),
        (1, 43, '1', MrzField::Composite),
    ];
    for (line, col, c, field) in cases {
        let bad = set(&ok, line, col, c);
        assert_eq!(
            parse(&bad, TODAY),
            Err(MrzProblem::CheckDigit(field)),
            "{line}:{col}={c}"
        );
    }
    // Changing the number together with its own check digit leaves the composite to catch it.
    let digit = cd("L898902C4").chars().next().unwrap();
    let number_and_digit_changed = set(&set(&ok, 1, 8, '4'), 1, 9, digit);
    assert_eq!(
        parse(&number_and_digit_changed, TODAY),
        Err(MrzProblem::CheckDigit(MrzField::Composite))
    );
}

#[test]
fn td1_corruptions_name_the_failing_check_digit() {
    let ok = td1_specimen();
    let cases = [
        (0, 6, '3', MrzField::DocumentNumber),
        (0, 14, '1', MrzField::DocumentNumber),
        (1, 1, '5', MrzField::DateOfBirth),
        (1, 6, '0', MrzField::DateOfBirth),
        (1, 9, '3', MrzField::Expiry),
        (1, 14, '8', MrzField::Expiry),
        (0, 20, 'X', MrzField::Composite),
        (1, 20, 'Q', MrzField::Composite),
        (1, 29, '7', MrzField::Composite),
    ];
    for (line, col, c, field) in cases {
        let bad = set(&ok, line, col, c);
        assert_eq!(
            parse(&bad, TODAY),
            Err(MrzProblem::CheckDigit(field)),
            "{line}:{col}={c}"
        );
    }
}

/// A single wrong digit in any digit position a check digit covers is always caught
/// (the weights 7, 3, 1 are coprime with 10).
#[test]
fn every_single_digit_substitution_is_caught() {
    let ok = td3_specimen();
    let uncovered = [10, 11, 12, 20]; // nationality and sex carry no check digit
    for (col, &current) in TD3_L2.as_bytes().iter().enumerate() {
        if uncovered.contains(&col) || !current.is_ascii_digit() {
            continue;
        }
        for d in '0'..='9' {
            if d as u8 == current {
                continue;
            }
            let bad = set(&ok, 1, col, d);
            assert!(
                matches!(parse(&bad, TODAY), Err(MrzProblem::CheckDigit(_))),
                "col {col} = {d}"
            );
        }
    }
}

#[test]
fn layout_and_character_problems() {
    let one_short = format!("{TD3_L1}\n{}", &TD3_L2[..43]);
    let cases = [
        "".to_owned(),
        TD3_L1.to_owned(),
        one_short,
        format!("{TD3_L1}\n{TD3_L2}\n{TD3_L2}"),
        format!("{TD1_L1}\n{TD1_L2}"),
        format!("{TD1_L1}\n{TD1_L2}\n{TD1_L3}<"),
        format!("{TD3_L1}{TD3_L2}<"),
    ];
    for text in &cases {
        assert_eq!(parse(text, TODAY), Err(MrzProblem::Layout), "{text:?}");
    }
    for text in [
        format!("{TD3_L1}\n{}", TD3_L2.replace('<', " ")),
        format!("{TD3_L1}\n{}", TD3_L2.replacen('<', "-", 1)),
        format!("P<UTOÉRIKSSON\n{TD3_L2}"),
    ] {
        assert_eq!(
            parse(&text, TODAY),
            Err(MrzProblem::InvalidCharacter),
            "{text:?}"
        );
    }
}

#[test]
fn fields_outside_check_digits_are_validated() {
    let ok = td3_specimen();
    let cases = [
        (0, 0, '<', MrzField::DocumentCode),
        (0, 2, '1', MrzField::IssuingState),
        (0, 9, '0', MrzField::Name),
        (1, 10, '7', MrzField::Nationality),
        (1, 20, 'Z', MrzField::Sex),
    ];
    for (line, col, c, field) in cases {
        let bad = set(&ok, line, col, c);
        assert_eq!(
            parse(&bad, TODAY),
            Err(MrzProblem::InvalidField(field)),
            "{line}:{col}={c}"
        );
    }
    let no_surname = td3("<<ANNA", "L898902C3", "UTO", "740812", 'F', "300415", "");
    assert_eq!(
        parse(&no_surname, TODAY),
        Err(MrzProblem::InvalidField(MrzField::Name))
    );
    let x = td3("ERIKSSON", "L898902C3", "UTO", "740812", 'X', "300415", "");
    assert_eq!(parse(&x, TODAY).unwrap().sex, MrzSex::Unspecified);
}

#[test]
fn impossible_dates_with_consistent_check_digits() {
    for (dob, expiry, field) in [
        ("741312", "300415", MrzField::DateOfBirth),
        ("740230", "300415", MrzField::DateOfBirth),
        ("740800", "300415", MrzField::DateOfBirth),
        ("7408<2", "300415", MrzField::DateOfBirth),
        ("740812", "300431", MrzField::Expiry),
        ("740812", "300015", MrzField::Expiry),
        ("740812", "250229", MrzField::Expiry),
    ] {
        let text = td3("ERIKSSON<<ANNA", "L898902C3", "UTO", dob, 'F', expiry, "");
        assert_eq!(
            parse(&text, TODAY),
            Err(MrzProblem::InvalidDate(field)),
            "{dob} {expiry}"
        );
    }
    let leap = td3(
        "ERIKSSON<<ANNA",
        "L898902C3",
        "UTO",
        "000229",
        'F',
        "280229",
        "",
    );
    let m = parse(&leap, TODAY).unwrap();
    assert_eq!(m.dob, date(2000, 2, 29));
    assert_eq!(m.expiry, date(2028, 2, 29));
}

#[test]
fn centuries() {
    let dob_of = |yymmdd: &str| {
        let text = td3("X<<Y", "A1", "UTO", yymmdd, 'M', "300101", "");
        parse(&text, TODAY).unwrap().dob
    };
    assert_eq!(dob_of("260601"), date(2026, 6, 1), "born today");
    assert_eq!(
        dob_of("260602"),
        date(1926, 6, 2),
        "tomorrow is last century"
    );
    assert_eq!(dob_of("991231"), date(1999, 12, 31));
    assert_eq!(dob_of("080101"), date(2008, 1, 1));
    let expiry_of = |yymmdd: &str| {
        let text = td3("X<<Y", "A1", "UTO", "800101", 'M', yymmdd, "");
        parse(&text, TODAY).unwrap().expiry
    };
    assert_eq!(expiry_of("360101"), date(2036, 1, 1));
    assert_eq!(expiry_of("760601"), date(2076, 6, 1));
    assert_eq!(expiry_of("770101"), date(1977, 1, 1), "never a 2077 expiry");
    assert_eq!(expiry_of("991231"), date(1999, 12, 31));
    let late = Date {
        day: 1,
        month: 1,
        year: 2080,
    };
    let text = td3("X<<Y", "A1", "UTO", "800101", 'M', "250101", "");
    assert_eq!(parse(&text, late).unwrap().expiry, date(2125, 1, 1));
}

#[test]
fn names_split_on_double_filler() {
    let parse_names = |names: &str| {
        let m = parse(&td3(names, "A1", "UTO", "800101", 'M', "300101", ""), TODAY).unwrap();
        (m.surname, m.given_names)
    };
    assert_eq!(parse_names("MADONNA"), ("MADONNA".into(), "".into()));
    assert_eq!(
        parse_names("VAN<DER<BERG<<JAN<PIETER"),
        ("VAN DER BERG".into(), "JAN PIETER".into())
    );
    assert_eq!(
        parse_names("OBRIEN<<SEAN<<PATRICK"),
        ("OBRIEN".into(), "SEAN PATRICK".into())
    );
}

#[test]
fn sex_wire_values() {
    assert_eq!(MrzSex::Male.as_wire(), "male");
    assert_eq!(MrzSex::Female.as_wire(), "female");
    assert_eq!(MrzSex::Unspecified.as_wire(), "unknown");
}

#[test]
fn td1_builder_round_trips_and_carries_optional_numbers() {
    let text = td1(
        "SILVA<<JOAO",
        "AB1234567",
        "900115",
        "310101",
        "52998224725",
    );
    let m = parse(&text, TODAY).unwrap();
    assert_eq!(m.document_number, "AB1234567");
    assert_eq!(m.optional_data, "52998224725");
    assert!(m.carries_number("52998224725"));
    assert!(m.carries_number("AB1234567"));
    assert!(!m.carries_number("5299822472"));
}

#[test]
fn arbitrary_text_never_panics() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<<<<<<\n é"
        .chars()
        .collect();
    for _ in 0..3000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 100) as usize;
        let text: String = (0..len)
            .map(|i| alphabet[((seed >> (i % 50)) as usize + i * 7) % alphabet.len()])
            .collect();
        let _ = parse(&text, TODAY);
    }
    // Every prefix of the specimens, too.
    for spec in [td3_specimen(), td1_specimen()] {
        for i in 0..spec.len() {
            assert!(parse(&spec[..i], TODAY).is_err());
        }
    }
}
