"""Where moto's CloudWatch differs from CloudWatch in what the evaluation report relies on, the dev
stack makes it behave like CloudWatch (each rule below is tested in tests/report/test_cloudwatch_standin.py
and named after the CloudWatch documentation that states it):

- GetMetricData statistics. moto computes only SampleCount, Sum, Average, Minimum and Maximum and
  answers anything else with an empty value. CloudWatch also computes the trimmed statistics on
  raw values; the report builds its duration histograms from **Trimmed count with absolute bounds**
  (`TC(a:b)`: values greater than `a` and at most `b`; `TC(:b)`: at most `b`; `TC(a:)`: greater
  than `a` — "Statistics definitions", the note on fixed boundaries). Those statistics (and `TS`,
  `TM`) need raw values: a period holding a negative value, or a statistic set that is not a set of
  equal values, has no data point for them ("Requirements to use percentiles, trimmed mean, and some
  other statistics"). Statistics the stand-in does not compute (percentiles, percentage bounds, PR,
  WM, IQM) are refused with a ValidationError instead of an empty or wrong answer.
- Dimensions. "CloudWatch treats each unique combination of dimensions as a separate metric ... You
  can only retrieve statistics using combinations of dimensions that you specifically published"
  (Concepts, Dimension combinations). moto's GetMetricData matches exactly but drops the namespace
  as soon as dimensions are given; its GetMetricStatistics matches any metric that *contains* the
  requested dimensions, which would add a breakdown to its total. Both match exactly here.
- Periods. Periods are 1, 5, 10, 30 or a multiple of 60 seconds, each data point is stamped with the
  start of its period and periods without data are left out (Concepts, Periods); here the periods
  run from StartTime, as moto's do. moto's GetMetricData scans every data point once per period
  and query, which takes minutes for a month of hourly periods: this one indexes once per request.

What the report relies on and both already do alike is left to moto: Sum/SampleCount/Maximum,
StartTime inclusive and EndTime exclusive, unit filtering. What depends on CloudWatch's "now" is not
emulated here (start times are rounded, and older data is kept only at 5-minute or 1-hour
resolution, and for 15 months): the report asks only hour-aligned periods of whole hours for
months younger than 15 months, where rounding and retention change nothing. The ingestion rule
(time stamps at most two weeks old and two hours ahead) is the EMF bridge's (devstack/emf_bridge.py):
it knows the dev stack's clock.

Dev stack only, like devstack/moto_atomic.py: re-entrant, patched while any stack is open.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devstack.moto_patch import patched

STANDARD = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")
_TRIMMED = re.compile(r"^(?P<kind>TC|TS|TM)\((?P<low>[0-9]*\.?[0-9]*)(?P<lp>%?):(?P<high>[0-9]*\.?[0-9]*)(?P<hp>%?)\)$")


class StatisticNotEmulated(ValueError):
    """A statistic CloudWatch computes and the stand-in does not (refused, never answered wrongly)."""


@dataclass(frozen=True)
class Statistic:
    name: str
    kind: str  # a STANDARD name, or TC / TS / TM
    low: float | None = None
    high: float | None = None

    @property
    def needs_raw_values(self) -> bool:
        return self.kind not in STANDARD


def parse_statistic(text: str) -> Statistic:
    if text in STANDARD:
        return Statistic(text, text)
    found = _TRIMMED.match(text)
    if found is None:
        raise StatisticNotEmulated(f"the dev stack's CloudWatch does not compute the statistic {text!r}")
    if found["lp"] or found["hp"]:
        raise StatisticNotEmulated(f"percentage bounds are not emulated: {text!r}")
    low = float(found["low"]) if found["low"] else None
    high = float(found["high"]) if found["high"] else None
    if low is None and high is None:
        raise StatisticNotEmulated(f"a trimmed statistic needs a bound: {text!r}")
    return Statistic(text, found["kind"], low, high)


@dataclass
class _Sample:
    """The data points of one metric in one period: raw values plus statistic sets."""

    values: list[float]
    sets: list[tuple[float, float, float, float]]  # (sample count, sum, minimum, maximum)

    def raw(self) -> list[float] | None:
        """Every value, when CloudWatch still has them; None when a statistic set hides them."""
        out = list(self.values)
        for count, total, low, high in self.sets:
            if low != high or not math.isclose(total, low * count):
                return None
            out += [low] * int(count)
        return out


def evaluate(stat: Statistic, sample: _Sample) -> float | None:
    """One statistic over one period's data points; None when CloudWatch has no value for it."""
    if not stat.needs_raw_values:
        count = len(sample.values) + sum(s[0] for s in sample.sets)
        total = sum(sample.values) + sum(s[1] for s in sample.sets)
        if stat.kind == "SampleCount":
            return float(count)
        if stat.kind == "Sum":
            return float(total)
        if stat.kind == "Average":
            return total / count if count else None
        lows = sample.values + [s[2] for s in sample.sets]
        highs = sample.values + [s[3] for s in sample.sets]
        return float(min(lows)) if stat.kind == "Minimum" else float(max(highs))
    raw = sample.raw()
    if raw is None or any(v < 0 for v in raw):
        return None
    inside = [v for v in raw if (stat.low is None or v > stat.low) and (stat.high is None or v <= stat.high)]
    if stat.kind == "TC":
        return float(len(inside))
    if stat.kind == "TS":
        return float(sum(inside))
    return sum(inside) / len(inside) if inside else None  # TM


def _epoch(moment: Any) -> float:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return float(moment)


