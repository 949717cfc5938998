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

fn checked(verdict: crate::checks::Verdict) -> AttemptOutcome {
    AttemptOutcome::Checked {
        verdict,
        person: Box::new(crate::outputs::VerifiedPerson {
            first_name: Some("ANNA MARIA".into()),
            last_name: Some("ERIKSSON".into()),
            ..Default::default()
        }),
    }
}

#[test]
fn a_checked_outcome_reports_each_check_as_the_verdict_decided_it() {
    use crate::checks::{CheckResult, Verdict};
    use crate::report::CheckStatus;
    let mut rng = StdRng::seed_from_u64(7);
    let s = selfie_session(&mut rng);
    let token = s.url_token.clone().unwrap();
    let verdict = Verdict::from_checks(
        Some(CheckResult::Verified),
        None,
        Some(CheckResult::Unverified(ErrorCode::SelfieUnverifiedOther)),
    );
    let out = at(s, submit(&token, checked(verdict), None), T0, &mut rng).unwrap();
    assert_eq!(out.session.status, Status::RequiresInput);
    assert_eq!(
        out.session.last_error.as_ref().unwrap().code,
        ErrorCode::SelfieUnverifiedOther
    );
    assert_eq!(out.session.verified_outputs, None);
    let report = out.report.unwrap();
    let doc = report.document.unwrap();
    assert_eq!(doc.status, CheckStatus::Verified);
    assert_eq!(doc.last_name.as_deref(), Some("ERIKSSON"));
    assert_eq!(doc.address, None, "nothing that was not verified");
    assert_eq!(doc.files, ["file_front"]);
    let selfie = report.selfie.unwrap();
    assert_eq!(selfie.status, CheckStatus::Unverified);
    assert_eq!(selfie.error.unwrap().code, ErrorCode::SelfieUnverifiedOther);
    assert_eq!(report.id_number, None);
}

#[test]
fn a_checked_age_failure_is_processed_and_reported() {
    use crate::checks::{CheckResult, Verdict};
    use crate::report::CheckStatus;
    let mut rng = StdRng::seed_from_u64(8);
    let s = selfie_session(&mut rng);
    let token = s.url_token.clone().unwrap();
    let verdict = Verdict {
        document: Some(CheckResult::Unverified(ErrorCode::DocumentUnverifiedOther)),
        id_number: None,
        selfie: Some(CheckResult::Unverified(ErrorCode::SelfieUnverifiedOther)),
        last_error: Some(ErrorCode::UnderSupportedAge),
    };
    let out = at(s, submit(&token, checked(verdict), None), T0, &mut rng).unwrap();
    let kinds: Vec<_> = out.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventType::Processing, EventType::RequiresInput]);
    assert_eq!(
        out.session.last_error.as_ref().unwrap().code,
        ErrorCode::UnderSupportedAge
    );
    let doc = out.report.unwrap().document.unwrap();
    assert_eq!(doc.status, CheckStatus::Unverified);
    assert_eq!(doc.error.unwrap().code, ErrorCode::DocumentUnverifiedOther);
    assert_eq!(doc.first_name, None);
}

#[test]
fn a_checked_pass_verifies_with_only_the_backed_data() {
    use crate::checks::{CheckResult, Verdict};
    let mut rng = StdRng::seed_from_u64(9);
    let mut s = selfie_session(&mut rng);
    s.options = SessionOptions::default();
    let token = s.url_token.clone().unwrap();
    let verdict = Verdict::from_checks(Some(CheckResult::Verified), None, None);
    let out = at(s, submit(&token, checked(verdict), None), T0, &mut rng).unwrap();
    assert_eq!(out.session.status, Status::Verified);
    let outputs = out.session.verified_outputs.unwrap();
    assert_eq!(outputs.first_name.as_deref(), Some("ANNA MARIA"));
    assert_eq!(outputs.address, None);
    assert_eq!(outputs.dob, None);
    assert_eq!(outputs.id_number, None);
    assert_eq!(out.report.unwrap().selfie, None);
}

#[test]
fn links_answer_the_same_until_the_first_of_them_expires() {
    use crate::flow::CLIENT_SECRET_TTL_MS;
    let mut rng = StdRng::seed_from_u64(11);
    let s = selfie_session(&mut rng);
    let minted = s.secrets_minted_ms;
    assert_eq!(s.links_stable_until(T0), minted + CLIENT_SECRET_TTL_MS);
    let after_secret = minted + CLIENT_SECRET_TTL_MS;
    assert!(s.live_client_secret(after_secret).is_none());
    assert!(s.live_url_token(after_secret).is_some());
    assert_eq!(s.links_stable_until(after_secret), minted + URL_TTL_MS);
    assert_eq!(s.links_stable_until(minted + URL_TTL_MS), i64::MAX);
    // Between two calls within the stable window both links answer the same.
    let until = s.links_stable_until(T0);
    assert_eq!(s.live_client_secret(T0), s.live_client_secret(until - 1));
    assert_eq!(s.live_url_token(T0), s.live_url_token(until - 1));
}
