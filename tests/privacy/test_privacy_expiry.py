"""Promise 3: a record is unreadable on every path the second it expires, whatever DynamoDB's TTL
sweeper has done (moto never expires items), and the sweep removes it.

The stack runs with a 10-minute lifetime and a 15-minute call window, so at expiry the code would
still be inside its window: only read-time expiry can refuse it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devstack import DevStack
from tests.privacy import canary

TTL = 600
RATE_MAX_LIFETIME = 660  # a 10-minute window plus a minute


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with DevStack(settings={"IDBELLEN_TTL_SECONDS": str(TTL), "IDBELLEN_CALL_WINDOW_SECONDS": "900"}) as stack:
        yield stack


def _live(stack: DevStack, purpose: str = "demo") -> dict[str, Any]:
    status, body = stack.api("POST", "/sessions", {"purpose": purpose})
    assert status == 201
    tel = stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS)
    return {"session_id": body["session_id"], "expires_at": body["expires_at"], "code": tel.split(",", 1)[1]}


def _at(stack: DevStack, epoch: int) -> None:
    """Stand at the start of second `epoch` (the clock keeps running in real time from there)."""
    stack.clock.set(epoch)


def test_expires_at_is_creation_plus_lifetime(stack: DevStack) -> None:
    before = int(stack.clock.now())
    live = _live(stack)
    assert before + TTL <= live["expires_at"] <= int(stack.clock.now()) + TTL
    assert all(i["expires_at"] <= live["expires_at"] for i in stack.table_items())


def test_status_and_complete_refuse_the_second_of_expiry(stack: DevStack) -> None:
    live = _live(stack)
    sid, expires = live["session_id"], live["expires_at"]
    _at(stack, expires - 1)
    assert stack.api("GET", f"/sessions/{sid}")[0] == 200
    assert stack.api("POST", f"/sessions/{sid}/complete")[0] == 200
    _at(stack, expires)
    assert stack.api("GET", f"/sessions/{sid}") == (404, {"error": "not_found"})
    assert stack.api("POST", f"/sessions/{sid}/complete") == (404, {"error": "not_found"})
    assert stack.api("POST", f"/irma/callback/{sid}", "x.y.z")[0] == 404


def test_pending_session_expires_on_every_path(stack: DevStack) -> None:
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201
    _at(stack, body["expires_at"])
    assert stack.api("GET", f"/sessions/{body['session_id']}")[0] == 404
    assert stack.api("POST", f"/sessions/{body['session_id']}/complete")[0] == 404


def test_dtmf_code_is_refused_the_second_of_expiry(stack: DevStack) -> None:
    first, second = _live(stack), _live(stack)
    _at(stack, first["expires_at"] - 1)
    assert stack.call(first["code"]).lambda_result["result"] == "OK"
    _at(stack, second["expires_at"])
    call = stack.call(second["code"])
    # exactly NOT_FOUND, at the first lookup: the code's own item is absent from that second (Store.get_many's
    # read-time expiry). NOT_VERIFIED would mean the item was still read and only the call window refused
    # it; the flow then asks again after a pause, by which time the sweep may have removed the item, so
    # the last answer alone cannot tell.
    assert [r["result"] for r in call.lambda_results] == ["NOT_FOUND"]
    assert call.queued and call.attributes["verified"] == "false"


def test_agent_disclosure_is_refused_the_second_of_expiry(stack: DevStack) -> None:
    live = _live(stack)
    call = stack.call(live["code"])
    stack.assign(call.contact_id)
    request = {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
    _at(stack, live["expires_at"] - 1)
    assert stack.api("POST", "/agent/disclosure", request)[0] == 200
    _at(stack, live["expires_at"])
    assert stack.api("POST", "/agent/disclosure", request) == (404, {"error": "not_found"})


def test_transferred_segment_cannot_read_after_expiry(stack: DevStack) -> None:
    live = _live(stack)
    call = stack.call(live["code"])
    segment = stack.transfer(call.contact_id)
    stack.assign(segment)
    _at(stack, live["expires_at"])
    request = {"secret": call.attributes["session_secret"], "contact_id": segment}
    assert stack.api("POST", "/agent/disclosure", request)[0] == 404


def test_sweep_keeps_live_items_and_removes_every_expired_one(stack: DevStack) -> None:
    stack.clock.advance(RATE_MAX_LIFETIME + 1)
    stack.sweep()
    assert stack.table_items() == []  # whatever earlier tests left has expired, rate counters too
    live = _live(stack)
    call = stack.call(live["code"])
    stack.call("00000000", caller=canary.CALLER_OTHER)  # a rate counter too
    kinds = {i["kind"] for i in stack.table_items()}
    assert {"session", "dtmf", "secret", "contact", "rate"} <= kinds
    _at(stack, live["expires_at"] - 1)
    stack.sweep()
    assert {i["kind"] for i in stack.table_items()} >= {"session", "dtmf", "secret", "contact"}
    _at(stack, live["expires_at"])
    result = stack.sweep()
    assert result["result"] == "OK" and int(result["deleted"]) >= 4
    assert [i["kind"] for i in stack.table_items()] in ([], ["rate"])  # a counter lives to its window's end
    stack.assign(call.contact_id)
    request = {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
    assert stack.api("POST", "/agent/disclosure", request)[0] == 404
    stack.clock.advance(RATE_MAX_LIFETIME + 1)
    stack.sweep()
    assert stack.table_items() == []
