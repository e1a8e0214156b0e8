"""The dev stack's CloudWatch (moto + devstack/cloudwatch_standin.py) answers what the report asks the
way CloudWatch documents it. Each test names the rule (CloudWatch User Guide: "Concepts", "Statistics
definitions"); real boto3 against the stack's moto server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack import DevStack

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
BASE = [{"Name": "tenant", "Value": "std"}, {"Name": "service", "Value": "idbellen"}]


@pytest.fixture(scope="module")
def cw() -> Iterator[Any]:
    with DevStack() as stack:
        stack.clock.set(T0.timestamp())
        yield boto3.client("cloudwatch")


def put(
    cw: Any, name: str, values: list[float], dims: list[dict[str, str]], at: datetime = T0, ns: str = "idbellen"
) -> None:
    cw.put_metric_data(
        Namespace=ns, MetricData=[{"MetricName": name, "Dimensions": dims, "Timestamp": at, "Values": values}]
    )


def get(
    cw: Any, name: str, stat: str, dims: list[dict[str, str]], period: int = 3600, ns: str = "idbellen", hours: int = 1
) -> list[float]:
    out = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {"Namespace": ns, "MetricName": name, "Dimensions": dims},
                    "Period": period,
                    "Stat": stat,
                },
            }
        ],
        StartTime=T0,
        EndTime=T0 + timedelta(hours=hours),
        ScanBy="TimestampAscending",
    )
    return list(out["MetricDataResults"][0]["Values"])


def test_a_breakdown_is_a_metric_of_its_own_not_part_of_the_total(cw: Any) -> None:
    """Concepts, Dimension combinations: "CloudWatch treats each unique combination of dimensions as a
    separate metric ... You can only retrieve statistics using combinations of dimensions that you
    specifically published" — GetMetricData and GetMetricStatistics alike (moto's GetMetricStatistics
    matched any metric containing the dimensions, which adds the breakdown to the total)."""
    put(cw, "Exact", [1, 1], BASE)
    put(cw, "Exact", [1, 1], [*BASE, {"Name": "purpose", "Value": "demo"}])
    assert get(cw, "Exact", "Sum", BASE) == [2.0]
    assert get(cw, "Exact", "Sum", [BASE[0]]) == []
    stats = cw.get_metric_statistics(
        Namespace="idbellen",
        MetricName="Exact",
        Dimensions=BASE,
        StartTime=T0,
        EndTime=T0 + timedelta(hours=1),
        Period=3600,
        Statistics=["Sum"],
    )
    assert [p["Sum"] for p in stats["Datapoints"]] == [2.0]


def test_namespaces_are_isolated(cw: Any) -> None:
    """Concepts, Namespaces: "Metrics in different namespaces are isolated from each other" (moto's
    GetMetricData ignored the namespace once dimensions were given)."""
    put(cw, "Isolated", [5], BASE, ns="other-app")
    put(cw, "Isolated", [1], BASE)
    assert get(cw, "Isolated", "Sum", BASE) == [1.0]
    assert get(cw, "Isolated", "Sum", BASE, ns="other-app") == [5.0]


def test_trimmed_count_excludes_the_lower_bound_and_includes_the_upper(cw: Any) -> None:
    """Statistics definitions: "TC(80:500) uses only the values that are between 80 (exclusive) and 500
    (inclusive)", "TC(:0.5) uses only the values that equal 0.5 or are lower"."""
    put(cw, "Durations", [0, 30, 30.5, 60, 61, 600], BASE)
    assert get(cw, "Durations", "TC(:30)", BASE) == [2.0]
    assert get(cw, "Durations", "TC(30:60)", BASE) == [2.0]
    assert get(cw, "Durations", "TC(60:)", BASE) == [2.0]
    assert get(cw, "Durations", "TS(30:60)", BASE) == [90.5]
    assert get(cw, "Durations", "SampleCount", BASE) == [6.0]
    assert get(cw, "Durations", "Maximum", BASE) == [600.0]


def test_trimmed_statistics_need_raw_non_negative_values(cw: Any) -> None:
    """Statistics definitions, Requirements: they need raw data points; a statistic set qualifies only
    when its values are all equal; "not available for metrics when any of the metric values are
    negative numbers"."""
    put(cw, "Negative", [-1, 5], BASE)
    assert get(cw, "Negative", "TC(:10)", BASE) == []
    assert get(cw, "Negative", "Sum", BASE) == [4.0]
    sets = [
        {"SampleCount": 3, "Sum": 30, "Minimum": 10, "Maximum": 10},  # three times 10: usable
        {"SampleCount": 2, "Sum": 30, "Minimum": 10, "Maximum": 20},  # values unknown: not usable
    ]
    for i, stats in enumerate(sets):
        cw.put_metric_data(
            Namespace="idbellen",
            MetricData=[{"MetricName": f"Set{i}", "Dimensions": BASE, "Timestamp": T0, "StatisticValues": stats}],
        )
    assert get(cw, "Set0", "TC(5:10)", BASE) == [3.0]
    assert get(cw, "Set1", "TC(5:10)", BASE) == []
    assert get(cw, "Set1", "Sum", BASE) == [30.0]


def test_periods_are_stamped_at_their_start_and_empty_ones_left_out(cw: Any) -> None:
    """Concepts, Periods: data aggregated from 7:00 to 8:00 "is stamped as 7:00"; periods are 1, 5, 10,
    30 or a multiple of 60 seconds. EndTime is exclusive."""
    put(cw, "Hourly", [1], BASE, at=T0 + timedelta(minutes=10))
    put(cw, "Hourly", [1, 1], BASE, at=T0 + timedelta(hours=2, minutes=59))
    put(cw, "Hourly", [7], BASE, at=T0 + timedelta(hours=3))
    out = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {"Namespace": "idbellen", "MetricName": "Hourly", "Dimensions": BASE},
                    "Period": 3600,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=T0,
        EndTime=T0 + timedelta(hours=3),
        ScanBy="TimestampAscending",
    )["MetricDataResults"][0]
    assert out["Values"] == [1.0, 2.0]
    assert [t.astimezone(UTC) for t in out["Timestamps"]] == [T0, T0 + timedelta(hours=2)]
    with pytest.raises(ClientError, match="Period"):
        get(cw, "Hourly", "Sum", BASE, period=90)


def test_statistics_the_stand_in_does_not_compute_are_refused_not_guessed(cw: Any) -> None:
    """moto answers a percentile with an empty value; the stand-in refuses what it does not emulate
    (the report uses none of these)."""
    put(cw, "Refused", [1, 2, 3], BASE)
    for stat in ("p50", "TC(10%:90%)", "PR(:2)", "IQM"):
        with pytest.raises(ClientError, match=r"does not|not emulated"):
            get(cw, "Refused", stat, BASE)
