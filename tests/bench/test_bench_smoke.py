"""`make bench` in miniature: the whole benchmark runs with tiny sizes and writes every key, so it
never rots. No budget or timing assertion here (the numbers of a smoke run mean nothing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ("session", "dtmf", "agent", "cleanup")
OPERATIONS = ("session_create", "complete_pull", "dtmf_redeem", "disclosure_read", "clear", "cleanup")


def test_bench_smoke_run_writes_every_key(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())

    for op in OPERATIONS:
        for service in ("dynamodb", "kms", "ssm", "http"):
            assert isinstance(results["api_calls"][op][service], int), (op, service)
    for handler in HANDLERS:
        assert results["import_ratio"][handler] > 0
        assert results["warm_latency_ratio"][f"{handler}_p50"] > 0
        assert results["warm_latency_ratio"][f"{handler}_p99"] > 0
        assert results["peak_rss_mb"][handler] > 0
    load = results["load"]
    for key in ("flows", "errors", "items_left", "flows_per_s", "baseline_ops_per_s"):
        assert key in load
    assert load["errors"] == 0 and load["items_left"] == 0, load
    two = results["load_tenants"]  # two municipalities: every flow read by its own tenant's agent
    assert two["tenants"] == 2 and two["errors"] == 0 and two["items_left"] == 0, two
    assert sum(two["flows_per_tenant"].values()) == two["flows"] and len(two["flows_per_tenant"]) == 2, two
    assert results["artifact_mb"] > 0
    assert {b["key"] for b in results["budgets"]} >= {
        "import_ratio.dtmf",
        "peak_rss_mb.dtmf",
        "load.errors",
        "load_tenants.errors",
        "load_tenants.items_left",
        "cold_callback_ms",
        "latency_detail.dtmf_vs_own_floor.p50",
    }
    assert "warm_latency_ratio.dtmf_p50" not in {b["key"] for b in results["budgets"]}
    # the cold callback really ran: a fresh process stored the result it was handed
    cold = results["cold_callback_detail"]
    assert results["cold_callback_ms"] > 0 and cold["runs"] == 1 and cold["memory_mb"] >= 128
    assert cold["method"] in ("cgroup-v2", "cgroup-v1", "arithmetic")
    assert "aws_lambda_powertools" not in cold["heavy_modules"] and "requests" not in cold["heavy_modules"]

    # exact call counts do not depend on sizes: the DTMF and agent paths are checked even in a smoke run
    assert results["api_calls"]["dtmf_redeem"]["ops"] == ["dynamodb:BatchGetItem", "dynamodb:TransactWriteItems"]
    assert results["api_calls"]["disclosure_read"]["kms"] == 1

    report = (tmp_path / "RESULTS.md").read_text()
    assert "| `import_ratio.dtmf` |" in report and "latency.png" in report
    assert "| `cold_callback_ms` |" in report
    assert (tmp_path / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
