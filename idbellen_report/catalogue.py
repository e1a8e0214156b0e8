"""What the report reads: metric names, dimension vocabularies and the histogram buckets, with the
Dutch words the report uses for them. The names and vocabularies are docs/metrics.md's (a test
checks them against it); the report never discovers a dimension value it does not know, because
CloudWatch lists only metrics that received data in the last two weeks (ListMetrics, SEARCH)."""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "idbellen"
SERVICE = "idbellen"
PERIOD_SECONDS = 3600  # hourly data: kept 455 days, valid at any age, adds up exactly to local months

# Counts, summed (`Sum`), with the tenant + service dimensions only: the totals (docs/metrics.md:
# "Sum the total, not the breakdowns").
SESSIONS_STARTED = "SessionsStarted"
DISCLOSURE_ACCEPTED = "DisclosureAccepted"
DISCLOSURE_REJECTED = "DisclosureRejected"
CALLS_VERIFIED = "CallsVerified"
CALLS_UNVERIFIED = "CallsUnverified"
CALLS_OUTSIDE_HOURS = "CallsOutsideHours"
SESSIONS_SHOWN = "SessionsShown"
SESSIONS_DELETED = "SessionsDeleted"
TIME_TO_DISCLOSURE = "TimeToDisclosure"
TIME_TO_CALL = "TimeFromDisclosureToCall"
RECORD_AGE = "RecordAgeAtDeletion"

TOTALS = (
    SESSIONS_STARTED,
    DISCLOSURE_ACCEPTED,
    DISCLOSURE_REJECTED,
    CALLS_VERIFIED,
    CALLS_UNVERIFIED,
    CALLS_OUTSIDE_HOURS,
    SESSIONS_SHOWN,
    SESSIONS_DELETED,
)
# Breakdowns by purpose (dimension sets tenant, service, purpose [, second dimension]).
BY_PURPOSE = (SESSIONS_STARTED, CALLS_VERIFIED, SESSIONS_SHOWN)

OTHER = "other"  # count_by publishes any value that is not a short lowercase token as `other`
TRIGGERS = ("callback", "browser", "phone", "hint", OTHER)
REJECT_REASONS = ("cancelled", "timeout", "invalid_proof", "missing_attributes", "result_expired", OTHER)
UNVERIFIED_REASONS = ("invalid_input", "not_found", "not_verified", "rate_limited", OTHER)
DELETE_REASONS = ("completed", "cleared", "hung_up", "expired", OTHER)


@dataclass(frozen=True)
class Histogram:
    """A duration metric read as counts per bucket with CloudWatch's trimmed count, TC(low:high]:
    values greater than low and at most high. Exact, and additive over periods."""

    metric: str
    bounds: tuple[int, ...]  # seconds; buckets (:b0], (b0:b1], ..., (bn:)

    def statistics(self) -> list[str]:
        edges = ["", *[str(b) for b in self.bounds], ""]
        return [f"TC({edges[i]}:{edges[i + 1]})" for i in range(len(self.bounds) + 1)]

    def labels(self) -> list[str]:
        words = [duration_nl(b) for b in self.bounds]
        out = [f"≤ {words[0]}"]
        out += [f"{words[i]} – {words[i + 1]}" for i in range(len(words) - 1)]
        out.append(f"> {words[-1]}")
        return out


HISTOGRAMS = {
    TIME_TO_DISCLOSURE: Histogram(TIME_TO_DISCLOSURE, (30, 60, 120, 300)),
    TIME_TO_CALL: Histogram(TIME_TO_CALL, (30, 60, 120, 300)),
    RECORD_AGE: Histogram(RECORD_AGE, (300, 900, 1800, 3600)),
}


def duration_nl(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 120:
        return f"{minutes:.0f} min" if minutes == int(minutes) else f"{minutes:.1f} min".replace(".", ",")
    return f"{minutes / 60:.1f} uur".replace(".", ",")


# Dutch labels (the readers: a privacy officer and a KCC manager).
REJECT_LABELS = {
    "cancelled": "Geannuleerd in de Yivi-app",
    "timeout": "Verlopen: de app maakte geen verbinding (bijv. QR-code niet gescand)",
    "invalid_proof": "Bewijs ongeldig",
    "missing_attributes": "Gevraagde gegevens ontbraken in de app",
    "result_expired": "Resultaat te laat opgehaald",
    OTHER: "Overige reden",
}
UNVERIFIED_LABELS = {
    "invalid_input": "Geen code ingetoetst (bijv. zelf gebeld zonder app)",
    "not_found": "Onbekende of al gebruikte code (bijv. typefout)",
    "not_verified": "Code (nog) niet geldig: app niet afgerond of belvenster verlopen",
    "rate_limited": "Geblokkeerd na te veel foute codes",
    OTHER: "Overige reden",
}
DELETE_LABELS = {
    "completed": "Gesprek afgerond (contact beëindigd in Connect)",
    "cleared": "Medewerker sloot het contact in het paneel",
    "hung_up": "Beller hing op vóór een medewerker",
    "expired": "Na het uur automatisch verwijderd",
    OTHER: "Overige reden",
}
