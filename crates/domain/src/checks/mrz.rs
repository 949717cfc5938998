//! ICAO 9303 machine-readable zones: TD3 (passports, 2 × 44) and TD1 (ID cards, 3 × 30).
//! Parsing checks every check digit; a zone that parses proves the characters are internally
//! consistent, not that a genuine document carries them.

use serde::{Deserialize, Serialize};

use super::document::{compare_dates, is_valid_date};
use crate::outputs::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MrzFormat {
    /// 3 lines × 30: ID cards (ICAO 9303 part 5).
    Td1,
    /// 2 lines × 44: passports (ICAO 9303 part 4).
    Td3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MrzSex {
    Male,
    Female,
    /// `<` (or `X`): not specified.
    Unspecified,
}

impl MrzSex {
    /// The `verified_outputs.sex` wire value.
    pub fn as_wire(self) -> &'static str {
        match self {
            MrzSex::Male => "male",
            MrzSex::Female => "female",
            MrzSex::Unspecified => "unknown",
        }
    }
}

/// A field of the zone, as named by `MrzProblem`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MrzField {
    DocumentCode,
    IssuingState,
    Name,
    DocumentNumber,
    Nationality,
    DateOfBirth,
    Sex,
    Expiry,
    OptionalData,
    Composite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MrzProblem {
    /// Neither 2 lines × 44 (TD3) nor 3 lines × 30 (TD1).
    Layout,
    /// A character other than A–Z, 0–9 and `<`.
    InvalidCharacter,
    /// A field that breaks its format (a digit in a name, a sex other than M/F/<, …).
    InvalidField(MrzField),
    /// A date field that is not a calendar date.
    InvalidDate(MrzField),
    /// The named check digit does not match its field.
    CheckDigit(MrzField),
}

/// A parsed zone. Strings have fillers removed (`<` inside names becomes a space).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mrz {
    pub format: MrzFormat,
    /// `P`, `PO`, `I`, `ID`, `AC`, …
    pub document_code: String,
    /// Three-letter issuing state or organisation (`D` for Germany, fillers removed).
    pub issuing_state: String,
    pub surname: String,
    pub given_names: String,
    pub document_number: String,
    pub nationality: String,
    pub dob: Date,
    pub sex: MrzSex,
    pub expiry: Date,
    /// TD3 personal number; TD1 optional data of line 1.
    pub optional_data: String,
    /// TD1 optional data of line 2 (empty for TD3).
    pub optional_data_2: String,
}

impl Mrz {
    /// A passport zone: TD3 with a `P` document code.
    pub fn is_passport(&self) -> bool {
        self.format == MrzFormat::Td3 && self.document_code.starts_with('P')
    }

    /// An ID-card zone: TD1 with an `I`, `A` or `C` document code.
    pub fn is_id_card(&self) -> bool {
        self.format == MrzFormat::Td1 && self.document_code.starts_with(['I', 'A', 'C'])
    }

    /// Whether `number` (upper-case letters and digits) is the document number or a whole
    /// optional-data field (where states put national numbers).
    pub fn carries_number(&self, number: &str) -> bool {
        !number.is_empty()
            && [
                &self.document_number,
                &self.optional_data,
                &self.optional_data_2,
            ]
            .iter()
            .any(|f| f.as_str() == number)
    }
}

/// ICAO 9303 part 3 check digit: weights 7, 3, 1 repeating; `0`–`9` are their value, `A`–`Z`
/// are 10–35, `<` is 0; the digit is the sum mod 10. `None` for any other character.
pub fn check_digit(data: &str) -> Option<u32> {
    data.bytes()
        .zip([7u32, 3, 1].iter().cycle())
        .try_fold(0u32, |sum, (b, w)| {
            let v = match b {
                b'0'..=b'9' => u32::from(b - b'0'),
                b'A'..=b'Z' => u32::from(b - b'A') + 10,
                b'<' => 0,
                _ => return None,
            };
            Some(sum + v * w)
        })
        .map(|s| s % 10)
}