def _key(namespace: str | None, name: str | None, dimensions: Sequence[Any]) -> tuple[Any, ...]:
    dims = []
    for d in dimensions:
        if isinstance(d, dict):
            dims.append((d["Name"], d.get("Value")))
        else:
            dims.append((d.name, d.value))
    return (namespace, name, frozenset(dims))


def valid_period(period: int) -> bool:
    return period in (1, 5, 10, 30) or (period > 0 and period % 60 == 0)


def _index(backend: Any, start: float, end: float) -> dict[tuple[Any, ...], list[Any]]:
    from moto.cloudwatch.models import MetricAggregatedDatum

    index: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for datum in backend.get_all_metrics():
        at = _epoch(datum.timestamp)
        if start <= at < end:
            value: Any = (
                (datum.sample_count, datum.sum, datum.min, datum.max)
                if isinstance(datum, MetricAggregatedDatum)
                else datum.value
            )
            index[_key(datum.namespace, datum.name, datum.dimensions)].append((at, value, datum.unit))
    return index


def metric_stat_result(
    index: dict[tuple[Any, ...], list[Any]], query: dict[str, Any], start: float, end: float
) -> tuple[list[float], list[datetime]]:
    """The data points of one MetricStat query, oldest first."""
    from moto.cloudwatch.exceptions import ValidationError

    metric_stat = query["MetricStat"]
    metric = metric_stat["Metric"]
    period = int(metric_stat["Period"])
    if not valid_period(period):
        raise ValidationError("The parameter Period must be 1, 5, 10, 30 or a multiple of 60.")
    try:
        stat = parse_statistic(metric_stat["Stat"])
    except StatisticNotEmulated as exc:
        raise ValidationError(str(exc)) from None
    unit = metric_stat.get("Unit")
    buckets: dict[int, _Sample] = {}
    for at, value, datum_unit in index.get(
        _key(metric["Namespace"], metric["MetricName"], metric.get("Dimensions", [])), []
    ):
        if unit and datum_unit != unit:
            continue
        sample = buckets.setdefault(int((at - start) // period), _Sample([], []))
        if isinstance(value, tuple):
            sample.sets.append(value)
        else:
            sample.values.append(float(value))
    values: list[float] = []
    stamps: list[datetime] = []
    for number in sorted(buckets):
        result = evaluate(stat, buckets[number])
        if result is not None:
            values.append(result)
            stamps.append(datetime.fromtimestamp(start + number * period, UTC))
    return values, stamps


def _get_metric_data(
    self: Any,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    from moto.cloudwatch.exceptions import ValidationError
    from moto.cloudwatch.metric_data_expression_parser import parse_expression

    start, end = math.floor(_epoch(start_time)), math.floor(_epoch(end_time))
    if start > end:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start == end:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    if any("Expression" in q and q["Expression"].startswith("SELECT") for q in queries):
        raise ValidationError("Metrics Insights queries are not emulated by the dev stack")
    index = _index(self, start, end)
    results: list[dict[str, Any]] = []
    returned: list[dict[str, Any]] = []
    for query in queries:
        if "MetricStat" not in query:
            continue
        values, stamps = metric_stat_result(index, query, start, end)
        stat = query["MetricStat"]
        entry = {
            "id": query["Id"],
            "label": query.get("Label") or f"{stat['Metric']['MetricName']} {stat['Stat']}",
            "values": values,
            "timestamps": stamps,
            "status_code": "Complete",
        }
        results.append(entry)
        if query.get("ReturnData", True):
            returned.append(entry)
    for query in queries:
        if "Expression" in query:
            values, stamps = parse_expression(query["Expression"], results)
            returned.append(
                {
                    "id": query["Id"],
                    "label": query.get("Label") or query["Id"],
                    "values": values,
                    "timestamps": stamps,
                    "status_code": "Complete",
                }
            )
    if scan_by == "TimestampDescending":
        for entry in returned:
            entry["values"] = list(reversed(entry["values"]))
            entry["timestamps"] = list(reversed(entry["timestamps"]))
    return returned


class _ExactDimensions:
    """A view of the backend that holds only the metric with exactly these dimensions."""

    def __init__(self, backend: Any, namespace: str, name: str, dimensions: Sequence[Any]) -> None:
        self.backend = backend
        self.wanted = _key(namespace, name, dimensions)

    def get_all_metrics(self) -> list[Any]:
        return [d for d in self.backend.get_all_metrics() if _key(d.namespace, d.name, d.dimensions) == self.wanted]


def _patched_statistics(original: Any) -> Any:
    def get_metric_statistics(
        self: Any,
        namespace: str,
        metric_name: str,
        start_time: datetime,
        end_time: datetime,
        period: int,
        stats: list[str],
        dimensions: list[dict[str, str]],
        unit: str | None = None,
    ) -> Any:
        view = _ExactDimensions(self, namespace, metric_name, dimensions or [])
        return original(view, namespace, metric_name, start_time, end_time, period, stats, [], unit=unit)

    get_metric_statistics.original = original  # type: ignore[attr-defined]
    return get_metric_statistics


@contextlib.contextmanager
def cloudwatch_like_aws() -> Iterator[None]:
    """Re-entrant: nested stacks share one patch."""
    from moto.cloudwatch.models import CloudWatchBackend

    def build(original: dict[str, Any]) -> dict[str, Any]:
        _get_metric_data.original = original["get_metric_data"]  # type: ignore[attr-defined]
        return {
            "get_metric_data": _get_metric_data,
            "get_metric_statistics": _patched_statistics(original["get_metric_statistics"]),
        }

    with patched(CloudWatchBackend, ("get_metric_data", "get_metric_statistics"), build):
        yield
