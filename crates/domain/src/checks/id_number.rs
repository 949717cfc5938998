//! ID numbers: structure and check digits for `br_cpf`, `sg_nric` and `us_ssn`, and the name
//! and date-of-birth comparisons the verifier uses. A valid structure proves only that the
//! number *could* have been issued, never that it was issued to this person.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::outputs::Date;
use crate::session::WireEnum;

/// `id_number_type` values of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdNumberType {
    BrCpf,
    SgNric,
    UsSsn,
}

impl WireEnum for IdNumberType {
    const ALL: &'static [(&'static str, Self)] = &[
        ("br_cpf", IdNumberType::BrCpf),
        ("sg_nric", IdNumberType::SgNric),
        ("us_ssn", IdNumberType::UsSsn),
    ];
}

impl IdNumberType {
    /// ISO 3166-1 alpha-2 country of the issuing scheme.
    pub fn country(self) -> &'static str {
        match self {
            IdNumberType::BrCpf => "BR",
            IdNumberType::SgNric => "SG",
            IdNumberType::UsSsn => "US",
        }
    }
}

/// A structurally valid number in canonical form: digits only for CPF and SSN, upper-case
/// letter + 7 digits + letter for NRIC/FIN. `Debug` shows only the last four characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NormalizedIdNumber {
    kind: IdNumberType,
    canonical: String,
}

impl NormalizedIdNumber {
    pub fn kind(&self) -> IdNumberType {
        self.kind
    }

    /// The canonical form (`52998224725`, `S1234567D`, `123456789`).
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The last four characters (what a report shows for `us_ssn`).
    pub fn last4(&self) -> &str {
        let start = self.canonical.len().saturating_sub(4);
        self.canonical.get(start..).unwrap_or("")
    }

    /// What a report's `id_number` may hold: the last four for `us_ssn`, else the number.
    pub fn reportable(&self) -> &str {
        match self.kind {
            IdNumberType::UsSsn => self.last4(),
            IdNumberType::BrCpf | IdNumberType::SgNric => self.as_str(),
        }
    }

    /// The usual printed form (`529.982.247-25`, `S1234567D`, `123-45-6789`).
    pub fn formatted(&self) -> String {
        let c = &self.canonical;
        let part = |a: usize, b: usize| c.get(a..b).unwrap_or("");
        match self.kind {
            IdNumberType::BrCpf => format!(
                "{}.{}.{}-{}",
                part(0, 3),
                part(3, 6),
                part(6, 9),
                part(9, 11)
            ),
            IdNumberType::SgNric => c.clone(),
            IdNumberType::UsSsn => format!("{}-{}-{}", part(0, 3), part(3, 5), part(5, 9)),
        }
    }
}

impl fmt::Debug for NormalizedIdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NormalizedIdNumber({}, …{})",
            self.kind.as_str(),
            self.last4()
        )
    }
}

/// Why a number is not structurally valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdNumberProblem {
    Empty,
    /// A character that is neither a digit/letter nor accepted punctuation (space . - /), or
    /// a letter where only digits belong.
    InvalidCharacter,
    WrongLength {
        expected: usize,
        found: usize,
    },
    /// NRIC/FIN prefix not S, T, F, G or M.
    InvalidPrefix,
    /// CPF made of one repeated digit (passes mod-11 but is never issued).
    RepeatedDigits,
    /// CPF check digits or NRIC/FIN checksum letter wrong.
    CheckDigit,
    /// SSN area 000, 666 or 900–999.
    InvalidArea,
    /// SSN group 00.
    InvalidGroup,
    /// SSN serial 0000.
    InvalidSerial,
    /// A published number known to be invalid (advertising / wallet specimens).
    KnownInvalid,
}

impl fmt::Display for IdNumberProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdNumberProblem::Empty => f.write_str("the number is empty"),
            IdNumberProblem::InvalidCharacter => f.write_str("the number has invalid characters"),
            IdNumberProblem::WrongLength { expected, found } => {
                write!(f, "expected {expected} characters, found {found}")
            }
            IdNumberProblem::InvalidPrefix => f.write_str("the prefix letter is not valid"),
            IdNumberProblem::RepeatedDigits => f.write_str("the number repeats one digit"),
            IdNumberProblem::CheckDigit => f.write_str("the check digit does not match"),
            IdNumberProblem::InvalidArea => f.write_str("the area number is never issued"),
            IdNumberProblem::InvalidGroup => f.write_str("the group number is never issued"),
            IdNumberProblem::InvalidSerial => f.write_str("the serial number is never issued"),
            IdNumberProblem::KnownInvalid => f.write_str("the number is a known invalid number"),
        }
    }
}

