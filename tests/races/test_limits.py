"""Abuse limits that cannot be turned against citizens (`idbellen.limits`), proven on the dev stack:

- concurrent lookups never overshoot a limit: each answer waits for its conditional counter write;
- withheld and unusable numbers never share a per-number bucket;
- one number's flood, or another tenant's, never blocks a caller with a right code below the limit;
- every lookup counts: out of hours, pending, wrong;
- a pending code is pulled at most once per interval per code, and a second contact polling it burns
  it, so polling cannot win the race against the citizen's approval (a relayed session).

Threads share one process; each handler call still goes through real HTTP to the embedded DynamoDB
(each request atomic, as in DynamoDB: tests/races/conftest.py), so the conditional writes decide.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from devstack import DevStack
from tests.privacy import canary

TENANT_LIMIT = 120
PER_NUMBER = 10


pytestmark = pytest.mark.usefixtures("fresh_window")


_numbers = iter(range(10_000_000))


def number() -> str:
    return f"+3163{next(_numbers):07d}"


def wrong() -> str:
    return f"{secrets.randbelow(10**8):08d}"


def together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` for i in range(n) on n threads released at the same instant."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def lookup(stack: DevStack, code: str, caller: str | None, contact: str | None = None, **params: str) -> str:
    contact = contact or str(uuid.uuid4())
    event = stack.contact_flow_event(contact, contact, {"dtmf": code, **params}, caller=caller)
    return str(stack.invoke("dtmf", event)["result"])


def live_code(stack: DevStack) -> str:
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201
    return stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS).split(",", 1)[1]


def pending_code(stack: DevStack) -> tuple[str, dict[str, Any]]:
    """A started session whose citizen has not approved yet: (its code, the session body)."""
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201
    client_token = body["sessionPtr"]["u"].rsplit("/", 1)[-1]
    return stack.irma.by_client[client_token].request["clientReturnUrl"].split(",", 1)[1], body


def buckets(stack: DevStack) -> dict[str, int]:
    return {i["pk"]: int(i["failures"]) for i in stack.table_items() if i["kind"] == "rate"}


def tenant_bucket(stack: DevStack, tenant: str = "default") -> int:
    prefix = f"RATE#global#{tenant}#{int(stack.clock.now()) // 60}"
    return buckets(stack).get(prefix, 0)


def number_bucket(stack: DevStack, caller: str) -> int:
    from idbellen import limits
    from idbellen.wiring import services

    caps = limits.for_call(services().hash_key(), "default", caller, int(stack.clock.now()), PER_NUMBER)
    assert len(caps.buckets) == 2
    return buckets(stack).get(caps.buckets[0].pk, 0)


def fill_tenant_bucket(stack: DevStack, failures: int, tenant: str = "default") -> None:
    """The tenant's bucket as if `failures` lookups had already been counted this minute."""
    minute = int(stack.clock.now()) // 60
    stack.session.client("dynamodb").put_item(
        TableName=stack.resources.table,
        Item={
            "pk": {"S": f"RATE#global#{tenant}#{minute}"},
            "kind": {"S": "rate"},
            "tenant": {"S": tenant},
            "failures": {"N": str(failures)},
            "expires_at": {"N": str((minute + 1) * 60 + 60)},
        },
    )


# -- concurrency -------------------------------------------------------------------------------------
def test_forty_concurrent_guesses_never_overshoot_the_tenant_limit(stack: DevStack) -> None:
    """110 of the minute's 120 lookups are used: of 40 guesses at the same instant from 40 numbers,
    exactly 10 are looked up; the other 30 are refused, and the counter stops at the limit."""
    fill_tenant_bucket(stack, 110)
    results = together(40, lambda i: lookup(stack, wrong(), number()))
    assert sorted(results) == ["NOT_FOUND"] * 10 + ["RATE_LIMITED"] * 30
    assert tenant_bucket(stack) == TENANT_LIMIT


def test_forty_concurrent_guesses_from_one_number_never_overshoot_its_limit(stack: DevStack) -> None:
    caller = number()
    results = together(40, lambda i: lookup(stack, wrong(), caller))
    assert sorted(results) == ["NOT_FOUND"] * PER_NUMBER + ["RATE_LIMITED"] * 30
    assert number_bucket(stack, caller) == PER_NUMBER
    assert tenant_bucket(stack) == PER_NUMBER  # refused lookups never use up the tenant's bucket


