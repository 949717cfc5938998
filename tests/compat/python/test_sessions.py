"""Create / retrieve / update / cancel with the official Python SDK (stripe==16.1.0)."""

import re
import uuid

import pytest
import stripe

from helpers import SESSION_ID_RE, create_params

VS = stripe.identity.VerificationSession


def assert_fresh_session(s, vouch, tag):
    """Everything a just-created session from create_params(tag) must look like."""
    d = s.to_dict()
    assert re.match(SESSION_ID_RE, s.id), s.id
    assert s.object == "identity.verification_session"
    assert s.status == "requires_input"
    assert s.type == "document"
    assert s.livemode is False
    assert isinstance(s.created, int) and s.created > 1_600_000_000
    assert isinstance(s.client_secret, str)
    assert s.client_secret.startswith(s.id + "_secret_"), s.client_secret
    assert len(s.client_secret) > len(s.id + "_secret_")
    assert isinstance(s.url, str) and s.url.startswith(vouch.base), (s.url, vouch.base)
    assert d["last_error"] is None
    assert d["last_verification_report"] is None
    assert d["redaction"] is None
    # options echo what was sent (Stripe echoes only the keys that were set)
    assert set(d["options"]) == {"document"}, d["options"]
    assert d["options"]["document"]["allowed_types"] == ["driving_license", "passport"]
    assert d["options"]["document"]["require_matching_selfie"] is True
    assert d["metadata"] == {"order_id": "42", "note": "hi", "tag": tag}
    assert s.client_reference_id == f"user_{tag}"
    assert s.related_customer == "cus_compat123"
    # includable fields are absent unless expanded
    assert "provided_details" not in s
    assert "verified_outputs" not in s


def test_create_with_options_global(sdk, vouch):
    s = VS.create(**create_params("create_g"))
    assert_fresh_session(s, vouch, "create_g")


def test_create_with_options_stripe_client(client, vouch):
    s = client.v1.identity.verification_sessions.create(params=create_params("create_c"))
    assert isinstance(s, VS)
    assert_fresh_session(s, vouch, "create_c")

    got = client.v1.identity.verification_sessions.retrieve(
        s.id, params={"expand": ["verified_outputs", "provided_details"]}
    )
    assert got.id == s.id
    assert got.provided_details.email == "a@example.com"
    assert "verified_outputs" in got and got.verified_outputs is None

    upd = client.v1.identity.verification_sessions.update(
        s.id, params={"metadata": {"note": "", "order_id": "43"}}
    )
    assert upd.metadata.to_dict() == {"order_id": "43", "tag": "create_c"}

    page = client.v1.identity.verification_sessions.list(
        params={"client_reference_id": "user_create_c", "limit": 5}
    )
    assert [x.id for x in page.data] == [s.id]
    assert page.has_more is False
    assert page.url == "/v1/identity/verification_sessions"

    canceled = client.v1.identity.verification_sessions.cancel(s.id)
    assert canceled.status == "canceled"


def test_retrieve_with_and_without_expand(sdk):
    s = VS.create(**create_params("expand"))

    plain = VS.retrieve(s.id)
    assert plain.id == s.id
    assert plain.status == "requires_input"
    assert "provided_details" not in plain
    assert "verified_outputs" not in plain
    assert plain.metadata.to_dict() == {"order_id": "42", "note": "hi", "tag": "expand"}

    expanded = VS.retrieve(s.id, expand=["verified_outputs", "provided_details"])
    assert expanded.id == s.id
    assert "provided_details" in expanded
    assert expanded.provided_details.email == "a@example.com"
    assert "verified_outputs" in expanded
    assert expanded.verified_outputs is None


def test_create_with_expand_includes_fields(sdk):
    s = VS.create(**create_params("create_expand"), expand=["provided_details"])
    assert s.provided_details.email == "a@example.com"
    assert "verified_outputs" not in s


def test_update_metadata_and_options(sdk):
    s = VS.create(**create_params("update"))

    s2 = VS.modify(s.id, metadata={"order_id": "43", "note": "", "extra": "x"})
    assert s2.id == s.id
    assert s2.metadata.to_dict() == {"order_id": "43", "tag": "update", "extra": "x"}

    # persisted, not just echoed
    assert VS.retrieve(s.id).metadata.to_dict() == {
        "order_id": "43",
        "tag": "update",
        "extra": "x",
    }

    s3 = VS.modify(s.id, metadata="")
    assert s3.metadata.to_dict() == {}
    assert VS.retrieve(s.id).metadata.to_dict() == {}

    s4 = VS.modify(s.id, options={"document": {"require_id_number": True}})
    assert s4.options.document.require_id_number is True

    s5 = VS.modify(s.id, options={"document": ""})
    opts = s5.options.to_dict() if s5.options is not None else {}
    assert not opts.get("document"), opts
    opts = VS.retrieve(s.id).options
    opts = opts.to_dict() if opts is not None else {}
    assert not opts.get("document"), opts

    s6 = VS.modify(s.id, provided_details={"email": "b@example.com"}, expand=["provided_details"])
    assert s6.provided_details.email == "b@example.com"

    s7 = VS.modify(s.id, type="id_number")
    assert s7.type == "id_number"
    assert s7.status == "requires_input"


def test_update_rejects_create_only_param(sdk):
    s = VS.create(**create_params("update_bad"))
    with pytest.raises(stripe.InvalidRequestError) as ei:
        VS.modify(s.id, client_reference_id="other")
    e = ei.value
    assert e.http_status == 400
    assert e.code == "parameter_unknown"
    assert e.param == "client_reference_id"
    # and nothing changed
    assert VS.retrieve(s.id).client_reference_id == "user_update_bad"


def test_cancel_and_cancel_again(sdk):
    s = VS.create(**create_params("cancel"))
    c = VS.cancel(s.id)
    assert c.id == s.id
    assert c.status == "canceled"
    assert c.client_secret is None
    assert c.url is None
    assert c.last_error is None

    again = VS.cancel(s.id)
    assert again.last_response.code == 200
    assert again.status == "canceled"
    assert again.client_secret is None
    assert again.url is None

    got = VS.retrieve(s.id)
    assert got.status == "canceled"
    assert got.client_secret is None and got.url is None


def test_instance_methods(sdk):
    s = VS.create(type="id_number")
    assert s.type == "id_number"
    s.cancel()  # instance method: POST .../{id}/cancel, refreshes the object in place
    assert s.status == "canceled"
    assert s.client_secret is None
    assert VS.retrieve(s.id).status == "canceled"


def test_last_response_request_id(sdk):
    s = VS.create(type="document")
    rid = s.last_response.headers["Request-Id"]
    assert rid.startswith("req_"), rid
    assert s.last_response.request_id == rid

    got = VS.retrieve(s.id)
    rid2 = got.last_response.headers["Request-Id"]
    assert rid2.startswith("req_") and rid2 != rid

    page = VS.list(limit=1)
    assert page.last_response.headers["Request-Id"].startswith("req_")


def test_explicit_idempotency_key_replays(sdk):
    key = f"compat-py-{uuid.uuid4()}"
    a = VS.create(type="document", metadata={"k": "v"}, idempotency_key=key)
    b = VS.create(type="document", metadata={"k": "v"}, idempotency_key=key)
    assert b.id == a.id
    assert b.last_response.headers["Idempotent-Replayed"] == "true"
