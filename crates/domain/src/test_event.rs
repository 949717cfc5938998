//! Test events (vouch extension): what the dashboard's **Send test event** delivers to one
//! webhook endpoint. A test event is never stored as an event (it is not in `/v1/events`); the
//! outbox holds only its delivery, and the sender rebuilds the event from the delivery on every
//! attempt. Everything the event says follows from its id, its type and the account, so each
//! attempt (and a resend) sends the same JSON.
//!
//! Its id is `evt_000000` followed by six base-62 digits of its creation time (unix seconds)
//! and twelve random characters. Generated ids start with the time of their creation, which
//! is `000000` only in the first minute of 1970: no real event id looks like this. The sample
//! session reuses the same suffix (`vs_000000…`, report `vr_000000…`): ids that name nothing,
//! so retrieving them answers 404. Its data is obviously fake: `client_reference_id`
//! `vouch_test_event` and metadata `vouch_test_event=true`, no link, no client secret.

use rand::Rng;

use crate::event::{Event, EventType, RequestInfo};
use crate::ids::{EventId, ReportId, SessionId, ALPHABET};
use crate::session::{
    LastError, Metadata, RedactionStatus, Session, SessionOptions, SessionType, Status,
};

/// How every test event id starts.
pub const MARK: &str = "evt_000000";
/// The sample session's `client_reference_id` and metadata key.
pub const SAMPLE_REFERENCE: &str = "vouch_test_event";

/// A fresh test event id created at `now_s` (unix seconds).
pub fn new_id(now_s: i64, rng: &mut impl Rng) -> EventId {
    let generated = EventId::generate(now_s, rng);
    // `evt_` + 6 time digits + 18 random: keep the time and 12 of the random characters.
    let suffix = &generated.as_str()["evt_".len().."evt_".len() + 18];
    EventId::parse(&format!("{MARK}{suffix}")).unwrap_or(generated)
}

/// Whether `id` is a test event's.
pub fn is_test(id: &EventId) -> bool {
    id.as_str().starts_with(MARK)
}

/// When a test event was created (unix seconds), from its id.
fn created(id: &EventId) -> Option<i64> {
    let digits = id.as_str().get(MARK.len()..MARK.len() + 6)?;
    digits.bytes().try_fold(0i64, |t, b| {
        let d = ALPHABET.iter().position(|a| *a == b)?;
        Some(t * 62 + d as i64)
    })
}

/// The test event `id` of type `kind` for `account`; `None` when `id` is not a test event's.
pub fn build(id: &EventId, account: &str, livemode: bool, kind: EventType) -> Option<Event> {
    if !is_test(id) {
        return None;
    }
    let created = created(id)?;
    let suffix = &id.as_str()["evt_".len()..];
    let session_id = SessionId::parse(&format!("vs_{suffix}"))?;
    let report_id = ReportId::parse(&format!("vr_{suffix}"))?;
    let metadata: Metadata = vec![(SAMPLE_REFERENCE.to_owned(), "true".to_owned())];
    let mut session = Session {
        id: session_id,
        account: account.to_owned(),
        livemode,
        created,
        status: Status::RequiresInput,
        kind: SessionType::Document,
        verification_flow: None,
        client_reference_id: Some(SAMPLE_REFERENCE.to_owned()),
        client_secret: None,
        url_token: None,
        last_error: None,
        last_verification_report: None,
        metadata,
        options: SessionOptions::default(),
        provided_details: None,
        redaction: None,
        related_customer: None,
        related_customer_account: None,
        related_person: None,
        return_url: None,
        verified_outputs: None,
        redaction_due_ms: None,
        secrets_minted_ms: 0,
        url_used: false,
        pending: None,
    };
    match kind {
        EventType::Created => {}
        EventType::Processing => session.status = Status::Processing,
        EventType::Verified => {
            session.status = Status::Verified;
            session.last_verification_report = Some(report_id);
        }
        EventType::RequiresInput => {
            let code = crate::session::ErrorCode::DocumentUnverifiedOther;
            session.last_error = Some(LastError {
                code,
                reason: code.reason().to_owned(),
            });
            session.last_verification_report = Some(report_id);
        }
        EventType::Canceled => session.status = Status::Canceled,
        EventType::Redacted => {
            session.status = Status::Canceled;
            session.erase_personal_data();
            session.redaction = Some(RedactionStatus::Redacted);
        }
    }
    Some(Event {
        id: id.clone(),
        account: account.to_owned(),
        livemode,
        created,
        kind,
        session,
        request: RequestInfo::default(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::WireEnum;
    use rand::SeedableRng;

    #[test]
    fn ids_are_marked_parse_and_carry_their_time() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let id = new_id(1_795_292_478, &mut rng);
        assert!(id.as_str().starts_with("evt_000000"), "{id}");
        assert_eq!(EventId::parse(id.as_str()), Some(id.clone()));
        assert!(is_test(&id));
        assert_eq!(created(&id), Some(1_795_292_478));
        assert_ne!(new_id(1_795_292_478, &mut rng), id, "random part");
        // Real ids are not test ids.
        let real = EventId::generate(1_795_292_478, &mut rng);
        assert!(!is_test(&real));
        assert!(build(&real, "acct_1", false, EventType::Created).is_none());
    }

    #[test]
    fn the_sample_session_follows_the_event_type() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let id = new_id(1_700_000_000, &mut rng);
        for (name, kind) in EventType::ALL {
            let e = build(&id, "acct_1", true, *kind).unwrap();
            assert_eq!(e.id, id);
            assert_eq!(e.kind.as_str(), *name);
            assert_eq!(e.created, 1_700_000_000);
            assert!(e.livemode && e.session.livemode);
            assert!(e.session.id.as_str().starts_with("vs_000000"));
            assert_eq!(e.session.id.as_str()[3..], id.as_str()[4..]);
            assert!(e.session.url_token.is_none() && e.session.client_secret.is_none());
            assert_eq!(e.request, RequestInfo::default());
            // Rebuilding gives the same event.
            assert_eq!(build(&id, "acct_1", true, *kind), Some(e));
        }
        let status = |k| build(&id, "acct_1", false, k).unwrap().session;
        assert_eq!(status(EventType::Created).status, Status::RequiresInput);
        assert_eq!(status(EventType::Processing).status, Status::Processing);
        assert_eq!(status(EventType::Verified).status, Status::Verified);
        assert!(status(EventType::RequiresInput).last_error.is_some());
        assert_eq!(status(EventType::Canceled).status, Status::Canceled);
        let redacted = status(EventType::Redacted);
        assert_eq!(redacted.redaction, Some(RedactionStatus::Redacted));
        assert!(redacted.metadata.is_empty());
        assert_eq!(
            status(EventType::Created).metadata,
            vec![("vouch_test_event".to_owned(), "true".to_owned())]
        );
    }
}
