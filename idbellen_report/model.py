"""From raw month figures to what the report may show: every count goes into one ledger with the
relations a reader can use (totals and their breakdowns, funnel differences), the ledger is
protected (disclosure_control), and each section gets its numbers — hidden ones as None."""

from __future__ import annotations

from dataclasses import dataclass, field

from idbellen_report import catalogue as cat
from idbellen_report.disclosure_control import Decision, Ledger, protect
from idbellen_report.figures import Figures

UNATTRIBUTED = "?"


@dataclass(frozen=True)
class Cell:
    key: str
    label: str
    value: int | None  # None: not shown (hidden, or not meaningful)
    hidden: bool = False
    note: str = ""  # a footnote marker's text, e.g. why a derived number is not meaningful


@dataclass(frozen=True)
class Group:
    """A breakdown as printed: the total, the shown parts, and the hidden parts merged."""

    total: Cell
    parts: list[Cell]
    merged: Cell | None  # sum of the hidden parts, when it may be shown (it is total - shown parts)


@dataclass
class Report:
    figures: Figures
    k: int
    ledger: Ledger
    decision: Decision
    funnel: list[Cell]
    app_dropoff: Group
    no_result: Cell
    disclosed_not_called: Cell
    phone: Group
    outside_hours: Cell
    verified_not_shown: Cell
    purposes: list[dict[str, Cell]]  # per purpose: started, disclosed, verified, shown, not_called
    purpose_labels: dict[str, str]
    histograms: dict[str, Group]
    deletions: Group
    max_age_seconds: float | None
    max_age_shown: bool
    record_limit_seconds: int
    record_ttl_seconds: int
    promise_kept: bool | None
    median_bucket: dict[str, str | None] = field(default_factory=dict)

    def shown_counts(self) -> dict[str, int]:
        """Every count the report prints, by ledger key (used by tests and the demo's self-check)."""
        out: dict[str, int] = {}
        cells = [*self.funnel, self.no_result, self.disclosed_not_called, self.outside_hours, self.verified_not_shown]
        for group in [self.app_dropoff, self.phone, self.deletions, *self.histograms.values()]:
            cells += [group.total, *group.parts]
        for row in self.purposes:
            cells += list(row.values())
        for c in cells:
            if c.value is not None:
                out[c.key] = c.value
        return out


class _Builder:
    def __init__(self, figures: Figures) -> None:
        self.f = figures
        self.ledger = Ledger()
        self.labels: dict[str, str] = {}

    def add(self, key: str, label: str, value: float, *, headline: bool = False, displayed: bool = True) -> str:
        self.labels[key] = label
        return self.ledger.add(key, value, headline=headline, displayed=displayed)

    def breakdown(self, total: str, parts: dict[str, tuple[str, float]]) -> list[str]:
        """Parts (key -> (label, value)) of a total; a remainder part when they do not add up
        (a purpose or reason the report does not know about)."""
        keys = [self.add(k, label, v) for k, (label, v) in parts.items()]
        rest = self.ledger.value(total) - sum(self.ledger.value(k) for k in keys)
        if rest:
            keys.append(self.add(f"{total}:{UNATTRIBUTED}", "Niet toe te wijzen", rest))
        self.ledger.breakdown(total, keys)
        return keys

    def derived(self, key: str, label: str, combination: dict[str, int], *, displayed: bool = True) -> str:
        self.labels[key] = label
        value = sum(c * self.ledger.value(n) for n, c in combination.items())
        return self.ledger.derived(key, combination, value, displayed=displayed)


def _purpose_label(purpose: str) -> str:
    return {cat.OTHER: "Overig (onbekend onderwerp-id)", UNATTRIBUTED: "Niet toe te wijzen"}.get(purpose, purpose)


