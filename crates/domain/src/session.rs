//! The VerificationSession as vouch stores it.

use serde::{Deserialize, Serialize};

use crate::ids::{ReportId, SessionId};
use crate::outputs::VerifiedOutputs;

/// One account: one secret key. Test and live mode never share an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub livemode: bool,
}

/// An enum with a fixed wire spelling for each value (the table drives parsing and rendering).
pub trait WireEnum: Copy + PartialEq + 'static {
    /// Every value with its wire spelling, in the spec's order.
    const ALL: &'static [(&'static str, Self)];

    fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("", |(s, _)| s)
    }

    fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(w, _)| *w == s).map(|(_, v)| *v)
    }
}

/// Session status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Canceled,
    Processing,
    RequiresInput,
    Verified,
}

impl WireEnum for Status {
    const ALL: &'static [(&'static str, Self)] = &[
        ("canceled", Status::Canceled),
        ("processing", Status::Processing),
        ("requires_input", Status::RequiresInput),
        ("verified", Status::Verified),
    ];
}

/// What a session verifies. `VerificationFlow` is never a valid create parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionType {
    Document,
    IdNumber,
    VerificationFlow,
}

impl WireEnum for SessionType {
    const ALL: &'static [(&'static str, Self)] = &[
        ("document", SessionType::Document),
        ("id_number", SessionType::IdNumber),
        ("verification_flow", SessionType::VerificationFlow),
    ];
}

/// Allowed identity document types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    DrivingLicense,
    IdCard,
    Passport,
}

impl WireEnum for DocumentType {
    const ALL: &'static [(&'static str, Self)] = &[
        ("driving_license", DocumentType::DrivingLicense),
        ("id_card", DocumentType::IdCard),
        ("passport", DocumentType::Passport),
    ];
}

/// `redaction.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionStatus {
    Processing,
    Redacted,
}

impl WireEnum for RedactionStatus {
    const ALL: &'static [(&'static str, Self)] = &[
        ("processing", RedactionStatus::Processing),
        ("redacted", RedactionStatus::Redacted),
    ];
}

/// `last_error.code` values of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Abandoned,
    ConsentDeclined,
    CountryNotSupported,
    DeviceNotSupported,
    DocumentExpired,
    DocumentTypeNotSupported,
    DocumentUnverifiedOther,
    EmailUnverifiedOther,
    EmailVerificationDeclined,
    IdNumberInsufficientDocumentData,
    IdNumberMismatch,
    IdNumberUnverifiedOther,
    PhoneUnverifiedOther,
    PhoneVerificationDeclined,
    SelfieDocumentMissingPhoto,
    SelfieFaceMismatch,
    SelfieManipulated,
    SelfieUnverifiedOther,
    UnderSupportedAge,
}

impl WireEnum for ErrorCode {
    const ALL: &'static [(&'static str, Self)] = &[
        ("abandoned", ErrorCode::Abandoned),
        ("consent_declined", ErrorCode::ConsentDeclined),
        ("country_not_supported", ErrorCode::CountryNotSupported),
        ("device_not_supported", ErrorCode::DeviceNotSupported),
        ("document_expired", ErrorCode::DocumentExpired),
        (
            "document_type_not_supported",
            ErrorCode::DocumentTypeNotSupported,
        ),
        (
            "document_unverified_other",
            ErrorCode::DocumentUnverifiedOther,
        ),
        ("email_unverified_other", ErrorCode::EmailUnverifiedOther),
        (
            "email_verification_declined",
            ErrorCode::EmailVerificationDeclined,
        ),
        (
            "id_number_insufficient_document_data",
            ErrorCode::IdNumberInsufficientDocumentData,
        ),
        ("id_number_mismatch", ErrorCode::IdNumberMismatch),
        (
            "id_number_unverified_other",
            ErrorCode::IdNumberUnverifiedOther,
        ),
        ("phone_unverified_other", ErrorCode::PhoneUnverifiedOther),
        (
            "phone_verification_declined",
            ErrorCode::PhoneVerificationDeclined,
        ),
        (
            "selfie_document_missing_photo",
            ErrorCode::SelfieDocumentMissingPhoto,
        ),
        ("selfie_face_mismatch", ErrorCode::SelfieFaceMismatch),
        ("selfie_manipulated", ErrorCode::SelfieManipulated),
        ("selfie_unverified_other", ErrorCode::SelfieUnverifiedOther),
        ("under_supported_age", ErrorCode::UnderSupportedAge),
    ];
}

