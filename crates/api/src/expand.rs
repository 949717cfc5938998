//! `expand[]`: which includable fields and expandable ids a response carries.
//!
//! Stripe's includable fields (absent unless asked for) and its id→object expansions share one
//! syntax: dotted paths, at most four levels deep, prefixed with `data.` on lists.

use crate::error::ApiError;
use crate::params::{Field, Params};

const MAX_DEPTH: usize = 4;
const MAX_PATHS: usize = 50;

/// Includable fields of a VerificationReport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportExpand {
    pub document_dob: bool,
    pub document_expiration_date: bool,
    pub document_number: bool,
    pub document_sex: bool,
    pub document_unparsed_place_of_birth: bool,
    pub document_unparsed_sex: bool,
    pub id_number_dob: bool,
    pub id_number_id_number: bool,
}

impl ReportExpand {
    /// Applies one path relative to a report; false when it names nothing expandable.
    fn apply(&mut self, path: &[&str]) -> bool {
        let slot = match path {
            ["document", "dob"] => &mut self.document_dob,
            ["document", "expiration_date"] => &mut self.document_expiration_date,
            ["document", "number"] => &mut self.document_number,
            ["document", "sex"] => &mut self.document_sex,
            ["document", "unparsed_place_of_birth"] => &mut self.document_unparsed_place_of_birth,
            ["document", "unparsed_sex"] => &mut self.document_unparsed_sex,
            ["id_number", "dob"] => &mut self.id_number_dob,
            ["id_number", "id_number"] => &mut self.id_number_id_number,
            _ => return false,
        };
        *slot = true;
        true
    }
}

/// Includable fields of `verified_outputs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputsExpand {
    pub dob: bool,
    pub id_number: bool,
    pub sex: bool,
    pub unparsed_place_of_birth: bool,
    pub unparsed_sex: bool,
}

/// What a VerificationSession response includes beyond the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionExpand {
    /// `Some` when `last_verification_report` is expanded to the object.
    pub last_verification_report: Option<ReportExpand>,
    /// `Some` when `verified_outputs` is included.
    pub verified_outputs: Option<OutputsExpand>,
    pub provided_details: bool,
}

impl SessionExpand {
    fn apply(&mut self, path: &[&str]) -> bool {
        match path {
            ["last_verification_report"] => {
                self.last_verification_report
                    .get_or_insert_with(ReportExpand::default);
                true
            }
            ["last_verification_report", rest @ ..] => self
                .last_verification_report
                .get_or_insert_with(ReportExpand::default)
                .apply(rest),
            ["provided_details"] => {
                self.provided_details = true;
                true
            }
            ["verified_outputs"] => {
                self.verified_outputs
                    .get_or_insert_with(OutputsExpand::default);
                true
            }
            ["verified_outputs", field] => {
                let mut outputs = self.verified_outputs.unwrap_or_default();
                let slot = match *field {
                    "dob" => &mut outputs.dob,
                    "id_number" => &mut outputs.id_number,
                    "sex" => &mut outputs.sex,
                    "unparsed_place_of_birth" => &mut outputs.unparsed_place_of_birth,
                    "unparsed_sex" => &mut outputs.unparsed_sex,
                    _ => return false,
                };
                *slot = true;
                self.verified_outputs = Some(outputs);
                true
            }
            _ => false,
        }
    }
}

/// Takes `expand` from the parameters and applies each path with `apply`. On a list every
/// path must start with `data.`.
fn parse<T: Default>(
    params: &mut Params,
    is_list: bool,
    apply: impl Fn(&mut T, &[&str]) -> bool,
) -> Result<T, ApiError> {
    let mut out = T::default();
    let paths = match params.take_str_list("expand", 5000, MAX_PATHS)? {
        None | Some(Field::Empty) => return Ok(out),
        Some(Field::Value(paths)) => paths,
    };
    for path in paths {
        let segments: Vec<&str> = path.split('.').collect();
        let relative = if is_list {
            match segments.split_first() {
                Some((&"data", rest)) if !rest.is_empty() => rest,
                _ => {
                    return Err(ApiError::CannotExpand {
                        path,
                        list_hint: true,
                    })
                }
            }
        } else {
            &segments[..]
        };
        if segments.len() > MAX_DEPTH || !apply(&mut out, relative) {
            return Err(ApiError::CannotExpand {
                path,
                list_hint: false,
            });
        }
    }
    Ok(out)
}

pub fn session(params: &mut Params, is_list: bool) -> Result<SessionExpand, ApiError> {
    parse(params, is_list, SessionExpand::apply)
}

pub fn report(params: &mut Params, is_list: bool) -> Result<ReportExpand, ApiError> {
    parse(params, is_list, ReportExpand::apply)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::form;

    fn params(q: &str) -> Params {
        Params::new(form::parse(q.as_bytes()).unwrap())
    }

    #[test]
    fn nested_includable_paths_include_their_parent() {
        let e = session(&mut params("expand[0]=verified_outputs.dob"), false).unwrap();
        assert_eq!(
            e.verified_outputs,
            Some(OutputsExpand {
                dob: true,
                ..OutputsExpand::default()
            })
        );
        assert!(e.last_verification_report.is_none());
        let e = session(
            &mut params("expand[]=last_verification_report.document.number"),
            false,
        )
        .unwrap();
        assert!(e.last_verification_report.unwrap().document_number);
    }

    #[test]
    fn lists_need_the_data_prefix() {
        let e = session(&mut params("expand[0]=data.provided_details"), true).unwrap();
        assert!(e.provided_details);
        let err = session(&mut params("expand[0]=provided_details"), true).unwrap_err();
        assert!(matches!(
            err,
            ApiError::CannotExpand {
                list_hint: true,
                ..
            }
        ));
    }

    #[test]
    fn unknown_and_too_deep_paths_are_refused() {
        for q in ["expand[0]=foo", "expand[0]=options", "expand[0]="] {
            assert!(session(&mut params(q), false).is_err(), "{q}");
        }
        assert!(session(&mut params("expand[0]=verified_outputs.address"), false).is_err());
        assert!(session(
            &mut params("expand[0]=last_verification_report.document.dob.year"),
            false
        )
        .is_err());
    }
}