def test_one_numbers_concurrent_flood_never_blocks_a_right_code(stack: DevStack) -> None:
    """While one number fires 40 guesses at once, a caller with a right code from another number gets
    through: the flood is capped by its own bucket and cannot fill the tenant's."""
    flooder, code = number(), live_code(stack)
    results = together(41, lambda i: lookup(stack, code, number()) if i == 40 else lookup(stack, wrong(), flooder))
    assert results[40] == "OK"
    assert sorted(results[:40]) == ["NOT_FOUND"] * PER_NUMBER + ["RATE_LIMITED"] * 30


def test_a_right_code_racing_a_full_tenant_bucket_is_refused_or_counted_never_both(stack: DevStack) -> None:
    """The link transaction checks the buckets: with 119 of 120 used, a right code and 20 wrong guesses
    at once: the bucket ends at exactly 120, and the right code is either linked (checked below the
    limit) or refused — never linked above it."""
    code = live_code(stack)
    fill_tenant_bucket(stack, TENANT_LIMIT - 1)
    secrets_before = sum(1 for i in stack.table_items() if i["kind"] == "secret")
    results = together(21, lambda i: lookup(stack, code, number()) if i == 0 else lookup(stack, wrong(), number()))
    assert results[0] in ("OK", "RATE_LIMITED")
    assert sorted(results[1:]) == ["NOT_FOUND"] + ["RATE_LIMITED"] * 19  # a right code is checked, not counted
    assert tenant_bucket(stack) == TENANT_LIMIT
    secrets_after = sum(1 for i in stack.table_items() if i["kind"] == "secret")
    assert secrets_after == secrets_before + (1 if results[0] == "OK" else 0)


# -- withheld numbers, tenants -----------------------------------------------------------------------
@pytest.mark.parametrize("withheld", [None, "anonymous", "", "Restricted", "+", "0000"])
def test_withheld_and_unusable_numbers_never_share_a_bucket(stack: DevStack, withheld: str | None) -> None:
    """Fifteen wrong codes from withheld numbers (more than any one number may make), then another
    withheld caller with a right code: verified. They count against the tenant's bucket only."""
    before = buckets(stack)
    assert [lookup(stack, wrong(), withheld) for _ in range(15)] == ["NOT_FOUND"] * 15
    assert lookup(stack, live_code(stack), withheld) == "OK"
    after = buckets(stack)
    new = {pk for pk in after if pk not in before}
    assert all(pk.startswith("RATE#global#") for pk in new), new
    assert tenant_bucket(stack) == 15


def test_one_tenants_flood_never_blocks_another_tenant(stack: DevStack) -> None:
    """Tenant `default` at its limit; a lookup in another tenant (its own keys, its own buckets) is
    answered, and `default` stays refused."""
    from idbellen import clock, redemption
    from idbellen.wiring import Services, services

    fill_tenant_bucket(stack, TENANT_LIMIT)
    other = Services(dataclasses.replace(services().settings, tenant="othertown"))

    def call() -> redemption.Call:
        contact = str(uuid.uuid4())
        return redemption.Call(wrong(), contact, contact, number(), clock.now_precise())

    assert redemption.redeem(services(), call())["result"] == "RATE_LIMITED"
    assert redemption.redeem(other, call())["result"] == "NOT_FOUND"
    assert tenant_bucket(stack, "othertown") == 1
    assert tenant_bucket(stack) == TENANT_LIMIT


# -- out of hours ------------------------------------------------------------------------------------
def test_out_of_hours_lookups_count_and_are_limited(stack: DevStack) -> None:
    """`mark_closed` is a lookup: ten from one number (wrong or right) use up its bucket; the
    eleventh is refused even for a right code, and the session is not marked."""
    caller, code = number(), live_code(stack)
    assert lookup(stack, code, caller, action="mark_closed") == "OK"
    assert [lookup(stack, wrong(), caller, action="mark_closed") for _ in range(9)] == ["NOT_FOUND"] * 9
    assert number_bucket(stack, caller) == PER_NUMBER
    other = live_code(stack)
    assert lookup(stack, other, caller, action="mark_closed") == "RATE_LIMITED"
    assert lookup(stack, other, caller) == "RATE_LIMITED"  # the same number in hours: blocked too
    assert lookup(stack, other, number(), action="mark_closed") == "OK"