/// Check structure and check digits; accepts common punctuation (`123.456.789-09`,
/// `123-45-6789`, ` s1234567d `).
pub fn validate(kind: IdNumberType, raw: &str) -> Result<NormalizedIdNumber, IdNumberProblem> {
    let canonical = compact(raw)?;
    match kind {
        IdNumberType::BrCpf => validate_cpf(&canonical)?,
        IdNumberType::SgNric => validate_nric(&canonical)?,
        IdNumberType::UsSsn => validate_ssn(&canonical)?,
    }
    Ok(NormalizedIdNumber { kind, canonical })
}

/// Upper-cased ASCII letters and digits, punctuation removed.
fn compact(raw: &str) -> Result<String, IdNumberProblem> {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else if !(c.is_whitespace() || matches!(c, '.' | '-' | '/')) {
            return Err(IdNumberProblem::InvalidCharacter);
        }
    }
    if out.is_empty() {
        return Err(IdNumberProblem::Empty);
    }
    Ok(out)
}

fn digits_of(s: &str, expected: usize) -> Result<Vec<u32>, IdNumberProblem> {
    let digits: Option<Vec<u32>> = s.chars().map(|c| c.to_digit(10)).collect();
    let digits = digits.ok_or(IdNumberProblem::InvalidCharacter)?;
    if digits.len() != expected {
        return Err(IdNumberProblem::WrongLength {
            expected,
            found: digits.len(),
        });
    }
    Ok(digits)
}

/// CPF: 9 digits + 2 check digits. Check digit n (n = 1, 2) weighs the preceding 8 + n digits
/// by 9 + n down to 2; remainder r of the sum mod 11 gives 0 when r < 2, else 11 − r.
/// Checked against riquelmemr/validation-cpf README.md (Regra Prática de validação de CPF)
/// and the published examples 529.982.247-25, 746.824.890-70, 111.444.777-35.
fn validate_cpf(s: &str) -> Result<(), IdNumberProblem> {
    let d = digits_of(s, 11)?;
    if d.iter().all(|&x| Some(&x) == d.first()) {
        return Err(IdNumberProblem::RepeatedDigits);
    }
    for n in 9..=10 {
        let sum: u32 = d
            .iter()
            .take(n)
            .zip((2..=n as u32 + 1).rev())
            .map(|(x, w)| x * w)
            .sum();
        let r = sum % 11;
        let expected = if r < 2 { 0 } else { 11 - r };
        if d.get(n) != Some(&expected) {
            return Err(IdNumberProblem::CheckDigit);
        }
    }
    Ok(())
}

/// NRIC/FIN: prefix, 7 digits, checksum letter. Sum of the digits weighted 2,7,6,5,4,3,2,
/// plus 4 for T/G and 3 for M; r = sum mod 11. S/T use `JZIHGFEDCBA`[r], F/G use
/// `XWUTRQPNMLK`[r], M uses `KLJNPQRTUWX`[10 − r].
/// Checked against samliew/singapore-nric src/nric.ts (tables, offsets, the M reversal) and
/// its tests/nric.test.ts vectors, SiliconJungles/npm-is-nric src/IsNRIC.ts (S/T/F/G), and
/// garden.melvinzhang.net/posts/nric_checksum (S1234567 → sum 106 → D).
fn validate_nric(s: &str) -> Result<(), IdNumberProblem> {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() != 9 {
        return Err(IdNumberProblem::WrongLength {
            expected: 9,
            found: chars.len(),
        });
    }
    let (Some(&prefix), Some(&letter)) = (chars.first(), chars.last()) else {
        return Err(IdNumberProblem::Empty);
    };
    let body: String = chars.get(1..8).unwrap_or_default().iter().collect();
    let digits = digits_of(&body, 7)?;
    if !letter.is_ascii_uppercase() {
        return Err(IdNumberProblem::InvalidCharacter);
    }
    let sum: u32 = digits.iter().zip(NRIC_WEIGHTS).map(|(d, w)| d * w).sum();
    let (offset, table, reversed) = match prefix {
        'S' => (0, "JZIHGFEDCBA", false),
        'T' => (4, "JZIHGFEDCBA", false),
        'F' => (0, "XWUTRQPNMLK", false),
        'G' => (4, "XWUTRQPNMLK", false),
        'M' => (3, "KLJNPQRTUWX", true),
        _ => return Err(IdNumberProblem::InvalidPrefix),
    };
    let r = ((sum + offset) % 11) as usize;
    let index = if reversed { 10 - r } else { r };
    if table.chars().nth(index) == Some(letter) {
        Ok(())
    } else {
        Err(IdNumberProblem::CheckDigit)
    }
}

