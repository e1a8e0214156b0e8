"""How often does guessing a DTMF code work? Measured against live (disclosed) sessions on the dev stack.

    python -m bench.abuse_hit_rate [--sessions 1000] [--digits 8] [--minutes 60] [--monte-carlo 1000000]
                                   [--callers fresh|withheld]

Two measurements, printed as JSON (docs/security.md quotes them with the arithmetic):

1. Through the real DTMF handler: an attacker makes `--guesses-per-minute` random guesses a minute
   (default 130, above the 120-a-minute tenant limit) from fresh caller numbers (9 each, under the
   per-number limit) or, with `--callers withheld`, all from a withheld number (no per-number bucket),
   for `--minutes` simulated minutes — the most the rate limits let anyone look up.
   The call window is set to the full hour so every code stays live for the whole attack (worst case).
   Every hit is checked: its secret really opens the victim's disclosure for the attacker's contact.
2. At the lookup level (Monte Carlo): `--monte-carlo` random codes checked against the keyed hashes of
   the live codes, the same test the handler makes, without the rate limit — the raw code-space hit rate.

`make fuzz` runs it at full size; tests/races/test_brute_force.py runs `measure` with small sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter
from typing import Any

MINUTE = 60


def _live_codes(stack: Any, sessions: int) -> set[str]:
    """Live, disclosed sessions through the real path: start, the wallet's disclosure, and the browser's
    `complete` pulling the result (in-process: no callback chain to time out on a loaded machine)."""
    codes: set[str] = set()
    callbacks = stack.irma.send_callbacks
    stack.irma.send_callbacks = False
    try:
        for n in range(sessions):
            status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
            if status != 201:
                raise RuntimeError(f"could not start session {n}: {status}")
            tel = stack.wallet.disclose(
                body["sessionPtr"],
                {"pbdf.gemeente.personalData.bsn": "999990019", "pbdf.gemeente.personalData.fullname": "Bench Burger"},
            )
            status, answer = stack.api("POST", f"/sessions/{body['session_id']}/complete")
            if status != 200 or answer.get("status") != "DISCLOSED":
                raise RuntimeError(f"session {n} not disclosed: {status}")
            codes.add(tel.split(",", 1)[1])
    finally:
        stack.irma.send_callbacks = callbacks
    return codes


def measure(
    stack: Any,
    sessions: int,
    minutes: int,
    guesses_per_minute: int = 130,
    monte_carlo: int = 1_000_000,
    seed: int | None = None,
    callers: str = "fresh",
) -> dict[str, Any]:
    from idbellen import codes as idcodes
    from idbellen.store import DTMF
    from idbellen.wiring import services

    settings = services().settings
    length = settings.dtmf_length
    space = 10**length
    rng = random.Random(seed)
    started = time.monotonic()
    live = _live_codes(stack, sessions)
    created_in = time.monotonic() - started

    # 1. through the handler, at the rate limit
    numbers = iter(range(10**7))
    start = (int(stack.clock.now()) // MINUTE + 1) * MINUTE + 1
    per_minute = []
    hits_verified = 0
    caller: str | None = ""
    for minute in range(minutes):
        counts: Counter[str] = Counter()
        for guess_no in range(guesses_per_minute):
            # The dev stack's clock runs on in real time: spread the guesses over the first 55 s of the
            # simulated minute and set it before each one, so a slow machine never lets a minute's
            # guesses spill into the next minute's window (which would let more than the limit through).
            stack.clock.set(start + minute * MINUTE + guess_no * 55 // guesses_per_minute)
            if callers == "withheld":
                caller = None
            elif guess_no % 9 == 0:
                caller = f"+3164{next(numbers):07d}"
            guess = f"{rng.randrange(space):0{length}d}"
            call = stack.call(guess, caller=caller)
            result = call.lambda_result.get("result", "ERROR")
            counts[result] += 1
            if result == "OK":
                request = {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
                hits_verified += stack.api("POST", "/agent/disclosure", request)[0] == 200
        per_minute.append(
            {
                "minute": minute,
                "guesses": guesses_per_minute,
                "looked_up": guesses_per_minute - counts["RATE_LIMITED"],
                "rate_limited": counts["RATE_LIMITED"],
                "hits": counts["OK"],
                "results": dict(counts),
            }
        )
    looked_up = sum(m["looked_up"] for m in per_minute)
    hits = sum(m["hits"] for m in per_minute)

    # 2. lookup level: the same keyed-hash test the handler makes, without the rate limit
    key = services().hash_key()
    live_pks = {
        i["pk"]
        for i in stack.table_items()
        if i["kind"] == "dtmf" and i.get("state") == "disclosed" and not i.get("redeemed_by")
    }
    mc_hits = 0
    for _ in range(monte_carlo):
        guess = f"{rng.randrange(space):0{length}d}"
        mc_hits += (DTMF + idcodes.keyed_ref(key, "dtmf", settings.tenant, guess)) in live_pks
    mc_expected = monte_carlo * len(live_pks) / space

    return {
        "digits": length,
        "callers": callers,
        "code_space": space,
        "live_sessions": sessions,
        "live_codes_at_monte_carlo": len(live_pks),
        "sessions_created_in_s": round(created_in, 1),
        "handler": {
            "minutes": minutes,
            "guesses": minutes * guesses_per_minute,
            "looked_up": looked_up,
            "looked_up_per_minute_max": max((m["looked_up"] for m in per_minute), default=0),
            "looked_up_per_minute_min": min((m["looked_up"] for m in per_minute), default=0),
            "rate_limited": sum(m["rate_limited"] for m in per_minute),
            "hits": hits,
            "hits_verified": hits_verified,
            "expected_hits": round(looked_up * len(live) / space, 4),
            "hit_rate_per_lookup": hits / looked_up if looked_up else 0.0,
        },
        "per_minute": per_minute,
        "monte_carlo": {
            "guesses": monte_carlo,
            "hits": mc_hits,
            "expected_hits": round(mc_expected, 2),
            "hit_rate": mc_hits / monte_carlo if monte_carlo else 0.0,
            "expected_rate": len(live_pks) / space,
            "poisson_95": [
                round(max(0.0, mc_expected - 1.96 * math.sqrt(mc_expected)), 1),
                round(mc_expected + 1.96 * math.sqrt(mc_expected), 1),
            ],
        },
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--digits", type=int, default=8)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--guesses-per-minute", type=int, default=130)
    parser.add_argument("--monte-carlo", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--callers", choices=("fresh", "withheld"), default="fresh")
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)

    from devstack import DevStack

    settings = {"IDBELLEN_DTMF_LENGTH": str(args.digits), "IDBELLEN_CALL_WINDOW_SECONDS": "3600"}
    with DevStack(settings=settings) as stack:
        report = measure(
            stack, args.sessions, args.minutes, args.guesses_per_minute, args.monte_carlo, args.seed, args.callers
        )
    summary = {k: v for k, v in report.items() if k != "per_minute"}
    text = json.dumps(summary, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
    sys.stderr.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
