"""`make bench`: measure idbellen's budgets against the dev stack, side by side with the physical floor.

    python -m bench.run                 # full run: bench/results.json, bench/RESULTS.md, bench/latency.png
    python -m bench.run --smoke --out DIR   # tiny sizes, no budget verdict (the test suite runs this)

Everything is a ratio to a floor measured in the same run on the same machine (the machines are
shared and noisy; absolute times are not stable): import time against `import boto3` + one client,
handler latency against a bare `GetItem` on the same moto server, throughput against the same
server's bare `PutItem`+`GetItem` rate. Call counts are exact. bench/README.md explains each number.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
HANDLERS = ("session", "dtmf", "agent", "cleanup")
OPERATIONS = ("session_create", "complete_pull", "dtmf_redeem", "disclosure_read", "clear", "cleanup")
CREDENTIALS = {"pbdf.gemeente.personalData.bsn": "999990019", "pbdf.gemeente.personalData.fullname": "J. Jansen"}
CALLER = "+31612345678"
BASELINE_TABLE = "bench-baseline"


@dataclass(frozen=True)
class Sizes:
    import_runs: int = 17
    latency_flows: int = 500
    warmup_flows: int = 10
    load_flows: int = 1000
    load_threads: int = 8
    tenant_load_flows: int = 600  # the two-tenant run: half each, interleaved
    baseline_seconds: float = 5.0
    rss_invocations: int = 100
    api_repeats: int = 3
    cold_callbacks: int = 9


SMOKE = Sizes(
    import_runs=2,
    latency_flows=4,
    warmup_flows=1,
    load_flows=6,
    load_threads=2,
    tenant_load_flows=4,
    baseline_seconds=0.3,
    rss_invocations=3,
    api_repeats=1,
    cold_callbacks=1,
)

# (key in results, comparison, limit, what it protects)
BUDGETS: list[tuple[str, str, float, str]] = [
    ("api_calls.dtmf_redeem.dynamodb", "<=", 2, "DTMF redemption: at most 2 DynamoDB calls warm"),
    ("api_calls.dtmf_redeem.kms", "<=", 0, "DTMF redemption: no KMS (the DTMF role has no kms:Decrypt)"),
    ("api_calls.dtmf_redeem.ssm", "<=", 0, "DTMF redemption: no SSM when warm"),
    ("api_calls.dtmf_redeem.http", "<=", 0, "DTMF redemption: no HTTP when warm"),
    ("api_calls.disclosure_read.dynamodb", "<=", 2, "disclosure read: at most 2 DynamoDB calls"),
    ("api_calls.disclosure_read.kms", "<=", 1, "disclosure read: at most 1 KMS call"),
    ("import_ratio.dtmf", "<=", 1.25, "DTMF cold import within 25 % of boto3 + one client"),
    (
        "latency_detail.dtmf_vs_own_floor.p50",
        "<=",
        1.25,
        "DTMF warm p50 within 25 % of its own two DynamoDB requests replayed bare",
    ),
    (
        "cold_callback_ms",
        "<=",
        2000,
        "IRMA callback answered by a cold session function at its Lambda CPU share: half the app's 4.2 s",
    ),
    ("load.errors", "<=", 0, "load: no errors"),
    ("load.items_left", "<=", 0, "load: nothing left in the table"),
    ("load_tenants.errors", "<=", 0, "two-tenant load: no errors (each call read by its own tenant's agent)"),
    ("load_tenants.items_left", "<=", 0, "two-tenant load: nothing left in the table"),
    ("load_tenants.tenants", ">=", 2, "two-tenant load: ran on at least two tenants"),
    ("peak_rss_mb.dtmf", "<=", 100, "DTMF fits a 128 MB function"),
]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


HANDLER_LOG = {"path": os.devnull}


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Handlers write their log lines, processing log and EMF metrics to stdout, as in Lambda; the
    bench points fd 1 at a file meanwhile (bench/.cache/handlers.log; its own progress goes to
    stderr), so a failure can be looked up there."""
    sys.stdout.flush()
    saved = os.dup(1)
    sink = os.open(HANDLER_LOG["path"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(sink, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(sink)


TRANSPORT_RETRIES: Counter[str] = Counter()


def count_retries(caught_exception: Any = None, response: Any = None, operation: Any = None, **_: Any) -> None:
    """botocore `needs-retry` hook: note every attempt that failed in transport or with a 5xx."""
    name = getattr(operation, "name", "?")
    if caught_exception is not None:
        TRANSPORT_RETRIES[f"{name}: {type(caught_exception).__name__}"] += 1
    elif response is not None and response[0].status_code >= 500:
        TRANSPORT_RETRIES[f"{name}: HTTP {response[0].status_code}"] += 1


# -- driving the stack --------------------------------------------------------------------------
class Driver:
    """One ID call, step by step, through the real handlers (events built as API Gateway / Connect /
    EventBridge would; the DTMF function is invoked directly, without the flow simulator)."""

    def __init__(self, stack: Any, tenant: str | None = None) -> None:
        from devstack.apigw import build_event

        self.stack = stack
        self.tenant = tenant or stack.tenants[0]
        self._build_event = build_event
        self._claims = stack.agent_claims(self.tenant)  # the tenant's dev agent, as the JWT authorizer passes it

    def http_event(self, function: str, method: str, route: str, path: str, body: Any, params: dict[str, str]) -> Any:
        claims = self._claims if function == "agent" else None
        text = json.dumps(body) if body is not None else None
        return self._build_event(
            method, path, text, {"content-type": "application/json"}, f"{method} {route}", params, claims
        )

    def call_http(self, function: str, event: Any) -> tuple[int, Any]:
        result = self.stack.invoke(function, event)
        status = int(result.get("statusCode", 200))
        body = result.get("body") or ""
        return status, json.loads(body) if body else None

    # steps; each returns (event, checker) so the caller can time the handler call alone
    def create_event(self) -> Any:
        body = {"purpose": "demo", "tenant": self.tenant}  # the tenant's citizen page
        return self.http_event("session", "POST", "/sessions", "/sessions", body, {})

    def status_event(self, session_id: str) -> Any:
        return self.http_event(
            "session", "GET", "/sessions/{session_id}", f"/sessions/{session_id}", None, {"session_id": session_id}
        )

    def complete_event(self, session_id: str) -> Any:
        return self.http_event(
            "session",
            "POST",
            "/sessions/{session_id}/complete",
            f"/sessions/{session_id}/complete",
            None,
            {"session_id": session_id},
        )

    def dtmf_event(self, digits: str, contact_id: str) -> Any:
        return self.stack.contact_flow_event(contact_id, contact_id, {"dtmf": digits}, CALLER, tenant=self.tenant)

    def read_event(self, secret: str, contact_id: str) -> Any:
        """The dev agent accepted the contact in Connect (the stand-in; no AWS call) and reads it."""
        self.stack.assign(contact_id)
        return self.http_event(
            "agent", "POST", "/agent/disclosure", "/agent/disclosure", {"secret": secret, "contact_id": contact_id}, {}
        )

    def clear_event(self, secret: str, contact_id: str) -> Any:
        body = {"secret": secret, "contact_id": contact_id}
        return self.http_event("agent", "POST", "/agent/clear", "/agent/clear", body, {})

    def completed_event(self, contact_id: str) -> Any:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Amazon Connect Contact Event",
            "source": "aws.connect",
            "account": "123456789012",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": "eu-central-1",
            "resources": [],
            "detail": {
                "eventType": "COMPLETED",
                "contactId": contact_id,
                "initialContactId": contact_id,
                "channel": "VOICE",
                "instanceArn": self.stack.tenant_config[self.tenant].instance_arn,  # the tenant's instance
                "initiationMethod": "INBOUND",
            },
        }

    def disclose(self, session_ptr: dict[str, Any]) -> str:
        tel = self.stack.wallet.disclose(session_ptr, CREDENTIALS)
        if not tel or "," not in tel:
            raise FlowError("wallet got no tel: URL")
        return str(tel.split(",", 1)[1])


class FlowError(Exception):
    pass


def expect(ok: bool, what: str) -> None:
    if not ok:
        raise FlowError(what)


# -- api_calls -----------------------------------------------------------------------------------
def measure_api_calls(stack: Any, driver: Driver, counter: Any, repeats: int) -> dict[str, Any]:
    from bench.counting import summarise

    seen: dict[str, list[dict[str, Any]]] = {op: [] for op in OPERATIONS}

    def one_round(counted: bool) -> None:
        def window() -> Any:
            return counter.window() if counted else contextlib.nullcontext(Counter())

        # flow 1: IRMA callback delivers the result; the agent clears the contact
        with window() as calls:
            status, body = driver.call_http("session", driver.create_event())
        expect(status == 201, f"session create {status}")
        record("session_create", calls)
        digits = driver.disclose(body["sessionPtr"])
        contact = str(uuid.uuid4())
        with window() as calls:
            answer = stack.invoke("dtmf", driver.dtmf_event(digits, contact))
        expect(answer.get("result") == "OK", f"dtmf {answer.get('result')}")
        record("dtmf_redeem", calls)
        with window() as calls:
            status, _ = driver.call_http("agent", driver.read_event(answer["session_secret"], contact))
        expect(status == 200, f"disclosure read {status}")
        record("disclosure_read", calls)
        with window() as calls:
            status, _ = driver.call_http("agent", driver.clear_event(answer["session_secret"], contact))
        expect(status == 204, f"clear {status}")
        record("clear", calls)

        # flow 2: no callback; the browser's /complete pulls the result; the contact completes
        status, body = driver.call_http("session", driver.create_event())
        expect(status == 201, f"session create {status}")
        stack.irma.send_callbacks = False
        try:
            digits = driver.disclose(body["sessionPtr"])
        finally:
            stack.irma.send_callbacks = True
        with window() as calls:
            status, pulled = driver.call_http("session", driver.complete_event(body["session_id"]))
        expect(status == 200 and pulled.get("status") == "DISCLOSED", f"complete {status} {pulled}")
        record("complete_pull", calls)
        contact = str(uuid.uuid4())
        answer = stack.invoke("dtmf", driver.dtmf_event(digits, contact))
        expect(answer.get("result") == "OK", f"dtmf {answer.get('result')}")
        status, _ = driver.call_http("agent", driver.read_event(answer["session_secret"], contact))
        expect(status == 200, f"disclosure read {status}")
        with window() as calls:
            out = stack.invoke("cleanup", driver.completed_event(contact))
        expect(out.get("result") == "OK" and int(out.get("deleted", 0)) > 0, f"cleanup {out}")
        record("cleanup", calls)

    counted_now = {"on": False}

    def record(op: str, calls: Counter[str]) -> None:
        if counted_now["on"]:
            seen[op].append(summarise(calls))

    with quiet_stdout():
        one_round(counted=False)  # cold: the first invocation of each function builds its clients
        counted_now["on"] = True
        for _ in range(repeats):
            one_round(counted=True)
    result: dict[str, Any] = {}
    for op, runs in seen.items():
        first = runs[0]
        stable = all(r == first for r in runs)
        result[op] = {**first, "stable_over_repeats": stable, "repeats": len(runs)}
    return result


# -- warm latency ----------------------------------------------------------------------------------
def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def measure_latency(stack: Any, driver: Driver, flows: int, warmup: int) -> dict[str, list[float]]:
    """Whole flows one after another, each handler call timed alone. Next to each flow, on the same
    server: a bare `GetItem` (the floor of `warm_latency_ratio`), and the DTMF function's own two
    DynamoDB requests replayed bare: its `BatchGetItem` and `TransactWriteItems`, captured as the
    handler sent them, sent again to a copy of the table as it was before the handler ran (so the
    emulator does the same work). Noise hits floor and handler alike."""
    import copy

    from idbellen import aws

    ddb = stack.session.client("dynamodb")
    table = stack.resources.table
    ddb.create_table(
        TableName=BASELINE_TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    samples: dict[str, list[float]] = {
        k: [] for k in ("getitem", "batchget3", "transact4", "session", "dtmf", "agent", "cleanup")
    }
    failures: Counter[str] = Counter()
    captured: dict[str, Any] = {}

    def capture(params: Any = None, model: Any = None, **_: Any) -> None:
        if model is not None and model.name in ("BatchGetItem", "TransactWriteItems"):
            captured[model.name] = copy.deepcopy(params)

    aws.client("dynamodb").meta.events.register("before-parameter-build.dynamodb.*", capture)

    def snapshot() -> list[dict[str, Any]]:
        return list(ddb.scan(TableName=table, ConsistentRead=True).get("Items", []))

    def retarget(name: str, params: dict[str, Any]) -> dict[str, Any]:
        params = copy.deepcopy(params)
        params.pop("ClientRequestToken", None)
        if name == "BatchGetItem":
            params["RequestItems"] = {BASELINE_TABLE: params["RequestItems"][table]}
        else:
            for op in params["TransactItems"]:
                next(iter(op.values()))["TableName"] = BASELINE_TABLE
        return params

    def bare(before: list[dict[str, Any]]) -> None:
        """The floor calls, against a copy of `before` (the table as the DTMF function found it)."""
        for start in range(0, len(before), 25):
            chunk = before[start : start + 25]
            ddb.batch_write_item(RequestItems={BASELINE_TABLE: [{"PutRequest": {"Item": i}} for i in chunk]})
        key = {"pk": next((i["pk"] for i in before if i["pk"]["S"].startswith("SESSION#")), {"S": "none"})}
        samples["getitem"].append(
            _timed(lambda: ddb.get_item(TableName=BASELINE_TABLE, Key=key, ConsistentRead=True))[0]
        )
        batch = retarget("BatchGetItem", captured["BatchGetItem"])
        samples["batchget3"].append(_timed(lambda: ddb.batch_get_item(**batch))[0])
        txn = retarget("TransactWriteItems", captured["TransactWriteItems"])
        samples["transact4"].append(_timed(lambda: ddb.transact_write_items(**txn))[0])
        leftovers = ddb.scan(TableName=BASELINE_TABLE, ConsistentRead=True).get("Items", [])
        for start in range(0, len(leftovers), 25):
            chunk = leftovers[start : start + 25]
            ddb.batch_write_item(
                RequestItems={BASELINE_TABLE: [{"DeleteRequest": {"Key": {"pk": i["pk"]}}} for i in chunk]}
            )

    def timed_flow() -> tuple[float, float, float, float, list[dict[str, Any]]]:
        create = driver.create_event()
        t_create, result = _timed(lambda e=create: driver.call_http("session", e))
        status, body = result
        expect(status == 201, f"session create {status}")
        digits = driver.disclose(body["sessionPtr"])
        contact = str(uuid.uuid4())
        event = driver.dtmf_event(digits, contact)
        before = snapshot()
        captured.clear()
        t_dtmf, answer = _timed(lambda e=event: stack.invoke("dtmf", e))
        expect(answer.get("result") == "OK", f"dtmf {answer.get('result')}")
        expect(set(captured) == {"BatchGetItem", "TransactWriteItems"}, f"dtmf calls {sorted(captured)}")
        read = driver.read_event(answer["session_secret"], contact)
        t_read, (status, _) = _timed(lambda e=read: driver.call_http("agent", e))
        expect(status == 200, f"read {status}")
        done = driver.completed_event(contact)
        t_clean, out = _timed(lambda e=done: stack.invoke("cleanup", e))
        expect(out.get("result") == "OK", f"cleanup {out}")
        return t_create, t_dtmf, t_read, t_clean, before

    import gc

    # The moto server, the demo IRMA server and the dev stack share this process, and their heap is
    # nothing a Lambda would carry: freeze it, so a full collection does not walk it and land in
    # whichever call happens to be running (pauses that remain are in latency_detail.gc).
    gc.collect()
    gc.freeze()
    with quiet_stdout(), GC_PAUSES.watching():
        i = 0
        while len(samples["dtmf"]) < flows and i < warmup + 2 * flows:
            keep = i >= warmup
            i += 1
            try:
                t_create, t_dtmf, t_read, t_clean, before = timed_flow()
                bare(before)
            except FlowError as exc:  # counted and shown; a failed flow gives no samples
                failures[str(exc)] += 1
                continue
            if keep:
                samples["session"].append(t_create)
                samples["dtmf"].append(t_dtmf)
                samples["agent"].append(t_read)
                samples["cleanup"].append(t_clean)
            else:
                for name in ("getitem", "batchget3", "transact4"):
                    samples[name].pop()
    aws.client("dynamodb").meta.events.unregister("before-parameter-build.dynamodb.*", capture)
    gc.unfreeze()
    samples["failed_flows"] = [float(n) for n in failures.values()]
    if failures:
        log(f"latency phase: failed flows {dict(failures)} (see {HANDLER_LOG['path']})")
    return samples


class GcPauses:
    """Garbage-collector pauses in this process while it measures (gc.callbacks)."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses[int(info["generation"])].append((time.perf_counter() - self._start) * 1000)

    @contextlib.contextmanager
    def watching(self) -> Iterator[GcPauses]:
        import gc

        gc.callbacks.append(self)
        try:
            yield self
        finally:
            gc.callbacks.remove(self)

    def summary(self) -> dict[str, Any]:
        return {
            f"gen{g}": {"count": len(v), "max_ms": round(max(v), 2) if v else 0.0, "total_ms": round(sum(v), 1)}
            for g, v in self.pauses.items()
        }


GC_PAUSES = GcPauses()


def latency_summary(samples: dict[str, list[float]]) -> tuple[dict[str, float], dict[str, Any]]:
    failed = int(sum(samples.pop("failed_flows", [])))
    floor50, floor99 = percentile(samples["getitem"], 50), percentile(samples["getitem"], 99)
    ratios: dict[str, float] = {}
    for handler in HANDLERS:
        ratios[f"{handler}_p50"] = round(percentile(samples[handler], 50) / floor50, 2)
        ratios[f"{handler}_p99"] = round(percentile(samples[handler], 99) / floor99, 2)
    detail = {
        name: {
            "n": len(values),
            "p50_ms": round(percentile(values, 50), 2),
            "p90_ms": round(percentile(values, 90), 2),
            "p99_ms": round(percentile(values, 99), 2),
            "max_ms": round(max(values), 2),
        }
        for name, values in samples.items()
    }
    # The DTMF path is BatchGetItem + TransactWriteItems: its own floor is those two bare calls.
    floor_dtmf = [b + t for b, t in zip(samples["batchget3"], samples["transact4"], strict=True)]
    detail["failed_flows"] = failed
    detail["gc"] = GC_PAUSES.summary()
    detail["dtmf_vs_own_floor"] = {
        "p50": round(percentile(samples["dtmf"], 50) / percentile(floor_dtmf, 50), 2),
        "p99": round(percentile(samples["dtmf"], 99) / percentile(floor_dtmf, 99), 2),
    }
    # ... and those two requests alone, in GetItems: the least any code making them could score
    detail["dtmf_requests_vs_getitem"] = {
        "p50": round(percentile(floor_dtmf, 50) / floor50, 2),
        "p99": round(percentile(floor_dtmf, 99) / floor99, 2),
    }
    return ratios, detail


# -- load ------------------------------------------------------------------------------------------
def one_flow(stack: Any, driver: Driver) -> None:
    status, body = driver.call_http("session", driver.create_event())
    expect(status == 201, f"session create {status}")
    digits = driver.disclose(body["sessionPtr"])
    contact = str(uuid.uuid4())
    completed = False
    try:
        answer = stack.invoke("dtmf", driver.dtmf_event(digits, contact))
        expect(answer.get("result") == "OK", f"dtmf {answer.get('result')}")
        status, shown = driver.call_http("agent", driver.read_event(answer["session_secret"], contact))
        expect(status == 200 and len(shown.get("attributes", [])) == 2, f"read {status}")
        out = stack.invoke("cleanup", driver.completed_event(contact))
        completed = True
        expect(out.get("result") == "OK" and int(out.get("deleted", 0)) > 0, f"cleanup {out}")
    finally:
        if not completed:  # whatever went wrong, the call ends and Connect sends COMPLETED
            stack.invoke("cleanup", driver.completed_event(contact))


def one_environment_per_function(stack: Any) -> Callable[[], None]:
    """In Lambda an execution environment runs one invocation at a time, and Powertools' resolver
    keeps the current event on the module-level `app`; so each function gets a lock here (one warm
    environment per function). Returns the undo."""
    locks = {name: threading.Lock() for name in (*HANDLERS, "session_callback")}
    originals = dict(stack.handlers)
    dispatcher_originals = dict(stack.dispatcher.handlers)
    standin_originals = dict(stack.lambdas.functions)

    def locked(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(event: Any, context: Any) -> Any:
            # irmago calls back inside the app's request while the session function may be busy:
            # Lambda runs it in a second execution environment, and so does this.
            route = event.get("routeKey", "") if isinstance(event, dict) else ""
            lock = locks["session_callback"] if route.startswith("POST /irma/callback/") else locks[name]
            with lock:
                return fn(event, context)

        return run

    for name in HANDLERS:
        stack.handlers[name] = locked(name, originals[name])
    for name, fn in dispatcher_originals.items():
        stack.dispatcher.handlers[name] = locked(name, fn)
    for name, fn in standin_originals.items():
        stack.lambdas.functions[name] = locked("session", fn)

    def undo() -> None:
        stack.handlers.update(originals)
        stack.dispatcher.handlers.update(dispatcher_originals)
        stack.lambdas.functions.update(standin_originals)

    return undo


def table_count(stack: Any) -> int:
    return len(stack.table_items())


def measure_load(
    stack: Any, drivers: list[Driver], flows: int, threads: int, baseline_seconds: float
) -> dict[str, Any]:
    """`flows` whole calls on `threads` threads, round-robin over the drivers' tenants (one driver:
    one tenant), then the same server's bare PutItem + GetItem rate as the yardstick."""
    from idbellen import aws

    items_before = table_count(stack)
    errors: Counter[str] = Counter()
    undo = one_environment_per_function(stack)
    TRANSPORT_RETRIES.clear()
    aws.client("dynamodb").meta.events.register("needs-retry.dynamodb.*", count_retries)

    per_tenant: Counter[str] = Counter()

    def work(n: int) -> None:
        driver = drivers[n % len(drivers)]
        try:
            one_flow(stack, driver)
            per_tenant[driver.tenant] += 1
        except Exception as exc:
            errors[f"{driver.tenant}: {type(exc).__name__}: {exc}"[:120]] += 1

    try:
        with quiet_stdout(), ThreadPoolExecutor(max_workers=threads) as pool:
            t = time.perf_counter()
            list(pool.map(work, range(flows)))
            elapsed = time.perf_counter() - t
    finally:
        undo()
        aws.client("dynamodb").meta.events.unregister("needs-retry.dynamodb.*", count_retries)
    items_left = table_count(stack) - items_before
    retries = dict(TRANSPORT_RETRIES)
    from devstack.moto_atomic import replayed

    if replayed["transactions"]:
        retries["TransactWriteItems answered from its ClientRequestToken"] = replayed["transactions"]

    # the same server's bare PutItem + GetItem rate, same number of threads
    ddb = stack.session.client("dynamodb")
    stop = time.perf_counter() + baseline_seconds
    done = [0] * threads

    def bare(n: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            key = {"pk": {"S": f"LOAD#{n}#{i}"}}
            ddb.put_item(TableName=BASELINE_TABLE, Item={**key, "v": {"S": "x"}})
            ddb.get_item(TableName=BASELINE_TABLE, Key=key, ConsistentRead=True)
            done[n] += 2
            i += 1

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(bare, range(threads)))
    baseline = sum(done) / (time.perf_counter() - t)
    return {
        "flows": flows,
        "threads": threads,
        "tenants": len({d.tenant for d in drivers}),
        "flows_per_tenant": dict(per_tenant),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common(5)),
        "items_left": items_left,
        "seconds": round(elapsed, 2),
        "flows_per_s": round(flows / elapsed, 2),
        "baseline_ops_per_s": round(baseline, 1),
        "flows_per_s_ratio": round(flows / elapsed / baseline, 4),
        "dynamodb_retries": retries,
    }


# -- fresh processes: import time and memory ---------------------------------------------------------
def child_env(pycache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached in our own prefix, like a deployed .pyc
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["PYTHONPATH"] = f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}"
    env.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    return env


def run_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "child.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[:2]} failed: {proc.stderr.strip()[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def measure_imports(runs: int, pycache: Path) -> tuple[dict[str, float], dict[str, Any]]:
    """Fresh processes, round robin (floor, session, dtmf, agent, cleanup, floor, ...) so slow moments
    of the shared machine hit every kind alike; medians per kind. The ratio is of CPU time: importing
    is CPU work, and on a shared machine wall time adds however long the process waited for a CPU
    (the wall-clock medians and their ratio are reported alongside)."""
    env = child_env(pycache)
    kinds = ["floor", *HANDLERS]
    for kind in kinds:  # warm the bytecode cache and the page cache
        run_child(["floor"] if kind == "floor" else ["import", kind], env)
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    wall: dict[str, list[float]] = {k: [] for k in kinds}
    heavy: dict[str, list[str]] = {}
    for _ in range(runs):
        for kind in kinds:
            out = run_child(["floor"] if kind == "floor" else ["import", kind], env)
            cpu[kind].append(out["cpu_ms"])
            wall[kind].append(out["ms"])
            if kind != "floor":
                heavy[kind] = out["heavy_modules"]
    floor_cpu, floor_wall = statistics.median(cpu["floor"]), statistics.median(wall["floor"])
    ratios = {h: round(statistics.median(cpu[h]) / floor_cpu, 3) for h in HANDLERS}
    detail = {
        "runs": runs,
        "measure": "CPU time (time.process_time) of the import, median per kind",
        "median_cpu_ms": {k: round(statistics.median(v), 1) for k, v in cpu.items()},
        "median_wall_ms": {k: round(statistics.median(v), 1) for k, v in wall.items()},
        "min_cpu_ms": {k: round(min(v), 1) for k, v in cpu.items()},
        "wall_ratio": {h: round(statistics.median(wall[h]) / floor_wall, 3) for h in HANDLERS},
        "heavy_modules": heavy,
        "samples_cpu_ms": {k: [round(x, 1) for x in v] for k, v in cpu.items()},
        "samples_wall_ms": {k: [round(x, 1) for x in v] for k, v in wall.items()},
    }
    return ratios, detail


def measure_rss(stack: Any, driver: Driver, invocations: int, pycache: Path, workdir: Path) -> dict[str, Any]:
    """Peak RSS of a fresh process after importing the handler and running `invocations` events
    against the dev stack's embedded AWS (the child inherits its endpoint and settings)."""
    events: dict[str, list[Any]] = {h: [] for h in HANDLERS}
    with quiet_stdout():
        for _ in range(invocations):
            status, body = driver.call_http("session", driver.create_event())
            expect(status == 201, f"session create {status}")
            events["dtmf"].append(driver.dtmf_event(driver.disclose(body["sessionPtr"]), str(uuid.uuid4())))
            events["session"].append(driver.create_event())
            events["cleanup"].append(driver.completed_event(str(uuid.uuid4())))
        status, body = driver.call_http("session", driver.create_event())
        contact = str(uuid.uuid4())
        answer = stack.invoke("dtmf", driver.dtmf_event(driver.disclose(body["sessionPtr"]), contact))
        expect(answer.get("result") == "OK", "dtmf for the agent reads")
        events["agent"] = [driver.read_event(answer["session_secret"], contact)] * invocations
    env = child_env(pycache)
    out: dict[str, Any] = {}
    for handler in HANDLERS:
        path = workdir / f"events-{handler}.json"
        path.write_text(json.dumps(events[handler]))
        out[handler] = run_child(["rss", handler, str(path)], env)
    return out


# -- the deployable bundle -------------------------------------------------------------------------
def measure_artifact(cache: Path, with_deps: bool) -> dict[str, Any]:
    """Zip of lambdas/idbellen + the runtime deps of lambdas/requirements.txt built for aarch64
    (Lambda's python3.12 runtime provides boto3, so it is not in the bundle)."""
    import zipfile

    wheels = cache / "wheels-aarch64"
    note = "package + runtime deps (aarch64 manylinux wheels, hash-checked)"
    wheel_files: list[Path] = []
    if with_deps:
        stamp = wheels / ".requirements-sha"
        req = ROOT / "lambdas" / "requirements.txt"
        digest = hashlib.sha256(req.read_bytes()).hexdigest()
        if not (stamp.exists() and stamp.read_text() == digest):
            shutil.rmtree(wheels, ignore_errors=True)
            wheels.mkdir(parents=True)
            log("downloading aarch64 wheels of lambdas/requirements.txt (cached in bench/.cache)")
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "--implementation",
                "cp",
                "--python-version",
                "3.12",
                "--abi",
                "cp312",
                "--abi",
                "abi3",
                "--abi",
                "none",
                *[
                    arg
                    for plat in (
                        "manylinux2014_aarch64",
                        "manylinux_2_28_aarch64",
                        "manylinux_2_34_aarch64",
                        "any",
                    )
                    for arg in ("--platform", plat)
                ],
                "-r",
                str(req),
                "-d",
                str(wheels),
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
            if proc.returncode != 0:
                raise RuntimeError("pip download failed: " + proc.stderr.strip()[-1500:])
            stamp.write_text(digest)
        wheel_files = sorted(wheels.glob("*.whl"))
    else:
        note = "package only (smoke run: dependencies not downloaded)"
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "bundle"
        shutil.copytree(
            ROOT / "lambdas" / "idbellen", staging / "idbellen", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        for wheel in wheel_files:
            with zipfile.ZipFile(wheel) as zf:
                zf.extractall(staging)
        from iac.artifact import compile_bytecode

        compile_bytecode(staging)  # as iac/artifact.py ships it (unchecked-hash .pyc)
        unzipped = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
        archive = Path(tmp) / "bundle.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for p in sorted(staging.rglob("*")):
                if p.is_file():
                    zf.write(p, p.relative_to(staging))
        zipped = archive.stat().st_size
    built = ROOT / "build" / "idbellen-lambdas.zip"  # `make build` (SAM) output, when someone ran it
    return {
        "make_build_zip_mb": round(built.stat().st_size / 1e6, 2) if built.exists() else None,
        "artifact_mb": round(zipped / 1e6, 2),
        "artifact_unzipped_mb": round(unzipped / 1e6, 2),
        "wheels": [w.name for w in wheel_files],
        "note": note,
    }


# -- budgets and output ----------------------------------------------------------------------------
def lookup(results: dict[str, Any], dotted: str) -> Any:
    value: Any = results
    for part in dotted.split("."):
        value = value[part]
    return value


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, op, limit, why in BUDGETS:
        try:
            value = lookup(results, key)
        except (KeyError, TypeError):
            value = None
        met = value is not None and (value <= limit if op == "<=" else value >= limit)
        out.append({"key": key, "value": value, "limit": f"{op} {limit:g}", "met": met, "why": why})
    return out


def run(sizes: Sizes, out_dir: Path, smoke: bool) -> dict[str, Any]:
    from bench.counting import CallCounter
    from devstack import DevStack

    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = BENCH / ".cache"
    cache.mkdir(exist_ok=True)
    HANDLER_LOG["path"] = str(cache / "handlers.log")
    Path(HANDLER_LOG["path"]).write_text("")
    results: dict[str, Any] = {
        "meta": {
            "smoke": smoke,
            "sizes": asdict(sizes),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        pycache = workdir / "pycache"
        log("import time: fresh processes, floor vs each handler")
        results["import_ratio"], results["import_detail"] = measure_imports(sizes.import_runs, pycache)
        log(f"import_ratio {results['import_ratio']}")
        with DevStack() as stack:
            driver = Driver(stack)
            counter = CallCounter(stack.irma.url).install()
            try:
                log("api calls per operation (warm)")
                results["api_calls"] = measure_api_calls(stack, driver, counter, sizes.api_repeats)
            finally:
                counter.uninstall()
            log(f"warm latency: {sizes.latency_flows} flows, each handler timed, bare calls alongside")
            samples = measure_latency(stack, driver, sizes.latency_flows, sizes.warmup_flows)
            results["warm_latency_ratio"], results["latency_detail"] = latency_summary(samples)
            log(f"warm_latency_ratio {results['warm_latency_ratio']}")
            log(f"load: {sizes.load_flows} flows on {sizes.load_threads} threads")
            results["load"] = measure_load(
                stack, [driver], sizes.load_flows, sizes.load_threads, sizes.baseline_seconds
            )
            log(f"load {results['load']}")
            drivers = [Driver(stack, tenant) for tenant in stack.tenants]
            log(
                f"two-tenant load: {sizes.tenant_load_flows} flows over {stack.tenants} on {sizes.load_threads} threads"
            )
            results["load_tenants"] = measure_load(
                stack, drivers, sizes.tenant_load_flows, sizes.load_threads, sizes.baseline_seconds
            )
            log(f"load_tenants {results['load_tenants']}")
            log(f"peak RSS: fresh process per handler, {sizes.rss_invocations} invocations")
            rss = measure_rss(stack, driver, sizes.rss_invocations, pycache, workdir)
            results["peak_rss_mb"] = {h: round(v["rss_mb"], 1) for h, v in rss.items()}
            results["rss_detail"] = rss
            log(f"cold callback: {sizes.cold_callbacks} fresh processes at the session function's CPU share")
            from bench.coldstart import measure_cold_callback

            cold = measure_cold_callback(stack, driver, sizes.cold_callbacks, pycache, workdir, child_env, quiet_stdout)
            results["cold_callback_ms"], results["cold_callback_detail"] = cold["value"], cold["detail"]
            log(f"cold_callback_ms {results['cold_callback_ms']} ({cold['detail']['method']})")
    log("artifact size")
    artifact = measure_artifact(cache, with_deps=not smoke)
    results["artifact_mb"] = artifact["artifact_mb"]
    results["artifact_detail"] = artifact
    results["budgets"] = verdicts(results)
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)

    (out_dir / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    from bench.report import write_report

    write_report(results, samples, out_dir)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no budget verdict (for the test suite)")
    parser.add_argument("--out", type=Path, default=BENCH, help="where results.json / RESULTS.md / latency.png go")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else Sizes()
    results = run(sizes, args.out, args.smoke)
    log(f"done in {results['meta']['seconds']} s: {args.out / 'RESULTS.md'}")
    missed = [b for b in results["budgets"] if not b["met"]]
    for b in results["budgets"]:
        log(f"{'MET ' if b['met'] else 'MISS'} {b['key']} = {b['value']} ({b['limit']})")
    return 1 if missed and not args.smoke else 0


if __name__ == "__main__":
    sys.exit(main())
