//! The hosted page's submission: only the session's live link may submit, once; the report
//! references the submitted files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::event::{EventType, RequestInfo};
use crate::flow::{AttemptOutcome, Evidence, URL_TTL_MS};
use crate::outputs::TestPerson;
use crate::session::{
    Account, DocumentOptions, DocumentType, ErrorCode, Session, SessionOptions, SessionType, Status,
};
use crate::transition::{create, transition, Command, Ctx, DomainError, NewSession, Outcome};

const T0: i64 = 1_700_000_000_000;

fn selfie_session(rng: &mut StdRng) -> Session {
    let mut ctx = Ctx {
        now_ms: T0,
        request: RequestInfo::default(),
        rng,
    };
    let account = Account {
        id: "acct_1".into(),
        livemode: false,
    };
    let new = NewSession {
        kind: Some(SessionType::Document),
        ..NewSession::default()
    };
    let (mut s, _) = create(&account, new, &mut ctx).unwrap();
    s.options = SessionOptions {
        document: Some(DocumentOptions {
            require_matching_selfie: Some(true),
            ..DocumentOptions::default()
        }),
    };
    s
}

fn submit(token: &str, outcome: AttemptOutcome, delay_ms: Option<i64>) -> Command {
    Command::Submit {
        token: token.to_owned(),
        outcome,
        delay_ms,
        evidence: Evidence {
            document_type: Some(DocumentType::Passport),
            document_files: vec!["file_front".into()],
            selfie_file: Some("file_selfie".into()),
        },
    }
}

fn verified() -> AttemptOutcome {
    AttemptOutcome::Verified {
        person: Box::new(TestPerson::default()),
    }
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
fn submit_with_the_live_link_verifies_and_references_the_files() {
    let mut rng = StdRng::seed_from_u64(3);
    let s = selfie_session(&mut rng);
    let token = s.url_token.clone().unwrap();
    let out = at(s, submit(&token, verified(), None), T0 + 1000, &mut rng).unwrap();
    assert_eq!(out.session.status, Status::Verified);
    let kinds: Vec<_> = out.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventType::Processing, EventType::Verified]);
    let report = out.report.unwrap();
    let doc = report.document.unwrap();
    assert_eq!(doc.files, ["file_front"]);
    assert_eq!(doc.document_type, Some(DocumentType::Passport));
    let selfie = report.selfie.unwrap();
    assert_eq!(selfie.document.as_deref(), Some("file_front"));
    assert_eq!(selfie.selfie.as_deref(), Some("file_selfie"));
}

#[test]
fn a_link_submits_once_and_a_wrong_or_expired_one_never() {
    let mut rng = StdRng::seed_from_u64(4);
    let s = selfie_session(&mut rng);
    let token = s.url_token.clone().unwrap();
    let wrong = at(
        s.clone(),
        submit("test_nope", verified(), None),
        T0,
        &mut rng,
    );
    assert_eq!(wrong.unwrap_err(), DomainError::LinkUnusable);
    let expired = at(
        s.clone(),
        submit(&token, verified(), None),
        T0 + URL_TTL_MS,
        &mut rng,
    );
    assert_eq!(expired.unwrap_err(), DomainError::LinkUnusable);
    let failed = AttemptOutcome::Failed {
        code: ErrorCode::SelfieFaceMismatch,
    };
    let out = at(s, submit(&token, failed, None), T0, &mut rng).unwrap();
    assert_eq!(out.session.status, Status::RequiresInput);
    let report = out.report.unwrap();
    assert_eq!(report.document.unwrap().files, ["file_front"]);
    let again = at(out.session, submit(&token, verified(), None), T0, &mut rng);
    assert_eq!(again.unwrap_err(), DomainError::LinkUnusable);
}

#[test]
fn an_async_submission_keeps_its_evidence_until_it_is_applied() {
    let mut rng = StdRng::seed_from_u64(5);
    let s = selfie_session(&mut rng);
    let token = s.url_token.clone().unwrap();
    let out = at(s, submit(&token, verified(), Some(2000)), T0, &mut rng).unwrap();
    assert_eq!(out.session.status, Status::Processing);
    assert!(out.report.is_none());
    let early = at(out.session.clone(), Command::RunDue, T0 + 1999, &mut rng).unwrap();
    assert!(early.unchanged);
    let done = at(out.session, Command::RunDue, T0 + 2000, &mut rng).unwrap();
    assert_eq!(done.session.status, Status::Verified);
    let report = done.report.unwrap();
    assert_eq!(
        report.selfie.unwrap().selfie.as_deref(),
        Some("file_selfie")
    );
}

#[test]
fn a_code_that_does_not_fit_is_refused_and_leaves_the_link_usable() {
    let mut rng = StdRng::seed_from_u64(6);
    let s = selfie_session(&mut rng);
    let token = s.url_token.clone().unwrap();
    let failed = AttemptOutcome::Failed {
        code: ErrorCode::IdNumberMismatch,
    };
    let err = at(s.clone(), submit(&token, failed, None), T0, &mut rng).unwrap_err();
    assert!(matches!(err, DomainError::CodeDoesNotFit { .. }));
    assert_eq!(s.live_url_token(T0), Some(token.as_str()));
}
