"""The report asks CloudWatch only for what the functions publish: metric names, dimension sets and
the closed vocabularies of docs/metrics.md (CloudWatch cannot list a past month's dimension values,
so the report must know them), and the traffic simulation keeps durations clear of bucket bounds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from devstack.traffic import BOUNDS, PROFILES, bucket, clear_of, plan_month
from idbellen_report import catalogue as cat
from idbellen_report.cloudwatch import plan

DOC = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text(encoding="utf-8")


def _row(metric: str) -> str:
    found = re.search(rf"^\|\s*`{metric}`\s*\|.*$", DOC, flags=re.MULTILINE)
    assert found, f"{metric} is not in docs/metrics.md"
    return found.group(0)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", text))


def test_every_metric_the_report_reads_is_in_the_catalogue() -> None:
    for query in plan("t", ["demo"]):
        _row(query.metric)


def test_the_vocabularies_are_the_catalogues() -> None:
    assert _tokens(_row(cat.DISCLOSURE_REJECTED)) >= set(cat.REJECT_REASONS) - {cat.OTHER}
    assert _tokens(_row(cat.CALLS_UNVERIFIED)) >= set(cat.UNVERIFIED_REASONS) - {cat.OTHER}
    assert _tokens(_row(cat.SESSIONS_DELETED)) >= set(cat.DELETE_REASONS) - {cat.OTHER}
    triggers = re.search(r"^\| `trigger` \|(.*)$", DOC, flags=re.MULTILINE)
    assert triggers and _tokens(triggers.group(1)) == set(cat.TRIGGERS) - {cat.OTHER}


def test_each_query_names_one_published_dimension_set() -> None:
    """Totals carry tenant + service only; breakdowns the sets docs/metrics.md lists ("— ; purpose, reason")."""
    allowed = {
        cat.DISCLOSURE_ACCEPTED: {("purpose", "trigger")},
        cat.DISCLOSURE_REJECTED: {("purpose", "reason")},
        cat.CALLS_UNVERIFIED: {("reason",)},
        cat.SESSIONS_DELETED: {("reason",)},
    }
    for query in plan("t", ["demo"]):
        names = tuple(n for n, _ in query.dimensions)
        assert names[:2] == ("tenant", "service")
        extra = names[2:]
        if extra:
            assert extra in allowed.get(query.metric, {("purpose",)}), (query.metric, extra)
            assert ", ".join(extra) in _row(query.metric)


def test_histogram_statistics_are_trimmed_counts_covering_every_value() -> None:
    histogram = cat.HISTOGRAMS[cat.TIME_TO_DISCLOSURE]
    assert histogram.statistics() == ["TC(:30)", "TC(30:60)", "TC(60:120)", "TC(120:300)", "TC(300:)"]
    assert histogram.labels()[0] == "≤ 30 s" and histogram.labels()[-1] == "> 5 min"


def test_simulated_durations_stay_clear_of_bucket_bounds() -> None:
    assert [clear_of(v, (60,)) for v in (55, 56, 60, 64, 65)] == [55, 55, 55, 65, 65]
    assert bucket(60, BOUNDS["ttd"]) == 1 and bucket(61, BOUNDS["ttd"]) == 2
    week = plan_month(PROFILES["demodorp"], datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC), 3)
    assert week == plan_month(
        PROFILES["demodorp"], datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC), 3
    )
    sessions = [p for p in week if p.kind not in ("no_code", "brute_force")]
    assert len(sessions) > 10
    for p in sessions:
        for value, bounds in ((p.ttd, BOUNDS["ttd"]), (p.ttc, BOUNDS["ttc"])):
            assert all(abs(value - b) >= 5 for b in bounds), p
