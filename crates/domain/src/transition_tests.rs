#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::*;
use crate::session::{Account, ErrorCode, LastError};
use crate::transition::Outcome;

fn account(livemode: bool) -> Account {
    Account {
        id: "acct_1".into(),
        livemode,
    }
}

fn new_session(rng: &mut StdRng, livemode: bool) -> Session {
    let mut ctx = Ctx {
        now_ms: 1_700_000_000_000,
        request: RequestInfo::default(),
        rng,
    };
    let new = NewSession {
        kind: Some(SessionType::Document),
        metadata: Some(MetadataPatch::Set(vec![("k".into(), Some("v".into()))])),
        ..NewSession::default()
    };
    let (s, ev) = create(&account(livemode), new, &mut ctx).unwrap();
    assert_eq!(ev.kind, EventType::Created);
    assert_eq!(ev.session, s);
    s
}

fn run(s: Session, cmd: Command, rng: &mut StdRng) -> Result<Outcome, DomainError> {
    let mut ctx = Ctx {
        now_ms: 1_700_000_100_000,
        request: RequestInfo::default(),
        rng,
    };
    transition(s, cmd, &mut ctx)
}

fn verify_cmd() -> Command {
    Command::TestVerify {
        person: Box::default(),
        delay_ms: None,
    }
}

#[test]
fn create_starts_in_requires_input_with_secret_and_url() {
    let mut rng = StdRng::seed_from_u64(1);
    let s = new_session(&mut rng, false);
    assert_eq!(s.status, Status::RequiresInput);
    let secret = s.client_secret.clone().unwrap();
    assert!(secret.starts_with(&format!("{}_secret_test_", s.id)));
    assert!(s.url_token.is_some());
    assert_eq!(s.metadata, vec![("k".to_string(), "v".to_string())]);
}

#[test]
fn cancel_nulls_secret_url_and_last_error_and_is_idempotent() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut s = new_session(&mut rng, false);
    s.last_error = Some(LastError {
        code: ErrorCode::DocumentExpired,
        reason: "x".into(),
    });
    let out = run(s, Command::Cancel, &mut rng).unwrap();
    assert_eq!(out.session.status, Status::Canceled);
    assert!(out.session.client_secret.is_none() && out.session.url_token.is_none());
    assert!(out.session.last_error.is_none());
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].kind, EventType::Canceled);
    let again = run(out.session, Command::Cancel, &mut rng).unwrap();
    assert!(again.unchanged);
    assert!(again.events.is_empty());
}

#[test]
fn cancel_of_verified_is_refused() {
    let mut rng = StdRng::seed_from_u64(3);
    let s = new_session(&mut rng, false);
    let v = run(s, verify_cmd(), &mut rng).unwrap().session;
    let err = run(v, Command::Cancel, &mut rng).unwrap_err();
    assert_eq!(
        err,
        DomainError::WrongState {
            action: "cancel",
            status: Status::Verified,
            allowed: &[Status::RequiresInput]
        }
    );
}

#[test]
fn verify_emits_processing_then_verified_and_a_report() {
    let mut rng = StdRng::seed_from_u64(4);
    let s = new_session(&mut rng, false);
    let out = run(s, verify_cmd(), &mut rng).unwrap();
    let kinds: Vec<_> = out.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EventType::Processing, EventType::Verified]);
    let report = out.report.unwrap();
    assert_eq!(
        out.session.last_verification_report,
        Some(report.id.clone())
    );
    assert!(report.document.is_some());
    assert!(report.id_number.is_none());
    assert!(report.selfie.is_none());
    assert_eq!(out.session.status, Status::Verified);
    assert!(out.session.client_secret.is_none());
    let outputs = out.session.verified_outputs.unwrap();
    assert_eq!(outputs.first_name.as_deref(), Some("Jenny"));
    assert!(outputs.id_number.is_none());
}