const NRIC_WEIGHTS: [u32; 7] = [2, 7, 6, 5, 4, 3, 2];

/// Numbers published in advertising or on specimen cards, never valid for a person
/// (python-stdnum `stdnum/us/ssn.py` `_ssn_blacklist`: the Woolworth wallet card, the SSA
/// pamphlet number, the LifeLock advertisement).
const SSN_KNOWN_INVALID: [&str; 3] = ["078051120", "219099999", "457555462"];

/// SSN: area (3) group (2) serial (4). Never issued: area 000, 666, 900–999; group 00; serial
/// 0000 (SSA rules, also in python-stdnum `stdnum/us/ssn.py`). No check digit exists.
fn validate_ssn(s: &str) -> Result<(), IdNumberProblem> {
    let d = digits_of(s, 9)?;
    let num = |r: std::ops::Range<usize>| {
        d.get(r)
            .unwrap_or_default()
            .iter()
            .fold(0u32, |a, x| a * 10 + x)
    };
    let area = num(0..3);
    if area == 0 || area == 666 || area >= 900 {
        return Err(IdNumberProblem::InvalidArea);
    }
    if num(3..5) == 0 {
        return Err(IdNumberProblem::InvalidGroup);
    }
    if num(5..9) == 0 {
        return Err(IdNumberProblem::InvalidSerial);
    }
    if SSN_KNOWN_INVALID.contains(&s) {
        return Err(IdNumberProblem::KnownInvalid);
    }
    Ok(())
}

/// Whether two names are the same name: case, Latin diacritics, whitespace, hyphens,
/// apostrophes and dots are ignored (`Zoë O'Neil-Smith` = `ZOE ONEIL SMITH`), and German /
/// Nordic letters may be spelled either way (`Müller` = `MULLER` = `MUELLER`, ICAO 9303
/// part 3 transliteration). Empty names never match.
pub fn names_match(entered: &str, on_record: &str) -> bool {
    let a = [compact_name(entered, false), compact_name(entered, true)];
    let b = [
        compact_name(on_record, false),
        compact_name(on_record, true),
    ];
    a.iter().any(|x| !x.is_empty() && b.contains(x))
}

/// Like `names_match`, but the entered name may also be the leading given name(s) of the
/// record: `Anna` and `Anna Maria` both match `ANNA MARIA`; `Maria` does not.
pub fn given_names_match(entered: &str, on_record: &str) -> bool {
    if names_match(entered, on_record) {
        return true;
    }
    [false, true].iter().any(|&expand| {
        let want = compact_name(entered, expand);
        let tokens = name_tokens(on_record, expand);
        !want.is_empty()
            && (1..tokens.len()).any(|k| tokens.get(..k).is_some_and(|t| t.concat() == want))
    })
}

/// Dates of birth are equal (and real calendar dates).
pub fn dob_matches(entered: Date, on_record: Date) -> bool {
    entered == on_record && super::document::is_valid_date(entered)
}

fn compact_name(name: &str, expand: bool) -> String {
    name_tokens(name, expand).concat()
}

/// Lower-cased, folded words of a name. Apostrophes join (`O'Neil` → `oneil`); whitespace,
/// hyphens, dots, commas, `<` and other symbols separate.
fn name_tokens(name: &str, expand: bool) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        // Apostrophes join; combining marks (decomposed accents) are dropped.
        if matches!(
            c,
            '\'' | '’' | '‘' | 'ʼ' | '`' | '´' | '\u{300}'..='\u{36F}'
        ) {
            continue;
        }
        if c.is_alphanumeric() {
            fold_char(c, expand, &mut cur);
        } else if !cur.is_empty() {
            tokens.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

/// ASCII folding of common Latin letters. With `expand`, ä/ö/ü/å/ø become two letters as in
/// ICAO 9303 part 3 (AE, OE, UE, AA, OE); otherwise they lose the diacritic.
fn fold_char(c: char, expand: bool, out: &mut String) {
    if expand {
        let two = match c {
            'ä' => Some("ae"),
            'ö' | 'ø' => Some("oe"),
            'ü' => Some("ue"),
            'å' => Some("aa"),
            _ => None,
        };
        if let Some(s) = two {
            out.push_str(s);
            return;
        }
    }
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'æ' => "ae",
        'œ' => "oe",
        'ß' => "ss",
        'þ' => "th",
        _ => {
            out.push(c);
            return;
        }
    };
    out.push_str(folded);
}

#[cfg(test)]
#[path = "id_number_tests.rs"]
mod tests;
