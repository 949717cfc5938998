"""Webhook endpoints, events and signed deliveries with the official Python SDK: what vouch
POSTs verifies with stripe.Webhook.construct_event."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from helpers import wait_until

CREATED = "identity.verification_session.created"
CANCELED = "identity.verification_session.canceled"


@pytest.fixture()
def receiver():
    """A local HTTP server that keeps each POST's raw body and Stripe-Signature header."""
    received: list[tuple[bytes, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append((body, self.headers.get("Stripe-Signature", "")))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def test_deliveries_verify_with_construct_event(sdk, receiver):
    url, received = receiver
    endpoint = sdk.WebhookEndpoint.create(url=url, enabled_events=[CREATED, CANCELED])
    assert endpoint.id.startswith("we_")
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.status == "enabled"

    session = sdk.identity.VerificationSession.create(type="document")
    sdk.identity.VerificationSession.cancel(session.id)
    wait_until(lambda: len(received), lambda n: n >= 2)
    assert len(received) == 2

    events = []
    for body, signature in received:
        assert signature.startswith("t=") and ",v1=" in signature
        event = sdk.Webhook.construct_event(body, signature, endpoint.secret)
        assert event.object == "event"
        assert event.data.object.id == session.id
        events.append(event)
    assert sorted(e.type for e in events) == [CANCELED, CREATED]
    canceled = next(e for e in events if e.type == CANCELED)
    assert canceled.data.object.status == "canceled"

    body, signature = received[0]
    with pytest.raises(stripe.SignatureVerificationError):
        sdk.Webhook.construct_event(body, signature, "whsec_not_the_secret")
    with pytest.raises(stripe.SignatureVerificationError):
        sdk.Webhook.construct_event(body + b" ", signature, endpoint.secret)

    # The events API shows the same events, through the SDK.
    listed = sdk.Event.list(type="identity.verification_session.*", limit=10)
    assert sorted(e.id for e in listed.data) == sorted(e.id for e in events)
    got = sdk.Event.retrieve(canceled.id)
    assert got.type == CANCELED
    assert got.data.object.id == session.id
    by_types = sdk.Event.list(types=[CANCELED])
    assert [e.id for e in by_types.data] == [canceled.id]


def test_endpoint_lifecycle(sdk):
    endpoint = sdk.WebhookEndpoint.create(
        url="http://127.0.0.1:9/hook", enabled_events=["*"], metadata={"team": "id"}
    )
    fetched = sdk.WebhookEndpoint.retrieve(endpoint.id)
    assert "secret" not in fetched
    assert fetched.metadata.to_dict() == {"team": "id"}
    updated = sdk.WebhookEndpoint.modify(endpoint.id, disabled=True, description="off")
    assert updated.status == "disabled"
    assert updated.description == "off"
    assert endpoint.id in [e.id for e in sdk.WebhookEndpoint.list(limit=100).data]
    deleted = sdk.WebhookEndpoint.delete(endpoint.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as err:
        sdk.WebhookEndpoint.retrieve(endpoint.id)
    assert err.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as err:
        sdk.WebhookEndpoint.create(url="http://127.0.0.1:9/hook", enabled_events=["nope"])
    assert err.value.param == "enabled_events[0]"