#[test]
fn verify_in_live_mode_is_refused() {
    let mut rng = StdRng::seed_from_u64(5);
    let s = new_session(&mut rng, true);
    assert_eq!(
        run(s, verify_cmd(), &mut rng).unwrap_err(),
        DomainError::LiveMode { action: "verify" }
    );
}

#[test]
fn update_only_in_requires_input() {
    let mut rng = StdRng::seed_from_u64(6);
    let s = new_session(&mut rng, false);
    let upd = SessionUpdate {
        kind: Some(SessionType::IdNumber),
        ..SessionUpdate::default()
    };
    let out = run(s, Command::Update(upd.clone()), &mut rng).unwrap();
    assert_eq!(out.session.kind, SessionType::IdNumber);
    assert!(out.events.is_empty());
    let canceled = run(out.session, Command::Cancel, &mut rng).unwrap().session;
    let err = run(canceled, Command::Update(upd), &mut rng).unwrap_err();
    assert!(matches!(
        err,
        DomainError::WrongState {
            action: "update",
            status: Status::Canceled,
            ..
        }
    ));
}

#[test]
fn redact_requires_input_cancels_then_completes_with_placeholders() {
    let mut rng = StdRng::seed_from_u64(7);
    let s = new_session(&mut rng, false);
    let out = run(s, Command::Redact { due_ms: 5 }, &mut rng).unwrap();
    assert_eq!(out.session.status, Status::Canceled);
    assert_eq!(out.session.redaction, Some(RedactionStatus::Processing));
    assert_eq!(out.events[0].kind, EventType::Canceled);
    // A second redact is a no-op, any other change is refused.
    assert!(
        run(out.session.clone(), Command::Redact { due_ms: 9 }, &mut rng)
            .unwrap()
            .unchanged
    );
    assert_eq!(
        run(out.session.clone(), Command::Cancel, &mut rng).unwrap_err(),
        DomainError::Redacted { action: "cancel" }
    );
    let done = run(out.session, Command::CompleteRedaction, &mut rng).unwrap();
    assert!(done.redacted_now);
    assert_eq!(done.session.redaction, Some(RedactionStatus::Redacted));
    assert!(done.session.metadata.is_empty());
    assert_eq!(done.events[0].kind, EventType::Redacted);
}

#[test]
fn redact_verified_keeps_status_and_erases_outputs() {
    let mut rng = StdRng::seed_from_u64(8);
    let s = new_session(&mut rng, false);
    let v = run(s, verify_cmd(), &mut rng).unwrap().session;
    let r = run(v, Command::Redact { due_ms: 0 }, &mut rng).unwrap();
    assert!(r.events.is_empty());
    assert_eq!(r.session.status, Status::Verified);
    let done = run(r.session, Command::CompleteRedaction, &mut rng)
        .unwrap()
        .session;
    let o = done.verified_outputs.unwrap();
    assert_eq!(o.first_name.as_deref(), Some("[redacted]"));
    assert_eq!(o.dob, Some(crate::outputs::Date::REDACTED));
    assert_eq!(o.address.unwrap().country.as_deref(), Some("US"));
}

#[test]
fn redact_while_processing_is_refused() {
    let mut rng = StdRng::seed_from_u64(9);
    let mut s = new_session(&mut rng, false);
    s.status = Status::Processing;
    assert!(matches!(
        run(s, Command::Redact { due_ms: 0 }, &mut rng).unwrap_err(),
        DomainError::WrongState {
            action: "redact",
            ..
        }
    ));
}

