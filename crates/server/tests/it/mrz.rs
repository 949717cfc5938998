//! Machine-readable zones for tests: ICAO 9303 passports (TD3) with every check digit
//! computed. Shared by the HTTP tests and the browser tests.

/// ICAO 9303 check digit: weights 7, 3, 1; `<` is 0, letters 10–35.
pub fn check_digit(data: &str) -> char {
    let sum: u32 = data
        .bytes()
        .zip([7u32, 3, 1].iter().cycle())
        .map(|(b, w)| {
            let v = match b {
                b'0'..=b'9' => u32::from(b - b'0'),
                b'A'..=b'Z' => u32::from(b - b'A') + 10,
                _ => 0,
            };
            v * w
        })
        .sum();
    char::from_digit(sum % 10, 10).unwrap()
}

/// A passport's zone: the fields as printed (`<`-padded where the zone pads them), dates
/// `YYMMDD`.
pub struct Passport<'a> {
    /// Three characters: `UTO`, `SGP`, `D<<`.
    pub state: &'a str,
    /// `SURNAME<<GIVEN<NAMES`.
    pub names: &'a str,
    /// Nine characters.
    pub number: &'a str,
    pub nationality: &'a str,
    pub dob: &'a str,
    /// `M`, `F` or `<`.
    pub sex: char,
    pub expiry: &'a str,
    /// The personal number, at most 14 characters.
    pub personal: &'a str,
}

impl Passport<'_> {
    /// The two lines of 44 characters, separated by a line break.
    pub fn zone(&self) -> String {
        let with_digit = |s: &str| format!("{s}{}", check_digit(s));
        let line1 = format!("{:<<44}", format!("P<{}{}", self.state, self.names));
        let number = with_digit(self.number);
        let dob = with_digit(self.dob);
        let expiry = with_digit(self.expiry);
        let personal = with_digit(&format!("{:<<14}", self.personal));
        let composite = check_digit(&format!("{number}{dob}{expiry}{personal}"));
        let line2 = format!(
            "{number}{}{dob}{}{expiry}{personal}{composite}",
            self.nationality, self.sex
        );
        assert_eq!((line1.len(), line2.len()), (44, 44), "{line1}\n{line2}");
        format!("{line1}\n{line2}")
    }
}