def build(figures: Figures, k: int = 5, record_ttl_seconds: int = 3600, sweep_seconds: int = 300) -> Report:
    b = _Builder(figures)
    f = figures
    S = b.add("started", "Sessie gestart op de website", f.total(cat.SESSIONS_STARTED), headline=True)
    A = b.add("disclosed", "Gegevens gedeeld in de Yivi-app", f.total(cat.DISCLOSURE_ACCEPTED), headline=True)
    V = b.add("verified", "Gebeld en geverifieerd", f.total(cat.CALLS_VERIFIED), headline=True)
    G = b.add("shown", "Getoond aan een medewerker", f.total(cat.SESSIONS_SHOWN), headline=True)
    U = b.add("unverified", "Gebeld, niet geverifieerd", f.total(cat.CALLS_UNVERIFIED), headline=True)
    R = b.add("rejected", "Niet gelukt in de app", f.total(cat.DISCLOSURE_REJECTED), headline=True)
    D = b.add("deleted", "Verwijderd", f.total(cat.SESSIONS_DELETED), headline=True)
    OH = b.add("outside_hours", "Gebeld buiten openingstijd (na het delen)", f.total(cat.CALLS_OUTSIDE_HOURS))

    # Purposes: the per-purpose funnel and its totals.
    purposes = [p for p in f.purposes if any(f.by_purpose.get(m, {}).get(p, 0) for m in f.by_purpose)]
    purpose_keys: dict[str, dict[str, str]] = {p: {} for p in purposes}
    for metric, total, step in (
        (cat.SESSIONS_STARTED, S, "started"),
        (cat.DISCLOSURE_ACCEPTED, A, "disclosed"),
        (cat.CALLS_VERIFIED, V, "verified"),
        (cat.SESSIONS_SHOWN, G, "shown"),
    ):
        parts = {f"{step}:{p}": (_purpose_label(p), f.by_purpose.get(metric, {}).get(p, 0.0)) for p in purposes}
        for key in b.breakdown(total, parts):
            purpose = key.split(":", 1)[1]
            purpose_keys.setdefault(purpose, {})[step] = key
    for p, keys in purpose_keys.items():
        for step in ("started", "disclosed", "verified", "shown"):
            if step not in keys:
                keys[step] = b.add(f"{step}:{p}", _purpose_label(p), 0)
        keys["not_called"] = b.derived(
            f"not_called:{p}", _purpose_label(p), {keys["disclosed"]: 1, keys["verified"]: -1}
        )

    # The funnel's derived steps and drop-offs.
    phone_parts = b.breakdown(
        U, {f"unverified:{r}": (cat.UNVERIFIED_LABELS[r], f.unverified.get(r, 0.0)) for r in cat.UNVERIFIED_REASONS}
    )
    C = b.derived("called", "Gebeld (binnen openingstijd)", {V: 1, U: 1})
    b.ledger.quantities[C].headline = True
    app_parts = b.breakdown(
        R, {f"rejected:{r}": (cat.REJECT_LABELS[r], f.rejected.get(r, 0.0)) for r in cat.REJECT_REASONS}
    )
    N = b.derived("no_result", "Gestart, zonder uitkomst (bijv. pagina gesloten)", {S: 1, A: -1, R: -1})
    AV = b.derived("not_called", "Gedeeld, maar niet geverifieerd gebeld", {A: 1, V: -1})
    VG = b.derived("not_shown", "Geverifieerd gebeld, niet getoond (bijv. opgehangen in de wachtrij)", {V: 1, G: -1})

    # Durations (histograms) and deletions.
    hist_keys: dict[str, tuple[str, list[str]]] = {}
    linked = {cat.TIME_TO_DISCLOSURE: A, cat.TIME_TO_CALL: V, cat.RECORD_AGE: D}
    for name, histogram in cat.HISTOGRAMS.items():
        n = b.add(f"{name}:n", "Totaal", f.samples.get(name, 0.0))
        counts = f.histograms.get(name, [0.0] * len(histogram.labels()))
        buckets = b.breakdown(n, {f"{name}:{i}": (label, counts[i]) for i, label in enumerate(histogram.labels())})
        if b.ledger.value(n) == b.ledger.value(linked[name]):
            b.ledger.relate({n: 1, linked[name]: -1})  # a reader may take them for the same count
        hist_keys[name] = (n, buckets)
    delete_parts = b.breakdown(
        D, {f"deleted:{r}": (cat.DELETE_LABELS[r], f.deleted.get(r, 0.0)) for r in cat.DELETE_REASONS}
    )

    decision = protect(b.ledger, k)

    def cell(key: str) -> Cell:
        q = b.ledger.quantities[key]
        if key in decision.hidden:
            return Cell(key, b.labels[key], None, hidden=True)
        if q.value < 0:
            return Cell(key, b.labels[key], None, note="negatief door de maandgrens; niet zinvol")
        return Cell(key, b.labels[key], q.value)

    def group(total: str, parts: list[str], merged_label: str = "Samengevoegd (niet apart getoond)") -> Group:
        """The hidden parts of a shown total are shown merged (total minus the shown parts, which a
        reader can compute anyway; protect() keeps it 0 or at least k)."""
        hidden_parts = decision.merged.get(total, [])
        merged = None
        if len(hidden_parts) > 1 and total not in decision.hidden:
            value = sum(b.ledger.value(p) for p in hidden_parts)
            merged = Cell(f"{total}:merged", f"{merged_label}: {len(hidden_parts)} regels", value)
        return Group(cell(total), [cell(p) for p in parts], merged)

    ttl = record_ttl_seconds
    limit = ttl + sweep_seconds
    max_age = f.max_age
    deleted_total = b.ledger.value(D)
    report = Report(
        figures=f,
        k=k,
        ledger=b.ledger,
        decision=decision,
        funnel=[cell(S), cell(A), cell(C), cell(V), cell(G)],
        app_dropoff=group(R, app_parts),
        no_result=cell(N),
        disclosed_not_called=cell(AV),
        phone=group(U, phone_parts),
        outside_hours=cell(OH),
        verified_not_shown=cell(VG),
        purposes=[{step: cell(key) for step, key in keys.items()} for keys in purpose_keys.values()],
        purpose_labels={p: _purpose_label(p) for p in purpose_keys},
        histograms={name: group(n, bucket_keys) for name, (n, bucket_keys) in hist_keys.items()},
        deletions=group(D, delete_parts),
        max_age_seconds=max_age,
        max_age_shown=max_age is not None and deleted_total >= k,
        record_limit_seconds=limit,
        record_ttl_seconds=ttl,
        promise_kept=None if max_age is None else max_age <= limit,
    )
    for name, (n, bucket_keys) in hist_keys.items():
        report.median_bucket[name] = _median_bucket(b.ledger, n, bucket_keys, cat.HISTOGRAMS[name].labels(), k)
    return report


def _median_bucket(ledger: Ledger, n: str, parts: list[str], labels: list[str], k: int) -> str | None:
    """The bucket holding the middle value, for n >= 2k (a range, never a count)."""
    total = ledger.value(n)
    if total < 2 * k:
        return None
    running = 0
    for key, label in zip(parts, labels, strict=False):
        running += ledger.value(key)
        if running * 2 >= total:
            return label
    return None
