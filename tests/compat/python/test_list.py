"""Listing, filters and auto-pagination with the official Python SDK."""

import pytest
import stripe

VS = stripe.identity.VerificationSession
REF = "compat_list_py"


@pytest.fixture(scope="module")
def seven(vouch):
    """Seven sessions sharing one client_reference_id, in creation order (oldest first)."""
    client = stripe.StripeClient(vouch.test_key, base_addresses={"api": vouch.base})
    created = []
    for i in range(7):
        s = client.v1.identity.verification_sessions.create(
            params={"type": "document", "client_reference_id": REF, "metadata": {"i": str(i)}}
        )
        created.append(s)
    # a decoy with another reference that the filter must exclude
    client.v1.identity.verification_sessions.create(
        params={"type": "document", "client_reference_id": REF + "_other"}
    )
    return created


def test_first_page_shape(sdk, seven):
    page = VS.list(limit=3, client_reference_id=REF)
    assert page.object == "list"
    assert page.url == "/v1/identity/verification_sessions"
    assert page.has_more is True
    expected = [s.id for s in reversed(seven)]
    assert [s.id for s in page.data] == expected[:3]
    assert all(s.object == "identity.verification_session" for s in page.data)
    assert all("verified_outputs" not in s for s in page.data)


def test_auto_paging_iter_newest_first(sdk, seven):
    ids = [s.id for s in VS.list(limit=3, client_reference_id=REF).auto_paging_iter()]
    assert ids == [s.id for s in reversed(seven)]
    assert len(set(ids)) == 7


def test_manual_paging_with_starting_after(sdk, seven):
    expected = [s.id for s in reversed(seven)]
    p1 = VS.list(limit=3, client_reference_id=REF)
    p2 = VS.list(limit=3, client_reference_id=REF, starting_after=p1.data[-1].id)
    assert [s.id for s in p2.data] == expected[3:6]
    assert p2.has_more is True
    p3 = p2.next_page()
    assert [s.id for s in p3.data] == expected[6:]
    assert p3.has_more is False


def test_auto_paging_backwards_with_ending_before(sdk, seven):
    # ending_before walks towards newer objects; the SDK yields each page reversed,
    # so the iteration comes out oldest -> newest.
    oldest = seven[0].id
    page = VS.list(limit=2, client_reference_id=REF, ending_before=oldest)
    assert [s.id for s in page.data] == [seven[2].id, seven[1].id]
    assert page.has_more is True
    ids = [s.id for s in page.auto_paging_iter()]
    assert ids == [s.id for s in seven[1:]]


def test_status_filter(sdk, seven):
    VS.cancel(seven[1].id)
    VS.cancel(seven[4].id)
    canceled = [s.id for s in VS.list(client_reference_id=REF, status="canceled").auto_paging_iter()]
    assert canceled == [seven[4].id, seven[1].id]
    open_ = [
        s.id
        for s in VS.list(client_reference_id=REF, status="requires_input", limit=2).auto_paging_iter()
    ]
    assert open_ == [seven[i].id for i in (6, 5, 3, 2, 0)]


def test_created_range_filter(sdk, seven):
    lo = min(s.created for s in seven)
    hi = max(s.created for s in seven)
    got = [s.id for s in VS.list(client_reference_id=REF, created={"gte": lo}).auto_paging_iter()]
    assert got == [s.id for s in reversed(seven)]
    got = [
        s.id
        for s in VS.list(client_reference_id=REF, created={"gte": lo, "lte": hi}, limit=3).auto_paging_iter()
    ]
    assert got == [s.id for s in reversed(seven)]
    assert VS.list(client_reference_id=REF, created={"gt": hi}).data == []
    assert VS.list(client_reference_id=REF, created={"lt": lo}).data == []
    # created as a plain integer means "exactly"
    exact = [s.id for s in VS.list(client_reference_id=REF, created=lo).auto_paging_iter()]
    assert exact == [s.id for s in reversed(seven) if s.created == lo]


def test_limit_default_and_related_customer_filter(sdk, vouch):
    a = VS.create(type="document", related_customer="cus_list_filter_py")
    VS.create(type="document", related_customer="cus_list_filter_other")
    page = VS.list(related_customer="cus_list_filter_py")
    assert [s.id for s in page.data] == [a.id]
    assert page.has_more is False
