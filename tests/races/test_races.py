"""Races: concurrent redemptions of one code, clear racing reads, and Connect's retries of one contact
(an older attempt finishing after a newer one included) — each ends with exactly one working secret,
and never with a partial record.

Threads share one process here; each handler call still goes through real HTTP to the embedded
DynamoDB, so the conditional writes and transactions decide the races, as they do in production.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from devstack import DevStack
from tests.faults.consistency import assert_consistent
from tests.privacy import canary


@pytest.fixture(autouse=True)
def consistent(stack: DevStack) -> Iterator[None]:
    yield
    assert_consistent(stack.table_items())


def disclosed_code(stack: DevStack) -> tuple[str, str]:
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201
    tel = stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS)
    return body["session_id"], tel.split(",", 1)[1]


def together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` for i in range(n) on n threads released at the same instant."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def redeem_event(stack: DevStack, code: str, contact_id: str, caller: str = canary.MOBILE) -> dict[str, Any]:
    return stack.contact_flow_event(contact_id, contact_id, {"dtmf": code}, caller=caller)


def reads(stack: DevStack, secret: str, contact_id: str) -> int:
    """The dev agent accepted `contact_id` in Connect; its panel reads it."""
    stack.assign(contact_id)
    return stack.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": contact_id})[0]


def test_fifty_concurrent_redemptions_of_one_code_give_exactly_one_working_secret(stack: DevStack) -> None:
    session_id, code = disclosed_code(stack)
    contacts = [str(uuid.uuid4()) for _ in range(50)]
    results = together(50, lambda i: stack.invoke("dtmf", redeem_event(stack, code, contacts[i], f"+3161{i:07d}")))
    winners = [(contacts[i], r) for i, r in enumerate(results) if r["result"] == "OK"]
    assert len(winners) == 1, [r["result"] for r in results]
    assert {r["result"] for r in results} <= {"OK", "NOT_FOUND", "ERROR"}
    secrets = [i for i in stack.table_items() if i["kind"] == "secret"]
    assert len(secrets) == 1
    contact, result = winners[0]
    assert reads(stack, result["session_secret"], contact) == 200
    assert all(reads(stack, result["session_secret"], c) == 404 for c in contacts[:5] if c != contact)
    assert stack.api("GET", f"/sessions/{session_id}")[1]["status"] == "CONNECTED"
    stack.contact_event(contact, "COMPLETED")


def test_clear_racing_reads_ends_with_nothing_and_no_half_answers(stack: DevStack) -> None:
    _, code = disclosed_code(stack)
    call = stack.call(code, caller=canary.MOBILE)
    secret = call.attributes["session_secret"]
    stack.assign(call.contact_id)

    def work(i: int) -> tuple[int, Any]:
        if i % 4 == 0:
            return stack.api("POST", "/agent/clear", {"secret": secret, "contact_id": call.contact_id})
        return stack.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": call.contact_id})

    answers = together(24, work)
    for i, (status, body) in enumerate(answers):
        if i % 4 == 0:
            assert status == 204
        else:
            assert status in (200, 404)
            if status == 200:
                assert {a["value"] for a in body["attributes"]} == {canary.BSN, canary.FULLNAME}
            else:
                assert body == {"error": "not_found"}
    assert [i for i in stack.table_items() if i["kind"] != "rate"] == []
    assert reads(stack, secret, call.contact_id) == 404


def test_connect_retries_in_order_leave_only_the_last_secret(stack: DevStack) -> None:
    _, code = disclosed_code(stack)
    contact = str(uuid.uuid4())
    results = [stack.invoke("dtmf", redeem_event(stack, code, contact)) for _ in range(4)]
    assert [r["result"] for r in results] == ["OK"] * 4
    secrets = [r["session_secret"] for r in results]
    assert len(set(secrets)) == 4
    assert [reads(stack, s, contact) for s in secrets] == [404, 404, 404, 200]
    stack.contact_event(contact, "COMPLETED")


def test_an_older_attempt_finishing_after_a_newer_one_cannot_replace_its_secret(stack: DevStack) -> None:
    """Connect gave up on attempt 1 (slow) and retried; attempt 2 finished first. Attempt 1's late
    transaction must not replace the secret Connect actually received (from attempt 2)."""
    from idbellen import redemption
    from idbellen.wiring import services

    _, code = disclosed_code(stack)
    contact = str(uuid.uuid4())
    now = stack.clock.now()

    def attempt(at: float) -> dict[str, str]:
        call = redemption.Call(
            digits=code, contact_id=contact, initial_contact_id=contact, caller=canary.MOBILE, attempt_at=at
        )
        return redemption.redeem(services(), call)

    newer = attempt(now + 2.0)
    older = attempt(now)
    assert newer["result"] == "OK"
    assert older["result"] != "OK"  # ERROR: Connect no longer listens to this attempt
    assert reads(stack, newer["session_secret"], contact) == 200
    assert len([i for i in stack.table_items() if i["kind"] == "secret"]) == 1
    stack.contact_event(contact, "COMPLETED")


@pytest.mark.parametrize("round_", range(6))
def test_concurrent_retries_of_one_contact_leave_exactly_the_newest_attempts_secret(
    stack: DevStack, round_: int
) -> None:
    """Up to 4 attempts (the first and 3 retries) overlapping in time: whatever the interleaving, one
    secret works, and it is the one the newest attempt returned (the one Connect waits for)."""
    from idbellen import redemption
    from idbellen.wiring import services

    _, code = disclosed_code(stack)
    contact = str(uuid.uuid4())
    base = stack.clock.now()
    order = [3, 1, 2, 0] if round_ % 2 else [0, 1, 2, 3]

    def attempt(i: int) -> dict[str, str]:
        call = redemption.Call(
            digits=code,
            contact_id=contact,
            initial_contact_id=contact,
            caller=canary.MOBILE,
            attempt_at=base + order[i] * 2.0,
        )
        return redemption.redeem(services(), call)

    results = together(4, attempt)
    newest = results[order.index(3)]
    assert newest["result"] == "OK", results
    issued = [r["session_secret"] for r in results if r.get("session_secret")]
    working = [s for s in issued if reads(stack, s, contact) == 200]
    assert working == [newest["session_secret"]]
    stack.contact_event(contact, "COMPLETED")


def test_redemption_racing_the_contact_completed_event_leaves_no_orphan(stack: DevStack) -> None:
    """A hang-up right as the code is redeemed: whichever wins, nothing is left half-deleted."""
    session_id, code = disclosed_code(stack)
    contact = str(uuid.uuid4())
    event = redeem_event(stack, code, contact)
    stack.contacts[contact] = contact

    def work(i: int) -> Any:
        if i == 0:
            return stack.invoke("dtmf", event)
        return stack.contact_event(contact, "COMPLETED")

    together(2, work)
    stack.contact_event(contact, "COMPLETED")  # the event for the completed contact always arrives
    pk = "SESSION#" + hashlib.sha256(session_id.encode()).hexdigest()
    assert [i for i in stack.table_items() if pk in (i["pk"], i.get("session_pk"))] == []
