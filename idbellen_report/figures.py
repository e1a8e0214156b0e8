"""The raw month figures of one tenant, as read from CloudWatch (before any small-cell protection).

They are aggregates only — sums, trimmed counts, one maximum — and they stay in memory: the report
prints them only through `model.build`, which applies the protection."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from idbellen_report.periods import Month


@dataclass
class Figures:
    tenant: str
    month: Month
    zone: str
    generated_at: datetime
    complete: bool  # the month had ended when the figures were read
    purposes: list[str]
    totals: dict[str, float] = field(default_factory=dict)  # metric -> month Sum (tenant, service)
    by_purpose: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> purpose -> Sum
    rejected: dict[str, float] = field(default_factory=dict)  # reason -> Sum over purposes
    unverified: dict[str, float] = field(default_factory=dict)  # reason -> Sum
    deleted: dict[str, float] = field(default_factory=dict)  # reason -> Sum
    histograms: dict[str, list[float]] = field(default_factory=dict)  # metric -> count per bucket
    samples: dict[str, float] = field(default_factory=dict)  # metric -> SampleCount
    max_age: float | None = None  # RecordAgeAtDeletion, Maximum over the month (seconds)

    def total(self, metric: str) -> int:
        return round(self.totals.get(metric, 0.0))
