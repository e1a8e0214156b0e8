"""The report from a known simulated run on the dev stack: its numbers equal what the run did, month
by month across a month boundary; with k=5 no small count can be read or recomputed; the page holds
no personal value, code, secret or id; another tenant's metrics in the same CloudWatch change nothing;
the CLI writes one page per tenant and month.

The run (October 2026, Europe/Amsterdam; tenant `testgemeente`): sessions that end every way the
report distinguishes, calls without a code, a brute-force series, one session started in September
and one finishing in November. Numbers are read back with real boto3 GetMetricData from the stack's
moto (devstack/cloudwatch_standin.py), after the EMF bridge turned the functions' output into metrics.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from devstack import DevStack
from devstack.report_demo import expected, mismatches
from devstack.traffic import STEP_OFFSET, Plan, Simulation, Tally
from idbellen_report import catalogue as cat
from idbellen_report.cli import main
from idbellen_report.cloudwatch import fetch
from idbellen_report.disclosure_control import recoverable
from idbellen_report.figures import Figures
from idbellen_report.model import build
from idbellen_report.periods import Month
from idbellen_report.render import render
from tests.privacy.canary import FULL_CREDENTIALS, Canaries, unkeyed_hashes

TENANT = "testgemeente"
ZONE = ZoneInfo("Europe/Amsterdam")
OCTOBER = Month(2026, 10)
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
PURPOSES = ("demo", "belastingen")


def at(day: int, hour: int, minute: int, second: int = 0, month: int = 10) -> float:
    return datetime(2026, month, day, hour, minute, second, tzinfo=ZONE).timestamp() + STEP_OFFSET


def scenario() -> list[Plan]:
    """Wednesday 14 October 2026 in office hours, plus the month's edges."""
    plans = [
        # across the start: started in September, timed out (and deleted) in October
        Plan(at(30, 23, 57, month=9), "abandoned", "demo"),
        # across the end: started in October (a Saturday night), disclosed and called in November
        Plan(at(31, 23, 59, 30), "shown", "demo", ttd=45, ttc=20),
    ]
    shown = [  # (purpose, ttd, ttc, wait, talk, reads, cleared)
        ("demo", 20, 10, 40, 200, 1, False),
        ("demo", 45, 10, 60, 240, 1, False),
        ("demo", 45, 40, 90, 300, 2, False),
        ("demo", 90, 100, 30, 400, 1, True),
        ("demo", 200, 250, 120, 500, 2, False),
        ("demo", 45, 10, 60, 1000, 1, False),
        ("belastingen", 20, 40, 60, 240, 1, False),
        ("belastingen", 45, 100, 60, 240, 1, True),
        ("belastingen", 90, 10, 60, 2000, 1, False),
    ]
    minute = 0
    for purpose, ttd, ttc, wait, talk, reads, cleared in shown:
        plans.append(Plan(at(14, 10, minute), "shown", purpose, ttd, ttc, wait, talk, reads, cleared))
        minute += 3
    others = [
        ("hang_up", "demo"),
        ("hang_up", "belastingen"),
        ("cancelled", "demo"),
        ("cancelled", "demo"),
        ("cancelled", "belastingen"),
        ("invalid_proof", "belastingen"),
        ("abandoned", "demo"),
        ("no_call", "demo"),
        ("typo", "demo"),
        ("late", "belastingen"),
    ]
    for kind, purpose in others:
        ttc = 1000 if kind == "late" else 20
        plans.append(Plan(at(14, 11, minute), kind, purpose, ttd=45, ttc=ttc, wait=60, talk=200))
        minute += 2
    plans.append(Plan(at(14, 16, 58), "shown", "demo", ttd=45, ttc=200))  # calls after 17:00: closed
    plans += [Plan(at(15, 9, 5), "no_code"), Plan(at(15, 9, 40), "no_code")]
    plans.append(Plan(at(16, 14, 0), "brute_force", attempts=12))
    return sorted(plans, key=lambda p: p.at)


@dataclass
class Run:
    stack: DevStack
    tally: Tally
    seen: list[str]
    client: Any


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    with DevStack(settings={"IDBELLEN_TENANT": TENANT}) as stack:
        stack.clock.set(at(30, 23, 0, month=9))
        simulation = Simulation(stack, TENANT, wallet=FULL_CREDENTIALS)
        tally = simulation.run(scenario())
        stack.flush_metrics()
        yield Run(stack, tally, [*simulation.seen, stack.requestor_token], boto3.client("cloudwatch"))


def figures(run: Run, month: Month = OCTOBER) -> Figures:
    return fetch(run.client, TENANT, month, PURPOSES, now=NOW)


