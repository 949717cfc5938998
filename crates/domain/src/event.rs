//! Identity events: one per session state change, committed with the change.

use serde::{Deserialize, Serialize};

use crate::ids::EventId;
use crate::session::{Session, WireEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "identity.verification_session.created")]
    Created,
    #[serde(rename = "identity.verification_session.processing")]
    Processing,
    #[serde(rename = "identity.verification_session.verified")]
    Verified,
    #[serde(rename = "identity.verification_session.requires_input")]
    RequiresInput,
    #[serde(rename = "identity.verification_session.canceled")]
    Canceled,
    #[serde(rename = "identity.verification_session.redacted")]
    Redacted,
}

impl WireEnum for EventType {
    const ALL: &'static [(&'static str, Self)] = &[
        ("identity.verification_session.created", EventType::Created),
        (
            "identity.verification_session.processing",
            EventType::Processing,
        ),
        (
            "identity.verification_session.verified",
            EventType::Verified,
        ),
        (
            "identity.verification_session.requires_input",
            EventType::RequiresInput,
        ),
        (
            "identity.verification_session.canceled",
            EventType::Canceled,
        ),
        (
            "identity.verification_session.redacted",
            EventType::Redacted,
        ),
    ];
}

/// The API request that caused an event; `id` is None for automatic changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestInfo {
    pub id: Option<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub account: String,
    pub livemode: bool,
    pub created: i64,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The session as it was when the event happened.
    pub session: Session,
    pub request: RequestInfo,
}
