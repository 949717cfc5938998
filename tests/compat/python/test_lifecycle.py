"""Verification (via vouch's test helper), cancel-after-verify and redaction with the Python SDK."""

import pytest
import stripe

from helpers import create_params, raw_post, verify_session, wait_until

VS = stripe.identity.VerificationSession


def test_verify_via_test_helper(sdk, vouch):
    s = VS.create(**create_params("verify"))
    body = verify_session(vouch, s.id)
    assert body.get("id") == s.id, body
    assert body.get("status") == "verified", body

    got = VS.retrieve(s.id, expand=["verified_outputs", "last_verification_report"])
    assert got.status == "verified"
    assert got.client_secret is None
    assert got.url is None
    assert got.last_error is None
    vo = got.verified_outputs
    assert vo is not None
    assert isinstance(vo.first_name, str) and vo.first_name, vo
    assert isinstance(vo.last_name, str) and vo.last_name, vo
    rep = got.last_verification_report
    assert isinstance(rep, stripe.identity.VerificationReport), type(rep)
    assert rep.id.startswith("vr_"), rep.id
    assert rep.object == "identity.verification_report"
    assert rep.verification_session == s.id
    assert rep.livemode is False

    # unexpanded: the report is an id string, verified_outputs absent
    plain = VS.retrieve(s.id)
    assert plain.last_verification_report == rep.id
    assert "verified_outputs" not in plain

    # and the report itself is retrievable through the SDK
    r = stripe.identity.VerificationReport.retrieve(rep.id)
    assert r.id == rep.id
    assert r.verification_session == s.id


def test_cancel_verified_session_is_rejected(sdk, vouch):
    s = VS.create(type="document")
    verify_session(vouch, s.id)
    with pytest.raises(stripe.InvalidRequestError) as ei:
        VS.cancel(s.id)
    e = ei.value
    assert e.http_status == 400
    assert 'because it has a status of "verified"' in str(e.user_message), e.user_message
    assert e.json_body["error"]["type"] == "invalid_request_error"
    assert VS.retrieve(s.id).status == "verified"


def test_redact_verified_session(sdk, vouch):
    s = VS.create(**create_params("redact"))
    verify_session(vouch, s.id)
    before = VS.retrieve(s.id, expand=["verified_outputs"])
    assert before.verified_outputs.first_name not in (None, "", "[redacted]")

    r = VS.redact(s.id)
    assert r.id == s.id
    assert r.status == "verified"
    assert r.redaction is not None
    assert r.redaction.status == "processing"

    done = wait_until(
        lambda: VS.retrieve(s.id),
        lambda x: x.redaction is not None and x.redaction.status == "redacted",
        timeout=10,
    )
    assert done.redaction.status == "redacted", done.redaction
    assert done.status == "verified"

    after = VS.retrieve(s.id, expand=["verified_outputs"])
    assert after.verified_outputs.first_name == "[redacted]"
    assert after.verified_outputs.last_name == "[redacted]"
    assert after.metadata.to_dict() == {}


def test_redact_requires_input_session_cancels_it(sdk, vouch):
    s = VS.create(**create_params("redact_open"))
    r = VS.redact(s.id)
    assert r.id == s.id
    assert r.status == "canceled"
    assert r.redaction is not None
    assert r.redaction.status == "processing"
    assert r.client_secret is None
    assert r.url is None

    done = wait_until(
        lambda: VS.retrieve(s.id),
        lambda x: x.redaction is not None and x.redaction.status == "redacted",
        timeout=10,
    )
    assert done.redaction.status == "redacted"
    assert done.status == "canceled"
    assert done.metadata.to_dict() == {}


def test_test_helper_requires_auth(vouch):
    status, body = raw_post(
        vouch,
        "/v1/test_helpers/identity/verification_sessions/vs_doesnotexist/verify",
        key="sk_test_not_a_real_key_0000",
    )
    assert status == 401, body
    status, body = raw_post(
        vouch, "/v1/test_helpers/identity/verification_sessions/vs_doesnotexist/verify"
    )
    assert status == 404, body
    assert body["error"]["code"] == "resource_missing"