impl ErrorCode {
    /// Stripe's human-readable reason for each code.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorCode::Abandoned => "The verification was abandoned.",
            ErrorCode::ConsentDeclined => "The user declined to give consent.",
            ErrorCode::CountryNotSupported => "The country of the document is not supported.",
            ErrorCode::DeviceNotSupported => "The device is not supported.",
            ErrorCode::DocumentExpired => "The document is expired.",
            ErrorCode::DocumentTypeNotSupported => "The document type is not supported.",
            ErrorCode::DocumentUnverifiedOther => "The document is invalid.",
            ErrorCode::EmailUnverifiedOther => "The email could not be verified.",
            ErrorCode::EmailVerificationDeclined => "The user declined to verify their email.",
            ErrorCode::IdNumberInsufficientDocumentData => {
                "The provided information could not be matched against global databases."
            }
            ErrorCode::IdNumberMismatch => "The ID number does not match the provided details.",
            ErrorCode::IdNumberUnverifiedOther => "The ID number could not be verified.",
            ErrorCode::PhoneUnverifiedOther => "The phone number could not be verified.",
            ErrorCode::PhoneVerificationDeclined => {
                "The user declined to verify their phone number."
            }
            ErrorCode::SelfieDocumentMissingPhoto => {
                "The document does not contain a photo of a face."
            }
            ErrorCode::SelfieFaceMismatch => "The selfie does not match the face on the document.",
            ErrorCode::SelfieManipulated => "The selfie appears to have been manipulated.",
            ErrorCode::SelfieUnverifiedOther => "The selfie could not be verified.",
            ErrorCode::UnderSupportedAge => "The user is under the supported age.",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    pub code: ErrorCode,
    pub reason: String,
}

/// `options.document`; every field is echoed only when it was set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_types: Option<Vec<DocumentType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_id_number: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_live_capture: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_matching_selfie: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentOptions>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvidedDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedPerson {
    pub account: String,
    pub person: String,
}

/// Metadata in insertion order (Stripe keeps the order keys were first set in).
pub type Metadata = Vec<(String, String)>;

/// The stored session. `version` counts committed changes (optimistic concurrency).
///
/// Stored as JSON (the session row and every event's copy). Fields that are null, empty or
/// false are left out: a session just created is then about 450 bytes instead of 700, which
/// every write, every event and every read that misses the cache pays for. A field left out
/// reads back as its default, so rows written before (with the nulls) read the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub account: String,
    pub livemode: bool,
    pub created: i64,
    pub status: Status,
    #[serde(rename = "type")]
    pub kind: SessionType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_flow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_reference_id: Option<String>,
    /// Secret suffix of `client_secret`; null outside `requires_input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Token of the hosted page URL; null outside `requires_input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<LastError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_verification_report: Option<ReportId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Metadata,
    #[serde(default)]
    pub options: SessionOptions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provided_details: Option<ProvidedDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<RedactionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_customer_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_person: Option<RelatedPerson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_outputs: Option<Box<VerifiedOutputs>>,
    /// When a pending redaction is due to complete (unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction_due_ms: Option<i64>,
    /// When `client_secret` and `url_token` were minted (unix milliseconds).
    #[serde(default)]
    pub secrets_minted_ms: i64,
    /// The hosted-page link was used for a submission (single use).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub url_used: bool,
    /// An attempt in `processing` and the outcome it will end in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Box<crate::flow::Pending>>,
}

impl Session {
    pub fn is_redacted(&self) -> bool {
        self.redaction.is_some()
    }

    /// Whether the session's checks include an ID number (type `id_number`, or a document
    /// check with `require_id_number`).
    pub fn checks_id_number(&self) -> bool {
        match self.kind {
            SessionType::IdNumber => true,
            SessionType::Document => self
                .options
                .document
                .as_ref()
                .and_then(|d| d.require_id_number)
                .unwrap_or(false),
            SessionType::VerificationFlow => false,
        }
    }

    pub fn checks_document(&self) -> bool {
        self.kind == SessionType::Document
    }

    pub fn checks_selfie(&self) -> bool {
        self.checks_document()
            && self
                .options
                .document
                .as_ref()
                .and_then(|d| d.require_matching_selfie)
                .unwrap_or(false)
    }
}
