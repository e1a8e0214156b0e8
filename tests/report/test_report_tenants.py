"""Two municipalities on one deployment (issue 14 + 15): each tenant's report counts its own calls and
nothing of the other's, from one CloudWatch; the CLI names each report from the tenant registry.

One two-tenant dev stack; the tenants' sessions interleaved on one clock (`run_tenants`), with
different numbers of each outcome so a report that mixed the tenants up would show it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from devstack import DevStack
from devstack.report_demo import expected, mismatches
from devstack.stack import DEV_TENANTS, TENANTS_PATH
from devstack.traffic import STEP_OFFSET, Plan, Simulation, run_tenants
from idbellen_report.cli import main
from idbellen_report.cloudwatch import fetch
from idbellen_report.model import build
from idbellen_report.periods import Month

ZONE = ZoneInfo("Europe/Amsterdam")
OCTOBER = Month(2026, 10)
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
PURPOSES = ("demo", "belastingen")


def at(day: int, hour: int, minute: int) -> float:
    return datetime(2026, 10, day, hour, minute, tzinfo=ZONE).timestamp() + STEP_OFFSET


PLANS = {
    "default": [
        Plan(at(14, 10, 0), "shown", "demo"),
        Plan(at(14, 10, 2), "shown", "belastingen"),
        Plan(at(14, 10, 4), "shown", "demo", cleared=True),
        Plan(at(14, 10, 6), "cancelled", "demo"),
        Plan(at(14, 10, 8), "typo", "demo"),
    ],
    "demodorp": [
        Plan(at(14, 10, 1), "shown", "demo"),
        Plan(at(14, 10, 3), "hang_up", "belastingen"),
        Plan(at(14, 10, 5), "invalid_proof", "demo"),
    ],
}


@pytest.fixture(scope="module")
def run() -> Iterator[tuple[DevStack, dict[str, Simulation], Any]]:
    with DevStack() as stack:
        assert stack.tenants == list(PLANS)
        stack.clock.set(at(14, 9, 0))
        simulations = run_tenants(stack, PLANS)
        stack.flush_metrics()
        yield stack, simulations, boto3.client("cloudwatch")


@pytest.mark.parametrize("tenant", list(PLANS))
def test_each_tenant_report_counts_its_own_calls_only(run: Any, tenant: str) -> None:
    stack, simulations, client = run
    report = build(fetch(client, tenant, OCTOBER, PURPOSES, now=NOW), k=1)
    assert mismatches(report, expected(simulations[tenant].tally, OCTOBER)) == []
    shown = report.shown_counts()
    assert shown["started"] == len(PLANS[tenant])
    assert shown["shown"] == sum(1 for p in PLANS[tenant] if p.kind == "shown")
    assert [item for item in stack.table_items() if item.get("kind") != "rate"] == []


def test_the_cli_names_each_report_from_the_registry(run: Any, tmp_path: Path) -> None:
    stack, _, _ = run
    argv = ["--tenant", "default", "--tenant", "demodorp", "--from", "2026-10", "--out", str(tmp_path)]
    argv += ["--endpoint-url", stack.aws_url, "--region", "eu-central-1", "--min-count", "2"]
    argv += ["--registry-path", TENANTS_PATH, "--ssm-endpoint-url", stack.aws_url]
    assert main(argv) == 0
    for tenant in PLANS:
        page = (tmp_path / f"{tenant}-2026-10.html").read_text(encoding="utf-8")
        assert DEV_TENANTS[tenant].display_name in page
    # a tenant the registry does not know is refused, not reported under a made-up name
    assert main([*argv[:2], "--tenant", "nergens", *argv[4:]]) == 2
