"""Read one tenant's month from CloudWatch with `GetMetricData` (real boto3; the dev stack's moto
answers the same calls, see devstack/cloudwatch_standin.py).

What the queries rely on, and why it holds in CloudWatch and in the dev stack alike:
- one dimension set per query, matched exactly (the totals carry `tenant, service` only; a breakdown
  is its own metric), so nothing is counted twice;
- `Sum`, `SampleCount`, `Maximum` and `TC(low:high)` over hourly periods from the month's first hour:
  hourly data is kept for 455 days whatever its age, and sums, counts and maxima of hours add up
  exactly to a month in any time zone (percentiles would not add up, which is why durations are read
  as trimmed-count histograms);
- every dimension value is asked for by name, from the closed vocabularies in `catalogue` and the
  configured purposes (ListMetrics only adds purposes that had data in the last two weeks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from idbellen_report import catalogue as cat
from idbellen_report.figures import Figures
from idbellen_report.periods import Month

BATCH = 100  # queries per GetMetricData request (limit 500; 100 x 744 hours stays under 100,800 points)


@dataclass(frozen=True)
class Query:
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str

    def request(self, query_id: str) -> dict[str, Any]:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": cat.NAMESPACE,
                    "MetricName": self.metric,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
                },
                "Period": cat.PERIOD_SECONDS,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


def _dims(tenant: str, **extra: str) -> tuple[tuple[str, str], ...]:
    return (("tenant", tenant), ("service", cat.SERVICE), *extra.items())


def plan(tenant: str, purposes: Iterable[str]) -> list[Query]:
    purposes = list(purposes)
    base = _dims(tenant)
    queries = [Query(m, base, "Sum") for m in cat.TOTALS]
    queries += [Query(m, _dims(tenant, purpose=p), "Sum") for m in cat.BY_PURPOSE for p in purposes]
    queries += [
        Query(cat.DISCLOSURE_ACCEPTED, _dims(tenant, purpose=p, trigger=t), "Sum")
        for p in purposes
        for t in cat.TRIGGERS
    ]
    queries += [
        Query(cat.DISCLOSURE_REJECTED, _dims(tenant, purpose=p, reason=r), "Sum")
        for p in purposes
        for r in cat.REJECT_REASONS
    ]
    queries += [Query(cat.CALLS_UNVERIFIED, _dims(tenant, reason=r), "Sum") for r in cat.UNVERIFIED_REASONS]
    queries += [Query(cat.SESSIONS_DELETED, _dims(tenant, reason=r), "Sum") for r in cat.DELETE_REASONS]
    for histogram in cat.HISTOGRAMS.values():
        queries += [Query(histogram.metric, base, s) for s in [*histogram.statistics(), "SampleCount"]]
    queries.append(Query(cat.RECORD_AGE, base, "Maximum"))
    return queries


def get_month(client: Any, queries: list[Query], start: datetime, end: datetime) -> dict[Query, float | None]:
    """The month's value of each query: hourly values added (maximum taken for Maximum); None when
    CloudWatch has no data point in the month."""
    out: dict[Query, float | None] = {}
    paginator = client.get_paginator("get_metric_data")
    for first in range(0, len(queries), BATCH):
        batch = queries[first : first + BATCH]
        values: dict[str, list[float]] = {f"q{i}": [] for i in range(len(batch))}
        pages = paginator.paginate(
            MetricDataQueries=[q.request(f"q{i}") for i, q in enumerate(batch)],
            StartTime=start,
            EndTime=end,
            ScanBy="TimestampAscending",
        )
        for page in pages:
            for result in page["MetricDataResults"]:
                if result.get("StatusCode") not in (None, "Complete", "PartialData"):
                    raise RuntimeError(f"CloudWatch answered {result.get('StatusCode')} for {result['Id']}")
                values[result["Id"]] += [float(v) for v in result.get("Values", [])]
        for i, query in enumerate(batch):
            points = values[f"q{i}"]
            if not points:
                out[query] = None
            elif query.stat == "Maximum":
                out[query] = max(points)
            else:
                out[query] = sum(points)
    return out


def discover_purposes(client: Any, tenant: str) -> set[str]:
    """Purposes with data in the last two weeks (what ListMetrics can see), as a supplement only."""
    found: set[str] = set()
    paginator = client.get_paginator("list_metrics")
    for page in paginator.paginate(
        Namespace=cat.NAMESPACE, MetricName=cat.SESSIONS_STARTED, Dimensions=[{"Name": "tenant", "Value": tenant}]
    ):
        for metric in page.get("Metrics", []):
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            if dims.get("tenant") == tenant and "purpose" in dims:
                found.add(dims["purpose"])
    return found


def fetch(
    client: Any,
    tenant: str,
    month: Month,
    purposes: Iterable[str],
    zone: str = "Europe/Amsterdam",
    now: datetime | None = None,
    discover: bool = True,
) -> Figures:
    """Everything the report needs for one tenant and one month."""
    now = now or datetime.now(UTC)
    chosen = list(dict.fromkeys(p for p in purposes if p != cat.OTHER))
    if discover:
        chosen += sorted(discover_purposes(client, tenant) - set(chosen) - {cat.OTHER})
    chosen.append(cat.OTHER)
    start, end = month.bounds(zone)
    queries = plan(tenant, chosen)
    values = get_month(client, queries, start, end)

    def value(metric: str, stat: str = "Sum", **dims: str) -> float:
        return values.get(Query(metric, _dims(tenant, **dims), stat)) or 0.0

    figures = Figures(tenant=tenant, month=month, zone=zone, generated_at=now, complete=end <= now, purposes=chosen)
    figures.totals = {m: value(m) for m in cat.TOTALS}
    figures.by_purpose = {m: {p: value(m, purpose=p) for p in chosen} for m in cat.BY_PURPOSE}
    figures.by_purpose[cat.DISCLOSURE_ACCEPTED] = {
        p: sum(value(cat.DISCLOSURE_ACCEPTED, purpose=p, trigger=t) for t in cat.TRIGGERS) for p in chosen
    }
    figures.rejected = {
        r: sum(value(cat.DISCLOSURE_REJECTED, purpose=p, reason=r) for p in chosen) for r in cat.REJECT_REASONS
    }
    figures.unverified = {r: value(cat.CALLS_UNVERIFIED, reason=r) for r in cat.UNVERIFIED_REASONS}
    figures.deleted = {r: value(cat.SESSIONS_DELETED, reason=r) for r in cat.DELETE_REASONS}
    for name, histogram in cat.HISTOGRAMS.items():
        figures.histograms[name] = [value(name, s) for s in histogram.statistics()]
        figures.samples[name] = value(name, "SampleCount")
    figures.max_age = values.get(Query(cat.RECORD_AGE, _dims(tenant), "Maximum"))
    return figures


def client_for(region: str | None = None, endpoint_url: str | None = None) -> Any:
    import boto3

    return boto3.session.Session().client("cloudwatch", region_name=region, endpoint_url=endpoint_url)
