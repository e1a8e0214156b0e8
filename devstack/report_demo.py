"""`make report-demo`: a month of traffic for two dev tenants, then their evaluation reports.

    python -m devstack.report_demo [--month 2026-11] [--out build/report] [--no-pdf]

One CloudWatch store (moto on loopback, made to answer like CloudWatch by
devstack/cloudwatch_standin.py) holds both tenants' metrics, as one AWS account's CloudWatch would.
The month runs on one two-tenant dev stack (the hosting municipality `default` and its partner
`demodorp`), their sessions interleaved on one clock as on one deployment
(`devstack.traffic.run_tenants`), in a child process: moto keeps its state per process and a dev
stack resets it, so the store lives in this process and the stack in the child. The stack's EMF
bridge sends the functions' metrics to the store.

The reports are then read back with real boto3 `GetMetricData` and checked against what the
simulation counted (every number a report shows must equal the simulation's count). Each report is
titled with the municipality's display name from the tenant registry.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import boto3
import requests
from moto.server import ThreadedMotoServer

from devstack.cloudwatch_standin import cloudwatch_like_aws
from devstack.stack import DEV_TENANTS
from devstack.traffic import Tally
from idbellen_report.cli import write_report
from idbellen_report.cloudwatch import fetch
from idbellen_report.model import Report, build
from idbellen_report.periods import Month

ROOT = Path(__file__).resolve().parent.parent
TENANTS = tuple(DEV_TENANTS)  # the dev stack's tenants, the hosting municipality first
NAMES = {t.id: t.display_name for t in DEV_TENANTS.values()}  # what the dev registry documents say
PURPOSES = ("demo", "belastingen")
REGION = "eu-central-1"


@contextmanager
def cloudwatch_store() -> Iterator[str]:
    """The shared CloudWatch: a moto server in this process (no DevStack here resets it)."""
    with cloudwatch_like_aws():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            url = f"http://{host}:{port}"
            requests.post(f"{url}/moto-api/reset", timeout=10)
            yield url
        finally:
            server.stop()


def simulate_tenants(month: Month, store: str, workdir: Path, seed: int) -> dict[str, Tally]:
    """Both tenants' month on one dev stack, in a child process (see the module docstring)."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}"}
    command = [sys.executable, "-m", "devstack.traffic", "--month", str(month), "--cloudwatch-url", store]
    command += ["--tally", str(workdir), "--seed", str(seed)]
    # The functions' own log lines (fake demo data, no real person) are not needed here.
    if subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=False).returncode != 0:  # noqa: S603
        raise SystemExit("the simulation failed")
    return {t: Tally.from_json((workdir / f"{t}.json").read_text(encoding="utf-8")) for t in TENANTS}


def expected(tally: Tally, month: Month) -> dict[str, int]:
    """The simulation's counts under the report's keys (idbellen_report.model)."""
    start, end = month.bounds()
    c = tally.month(start, end)
    out: dict[str, int] = {}
    for key in ("started", "disclosed", "verified", "shown"):
        parts = {k.split(":", 1)[1]: v for k, v in c.items() if k.startswith(key + ":")}
        out[key] = sum(parts.values())
        out.update({f"{key}:{p}": v for p, v in parts.items()})
    rejected = {k.split(":", 1)[1]: v for k, v in c.items() if k.startswith("rejected:")}
    unverified = {k.split(":", 1)[1]: v for k, v in c.items() if k.startswith("unverified:")}
    out["rejected"] = sum(rejected.values())
    out["unverified"] = sum(unverified.values())
    out.update({f"rejected:{r}": v for r, v in rejected.items()})
    out.update({f"unverified:{r}": v for r, v in unverified.items()})
    out["outside_hours"] = c.get("outside_hours", 0)
    deleted = {r: c.get(r, 0) for r in ("completed", "cleared", "hung_up", "expired")}
    out["deleted"] = sum(deleted.values())
    out.update({f"deleted:{r}": v for r, v in deleted.items()})
    for short, metric in (
        ("ttd", "TimeToDisclosure"),
        ("ttc", "TimeFromDisclosureToCall"),
        ("age", "RecordAgeAtDeletion"),
    ):
        out[f"{metric}:n"] = c.get(f"{short}:n", 0)
        for i in range(5):
            out[f"{metric}:{i}"] = c.get(f"{short}:{i}", 0)
    out["called"] = out["verified"] + out["unverified"]
    out["no_result"] = out["started"] - out["disclosed"] - out["rejected"]
    out["not_called"] = out["disclosed"] - out["verified"]
    out["not_shown"] = out["verified"] - out["shown"]
    return out


def mismatches(report: Report, truth: dict[str, int]) -> list[str]:
    """Every shown count that differs from the simulation's (a count the simulation never saw is 0)."""
    out = []
    for key, value in report.shown_counts().items():
        if key.startswith("not_called:"):
            purpose = key.split(":", 1)[1]
            want = truth.get(f"disclosed:{purpose}", 0) - truth.get(f"verified:{purpose}", 0)
        else:
            want = truth.get(key, 0)
        if value != want:
            out.append(f"{key}: report {value}, simulation {want}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.report_demo", description=__doc__)
    now = datetime.now(UTC)
    last_month = Month(now.year, now.month - 1) if now.month > 1 else Month(now.year - 1, 12)
    parser.add_argument("--month", type=Month.parse, default=last_month, help="YYYY-MM (default: last month)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "report")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args(argv)
    began = time.monotonic()
    with cloudwatch_store() as store, tempfile.TemporaryDirectory() as tmp:
        print(
            f"Simulating {args.month} for {', '.join(TENANTS)} (one fast-forwarded two-tenant dev stack) ...",
            flush=True,
        )
        tallies = simulate_tenants(args.month, store, Path(tmp), args.seed)
        simulated = time.monotonic()
        client = boto3.session.Session().client(
            "cloudwatch", endpoint_url=store, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )
        written = []
        failed = False
        for tenant in TENANTS:
            target = write_report(client, tenant, args.month, args.out, purposes=PURPOSES, now=now, name=NAMES[tenant])
            written.append(target)
            report = build(fetch(client, tenant, args.month, PURPOSES, now=now))
            wrong = mismatches(report, expected(tallies[tenant], args.month))
            hidden = len(report.decision.hidden)
            status = "equal to the simulation" if not wrong else "DIFFERENT from the simulation"
            print(
                f"  {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
                f"{len(report.shown_counts())} counts shown, {hidden} hidden (k={report.k}); {status}"
            )
            for line in wrong:
                print(f"    {line}")
            failed = failed or bool(wrong)
        if not args.no_pdf:
            from idbellen_report.pdf import available, html_to_pdf

            if available():
                for pdf in html_to_pdf(written):
                    print(f"  {pdf.relative_to(ROOT) if pdf.is_relative_to(ROOT) else pdf}")
            else:
                print("  (no PDF: Debian's chromium is not installed; make system-deps)")
    print(f"Simulation {simulated - began:.0f} s, reports {time.monotonic() - simulated:.0f} s.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
