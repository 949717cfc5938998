"""Error classes, request ids and live/test isolation with the Python SDK."""

import pytest
import stripe

VS = stripe.identity.VerificationSession


def test_not_found_is_invalid_request_404(sdk):
    with pytest.raises(stripe.InvalidRequestError) as ei:
        VS.retrieve("vs_doesnotexist")
    e = ei.value
    assert e.http_status == 404
    assert e.code == "resource_missing"
    assert e.user_message == "No such VerificationSession: 'vs_doesnotexist'"
    assert e.json_body["error"]["type"] == "invalid_request_error"
    assert e.request_id is not None and e.request_id.startswith("req_")


def test_not_found_on_update_cancel_redact(sdk):
    for call in (
        lambda: VS.modify("vs_doesnotexist", metadata={"a": "b"}),
        lambda: VS.cancel("vs_doesnotexist"),
        lambda: VS.redact("vs_doesnotexist"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as ei:
            call()
        assert ei.value.http_status == 404
        assert ei.value.code == "resource_missing"
        assert ei.value.user_message == "No such VerificationSession: 'vs_doesnotexist'"


def test_bad_api_key_is_authentication_error(sdk, vouch):
    with pytest.raises(stripe.AuthenticationError) as ei:
        VS.list(api_key="sk_test_thisisnotavalidkey1234")
    e = ei.value
    assert e.http_status == 401
    assert e.json_body["error"]["type"] == "invalid_request_error"
    assert "Invalid API Key provided" in e.user_message
    # the full key must not be echoed back
    assert "sk_test_thisisnotavalidkey1234" not in e.user_message

    client = stripe.StripeClient("sk_test_wrongwrongwrong9999", base_addresses={"api": vouch.base})
    with pytest.raises(stripe.AuthenticationError) as ei:
        client.v1.identity.verification_sessions.create(params={"type": "document"})
    assert ei.value.http_status == 401


def test_invalid_enum_value(sdk):
    with pytest.raises(stripe.InvalidRequestError) as ei:
        VS.create(type="bogus")
    e = ei.value
    assert e.http_status == 400
    assert e.param == "type"
    assert e.json_body["error"]["type"] == "invalid_request_error"


def test_invalid_nested_enum_value(sdk):
    with pytest.raises(stripe.InvalidRequestError) as ei:
        VS.create(type="document", options={"document": {"allowed_types": ["passport", "library_card"]}})
    e = ei.value
    assert e.http_status == 400
    assert e.param is not None and e.param.startswith("options[document][allowed_types]"), e.param


def test_unknown_parameter(sdk):
    with pytest.raises(stripe.InvalidRequestError) as ei:
        VS.create(type="document", favourite_color="blue")
    e = ei.value
    assert e.http_status == 400
    assert e.code == "parameter_unknown"
    assert e.param == "favourite_color"
    assert "favourite_color" in e.user_message


def test_error_object_exposed(sdk):
    with pytest.raises(stripe.InvalidRequestError) as ei:
        VS.create(type="document", favourite_color="blue")
    err = ei.value.error
    assert err is not None
    assert err.type == "invalid_request_error"
    assert err.code == "parameter_unknown"
    assert err.param == "favourite_color"


def test_live_key_sessions_are_livemode_and_isolated(sdk, vouch):
    live = VS.create(type="document", client_reference_id="live_py", api_key=vouch.live_key)
    assert live.livemode is True
    assert live.client_secret.startswith(live.id + "_secret_")

    # the live key sees it
    again = VS.retrieve(live.id, api_key=vouch.live_key)
    assert again.id == live.id and again.livemode is True

    # the test key does not
    with pytest.raises(stripe.InvalidRequestError) as ei:
        VS.retrieve(live.id)
    assert ei.value.http_status == 404
    assert ei.value.code == "resource_missing"
    assert VS.list(client_reference_id="live_py").data == []

    # and the other way round
    test_s = VS.create(type="document", client_reference_id="test_py")
    assert test_s.livemode is False
    with pytest.raises(stripe.InvalidRequestError) as ei:
        VS.retrieve(test_s.id, api_key=vouch.live_key)
    assert ei.value.http_status == 404
    live_list = VS.list(client_reference_id="live_py", api_key=vouch.live_key)
    assert [s.id for s in live_list.data] == [live.id]
    assert all(s.livemode is True for s in live_list.data)

    # StripeClient with the live key
    client = stripe.StripeClient(vouch.live_key, base_addresses={"api": vouch.base})
    c = client.v1.identity.verification_sessions.create(params={"type": "id_number"})
    assert c.livemode is True
