"""Realistic ID-call traffic on the dev stack, fast-forwarded: a month in minutes.

Every session is a small script of timed steps (start on the website, disclose or give up in the app,
call — inside or outside opening hours, with the right code, a mistyped one or too late —, wait in
the queue, be shown to an agent, complete or be cleared), run against the real handlers through the
`DevStack` facade. The steps of all sessions are interleaved in time order on one event queue, and
`stack.clock` jumps to each step's moment, so records expire, the cleanup sweep runs on its 5-minute
schedule and the metrics carry the simulated time. Besides sessions: calls without a code, and one
brute-force episode (a caller trying codes until rate-limited).

The `Tally` counts what happened as the simulation saw it (answers of the API, the flow and the
agent route — never the metrics), per month, in the report's terms; `make report-demo` and the
tests compare the report with it.

    python -m devstack.traffic --month 2026-11 --cloudwatch-url http://127.0.0.1:PORT --tally DIR

runs every tenant of one (multi-tenant) dev stack, their sessions interleaved on one clock as on one
deployment, and sends the metrics to a shared CloudWatch (devstack/report_demo.py); `--tenant T`
(repeatable) limits it to those tenants.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

ZONE = ZoneInfo("Europe/Amsterdam")
SWEEP_SECONDS = 300  # the template's default SweepSchedule, rate(5 minutes)
IRMA_TIMEOUT = 300  # IDBELLEN_IRMA_SESSION_TIMEOUT default
CALL_WINDOW = 900  # IDBELLEN_CALL_WINDOW_SECONDS default
RECORD_TTL = 3600
STEP_OFFSET = 0.25  # steps happen at whole seconds + 0.25: the handlers' int(now) is the planned second
READ_GAP = 20  # seconds between an agent's repeated reads
WALLET = {  # clearly fake: BSN from the test range, an invented name and number
    "pbdf.gemeente.personalData.bsn": "999990019",
    "pbdf.gemeente.personalData.fullname": "Demo Burger",
    "pbdf.sidn-pbdf.mobilenumber.mobilenumber": "+31600000000",
}
# The report's histogram bounds (idbellen_report.catalogue), to tally durations the same way.
BOUNDS = {"ttd": (30, 60, 120, 300), "ttc": (30, 60, 120, 300), "age": (300, 900, 1800, 3600)}

OUTCOMES = (
    "abandoned",  # never opened the app: the IRMA session times out
    "cancelled",  # cancelled in the app
    "invalid_proof",
    "no_call",  # disclosed, never called
    "typo",  # called with a mistyped code (dialled by hand)
    "late",  # called after the call window
    "hang_up",  # verified, hung up in the queue
    "shown",  # verified, shown to an agent, completed or cleared
)


@dataclass(frozen=True)
class Profile:
    """A municipality's month: volumes per day and the shares of each outcome."""

    weekday_sessions: float
    weekend_sessions: float
    purposes: dict[str, float]
    outcomes: dict[str, float]
    calls_without_code_per_weekday: float = 1.5
    brute_force_attempts: int = 0  # one episode from one number, 0 for none
    cleared_share: float = 0.25
    second_read_share: float = 0.15


def _outcomes(**overrides: float) -> dict[str, float]:
    base = {
        "abandoned": 0.08,
        "cancelled": 0.04,
        "invalid_proof": 0.01,
        "no_call": 0.04,
        "typo": 0.02,
        "late": 0.015,
        "hang_up": 0.03,
    }
    base.update(overrides)
    base["shown"] = 1 - sum(base.values())
    return base


PROFILES = {
    "default": Profile(22, 1.5, {"demo": 0.6, "belastingen": 0.4}, _outcomes(), brute_force_attempts=25),
    "demodorp": Profile(
        6,
        0.5,
        {"demo": 0.75, "belastingen": 0.25},
        _outcomes(abandoned=0.1, typo=0.01),
        calls_without_code_per_weekday=0.5,
    ),
}
# Relative arrival rate per local hour (citizens use the website mostly in office hours).
HOURLY = [0.02] * 7 + [0.5, 2.0, 2.2, 2.0, 1.6, 1.2, 1.8, 1.8, 1.6, 1.2, 0.4, 0.25, 0.15, 0.15, 0.1, 0.05, 0.02]