def test_the_report_counts_what_the_run_did(run: Run) -> None:
    """With no protection (k=1), every count on the page equals the run's own count for October."""
    report = build(figures(run), k=1)
    truth = expected(run.tally, OCTOBER)
    assert mismatches(report, truth) == []
    shown = report.shown_counts()
    # The scenario by design (not by the tally): October's starts are 9 + 10 + 1 + 1 (the Saturday-night one).
    assert shown["started"] == 21
    assert (shown["started:demo"], shown["started:belastingen"]) == (14, 7)
    assert shown["disclosed"] == 9 + 2 + 1 + 1 + 1 + 1  # shown, hung up, no-call, typo, late, closed
    assert shown["rejected:cancelled"] == 3 and shown["rejected:invalid_proof"] == 1
    assert shown["rejected:timeout"] == 2  # October's abandoned one and September's
    assert shown["verified"] == 9 + 2 and shown["shown"] == 9
    assert shown["outside_hours"] == 1
    assert shown["unverified:invalid_input"] == 2
    assert shown["unverified:not_found"] == 1 + 10 and shown["unverified:rate_limited"] == 2
    assert shown["unverified:not_verified"] == 1
    assert (shown["deleted:completed"], shown["deleted:cleared"], shown["deleted:hung_up"]) == (7, 2, 2)
    assert shown["TimeToDisclosure:0"] == 2 and shown["TimeToDisclosure:3"] == 1
    assert shown["TimeFromDisclosureToCall:4"] == 0 and shown["TimeFromDisclosureToCall:3"] == 1
    assert report.max_age_seconds is not None and 3600 < report.max_age_seconds <= 3600 + 300
    assert report.promise_kept is True


def test_events_count_in_the_month_they_happened(run: Run) -> None:
    november = build(figures(run, Month(2026, 11)), k=1).shown_counts()
    assert mismatches(build(figures(run, Month(2026, 11)), k=1), expected(run.tally, Month(2026, 11))) == []
    assert november["started"] == 0 and november["disclosed"] == 1 and november["outside_hours"] == 1
    september = build(figures(run, Month(2026, 9)), k=1).shown_counts()
    assert september["started"] == 1 and september["rejected"] == 0


def test_no_small_count_can_be_read_or_recomputed(run: Run) -> None:
    report = build(figures(run), k=5)
    assert report.decision.hidden, "the run has small cells: the check would be vacuous"
    for key, value in report.shown_counts().items():
        assert value == 0 or value >= 5, (key, value)
    assert recoverable(report.ledger, report.decision) == []
    for group in [report.app_dropoff, report.phone, report.deletions, *report.histograms.values()]:
        if group.merged is not None:
            assert group.merged.value is not None and group.merged.value >= 5
    assert "rejected:invalid_proof" in report.decision.hidden  # 1 in the run
    html = render(report)
    assert "niet getoond" in html


def test_the_page_holds_no_personal_value_code_secret_or_id(run: Run) -> None:
    canaries = Canaries()
    canaries.add(*run.seen)
    canaries.values.update(unkeyed_hashes([v for v in run.seen if v]))
    for k in (1, 5):
        html = render(build(figures(run), k=k))
        assert canaries.find(html) == []
    assert len(run.seen) > 40  # codes, secrets, session and contact ids were collected
    metrics = run.client.list_metrics(Namespace=cat.NAMESPACE)["Metrics"]
    text = repr(metrics)
    assert canaries.find(text) == []
    assert {d["Name"] for m in metrics for d in m["Dimensions"]} <= {
        "tenant",
        "service",
        "purpose",
        "reason",
        "trigger",
        "result",
    }


def test_another_tenants_metrics_change_nothing(run: Run) -> None:
    before = build(figures(run), k=1).shown_counts()
    other = [{"Name": "tenant", "Value": "andere"}, {"Name": "service", "Value": "idbellen"}]
    run.client.put_metric_data(
        Namespace=cat.NAMESPACE,
        MetricData=[
            {
                "MetricName": cat.SESSIONS_STARTED,
                "Dimensions": other,
                "Timestamp": datetime.fromtimestamp(at(14, 12, 0), UTC),
                "Values": [500],
            },
            {
                "MetricName": cat.SESSIONS_STARTED,
                "Dimensions": [*other, {"Name": "purpose", "Value": "demo"}],
                "Timestamp": datetime.fromtimestamp(at(14, 12, 0), UTC),
                "Values": [500],
            },
        ],
    )
    assert build(figures(run), k=1).shown_counts() == before
    assert build(fetch(run.client, "andere", OCTOBER, PURPOSES, now=NOW), k=1).shown_counts()["started"] == 500


def test_the_cli_writes_one_page_per_tenant_and_month(
    run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--tenant", TENANT, "--from", "2026-10", "--to", "2026-11", "--out", str(tmp_path)]
    argv += ["--endpoint-url", run.stack.aws_url, "--region", "eu-central-1", "--purposes", "demo,belastingen"]
    assert main(argv) == 0
    pages = sorted(p.name for p in tmp_path.iterdir())
    assert pages == [f"{TENANT}-2026-10.html", f"{TENANT}-2026-11.html"]
    text = (tmp_path / f"{TENANT}-2026-10.html").read_text(encoding="utf-8")
    assert (
        "oktober 2026" in text
        and "<script" not in text
        and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert main(["--tenant", TENANT, "--from", "2026-10", "--min-count", "1", "--out", str(tmp_path)]) == 2
    capsys.readouterr()