#[test]
fn metadata_limits_and_patch_semantics() {
    let mut m = Metadata::new();
    apply_metadata(
        &mut m,
        MetadataPatch::Set(vec![
            ("a".into(), Some("1".into())),
            ("b".into(), Some("2".into())),
        ]),
    )
    .unwrap();
    apply_metadata(
        &mut m,
        MetadataPatch::Set(vec![("a".into(), None), ("b".into(), Some("3".into()))]),
    )
    .unwrap();
    assert_eq!(m, vec![("b".to_string(), "3".to_string())]);
    let many: Vec<_> = (0..51)
        .map(|i| (format!("k{i}"), Some("v".into())))
        .collect();
    assert_eq!(
        apply_metadata(&mut Metadata::new(), MetadataPatch::Set(many)),
        Err(DomainError::MetadataTooManyKeys)
    );
    assert!(matches!(
        apply_metadata(
            &mut m,
            MetadataPatch::Set(vec![("x".repeat(41), Some("v".into()))])
        ),
        Err(DomainError::MetadataKeyTooLong { .. })
    ));
    assert!(matches!(
        apply_metadata(
            &mut m,
            MetadataPatch::Set(vec![("x".into(), Some("v".repeat(501)))])
        ),
        Err(DomainError::MetadataValueTooLong { .. })
    ));
    apply_metadata(&mut m, MetadataPatch::Clear).unwrap();
    assert!(m.is_empty());
}

#[test]
fn quoted_statuses() {
    assert_eq!(
        DomainError::quoted(&[Status::RequiresInput]),
        "\"requires_input\""
    );
    assert_eq!(
        DomainError::quoted(&[Status::RequiresInput, Status::Verified, Status::Canceled]),
        "\"requires_input\", \"verified\" or \"canceled\""
    );
}

fn at(s: Session, cmd: Command, now_ms: i64, rng: &mut StdRng) -> Result<Outcome, DomainError> {
    let mut ctx = Ctx {
        now_ms,
        request: RequestInfo::default(),
        rng,
    };
    transition(s, cmd, &mut ctx)
}

#[test]
fn unverify_with_a_check_code_processes_then_fails_with_a_report() {
    let mut rng = StdRng::seed_from_u64(20);
    let s = new_session(&mut rng, false);
    let cmd = Command::TestUnverify {
        code: Some(ErrorCode::DocumentExpired),
        delay_ms: None,
    };
    let out = run(s, cmd, &mut rng).unwrap();
    let kinds: Vec<_> = out.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EventType::Processing, EventType::RequiresInput]);
    assert_eq!(out.session.status, Status::RequiresInput);
    let err = out.session.last_error.clone().unwrap();
    assert_eq!(err.code, ErrorCode::DocumentExpired);
    assert_eq!(err.reason, "The document is expired.");
    let report = out.report.unwrap();
    let doc = report.document.unwrap();
    assert_eq!(doc.status, crate::report::CheckStatus::Unverified);
    assert_eq!(doc.error.unwrap().code, ErrorCode::DocumentExpired);
    assert!(doc.first_name.is_none());
    // The used link is dead until a retrieve mints fresh secrets.
    assert!(out.session.live_url_token(1_700_000_100_000).is_none());
    assert!(out.session.live_client_secret(1_700_000_100_000).is_none());
    let refreshed = at(
        out.session,
        Command::RefreshSecrets,
        1_700_000_200_000,
        &mut rng,
    )
    .unwrap();
    assert!(!refreshed.unchanged && refreshed.events.is_empty());
    assert!(refreshed
        .session
        .live_url_token(1_700_000_200_000)
        .is_some());
    // Fresh secrets are not minted again while they are usable.
    assert!(
        at(
            refreshed.session,
            Command::RefreshSecrets,
            1_700_000_300_000,
            &mut rng
        )
        .unwrap()
        .unchanged
    );
}

#[test]
fn user_side_codes_skip_processing_and_reports() {
    let mut rng = StdRng::seed_from_u64(21);
    let s = new_session(&mut rng, false);
    let cmd = Command::TestUnverify {
        code: Some(ErrorCode::ConsentDeclined),
        delay_ms: Some(5_000),
    };
    let out = run(s, cmd, &mut rng).unwrap();
    let kinds: Vec<_> = out.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EventType::RequiresInput]);
    assert!(out.report.is_none());
    assert!(out.session.pending.is_none());
}