def test_concurrent_out_of_hours_lookups_never_overshoot(stack: DevStack) -> None:
    fill_tenant_bucket(stack, 110)
    results = together(30, lambda i: lookup(stack, wrong(), number(), action="mark_closed"))
    assert sorted(results) == ["NOT_FOUND"] * 10 + ["RATE_LIMITED"] * 20
    assert tenant_bucket(stack) == TENANT_LIMIT


def test_the_out_of_hours_flow_counts_its_lookup(stack: DevStack) -> None:
    caller, code = number(), live_code(stack)
    call = stack.call(code, caller=caller, hours_open=False)
    assert not call.queued
    assert number_bucket(stack, caller) == 1


# -- pending codes -----------------------------------------------------------------------------------
class PullCounter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from idbellen import session_puller

        self.pulls = 0
        original = session_puller.LambdaSessionPuller.pull

        def pull(puller: Any, session_pk: str) -> str | None:
            self.pulls += 1
            return original(puller, session_pk)

        monkeypatch.setattr(session_puller.LambdaSessionPuller, "pull", pull)


def test_a_pending_code_is_pulled_at_most_once_per_interval_and_every_try_counts(
    stack: DevStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connect's retries of one contact (same InitialContactId) on a pending code: one pull per 10 s,
    and every try counts against the number."""
    from idbellen.redemption import PULL_INTERVAL_SECONDS

    counter = PullCounter(monkeypatch)
    code, _ = pending_code(stack)
    caller, contact = number(), str(uuid.uuid4())
    assert [lookup(stack, code, caller, contact) for _ in range(3)] == ["NOT_VERIFIED"] * 3
    assert counter.pulls == 1
    assert number_bucket(stack, caller) == 3
    stack.clock.advance(PULL_INTERVAL_SECONDS)
    assert lookup(stack, code, caller, contact) == "NOT_VERIFIED"
    assert counter.pulls == 2


def test_polling_a_pending_code_cannot_win_the_race(stack: DevStack) -> None:
    """A relayed session: the attacker holds the code and polls it before the citizen approves. The
    first poll finds it pending; a poll from a second contact burns it. When the citizen approves,
    the code opens nothing for anyone — the attacker's calls and the citizen's own alike."""
    code, body = pending_code(stack)
    assert lookup(stack, code, number()) == "NOT_VERIFIED"
    assert lookup(stack, code, number()) == "NOT_FOUND"
    stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS)
    assert stack.api("GET", f"/sessions/{body['session_id']}")[1]["status"] == "DISCLOSED"
    assert [lookup(stack, code, number()) for _ in range(3)] == ["NOT_FOUND"] * 3
    assert not [i for i in stack.table_items() if i["kind"] == "secret" and i["session_pk"].endswith(_ref(body))]


def test_concurrent_polls_of_a_pending_code_pull_once_and_never_win(
    stack: DevStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = PullCounter(monkeypatch)
    code, body = pending_code(stack)
    results = together(12, lambda i: lookup(stack, code, number()))
    assert "OK" not in results
    assert counter.pulls <= 1
    assert results.count("NOT_VERIFIED") <= 1
    stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS)
    assert lookup(stack, code, number()) == "NOT_FOUND"


def test_a_citizen_whose_app_dials_before_the_result_is_stored_gets_through_uncounted(stack: DevStack) -> None:
    """No callback: the app's call finds the code pending, its pull stores the result and the call is
    linked. The lookup counted before the pull is taken back, so it costs the caller nothing."""
    stack.irma.send_callbacks = False
    try:
        code, body = pending_code(stack)
        stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS)
        caller = number()
        assert lookup(stack, code, caller) == "OK"
        assert number_bucket(stack, caller) == 0
        assert tenant_bucket(stack) == 0
    finally:
        stack.irma.send_callbacks = True


def _ref(body: dict[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(body["session_id"].encode()).hexdigest()
