//! Settings of test mode: the `[test_mode]` table of the configuration file (the test person
//! a test-mode verification reports, and how long `simulate_delay` stays in processing), plus
//! `--test-processing-delay` / `VOUCH_TEST_PROCESSING_DELAY`.

use clap::Args;
use serde::Deserialize;
use vouch_domain::outputs::{Date, TestPerson};

use crate::config::parse_duration_ms;

#[derive(Debug, Args, Default, Clone)]
pub struct TestModeArgs {
    /// How long a test-mode attempt with simulate_delay stays processing [default: 3s].
    #[arg(long, env = "VOUCH_TEST_PROCESSING_DELAY")]
    pub test_processing_delay: Option<String>,
}

/// `[test_mode]` of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestModeFile {
    processing_delay: Option<String>,
    person: Option<PersonFile>,
}

/// `[test_mode.person]`: any field given replaces the built-in test person's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonFile {
    first_name: Option<String>,
    last_name: Option<String>,
    /// `YYYY-MM-DD`.
    dob: Option<String>,
    id_number: Option<String>,
    id_number_type: Option<String>,
    sex: Option<String>,
    document_number: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TestModeSettings {
    pub processing_delay_ms: i64,
    pub person: TestPerson,
}

fn date(s: &str) -> Option<Date> {
    let mut it = s.split('-');
    let year = it.next()?.parse().ok()?;
    let month = it.next()?.parse().ok()?;
    let day = it.next()?.parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day) && it.next().is_none()).then_some(Date {
        day,
        month,
        year,
    })
}

impl TestModeSettings {
    pub fn resolve(
        args: TestModeArgs,
        file: Option<TestModeFile>,
        defaults: Option<TestModeFile>,
    ) -> Result<TestModeSettings, String> {
        let file = file.unwrap_or_default();
        let defaults = defaults.unwrap_or_default();
        let delay = args
            .test_processing_delay
            .or(file.processing_delay)
            .or(defaults.processing_delay)
            .unwrap_or_else(|| "3s".into());
        let processing_delay_ms = parse_duration_ms(&delay)
            .ok_or_else(|| format!("test_mode.processing_delay: cannot read {delay:?}"))?;
        let mut person = TestPerson::default();
        if let Some(p) = file.person {
            let set = |slot: &mut String, v: Option<String>| {
                if let Some(v) = v {
                    *slot = v;
                }
            };
            set(&mut person.first_name, p.first_name);
            set(&mut person.last_name, p.last_name);
            set(&mut person.id_number, p.id_number);
            set(&mut person.id_number_type, p.id_number_type);
            set(&mut person.sex, p.sex);
            set(&mut person.document_number, p.document_number);
            if let Some(d) = p.dob {
                person.dob = date(&d)
                    .ok_or_else(|| format!("test_mode.person.dob: {d:?} is not YYYY-MM-DD"))?;
            }
            let a = &mut person.address;
            for (slot, v) in [
                (&mut a.line1, p.line1),
                (&mut a.line2, p.line2),
                (&mut a.city, p.city),
                (&mut a.state, p.state),
                (&mut a.postal_code, p.postal_code),
                (&mut a.country, p.country),
            ] {
                if v.is_some() {
                    *slot = v;
                }
            }
        }
        Ok(TestModeSettings {
            processing_delay_ms,
            person,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn person_fields_override_the_default() {
        let file: TestModeFile = toml::from_str(
            "processing_delay = \"250ms\"\n[person]\nfirst_name = \"Ada\"\ndob = \"1815-12-10\"\ncity = \"London\"\n",
        )
        .unwrap();
        let s = TestModeSettings::resolve(TestModeArgs::default(), Some(file), None).unwrap();
        assert_eq!(s.processing_delay_ms, 250);
        assert_eq!(s.person.first_name, "Ada");
        assert_eq!(s.person.last_name, "Rosen");
        assert_eq!(
            s.person.dob,
            Date {
                day: 10,
                month: 12,
                year: 1815
            }
        );
        assert_eq!(s.person.address.city.as_deref(), Some("London"));
        let bad: TestModeFile = toml::from_str("[person]\ndob = \"10/12/1815\"\n").unwrap();
        assert!(TestModeSettings::resolve(TestModeArgs::default(), Some(bad), None).is_err());
    }
}
