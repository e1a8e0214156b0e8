"""What the bench runs in fresh processes (a fresh process is what a Lambda cold start is).

    python -m bench.child floor                  # import boto3 + one DynamoDB client: the floor
    python -m bench.child import <handler>       # import the handler module + its DynamoDB client
    python -m bench.child rss <handler> <events.json>   # import, invoke every event, peak RSS
    python -m bench.child cold_callback <event.json> <memory MB>   # the IRMA callback, cold

Prints one JSON line on the original stdout (fd 1 is pointed at /dev/null while handlers run, so
their log lines cannot mix with the answer). Imports nothing of the bench or the dev stack: the
process holds only what the function would hold.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()  # before anything else is imported

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402

HANDLERS = {
    "session": "idbellen.handlers.session",
    "dtmf": "idbellen.handlers.dtmf",
    "agent": "idbellen.handlers.agent",
    "cleanup": "idbellen.handlers.cleanup",
}


class Context:
    """The parts of a Lambda context the handlers and Powertools read."""

    def __init__(self, name: str, memory: int = 128) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory
        self.invoked_function_arn = f"arn:aws:lambda:eu-central-1:123456789012:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 8000


def _answer(out: object, payload: dict[str, object]) -> None:
    out.write(json.dumps(payload) + "\n")  # type: ignore[attr-defined]
    out.flush()  # type: ignore[attr-defined]


def floor() -> dict[str, object]:
    t, c = time.perf_counter(), time.process_time()
    import boto3

    boto3.session.Session().client("dynamodb")
    return {"ms": (time.perf_counter() - t) * 1000, "cpu_ms": (time.process_time() - c) * 1000}


def import_handler(name: str) -> dict[str, object]:
    t, c = time.perf_counter(), time.process_time()
    importlib.import_module(HANDLERS[name])
    imported = time.perf_counter()
    from idbellen import aws

    aws.client("dynamodb")  # every function's first invocation builds it; the floor has one too
    done, cpu = time.perf_counter(), time.process_time()
    heavy = sorted(m for m in ("aws_lambda_powertools", "cryptography", "requests", "jwt") if m in sys.modules)
    return {
        "ms": (done - t) * 1000,
        "cpu_ms": (cpu - c) * 1000,
        "module_ms": (imported - t) * 1000,
        "heavy_modules": heavy,
    }


def peak_rss_mb() -> float:
    """VmHWM of this process. Not getrusage: on Linux `ru_maxrss` keeps the high-water mark of the
    process that forked us across exec (the bench itself, with moto loaded)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def rss(name: str, events_file: str) -> dict[str, object]:
    with open(events_file) as fh:
        events = json.load(fh)
    t, c = time.perf_counter(), time.process_time()
    module = importlib.import_module(HANDLERS[name])
    import_cpu, import_wall = time.process_time() - c, time.perf_counter() - t
    after_import = peak_rss_mb()
    outcomes: dict[str, int] = {}
    first: tuple[float, float] | None = None
    for event in events:
        t1, c1 = time.perf_counter(), time.process_time()
        result = module.handler(event, Context(f"idbellen-{name}"))
        if first is None:  # the cold invocation: clients, settings, the hash key from SSM
            first = (time.perf_counter() - t1, time.process_time() - c1)
        key = str(result.get("result") or result.get("statusCode")) if isinstance(result, dict) else "?"
        outcomes[key] = outcomes.get(key, 0) + 1
    peak = peak_rss_mb()
    return {
        "rss_mb": peak,
        "rss_after_import_mb": after_import,
        "invocations": len(events),
        "outcomes": outcomes,
        "import_cpu_ms": import_cpu * 1000,
        "first_invocation_ms": (first[0] if first else 0.0) * 1000,
        "first_invocation_cpu_ms": (first[1] if first else 0.0) * 1000,
        "import_ms": import_wall * 1000,
    }


def cold_callback(event_file: str, memory: str) -> dict[str, object]:
    """A fresh process answers one IRMA callback: import the session handler, then the invocation
    (settings, the hash key from SSM, GetItem, KMS Decrypt, the result JWT, TransactWriteItems)."""
    with open(event_file) as fh:
        event = json.load(fh)
    t, c = time.perf_counter(), time.process_time()
    module = importlib.import_module(HANDLERS["session"])
    imported, imported_cpu = time.perf_counter(), time.process_time()
    result = module.handler(event, Context("idbellen-session", int(memory)))
    done = time.perf_counter()
    heavy = sorted(m for m in ("aws_lambda_powertools", "cryptography", "requests", "jwt") if m in sys.modules)
    return {
        "since_start_ms": (done - _T0) * 1000,
        "import_ms": (imported - t) * 1000,
        "import_cpu_ms": (imported_cpu - c) * 1000,
        "invoke_ms": (done - imported) * 1000,
        "cpu_ms": time.process_time() * 1000,
        "status": result.get("statusCode"),
        "body": result.get("body"),
        "heavy_modules": heavy,
    }


def main(argv: list[str]) -> None:
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    mode = argv[0]
    if mode == "floor":
        result = floor()
    elif mode == "import":
        result = import_handler(argv[1])
    elif mode == "rss":
        result = rss(argv[1], argv[2])
    elif mode == "cold_callback":
        result = cold_callback(argv[1], argv[2])
    else:
        raise SystemExit(f"unknown mode {mode}")
    result["process_ms"] = (time.perf_counter() - _T0) * 1000
    _answer(out, result)


if __name__ == "__main__":
    main(sys.argv[1:])