#[test]
fn codes_must_fit_the_sessions_checks() {
    let mut rng = StdRng::seed_from_u64(22);
    let s = new_session(&mut rng, false);
    for code in [
        ErrorCode::SelfieFaceMismatch,
        ErrorCode::IdNumberMismatch,
        ErrorCode::EmailUnverifiedOther,
        ErrorCode::PhoneVerificationDeclined,
    ] {
        let cmd = Command::TestUnverify {
            code: Some(code),
            delay_ms: None,
        };
        assert_eq!(
            run(s.clone(), cmd, &mut rng).unwrap_err(),
            DomainError::CodeDoesNotFit { code }
        );
    }
    let mut selfie = s.clone();
    selfie.options.document = Some(crate::session::DocumentOptions {
        require_matching_selfie: Some(true),
        require_id_number: Some(true),
        ..Default::default()
    });
    for code in [ErrorCode::SelfieFaceMismatch, ErrorCode::IdNumberMismatch] {
        let cmd = Command::TestUnverify {
            code: Some(code),
            delay_ms: None,
        };
        assert!(run(selfie.clone(), cmd, &mut rng).is_ok(), "{code:?}");
    }
}

#[test]
fn a_delayed_outcome_waits_in_processing_and_applies_once_when_due() {
    let mut rng = StdRng::seed_from_u64(23);
    let s = new_session(&mut rng, false);
    let now = 1_700_000_100_000;
    let cmd = Command::TestVerify {
        person: Box::default(),
        delay_ms: Some(3_000),
    };
    let out = at(s, cmd, now, &mut rng).unwrap();
    assert_eq!(out.session.status, Status::Processing);
    assert_eq!(out.session.next_due_ms(), Some(now + 3_000));
    assert!(out.report.is_none());
    assert_eq!(out.events.len(), 1);
    // Not yet due: nothing happens.
    let early = at(out.session, Command::RunDue, now + 2_999, &mut rng).unwrap();
    assert!(early.unchanged);
    let done = at(early.session, Command::RunDue, now + 3_000, &mut rng).unwrap();
    assert_eq!(done.session.status, Status::Verified);
    assert_eq!(done.events.len(), 1);
    assert_eq!(done.events[0].kind, EventType::Verified);
    assert!(done.report.is_some());
    assert_eq!(done.session.next_due_ms(), None);
    // A second visit changes nothing: exactly once.
    assert!(
        at(done.session, Command::RunDue, now + 9_000, &mut rng)
            .unwrap()
            .unchanged
    );
}

#[test]
fn secrets_expire_after_24_and_48_hours() {
    let mut rng = StdRng::seed_from_u64(24);
    let s = new_session(&mut rng, false);
    let minted = s.secrets_minted_ms;
    let day = 24 * 60 * 60 * 1000;
    assert!(s.live_client_secret(minted + day - 1).is_some());
    assert!(s.live_client_secret(minted + day).is_none());
    assert!(s.live_url_token(minted + 2 * day - 1).is_some());
    assert!(s.live_url_token(minted + 2 * day).is_none());
}

#[test]
fn link_tokens_sort_by_the_millisecond_they_were_minted() {
    // The store's index of links then grows at its end: tokens minted within one second
    // must not scatter over that second's range.
    let mut rng = StdRng::seed_from_u64(3);
    let tokens: Vec<String> = [0, 1, 61, 62, 999, 1_000]
        .iter()
        .map(|offset| {
            let mut ctx = Ctx {
                now_ms: 1_700_000_000_000 + offset,
                request: RequestInfo::default(),
                rng: &mut rng,
            };
            let new = NewSession {
                kind: Some(SessionType::Document),
                ..NewSession::default()
            };
            let (s, _) = create(&account(false), new, &mut ctx).unwrap();
            s.url_token.unwrap()
        })
        .collect();
    for t in &tokens {
        assert_eq!(t.len(), "test_".len() + 40, "{t}");
        assert!(t["test_".len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric()));
    }
    for pair in tokens.windows(2) {
        // Time first: 6 characters of seconds, 2 of the millisecond.
        assert!(pair[0][..13] < pair[1][..13], "{pair:?}");
    }
}
