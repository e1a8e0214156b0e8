"""`python -m idbellen_report` / `make report`: read CloudWatch, write build/report/<tenant>-<YYYY-MM>.html."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from idbellen_report.cloudwatch import client_for, fetch
from idbellen_report.model import build
from idbellen_report.periods import RETENTION_DAYS, Month, months
from idbellen_report.render import render

DEFAULT_OUT = Path("build/report")


def configured_purposes() -> list[str]:
    """The purpose ids of IDBELLEN_PURPOSES (the functions' own setting), when it is set."""
    raw = os.environ.get("IDBELLEN_PURPOSES", "").strip()
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [str(k) for k in value] if isinstance(value, dict) else []


def registry_details(parameter_path: str, tenant: str, ssm: Any) -> tuple[str, list[str]] | None:
    """(display name, purpose ids) of `tenant` from the deployment's tenant registry (the same
    validated documents the functions read), or None when the registry has no such tenant."""
    from idbellen import tenants

    documents = tenants.read_documents(parameter_path, ssm)
    raw = documents.get(f"{parameter_path.rstrip('/')}/{tenant}")
    if raw is None:
        return None
    entry = tenants.parse(raw, tenant)
    return entry.display_name, list(entry.purposes)


def write_report(
    client: Any,
    tenant: str,
    month: Month,
    out_dir: Path,
    *,
    purposes: Sequence[str] = (),
    k: int = 5,
    zone: str = "Europe/Amsterdam",
    record_ttl_seconds: int = 3600,
    sweep_seconds: int = 300,
    now: datetime | None = None,
    name: str | None = None,
) -> Path:
    figures = fetch(client, tenant, month, purposes, zone=zone, now=now)
    report = build(figures, k=k, record_ttl_seconds=record_ttl_seconds, sweep_seconds=sweep_seconds)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{tenant}-{month}.html"
    target.write_text(render(report, title_name=name), encoding="utf-8")
    return target


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m idbellen_report", description=__doc__)
    p.add_argument("--tenant", action="append", required=True, help="tenant (municipality) id; repeat for more")
    p.add_argument("--from", dest="first", required=True, type=Month.parse, help="first month, YYYY-MM")
    p.add_argument("--to", dest="last", type=Month.parse, help="last month, YYYY-MM (default: --from)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default build/report)")
    p.add_argument("--min-count", type=int, default=5, help="smallest count shown (default 5)")
    p.add_argument("--purposes", default="", help="purpose ids, comma-separated (default: from IDBELLEN_PURPOSES)")
    p.add_argument("--timezone", default="Europe/Amsterdam", help="months are calendar months in this zone")
    p.add_argument("--record-ttl", type=int, default=3600, help="IDBELLEN_RECORD_TTL_SECONDS of the deployment")
    p.add_argument("--sweep-minutes", type=int, default=5, help="the cleanup schedule's interval (SweepSchedule)")
    p.add_argument("--name", help="display name of the municipality (default: from the registry, else the id)")
    p.add_argument(
        "--registry-path",
        default=os.environ.get("IDBELLEN_TENANTS_PARAMETER_PATH", ""),
        help="the tenant registry SSM path (default: IDBELLEN_TENANTS_PARAMETER_PATH): names and purposes",
    )
    p.add_argument("--ssm-endpoint-url", default=None, help="SSM endpoint for the registry (e.g. a dev stack's moto)")
    p.add_argument("--region", default=None, help="AWS region (default: the AWS configuration)")
    p.add_argument("--endpoint-url", default=None, help="CloudWatch endpoint (e.g. a dev stack's moto)")
    p.add_argument("--pdf", action="store_true", help="also print each page to PDF with headless Chromium")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.min_count < 2:
        print("--min-count must be at least 2", file=sys.stderr)
        return 2
    last = args.last or args.first
    purposes = [p for p in args.purposes.split(",") if p]
    client = client_for(args.region, args.endpoint_url)
    details: dict[str, tuple[str, list[str]]] = {}
    if args.registry_path:
        import boto3

        ssm = boto3.client("ssm", region_name=args.region, endpoint_url=args.ssm_endpoint_url)
        for tenant in args.tenant:
            found = registry_details(args.registry_path, tenant, ssm)
            if found is None:
                print(f"tenant {tenant!r} is not in the registry at {args.registry_path}", file=sys.stderr)
                return 2
            details[tenant] = found
    now = datetime.now(UTC)
    written = []
    for month in months(args.first, last):
        start, _ = month.bounds(args.timezone)
        if start < now - timedelta(days=RETENTION_DAYS):
            print(
                f"{month}: older than CloudWatch's 15 months of hourly data; the report would be empty", file=sys.stderr
            )
        for tenant in args.tenant:
            target = write_report(
                client,
                tenant,
                month,
                args.out,
                purposes=purposes or (details[tenant][1] if tenant in details else configured_purposes()),
                k=args.min_count,
                zone=args.timezone,
                record_ttl_seconds=args.record_ttl,
                sweep_seconds=args.sweep_minutes * 60,
                now=now,
                name=args.name if args.name and len(args.tenant) == 1 else details.get(tenant, ("", []))[0] or None,
            )
            written.append(target)
            print(target)
    if args.pdf:
        from idbellen_report.pdf import available, html_to_pdf

        if not available():
            print("no PDF: /usr/bin/chromium or playwright missing (make system-deps)", file=sys.stderr)
            return 1
        for pdf in html_to_pdf(written):
            print(pdf)
    return 0