@dataclass
class Plan:
    at: float  # epoch seconds (simulated)
    kind: str  # an OUTCOMES entry, "no_code" or "brute_force"
    purpose: str = "demo"
    ttd: float = 40.0  # start -> disclosure (or cancel)
    ttc: float = 25.0  # disclosure -> call
    wait: float = 60.0  # call -> agent (or hang-up)
    talk: float = 300.0  # agent -> end of after-contact work
    reads: int = 1
    cleared: bool = False
    attempts: int = 0  # brute force


@dataclass
class Tally:
    """What happened, per event time: key -> list of (time, value)."""

    events: dict[str, list[float]] = field(default_factory=dict)
    durations: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def count(self, key: str, at: float) -> None:
        self.events.setdefault(key, []).append(at)

    def duration(self, key: str, at: float, seconds: float) -> None:
        self.durations.setdefault(key, []).append((at, seconds))

    def month(self, start: datetime, end: datetime) -> dict[str, int]:
        """Counts of the events in [start, end), and duration buckets as `<key>:<bucket>`."""
        lo, hi = start.timestamp(), end.timestamp()
        out: Counter[str] = Counter()
        for key, times in self.events.items():
            out[key] += sum(1 for t in times if lo <= t < hi)
        for key, items in self.durations.items():
            bounds = BOUNDS[key]
            for t, seconds in items:
                if lo <= t < hi:
                    out[f"{key}:{bucket(seconds, bounds)}"] += 1
                    out[f"{key}:n"] += 1
        return dict(out)

    def to_json(self) -> str:
        return json.dumps({"events": self.events, "durations": self.durations})

    @classmethod
    def from_json(cls, text: str) -> Tally:
        data = json.loads(text)
        return cls(data["events"], {k: [tuple(v) for v in vs] for k, vs in data["durations"].items()})  # type: ignore[misc]


def bucket(seconds: float, bounds: tuple[int, ...]) -> int:
    """CloudWatch TC semantics: bucket i holds (bounds[i-1], bounds[i]]."""
    for i, bound in enumerate(bounds):
        if seconds <= bound:
            return i
    return len(bounds)


def open_at(moment: float) -> bool:
    """Opening hours of the demo KCC: Monday to Friday, 08:00-17:00 local time."""
    local = datetime.fromtimestamp(moment, ZONE)
    return local.weekday() < 5 and 8 <= local.hour < 17


# -- planning ---------------------------------------------------------------------------------------
def _lognormal(rng: random.Random, median: float, sigma: float, low: float, high: float) -> float:
    return min(max(rng.lognormvariate(math.log(median), sigma), low), high)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def plan_month(profile: Profile, start: datetime, end: datetime, seed: int) -> list[Plan]:
    rng = random.Random(seed)  # noqa: S311 (a simulation, nothing secret)
    plans: list[Plan] = []
    weight_sum = sum(HOURLY)
    hour = start
    while hour < end:
        local = hour.astimezone(ZONE)
        daily = profile.weekday_sessions if local.weekday() < 5 else profile.weekend_sessions
        for _ in range(_poisson(rng, daily * HOURLY[local.hour] / weight_sum)):
            plans.append(_session_plan(rng, profile, hour.timestamp() + rng.uniform(0, 3600)))
        if local.weekday() < 5 and 8 <= local.hour < 17:
            for _ in range(_poisson(rng, profile.calls_without_code_per_weekday / 9)):
                plans.append(Plan(math.floor(hour.timestamp() + rng.uniform(0, 3600)) + STEP_OFFSET, "no_code"))
        hour += timedelta(hours=1)
    if profile.brute_force_attempts:
        day = start + timedelta(days=rng.randint(3, 20))
        at = day.astimezone(ZONE).replace(hour=14, minute=rng.randint(0, 50)).timestamp() + STEP_OFFSET
        plans.append(Plan(at, "brute_force", attempts=profile.brute_force_attempts))
    return sorted(plans, key=lambda p: p.at)


