//! vouch's domain: ids, the VerificationSession state machine, reports, events and redaction
//! rules. Pure: no IO, no async; time and randomness are passed in.

pub mod api_versions;
pub mod checks;
pub mod event;
pub mod event_types;
pub mod flow;
pub mod ids;
pub mod outputs;
pub mod report;
pub mod session;
pub mod test_event;
pub mod transition;
pub mod webhook;

pub use session::WireEnum;
