"""Plain-HTTP helpers for vouch-only endpoints the Stripe SDK does not know."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

SESSION_ID_RE = r"^vs_[A-Za-z0-9]{24}$"


def raw_post(vouch, path: str, key: str | None = None) -> tuple[int, dict]:
    """A plain HTTP POST (no SDK), for vouch-only endpoints such as test helpers."""
    req = urllib.request.Request(
        vouch.base + path,
        data=b"",
        method="POST",
        headers={
            "Authorization": f"Bearer {key or vouch.test_key}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, {"_raw": body.decode(errors="replace")}


def verify_session(vouch, session_id: str, key: str | None = None) -> dict:
    """Finish a session through vouch's test helper and return the response body."""
    status, body = raw_post(
        vouch,
        f"/v1/test_helpers/identity/verification_sessions/{session_id}/verify",
        key,
    )
    assert status == 200, (
        f"POST /v1/test_helpers/identity/verification_sessions/{session_id}/verify "
        f"-> {status} {body}"
    )
    return body


def create_params(tag: str) -> dict:
    """Every create parameter the behaviour tests check, with distinct values per tag."""
    return {
        "type": "document",
        "options": {
            "document": {
                "allowed_types": ["driving_license", "passport"],
                "require_matching_selfie": True,
            }
        },
        "metadata": {"order_id": "42", "note": "hi", "tag": tag},
        "client_reference_id": f"user_{tag}",
        "return_url": "https://example.com/return",
        "related_customer": "cus_compat123",
        "provided_details": {"email": "a@example.com"},
    }


def wait_until(fetch, predicate, timeout: float = 10.0, interval: float = 0.1):
    """Call fetch() until predicate(result) holds; return the last result either way."""
    deadline = time.monotonic() + timeout
    result = fetch()
    while not predicate(result) and time.monotonic() < deadline:
        time.sleep(interval)
        result = fetch()
    return result