def _session_plan(rng: random.Random, profile: Profile, at: float) -> Plan:
    purpose = rng.choices(list(profile.purposes), weights=list(profile.purposes.values()))[0]
    kind = rng.choices(list(profile.outcomes), weights=list(profile.outcomes.values()))[0]
    reads = 1 + (rng.random() < profile.second_read_share) + (rng.random() < 0.02)
    ttd = clear_of(_lognormal(rng, 30 if kind == "cancelled" else 45, 0.7, 6, IRMA_TIMEOUT - 20), BOUNDS["ttd"])
    late = rng.uniform(CALL_WINDOW + 60, CALL_WINDOW + 900)
    ttc = clear_of(late if kind == "late" else _lognormal(rng, 25, 1.0, 4, 840), BOUNDS["ttc"])
    wait = round(_lognormal(rng, 70, 0.8, 5, 1200))
    talk = round(_lognormal(rng, 240, 0.6, 30, 1800) + 60)
    before_end = ttd + ttc + wait + READ_GAP * (reads - 1)
    talk = clear_of(before_end + talk, BOUNDS["age"]) - before_end  # the age at deletion, too
    return Plan(
        at=math.floor(at) + STEP_OFFSET,
        kind=kind,
        purpose=purpose,
        ttd=ttd,
        ttc=ttc,
        wait=wait,
        talk=talk,
        reads=reads,
        cleared=rng.random() < profile.cleared_share,
    )


def clear_of(seconds: float, bounds: tuple[int, ...], margin: int = 5) -> int:
    """Whole seconds at least `margin` away from every bucket bound, so the second or two a step
    takes on a busy machine never moves a duration into the next bucket."""
    value = max(round(seconds), 1)
    for bound in bounds:
        if abs(value - bound) < margin:
            value = bound - margin if value <= bound else bound + margin
    return value


# -- running ----------------------------------------------------------------------------------------
@dataclass
class Timeline:
    """One time-ordered queue of steps for one stack (one clock), shared by the tenants' simulations."""

    stack: Any
    queue: list[tuple[float, int, Iterator[float]]] = field(default_factory=list)
    seq: Iterator[int] = field(default_factory=itertools.count)
    sweeps: set[int] = field(default_factory=set)  # the 5-minute sweep sweeps every tenant: once per tick

    def push(self, at: float, script: Iterator[float]) -> None:
        heapq.heappush(self.queue, (at, next(self.seq), script))

    def drain(self, progress: Callable[[float], None] | None = None) -> None:
        while self.queue:
            at, _, script = heapq.heappop(self.queue)
            if at > float(self.stack.clock.now()):
                self.stack.clock.set(at)
            try:
                following = next(script)
            except StopIteration:
                continue
            self.push(following, script)
            if progress:
                progress(at)


