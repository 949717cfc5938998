//! Personal data: verified outputs, the test person, and Stripe's redaction placeholders.

use serde::{Deserialize, Serialize};

/// The placeholder Stripe writes over redacted strings.
pub const REDACTED: &str = "[redacted]";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub city: Option<String>,
    pub country: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub postal_code: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Date {
    pub day: u32,
    pub month: u32,
    pub year: i32,
}

impl Date {
    /// Stripe's redacted date.
    pub const REDACTED: Date = Date {
        day: 1,
        month: 1,
        year: 1,
    };

    /// The UTC calendar date of a Unix time in milliseconds.
    pub fn from_unix_ms(ms: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = ms.div_euclid(86_400_000) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            day: u32::try_from(day).unwrap_or(1),
            month: u32::try_from(month).unwrap_or(1),
            year: i32::try_from(year).unwrap_or(i32::MAX),
        }
    }
}

/// `verified_outputs` (`gelato_verified_outputs`). `sex` holds the wire value (`[redacted]`,
/// `female`, `male`, `unknown`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedOutputs {
    pub address: Option<Address>,
    pub dob: Option<Date>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub id_number: Option<String>,
    pub id_number_type: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub sex: Option<String>,
    pub unparsed_place_of_birth: Option<String>,
    pub unparsed_sex: Option<String>,
}

/// The person a test-mode verification reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestPerson {
    pub first_name: String,
    pub last_name: String,
    pub dob: Date,
    pub address: Address,
    pub id_number: String,
    pub id_number_type: String,
    pub sex: String,
    pub document_number: String,
    pub document_expiration: Date,
    pub document_issued: Date,
    pub issuing_country: String,
}

impl Default for TestPerson {
    fn default() -> Self {
        TestPerson {
            first_name: "Jenny".into(),
            last_name: "Rosen".into(),
            dob: Date {
                day: 1,
                month: 1,
                year: 1990,
            },
            address: Address {
                city: Some("South San Francisco".into()),
                country: Some("US".into()),
                line1: Some("354 Oyster Point Blvd".into()),
                line2: None,
                postal_code: Some("94080".into()),
                state: Some("CA".into()),
            },
            id_number: "000000000".into(),
            id_number_type: "us_ssn".into(),
            sex: "female".into(),
            document_number: "D1234567".into(),
            document_expiration: Date {
                day: 1,
                month: 12,
                year: 2035,
            },
            document_issued: Date {
                day: 1,
                month: 12,
                year: 2025,
            },
            issuing_country: "US".into(),
        }
    }
}

/// The person data a live-mode verification backed: only what a check that passed actually
/// verified (for the built-in verifier, what the machine-readable zone and the ID number
/// carry). Anything not verified stays `None` and is reported as `null`, never made up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedPerson {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub dob: Option<Date>,
    pub address: Option<Address>,
    pub id_number: Option<String>,
    pub id_number_type: Option<String>,
    /// `female`, `male` or `unknown`.
    pub sex: Option<String>,
    pub document_number: Option<String>,
    pub document_expiration: Option<Date>,
    pub document_issued: Option<Date>,
    pub issuing_country: Option<String>,
}

/// Replace a present string with the placeholder; absent stays absent.
pub fn redact_str(v: &mut Option<String>) {
    if v.is_some() {
        *v = Some(REDACTED.to_owned());
    }
}

pub fn redact_date(v: &mut Option<Date>) {
    if v.is_some() {
        *v = Some(Date::REDACTED);
    }
}

impl Address {
    /// Every line is replaced; the country is kept, as Stripe does.
    pub fn redact(&mut self) {
        redact_str(&mut self.city);
        redact_str(&mut self.line1);
        redact_str(&mut self.line2);
        redact_str(&mut self.postal_code);
        redact_str(&mut self.state);
    }
}

impl VerifiedOutputs {
    /// Stripe's placeholders: strings `[redacted]`, dates 1/1/1, country and id_number_type kept.
    pub fn redact(&mut self) {
        if let Some(a) = self.address.as_mut() {
            a.redact();
        }
        redact_date(&mut self.dob);
        redact_str(&mut self.email);
        redact_str(&mut self.first_name);
        redact_str(&mut self.id_number);
        redact_str(&mut self.last_name);
        redact_str(&mut self.phone);
        redact_str(&mut self.sex);
        redact_str(&mut self.unparsed_place_of_birth);
        redact_str(&mut self.unparsed_sex);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_ms_read_as_utc_calendar_dates() {
        let d = |year, month, day| Date { day, month, year };
        assert_eq!(Date::from_unix_ms(0), d(1970, 1, 1));
        assert_eq!(Date::from_unix_ms(-1), d(1969, 12, 31));
        // 2000-02-29T23:59:59.999Z and the next millisecond.
        assert_eq!(Date::from_unix_ms(951_868_799_999), d(2000, 2, 29));
        assert_eq!(Date::from_unix_ms(951_868_800_000), d(2000, 3, 1));
        // 2026-06-01T12:00:00Z.
        assert_eq!(Date::from_unix_ms(1_780_315_200_000), d(2026, 6, 1));
    }
}
