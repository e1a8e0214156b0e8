"""Report periods: calendar months in the municipality's time zone (Europe/Amsterdam by default)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

MONTHS_NL = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
RETENTION_DAYS = 455  # CloudWatch keeps hourly data points for 455 days (15 months)


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if not found or not 1 <= int(found[2]) <= 12:
            raise ValueError(f"not a month (YYYY-MM): {text!r}")
        return cls(int(found[1]), int(found[2]))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def bounds(self, zone: str = "Europe/Amsterdam") -> tuple[datetime, datetime]:
        """[start, end) of the month in `zone`, as UTC instants (whole hours for every real zone)."""
        tz = ZoneInfo(zone)
        following = self.next()
        start = datetime(self.year, self.month, 1, tzinfo=tz).astimezone(UTC)
        end = datetime(following.year, following.month, 1, tzinfo=tz).astimezone(UTC)
        return start, end

    def label_nl(self) -> str:
        return f"{MONTHS_NL[self.month - 1]} {self.year}"


def months(first: Month, last: Month) -> Iterator[Month]:
    if last < first:
        raise ValueError("the last month is before the first")
    current = first
    while current <= last:
        yield current
        current = current.next()
