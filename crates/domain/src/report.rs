//! VerificationReports: one per finished verification attempt.

use serde::{Deserialize, Serialize};

use crate::checks::{CheckResult, Verdict};
use crate::ids::{ReportId, SessionId};
use crate::outputs::{redact_date, redact_str, Address, Date, TestPerson, VerifiedPerson};
use crate::session::{DocumentOptions, DocumentType, ErrorCode, LastError, Session, SessionType};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Verified,
    Unverified,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Verified => "verified",
            CheckStatus::Unverified => "unverified",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentCheck {
    pub status: CheckStatus,
    pub error: Option<LastError>,
    pub address: Option<Address>,
    pub dob: Option<Date>,
    pub expiration_date: Option<Date>,
    pub files: Vec<String>,
    pub first_name: Option<String>,
    pub issued_date: Option<Date>,
    pub issuing_country: Option<String>,
    pub last_name: Option<String>,
    pub number: Option<String>,
    pub sex: Option<String>,
    pub document_type: Option<DocumentType>,
    pub unparsed_place_of_birth: Option<String>,
    pub unparsed_sex: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdNumberCheck {
    pub status: CheckStatus,
    pub error: Option<LastError>,
    pub dob: Option<Date>,
    pub first_name: Option<String>,
    pub id_number: Option<String>,
    pub id_number_type: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfieCheck {
    pub status: CheckStatus,
    pub error: Option<LastError>,
    pub document: Option<String>,
    pub selfie: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub id: ReportId,
    pub account: String,
    pub livemode: bool,
    pub created: i64,
    pub kind: SessionType,
    pub verification_flow: Option<String>,
    pub client_reference_id: Option<String>,
    pub verification_session: Option<SessionId>,
    /// The document options in force for the attempt (`options.document`).
    pub document_options: Option<DocumentOptions>,
    pub document: Option<DocumentCheck>,
    pub id_number: Option<IdNumberCheck>,
    pub selfie: Option<SelfieCheck>,
}

impl Report {
    /// The report of a successful attempt with the given person's data, covering exactly the
    /// checks the session requires.
    pub fn verified(session: &Session, id: ReportId, now: i64, person: &TestPerson) -> Report {
        let document = session.checks_document().then(|| DocumentCheck {
            status: CheckStatus::Verified,
            error: None,
            address: Some(person.address.clone()),
            dob: Some(person.dob),
            expiration_date: Some(person.document_expiration),
            files: Vec::new(),
            first_name: Some(person.first_name.clone()),
            issued_date: Some(person.document_issued),
            issuing_country: Some(person.issuing_country.clone()),
            last_name: Some(person.last_name.clone()),
            number: Some(person.document_number.clone()),
            sex: Some(person.sex.clone()),
            document_type: Some(first_allowed_type(session)),
            unparsed_place_of_birth: None,
            unparsed_sex: None,
        });
        let id_number = session.checks_id_number().then(|| IdNumberCheck {
            status: CheckStatus::Verified,
            error: None,
            dob: Some(person.dob),
            first_name: Some(person.first_name.clone()),
            id_number: Some(person.id_number.clone()),
            id_number_type: Some(person.id_number_type.clone()),
            last_name: Some(person.last_name.clone()),
        });
        let selfie = session.checks_selfie().then_some(SelfieCheck {
            status: CheckStatus::Verified,
            error: None,
            document: None,
            selfie: None,
        });
        Report {
            document,
            id_number,
            selfie,
            ..Report::empty(session, id, now)
        }
    }

    /// A report of the session's attempt with no checks yet.
    fn empty(session: &Session, id: ReportId, now: i64) -> Report {
        Report {
            id,
            account: session.account.clone(),
            livemode: session.livemode,
            created: now,
            kind: session.kind,
            verification_flow: session.verification_flow.clone(),
            client_reference_id: session.client_reference_id.clone(),
            verification_session: Some(session.id.clone()),
            document_options: session.options.document.clone(),
            document: None,
            id_number: None,
            selfie: None,
        }
    }

    /// The report of a live attempt: exactly the checks the verdict ran, each verified or
    /// unverified with its code as the verdict says; a verified check carries the data the
    /// verifier backed (`person`), an unverified one none.
    pub fn checked(
        session: &Session,
        id: ReportId,
        now: i64,
        verdict: &Verdict,
        person: &VerifiedPerson,
    ) -> Report {
        let status = |r: CheckResult| match r {
            CheckResult::Verified => CheckStatus::Verified,
            CheckResult::Unverified(_) => CheckStatus::Unverified,
        };
        let error = |r: CheckResult| r.error().map(last_error);
        let document = verdict.document.map(|r| {
            let p = r.is_verified().then_some(person);
            DocumentCheck {
                status: status(r),
                error: error(r),
                address: p.and_then(|p| p.address.clone()),
                dob: p.and_then(|p| p.dob),
                expiration_date: p.and_then(|p| p.document_expiration),
                files: Vec::new(),
                first_name: p.and_then(|p| p.first_name.clone()),
                issued_date: p.and_then(|p| p.document_issued),
                issuing_country: p.and_then(|p| p.issuing_country.clone()),
                last_name: p.and_then(|p| p.last_name.clone()),
                number: p.and_then(|p| p.document_number.clone()),
                sex: p.and_then(|p| p.sex.clone()),
                document_type: None,
                unparsed_place_of_birth: None,
                unparsed_sex: None,
            }
        });
        let id_number = verdict.id_number.map(|r| {
            let p = r.is_verified().then_some(person);
            IdNumberCheck {
                status: status(r),
                error: error(r),
                dob: p.and_then(|p| p.dob),
                first_name: p.and_then(|p| p.first_name.clone()),
                id_number: p.and_then(|p| p.id_number.clone()),
                id_number_type: p.and_then(|p| p.id_number_type.clone()),
                last_name: p.and_then(|p| p.last_name.clone()),
            }
        });
        let selfie = verdict.selfie.map(|r| SelfieCheck {
            status: status(r),
            error: error(r),
            document: None,
            selfie: None,
        });
        Report {
            document,
            id_number,
            selfie,
            ..Report::empty(session, id, now)
        }
    }

    /// The report of an attempt that failed with `code`: the check that produced it is
    /// `unverified` with that error and no extracted data; the others passed.
    pub fn failed(
        session: &Session,
        id: ReportId,
        now: i64,
        person: &TestPerson,
        code: ErrorCode,
    ) -> Report {
        let mut report = Report::verified(session, id, now, person);
        let error = Some(last_error(code));
        let name = crate::session::WireEnum::as_str(code);
        if name.starts_with("selfie_") {
            if let Some(s) = report.selfie.as_mut() {
                s.status = CheckStatus::Unverified;
                s.error = error;
            }
        } else if name.starts_with("id_number_") {
            if let Some(n) = report.id_number.as_mut() {
                *n = IdNumberCheck {
                    status: CheckStatus::Unverified,
                    error,
                    dob: None,
                    first_name: None,
                    id_number: None,
                    id_number_type: n.id_number_type.clone(),
                    last_name: None,
                };
            }
        } else if let Some(d) = report.document.as_mut() {
            *d = DocumentCheck {
                status: CheckStatus::Unverified,
                error,
                address: None,
                dob: None,
                expiration_date: None,
                files: d.files.clone(),
                first_name: None,
                issued_date: None,
                issuing_country: None,
                last_name: None,
                number: None,
                sex: None,
                document_type: d.document_type,
                unparsed_place_of_birth: None,
                unparsed_sex: None,
            };
        }
        report
    }

    /// References the files the user submitted: `document.files` (front, back), and the
    /// selfie check's `document` (the front) and `selfie`; the document type they chose.
    pub fn attach_evidence(&mut self, evidence: &crate::flow::Evidence) {
        if let Some(d) = self.document.as_mut() {
            d.files = evidence.document_files.clone();
            if evidence.document_type.is_some() {
                d.document_type = evidence.document_type;
            }
        }
        if let Some(s) = self.selfie.as_mut() {
            s.document = evidence.document_files.first().cloned();
            s.selfie = evidence.selfie_file.clone();
        }
    }

    /// Stripe's placeholders over every piece of personal data in the report.
    pub fn redact(&mut self) {
        if let Some(d) = self.document.as_mut() {
            if let Some(a) = d.address.as_mut() {
                a.redact();
            }
            redact_date(&mut d.dob);
            redact_date(&mut d.expiration_date);
            redact_date(&mut d.issued_date);
            redact_str(&mut d.first_name);
            redact_str(&mut d.last_name);
            redact_str(&mut d.number);
            redact_str(&mut d.sex);
            redact_str(&mut d.unparsed_place_of_birth);
            redact_str(&mut d.unparsed_sex);
        }
        if let Some(n) = self.id_number.as_mut() {
            redact_date(&mut n.dob);
            redact_str(&mut n.first_name);
            redact_str(&mut n.last_name);
            redact_str(&mut n.id_number);
        }
    }
}

fn first_allowed_type(session: &Session) -> DocumentType {
    session
        .options
        .document
        .as_ref()
        .and_then(|d| d.allowed_types.as_ref())
        .and_then(|t| t.first().copied())
        .unwrap_or(DocumentType::DrivingLicense)
}

/// The `last_error` a failed check carries, for the given code.
pub fn last_error(code: ErrorCode) -> LastError {
    LastError {
        code,
        reason: code.reason().to_owned(),
    }
}