/// Parse a TD3 or TD1 zone. Lines may be separated by newlines (surrounding spaces are
/// ignored) or given as one run of 88 / 90 characters; lower case is accepted. `today` picks
/// the century of the date of birth (the latest one not in the future).
pub fn parse(text: &str, today: Date) -> Result<Mrz, MrzProblem> {
    let upper = text.to_ascii_uppercase();
    let lines: Vec<&str> = upper
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.iter().any(|l| {
        !l.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'<')
    }) {
        return Err(MrzProblem::InvalidCharacter);
    }
    let lines: Vec<&[u8]> = match lines.as_slice() {
        [one] if one.len() == 88 => one.as_bytes().chunks(44).collect(),
        [one] if one.len() == 90 => one.as_bytes().chunks(30).collect(),
        many => many.iter().map(|l| l.as_bytes()).collect(),
    };
    match lines.as_slice() {
        [l1, l2] if l1.len() == 44 && l2.len() == 44 => parse_td3(l1, l2, today),
        [l1, l2, l3] if [l1, l2, l3].iter().all(|l| l.len() == 30) => parse_td1(l1, l2, l3, today),
        _ => Err(MrzProblem::Layout),
    }
}

/// `line[a..b]` as text (callers only pass in-bounds ranges of validated ASCII lines).
fn field(line: &[u8], a: usize, b: usize) -> &str {
    line.get(a..b)
        .and_then(|s| std::str::from_utf8(s).ok())
        .unwrap_or("")
}

fn byte_at(line: &[u8], i: usize) -> u8 {
    line.get(i).copied().unwrap_or(0)
}

/// `digit` (a check-digit character) is the check digit of `data`.
fn verify(data: &str, digit: u8, which: MrzField) -> Result<(), MrzProblem> {
    let expected = check_digit(data).ok_or(MrzProblem::InvalidCharacter)?;
    if digit.is_ascii_digit() && u32::from(digit - b'0') == expected {
        Ok(())
    } else {
        Err(MrzProblem::CheckDigit(which))
    }
}

fn parse_td3(l1: &[u8], l2: &[u8], today: Date) -> Result<Mrz, MrzProblem> {
    let number = field(l2, 0, 9);
    verify(number, byte_at(l2, 9), MrzField::DocumentNumber)?;
    verify(field(l2, 13, 19), byte_at(l2, 19), MrzField::DateOfBirth)?;
    verify(field(l2, 21, 27), byte_at(l2, 27), MrzField::Expiry)?;
    let optional = field(l2, 28, 42);
    let optional_cd = byte_at(l2, 42);
    // An unused personal-number field may carry `<` (or 0) as its check digit.
    let empty_optional = optional.bytes().all(|b| b == b'<');
    if !(empty_optional && optional_cd == b'<') {
        verify(optional, optional_cd, MrzField::OptionalData)?;
    }
    let composite = [field(l2, 0, 10), field(l2, 13, 20), field(l2, 21, 43)].concat();
    verify(&composite, byte_at(l2, 43), MrzField::Composite)?;

    let (surname, given_names) = names(field(l1, 5, 44))?;
    Ok(Mrz {
        format: MrzFormat::Td3,
        document_code: code(field(l1, 0, 2), MrzField::DocumentCode)?,
        issuing_state: code(field(l1, 2, 5), MrzField::IssuingState)?,
        surname,
        given_names,
        document_number: strip(number),
        nationality: code(field(l2, 10, 13), MrzField::Nationality)?,
        dob: dob(field(l2, 13, 19), today)?,
        sex: sex(byte_at(l2, 20))?,
        expiry: expiry(field(l2, 21, 27), today)?,
        optional_data: strip(optional),
        optional_data_2: String::new(),
    })
}

fn parse_td1(l1: &[u8], l2: &[u8], l3: &[u8], today: Date) -> Result<Mrz, MrzProblem> {
    let principal = field(l1, 5, 14);
    let optional_1 = field(l1, 15, 30);
    // A number longer than 9 characters: `<` in the check-digit position, the rest of the
    // number in optional data 1, then its check digit, then a filler (ICAO 9303 part 5;
    // example in part 11 appendix D.2: `I<UTOD23145890<7349…` → `D23145890734`).
    let (number, optional_data) = if byte_at(l1, 14) == b'<' && !optional_1.starts_with('<') {
        let run = optional_1.find('<').unwrap_or(optional_1.len());
        let (head, tail) = optional_1.split_at(run);
        // `head` is the rest of the number followed by its check digit.
        let (rest, digit) = match head.as_bytes().split_last() {
            Some((&digit, rest)) if !rest.is_empty() => (field(rest, 0, rest.len()), digit),
            _ => return Err(MrzProblem::InvalidField(MrzField::DocumentNumber)),
        };
        let full = format!("{principal}{rest}");
        verify(&full, digit, MrzField::DocumentNumber)?;
        (full, tail)
    } else {
        verify(principal, byte_at(l1, 14), MrzField::DocumentNumber)?;
        (principal.to_owned(), optional_1)
    };
    verify(field(l2, 0, 6), byte_at(l2, 6), MrzField::DateOfBirth)?;
    verify(field(l2, 8, 14), byte_at(l2, 14), MrzField::Expiry)?;
    let composite = [
        field(l1, 5, 30),
        field(l2, 0, 7),
        field(l2, 8, 15),
        field(l2, 18, 29),
    ]
    .concat();
    verify(&composite, byte_at(l2, 29), MrzField::Composite)?;

    let (surname, given_names) = names(field(l3, 0, 30))?;
    Ok(Mrz {
        format: MrzFormat::Td1,
        document_code: code(field(l1, 0, 2), MrzField::DocumentCode)?,
        issuing_state: code(field(l1, 2, 5), MrzField::IssuingState)?,
        surname,
        given_names,
        document_number: strip(&number),
        nationality: code(field(l2, 15, 18), MrzField::Nationality)?,
        dob: dob(field(l2, 0, 6), today)?,
        sex: sex(byte_at(l2, 7))?,
        expiry: expiry(field(l2, 8, 14), today)?,
        optional_data: strip(optional_data),
        optional_data_2: strip(field(l2, 18, 29)),
    })
}

