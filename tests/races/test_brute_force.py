"""Abuse: guessing DTMF codes. Per caller number, `IDBELLEN_RATE_LIMIT_FAILURES` (default 10) code
lookups that do not redeem per 10-minute window; per tenant, 120 a minute. A caller who mistypes fewer
than 5 times is never blocked, and a blocked caller still reaches the queue, unverified. Concurrency,
withheld numbers, tenants, pending codes and out-of-hours lookups: tests/races/test_limits.py.

The full-size hit-rate measurement (1,000 live codes, an attacker at the limit for an hour) is
`python -m bench.abuse_hit_rate` (run by `make fuzz`); `test_attack_at_the_global_limit_small` runs
the same code here with small sizes. Numbers and arithmetic: docs/security.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import secrets
from pathlib import Path
from typing import Any

import pytest

from devstack import DevStack
from tests.privacy import canary

ROOT = Path(__file__).resolve().parents[2]
CALLER_WINDOW = 600
GLOBAL_WINDOW = 60
GLOBAL_LIMIT = 120


pytestmark = pytest.mark.usefixtures("fresh_window")


_numbers = iter(range(10_000_000))


def number() -> str:
    return f"+3162{next(_numbers):07d}"


def live_code(stack: DevStack) -> str:
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201
    return stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS).split(",", 1)[1]


def wrong_code(stack: DevStack) -> str:
    return f"{secrets.randbelow(10**8):08d}"  # 1 in 10^8 / live codes of hitting one: negligible here


def attempt(stack: DevStack, code: str, caller: str) -> str:
    call = stack.call(code, caller=caller)
    assert call.queued
    if call.lambda_result.get("result") != "OK":
        assert call.attributes == {"verified": "false"}
    return call.lambda_result["result"]


def test_one_number_is_limited_after_ten_wrong_codes_and_still_queued(stack: DevStack) -> None:
    caller, code = number(), live_code(stack)
    results = [attempt(stack, wrong_code(stack), caller) for _ in range(10)]
    assert results == ["NOT_FOUND"] * 10
    assert attempt(stack, code, caller) == "RATE_LIMITED"  # even the right code: the number is blocked
    assert attempt(stack, code, "0" + caller[3:]) == "RATE_LIMITED"  # the national form is the same number
    stack.clock.advance(CALLER_WINDOW)
    assert attempt(stack, code, caller) == "OK"


@pytest.mark.parametrize("mistakes", [1, 4, 9])
def test_a_caller_who_mistypes_fewer_times_than_the_limit_gets_through(stack: DevStack, mistakes: int) -> None:
    caller, code = number(), live_code(stack)
    assert [attempt(stack, wrong_code(stack), caller) for _ in range(mistakes)] == ["NOT_FOUND"] * mistakes
    assert attempt(stack, code, caller) == "OK"


def test_timeouts_and_invalid_entries_do_not_count(stack: DevStack) -> None:
    """No input and entries of the wrong length look nothing up: they never count."""
    caller = number()
    for _ in range(12):
        assert attempt(stack, "", caller) == "INVALID_INPUT"
        assert attempt(stack, "12", caller) == "INVALID_INPUT"
    code = live_code(stack)
    assert attempt(stack, code, caller) == "OK"


def test_every_lookup_of_a_code_counts_pending_used_and_wrong_alike(stack: DevStack) -> None:
    """A pending code, a code another contact already redeemed and a wrong code are all looked up:
    each counts, so ten of them in any mix block the number (the eleventh lookup is refused)."""
    caller = number()
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201
    client_token = body["sessionPtr"]["u"].rsplit("/", 1)[-1]
    pending = stack.irma.by_client[client_token].request["clientReturnUrl"].split(",", 1)[1]
    used = live_code(stack)
    assert attempt(stack, used, number()) == "OK"
    results = [attempt(stack, pending, caller)]
    results += [attempt(stack, used, caller) for _ in range(4)]
    results += [attempt(stack, wrong_code(stack), caller) for _ in range(5)]
    assert results == ["NOT_VERIFIED"] + ["NOT_FOUND"] * 9
    assert attempt(stack, live_code(stack), caller) == "RATE_LIMITED"


def test_a_legitimate_caller_is_not_blocked_by_a_brute_force_from_other_numbers(stack: DevStack) -> None:
    """Attackers spread 100 failures over 25 numbers (under the global limit): a caller with 4
    mistakes of their own still gets through."""
    for _ in range(25):
        attacker = number()
        assert [attempt(stack, wrong_code(stack), attacker) for _ in range(4)] == ["NOT_FOUND"] * 4
    caller, code = number(), live_code(stack)
    for _ in range(4):
        assert attempt(stack, wrong_code(stack), caller) == "NOT_FOUND"
    assert attempt(stack, code, caller) == "OK"


def test_the_global_limit_stops_a_many_number_attack_within_the_minute(stack: DevStack) -> None:
    """120 failures a minute from 120 numbers: the 121st guess is refused without a lookup. While the
    limit holds, verification is off for everyone (the documented fail-safe: callers are queued
    unverified and identified the usual way); it lifts with the next minute."""
    code = live_code(stack)
    results = [attempt(stack, wrong_code(stack), number()) for _ in range(GLOBAL_LIMIT)]
    assert results == ["NOT_FOUND"] * GLOBAL_LIMIT
    assert attempt(stack, wrong_code(stack), number()) == "RATE_LIMITED"
    assert attempt(stack, code, number()) == "RATE_LIMITED"
    stack.clock.advance(GLOBAL_WINDOW)
    assert attempt(stack, code, number()) == "OK"


def test_rate_counters_hold_keyed_hashes_only_and_expire_with_their_window(stack: DevStack) -> None:
    caller = canary.CALLER_OTHER
    # start from no counters at all (the module's stack holds the earlier tests' ones until they expire)
    stack.clock.advance(CALLER_WINDOW + 61)
    stack.sweep()
    assert [i for i in stack.table_items() if i["kind"] == "rate"] == []
    attempt(stack, wrong_code(stack), caller)
    rate = [i for i in stack.table_items() if i["kind"] == "rate"]
    # not vacuous: exactly the caller's bucket and the municipality's global bucket, each counting the lookup
    by_kind = {("global" if i["pk"].startswith("RATE#global#") else "caller"): i for i in rate}
    assert len(rate) == 2 and set(by_kind) == {"caller", "global"}, [i["pk"] for i in rate]
    assert all(i["failures"] == 1 for i in rate)
    _, ref, _window = by_kind["caller"]["pk"].split("#")
    assert len(ref) == 64 and int(ref, 16) >= 0  # a keyed hash (HMAC-SHA256), not the number
    forms = [caller, caller[1:], "0" + caller[3:], caller[3:]]
    digests = [hashlib.sha256(f.encode()).hexdigest() for f in forms]
    now = stack.clock.now()
    for item in rate:
        assert set(item) == {"pk", "kind", "tenant", "expires_at", "failures"}
        assert not any(f in item["pk"] for f in forms + digests)
        assert now < item["expires_at"] <= now + CALLER_WINDOW + 60
    # keyed per number: another number counts in its own bucket, the global bucket is shared
    attempt(stack, wrong_code(stack), canary.MOBILE)
    rate = [i for i in stack.table_items() if i["kind"] == "rate"]
    assert len(rate) == 3
    assert next(i for i in rate if i["pk"].startswith("RATE#global#"))["failures"] == 2
    stack.clock.advance(CALLER_WINDOW + 61)
    stack.sweep()
    assert [i for i in stack.table_items() if i["kind"] == "rate"] == []


@pytest.mark.parametrize("callers", ["fresh", "withheld"])
def test_attack_at_the_global_limit_small(stack: DevStack, callers: str) -> None:
    """The bench measurement with small sizes: an attacker making 124 guesses a minute from fresh
    numbers, or from a withheld one, gets at most 120 looked up, and every hit it scores is a real
    live code."""
    report = _bench().measure(stack, sessions=5, minutes=1, guesses_per_minute=124, monte_carlo=20_000, callers=callers)
    assert report["callers"] == callers
    for minute in report["per_minute"]:
        assert minute["looked_up"] <= GLOBAL_LIMIT + minute["hits"]
        assert minute["rate_limited"] >= 124 - GLOBAL_LIMIT - minute["hits"]
    assert report["handler"]["hits"] == report["handler"]["hits_verified"]
    assert report["monte_carlo"]["guesses"] == 20_000


def _bench() -> Any:
    """bench/abuse_hit_rate.py by path (a `bench` package under tests/ shadows the top-level one here)."""
    spec = importlib.util.spec_from_file_location("idbellen_abuse_hit_rate", ROOT / "bench" / "abuse_hit_rate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
