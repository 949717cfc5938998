//! vouch's domain: ids, the VerificationSession state machine, reports, events and redaction
//! rules. Pure: no IO, no async; time and randomness are passed in.

pub mod event;
pub mod ids;
pub mod outputs;
pub mod report;
pub mod session;
pub mod transition;

pub use session::WireEnum;
