"""`cold_callback_ms`: the IRMA callback answered by a fresh process, at the CPU share Lambda gives.

The Yivi app's final `POST /proofs` waits for our callback (irmago calls back before it answers the
app) and irmago answers it 503 after 4.2 s: a cold session function must answer well within that.
Measured here, per run:

1. a session is started and disclosed with callbacks held back, so it is PENDING for us and DONE at
   the IRMA server; its signed result JWT is the body irmago would POST;
2. a fresh Python process (bench/child.py `cold_callback`) is started inside a CPU-limited cgroup
   and handles that callback event: import the session handler, settings, the hash key from SSM,
   GetItem, KMS Decrypt, JWT verification, TransactWriteItems, answer;
3. the time from spawning the process to reading its answer is one sample (interpreter start-up
   included, process exit not).

The CPU share: Lambda gives a function CPU in proportion to its memory, one vCPU at 1,769 MB (AWS
Lambda developer guide, "Memory and computing power"). The child runs in a cgroup with a CFS quota of
`memory / 1769` of one CPU per 100 ms period (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us`).
Without a writable cgroup, the share is applied arithmetically: the child runs unthrottled and its
CPU time is stretched (`wall - cpu + cpu / share`); `method` says which was used.

Bytecode: /var/task is read-only (the child writes none). iac/artifact.py ships unchecked-hash `.pyc`
files for the whole bundle (`SHIPS_BYTECODE`), so the child's bytecode cache holds everything, as
the runtime's boto3 and standard library come compiled too. Were the bundle shipped without them,
the child would get a cache without idbellen and lambdas/requirements.txt: compiled at every start.

What the emulation cannot show: Lambda's Graviton (arm64) cores are slower per core than this
machine's, and real SSM/KMS/DynamoDB calls add TLS handshakes and network round trips that moto on
loopback does not. docs/performance.md does that arithmetic.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from iac.artifact import SHIPS_BYTECODE

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_FULL_CPU_MB = 1769
PERIOD_US = 100_000


def session_memory_mb() -> int:
    from devstack.template_resources import load_template

    template = load_template()
    return int(template["Resources"]["SessionFunction"]["Properties"]["MemorySize"])


@contextmanager
def cpu_share(share: float) -> Iterator[tuple[str, Path | None]]:
    """A cgroup limiting its members to `share` of one CPU: ("cgroup-v2"|"cgroup-v1", its dir), or
    ("arithmetic", None) when no cgroup can be made here."""
    quota = max(1000, int(PERIOD_US * share))
    name = f"idbellen-bench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    candidates = []
    v2 = Path("/sys/fs/cgroup")
    controllers = (v2 / "cgroup.controllers").read_text().split() if (v2 / "cgroup.controllers").exists() else []
    if "cpu" in controllers:
        candidates.append(("cgroup-v2", v2 / name))
    for v1 in (Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup/cpu,cpuacct")):
        if (v1 / "cpu.cfs_quota_us").exists():
            candidates.append(("cgroup-v1", v1 / name))
            break
    for method, path in candidates:
        try:
            path.mkdir()
        except OSError:
            continue
        try:
            if method == "cgroup-v2":
                (path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
            else:
                (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (path / "cpu.cfs_quota_us").write_text(str(quota))
        except OSError:
            path.rmdir()
            continue
        try:
            yield method, path
        finally:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)
        return
    yield "arithmetic", None


def bundled_top_levels() -> set[str]:
    """Top-level module names of the distributions lambdas/requirements.txt puts in the bundle."""
    from importlib import metadata

    names = []
    for line in (ROOT / "lambdas" / "requirements.txt").read_text().splitlines():
        if line and not line.startswith((" ", "#", "-")) and "==" in line:
            names.append(line.split("==", 1)[0].strip())
    tops: set[str] = set()
    for name in names:
        try:
            files = metadata.distribution(name).files or []
        except metadata.PackageNotFoundError:
            continue
        for f in files:
            first = f.parts[0]
            if not first.endswith((".dist-info", ".data")) and first != "..":
                tops.add(first.removesuffix(".py"))
    return tops


def cold_cache(warm: Path, target: Path) -> None:
    """A copy of the warmed bytecode cache without idbellen and the bundled dependencies."""
    import site

    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(warm, target)
    drop = [ROOT / "lambdas" / "idbellen"]
    tops = bundled_top_levels()
    for sp in site.getsitepackages():
        drop += [Path(sp) / top for top in tops]
    for path in drop:
        for form in {str(path), str(path.resolve())}:
            mirrored = target / form.lstrip(os.sep)
            if mirrored.is_dir():
                shutil.rmtree(mirrored)
            elif mirrored.parent.is_dir():
                for pyc in mirrored.parent.glob(f"{mirrored.name}.*.pyc"):
                    pyc.unlink()


def _spawn(event_file: Path, memory: int, env: dict[str, str], cgroup: Path | None) -> dict[str, Any]:
    env = {**env, "PYTHONDONTWRITEBYTECODE": "1"} if cgroup is not None else env  # /var/task is read-only
    command = [sys.executable, str(ROOT / "bench" / "child.py"), "cold_callback", str(event_file), str(memory)]
    if cgroup is not None:
        procs = cgroup / "cgroup.procs"
        command = ["/bin/sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh", *command]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    answered = time.perf_counter()
    _, err = proc.communicate(timeout=120)
    if proc.returncode != 0 or not line.strip():
        raise RuntimeError(f"cold callback child failed: {err.strip()[-2000:]}")
    out = dict(json.loads(line))
    out["wall_ms"] = (answered - started) * 1000
    return out


def measure_cold_callback(
    stack: Any,
    driver: Any,
    runs: int,
    pycache: Path,
    workdir: Path,
    child_env: Callable[[Path], dict[str, str]],
    quiet: Callable[[], Any],
) -> dict[str, Any]:
    from devstack.apigw import build_event

    memory = session_memory_mb()
    share = min(1.0, memory / LAMBDA_FULL_CPU_MB)
    warm_env = child_env(pycache)

    def one_callback_event() -> tuple[Path, str]:
        with quiet():
            status, body = driver.call_http("session", driver.create_event())
        if status != 201:
            raise RuntimeError(f"session create {status}")
        stack.irma.send_callbacks = False
        try:
            driver.disclose(body["sessionPtr"])
        finally:
            stack.irma.send_callbacks = True
        session = stack.irma.session_for(body["sessionPtr"])
        path = str(session.callback_url).removeprefix(stack.http.url) + "/"  # irmago appends the slash
        event = build_event(
            "POST",
            path,
            stack.irma.result_jwt(session),
            {"content-type": "text/plain; charset=UTF-8", "user-agent": "irmago"},
            "POST /irma/callback/{callback_id+}",
            {"callback_id": path.removeprefix("/irma/callback/")},
            None,
        )
        file = workdir / f"callback-{uuid.uuid4().hex}.json"
        file.write_text(json.dumps(event))
        return file, body["session_id"]

    # warm the bytecode cache (standard library, boto3, and the rest, trimmed per run below)
    event_file, _ = one_callback_event()
    _spawn(event_file, memory, warm_env, None)

    samples: list[dict[str, Any]] = []
    with cpu_share(share) as (method, cgroup):
        for n in range(runs):
            event_file, session_id = one_callback_event()
            cache = workdir / f"cold-pycache-{n}"
            if SHIPS_BYTECODE:
                shutil.copytree(pycache, cache)
            else:
                cold_cache(pycache, cache)
            out = _spawn(event_file, memory, child_env(cache), cgroup)
            shutil.rmtree(cache, ignore_errors=True)
            if out["status"] != 200 or json.loads(out["body"]).get("status") != "DISCLOSED":
                raise RuntimeError(f"cold callback did not store the result: {out['status']} {out['body']}")
            with quiet():
                status, answer = driver.call_http("session", driver.status_event(session_id))
            if status != 200 or answer.get("status") != "DISCLOSED":
                raise RuntimeError("the cold callback's result is not in the table")
            if method == "arithmetic":
                cpu = out["cpu_ms"]
                out["unthrottled_wall_ms"] = out["wall_ms"]
                out["wall_ms"] = out["wall_ms"] - cpu + cpu / share
            samples.append(out)
    walls = [s["wall_ms"] for s in samples]
    return {
        "value": round(statistics.median(walls), 1),
        "detail": {
            "method": method,
            "memory_mb": memory,
            "cpu_share": round(share, 3),
            "quota_us_per_100ms": int(PERIOD_US * share),
            "runs": runs,
            "median_ms": round(statistics.median(walls), 1),
            "max_ms": round(max(walls), 1),
            "min_ms": round(min(walls), 1),
            "median_import_ms": round(statistics.median(s["import_ms"] for s in samples), 1),
            "median_invoke_ms": round(statistics.median(s["invoke_ms"] for s in samples), 1),
            "median_cpu_ms": round(statistics.median(s["cpu_ms"] for s in samples), 1),
            "heavy_modules": samples[-1]["heavy_modules"],
            "samples_ms": [round(w, 1) for w in walls],
            "bytecode": "all compiled, as iac/artifact.py ships it"
            if SHIPS_BYTECODE
            else "standard library and boto3 compiled; idbellen and the bundled dependencies from source",
        },
    }