class Simulation:
    """Runs plans on a dev stack for one tenant, in simulated time order."""

    def __init__(
        self,
        stack: Any,
        tenant: str,
        seed: int = 1,
        wallet: dict[str, str] | None = None,
        timeline: Timeline | None = None,
    ) -> None:
        self.stack = stack
        self.tenant = tenant
        self.wallet = wallet or WALLET
        self.seen: list[str] = []  # every session id, code, contact id and secret it handled (privacy tests)
        self.rng = random.Random(seed)  # noqa: S311 (a simulation, nothing secret)
        self.tally = Tally()
        self.timeline = timeline or Timeline(stack)
        self._tenant_args = {"tenant": tenant}  # every DevStack takes tenant= (one tenant or several)

    # the facade, for this tenant
    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.stack.api(method, path, body, **self._tenant_args)  # type: ignore[no-any-return]

    def call(self, digits: str, caller: str, **flags: Any) -> Any:
        return self.stack.call(digits, caller=caller, **flags, **self._tenant_args)

    def now(self) -> float:
        return float(self.stack.clock.now())

    def plan(self, plans: list[Plan]) -> None:
        """Queue the plans on the timeline (run them with `run([])` or `Timeline.drain`)."""
        for plan in plans:
            self.timeline.push(plan.at, self._script(plan))

    def run(self, plans: list[Plan], progress: Callable[[float], None] | None = None) -> Tally:
        self.plan(plans)
        self.timeline.drain(progress)
        return self.tally

    def _script(self, plan: Plan) -> Iterator[float]:
        if plan.kind == "no_code":
            return self._no_code(plan)
        if plan.kind == "brute_force":
            return self._brute_force(plan)
        return self._session(plan)

    def _schedule_sweep(self, expires_at: int) -> float:
        """The cleanup schedule runs every 5 minutes; the first run at or after `expires_at` deletes
        the session (`expires_at <= now`). Only the runs that find something are simulated."""
        tick = -(-expires_at // SWEEP_SECONDS) * SWEEP_SECONDS
        if tick not in self.timeline.sweeps:
            self.timeline.sweeps.add(tick)
            self.timeline.push(tick + STEP_OFFSET, self._sweep())
        return tick + STEP_OFFSET

    def _sweep(self) -> Iterator[float]:
        self.stack.sweep()
        return
        yield  # a generator with no further steps

    def _caller(self) -> str:
        return "+316" + "".join(self.rng.choice("0123456789") for _ in range(8))

    # -- the scripts --------------------------------------------------------------------------
    def _session(self, plan: Plan) -> Iterator[float]:
        """One citizen's session. Steps happen at their planned times (from the plan's start, not
        from when the previous step finished), so durations are the planned whole seconds."""
        t = self.tally
        status, body = self.api("POST", "/sessions", {"purpose": plan.purpose})
        if status != 201:
            raise RuntimeError(f"POST /sessions answered {status}")
        self.seen.append(body["session_id"])
        created = plan.at
        t.count(f"started:{plan.purpose}", created)
        expires_at = int(body["expires_at"])
        created_at = expires_at - RECORD_TTL  # the session's own clock reading (whole seconds)
        swept = self._schedule_sweep(expires_at)  # whatever happens, a session left alone expires

        def expires() -> None:
            self.tally.count("expired", swept)
            self.tally.duration("age", swept, int(swept) - created_at)

        pointer = body["sessionPtr"]
        if plan.kind == "abandoned":
            yield created + IRMA_TIMEOUT + 30
            # irmago's own sweep ends the session with TIMEOUT and calls back; the demo server does
            # that on the next access to the session.
            requests.get(pointer["u"], timeout=10)
            t.count("rejected:timeout", self.now())
            expires()
            return
        disclosed = created + plan.ttd
        yield disclosed
        if plan.kind == "cancelled":
            self.stack.wallet.disclose(pointer, self.wallet, status="CANCELLED")
            t.count("rejected:cancelled", disclosed)
            expires()
            return
        if plan.kind == "invalid_proof":
            self.stack.wallet.disclose(pointer, self.wallet, proof_status="INVALID")
            t.count("rejected:invalid_proof", disclosed)
            expires()
            return
        tel = self.stack.wallet.disclose(pointer, self.wallet)
        t.count(f"disclosed:{plan.purpose}", disclosed)
        t.duration("ttd", disclosed, plan.ttd)
        if plan.kind == "no_call":
            expires()
            return
        called = disclosed + plan.ttc
        yield called
        digits = tel.split(",", 1)[1]
        self.seen.append(digits)
        caller = self._caller()
        if not open_at(called):
            result = self.call(digits, caller, hours_open=False)
            if "MarkSessionClosed" in result.path:  # the flow told the session function: closed
                t.count("outside_hours", called)
            expires()
            return
        if plan.kind == "typo":
            digits = str((int(digits) + 1 + self.rng.randrange(10**6)) % 10 ** len(digits)).zfill(len(digits))
        result = self.call(digits, caller)
        self.seen += [result.contact_id, result.attributes.get("session_secret", "")]
        if result.attributes.get("verified") != "true":
            t.count(f"unverified:{result.lambda_result.get('result', 'error').lower()}", called)
            expires()
            return
        t.count(f"verified:{plan.purpose}", called)
        t.duration("ttc", called, plan.ttc)
        answered = called + plan.wait
        yield answered
        contact = result.contact_id
        if plan.kind == "hang_up":
            self.stack.invoke("cleanup", self.stack.contact_flow_event(contact, result.initial_contact_id, {}))
            self._deleted("hung_up", created_at, answered, plan, shown=False)
            return
        secret = result.attributes["session_secret"]
        self.stack.assign(contact)  # the tenant's dev agent accepts the call in Connect
        for read in range(plan.reads):
            status, _ = self.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": contact})
            if status != 200:
                raise RuntimeError(f"agent read answered {status}")
            if read + 1 < plan.reads:
                yield answered + READ_GAP * (read + 1)
        ended = answered + READ_GAP * (plan.reads - 1) + plan.talk
        yield ended
        if plan.cleared:
            self.api("POST", "/agent/clear", {"secret": secret, "contact_id": contact})
            self._deleted("cleared", created_at, ended, plan, shown=True)
        else:
            self.stack.contact_event(contact, "COMPLETED")
            self._deleted("completed", created_at, ended, plan, shown=True)

    def _deleted(self, reason: str, created_at: int, at: float, plan: Plan, shown: bool) -> None:
        self.tally.count(reason, at)
        self.tally.duration("age", at, int(at) - created_at)
        if shown:
            self.tally.count(f"shown:{plan.purpose}", at)

    def _no_code(self, plan: Plan) -> Iterator[float]:
        at = self.now()
        result = self.call("", self._caller())
        self.tally.count(f"unverified:{result.lambda_result.get('result', 'error').lower()}", at)
        return
        yield

    def _brute_force(self, plan: Plan) -> Iterator[float]:
        caller = self._caller()
        for _ in range(plan.attempts):
            at = self.now()
            digits = "".join(self.rng.choice("0123456789") for _ in range(8))
            result = self.call(digits, caller)
            self.tally.count(f"unverified:{result.lambda_result.get('result', 'error').lower()}", at)
            yield self.now() + self.rng.uniform(8, 20)


def run_tenants(
    stack: Any, plans: dict[str, list[Plan]], seed: int = 1, wallet: dict[str, str] | None = None
) -> dict[str, Simulation]:
    """Several tenants' plans on one stack, interleaved in time order as on one deployment; each
    tenant's simulation tallies its own tenant's events."""
    timeline = Timeline(stack)
    simulations = {}
    for i, (tenant, tenant_plans) in enumerate(plans.items()):
        simulations[tenant] = Simulation(stack, tenant, seed=seed + i, wallet=wallet, timeline=timeline)
        simulations[tenant].plan(tenant_plans)
    timeline.drain()
    return simulations


def month_bounds(text: str) -> tuple[datetime, datetime]:
    year, month = (int(x) for x in text.split("-"))
    start = datetime(year, month, 1, tzinfo=ZONE)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=ZONE)
    return start.astimezone(UTC), end.astimezone(UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.traffic", description=__doc__)
    parser.add_argument("--tenant", action="append", help="only this tenant of the stack (repeatable)")
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--cloudwatch-url", required=True, help="the shared CloudWatch (moto) the metrics go to")
    parser.add_argument("--tally", type=Path, required=True, help="directory for what happened (<tenant>.json)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    from devstack import DevStack

    start, end = month_bounds(args.month)
    with DevStack(cloudwatch_url=args.cloudwatch_url) as stack:
        tenants = args.tenant or stack.tenants
        plans = {
            t: plan_month(PROFILES.get(t) or PROFILES["demodorp"], start, end, args.seed + i)
            for i, t in enumerate(tenants)
        }
        stack.clock.set(start.timestamp())
        simulations = run_tenants(stack, plans, seed=args.seed)
        stack.flush_metrics()
    args.tally.mkdir(parents=True, exist_ok=True)
    for tenant, simulation in simulations.items():
        (args.tally / f"{tenant}.json").write_text(simulation.tally.to_json(), encoding="utf-8")
        print(f"{tenant}: {len(plans[tenant])} plans simulated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