fn strip(s: &str) -> String {
    s.trim_end_matches('<').replace('<', "")
}

/// Document code, issuing state, nationality: letters then fillers, starting with a letter.
fn code(s: &str, which: MrzField) -> Result<String, MrzProblem> {
    let letters = s.trim_end_matches('<');
    if letters.is_empty() || !letters.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(MrzProblem::InvalidField(which));
    }
    Ok(letters.to_owned())
}

/// `SURNAME<<GIVEN<NAMES<<<`: letters and fillers only, a non-empty primary identifier.
fn names(s: &str) -> Result<(String, String), MrzProblem> {
    if !s.bytes().all(|b| b.is_ascii_uppercase() || b == b'<') {
        return Err(MrzProblem::InvalidField(MrzField::Name));
    }
    let s = s.trim_end_matches('<');
    let (surname, given) = s.split_once("<<").unwrap_or((s, ""));
    let words = |p: &str| {
        p.split('<')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let surname = words(surname);
    if surname.is_empty() {
        return Err(MrzProblem::InvalidField(MrzField::Name));
    }
    Ok((surname, words(given)))
}

fn sex(b: u8) -> Result<MrzSex, MrzProblem> {
    match b {
        b'M' => Ok(MrzSex::Male),
        b'F' => Ok(MrzSex::Female),
        b'<' | b'X' => Ok(MrzSex::Unspecified),
        _ => Err(MrzProblem::InvalidField(MrzField::Sex)),
    }
}

/// `YYMMDD` digits → (yy, month, day).
fn yymmdd(s: &str, which: MrzField) -> Result<(i32, u32, u32), MrzProblem> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MrzProblem::InvalidDate(which));
    }
    let n = |a: usize| {
        s.get(a..a + 2)
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let yy = s.get(0..2).and_then(|p| p.parse::<i32>().ok()).unwrap_or(0);
    Ok((yy, n(2), n(4)))
}

/// Date of birth: the latest century that does not put it after `today`.
fn dob(s: &str, today: Date) -> Result<Date, MrzProblem> {
    let (yy, month, day) = yymmdd(s, MrzField::DateOfBirth)?;
    let century = today.year.div_euclid(100) * 100;
    let mut date = Date {
        day,
        month,
        year: century + yy,
    };
    if compare_dates(date, today).is_gt() {
        date.year -= 100;
    }
    if !is_valid_date(date) {
        return Err(MrzProblem::InvalidDate(MrzField::DateOfBirth));
    }
    Ok(date)
}

/// Expiry: in the century of `today`, unless that lands more than 50 years ahead (no
/// document is valid that long), in which case it is the previous century — so a
/// 1990s expiry reads as long expired, never as a 2090s one.
fn expiry(s: &str, today: Date) -> Result<Date, MrzProblem> {
    let (yy, month, day) = yymmdd(s, MrzField::Expiry)?;
    let mut year = today.year.div_euclid(100) * 100 + yy;
    if year > today.year + 50 {
        year -= 100;
    } else if year < today.year - 50 {
        year += 100;
    }
    let date = Date { day, month, year };
    if !is_valid_date(date) {
        return Err(MrzProblem::InvalidDate(MrzField::Expiry));
    }
    Ok(date)
}

#[cfg(test)]
#[path = "mrz_tests.rs"]
pub(crate) mod tests;
