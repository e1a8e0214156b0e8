"""Small-cell protection for the report's aggregates: no count from 1 to k-1 can be read off the page,
neither directly nor by adding and subtracting the numbers it shows.

The report is a set of *quantities* (counts) tied by *relations* it states or a reader can assume
(a total is the sum of its breakdown; "disclosed but not called" is disclosed minus verified calls).
`protect` decides which displayed quantities to hide:

1. every quantity whose value is from 1 to k-1 must not be *derivable* from the shown quantities and
   the relations — shown itself, or computable by any linear combination (subtraction from a total
   included). Zero is shown: it describes nobody. Negative values (a derived difference that the
   month boundary made negative) describe nobody either;
2. per breakdown, the hidden parts together form a merged cell ("samengevoegd"), which a reader can
   always compute as total minus the shown parts; it must be 0 or at least k too;
3. greedy: while a rule is broken, hide a quantity — the offending one if it is shown, else the
   cheapest shown quantity whose hiding makes the offending one underivable (smallest counts first;
   headline totals only when nothing else works).

"Derivable" is exact linear algebra: with the shown quantities known, a quantity q is determined
iff its unit vector lies in the row space of the relations restricted to the unknown quantities.
This protects against exact recomputation. It does not bound intervals a reader could narrow down
with non-negativity (a hidden cell is known to lie between 0 and its total); that is the usual limit
of cell suppression and docs/report.md says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

TOLERANCE = 1e-7


@dataclass
class Quantity:
    name: str
    value: int
    displayed: bool = True  # the report prints it (or a chart shows it)
    headline: bool = False  # a total the reader needs most: hidden only as a last resort


@dataclass
class Breakdown:
    """A displayed total and the parts that add up to it: hidden parts are shown merged."""

    total: str
    parts: list[str]


@dataclass
class Ledger:
    quantities: dict[str, Quantity] = field(default_factory=dict)
    relations: list[dict[str, int]] = field(default_factory=list)  # sum(coef * quantity) == 0
    breakdowns: list[Breakdown] = field(default_factory=list)

    def add(self, name: str, value: float, *, displayed: bool = True, headline: bool = False) -> str:
        if name in self.quantities:
            raise ValueError(f"quantity {name} twice")
        self.quantities[name] = Quantity(name, round(value), displayed, headline)
        return name

    def value(self, name: str) -> int:
        return self.quantities[name].value

    def relate(self, combination: Mapping[str, int]) -> None:
        """Declare sum(coefficient * quantity) == 0 (checked against the values)."""
        unknown = set(combination) - set(self.quantities)
        if unknown:
            raise ValueError(f"relation over unknown quantities {sorted(unknown)}")
        total = sum(c * self.quantities[n].value for n, c in combination.items())
        if total != 0:
            raise ValueError(f"relation does not hold: {dict(combination)} sums to {total}")
        self.relations.append({n: c for n, c in combination.items() if c})

    def breakdown(self, total: str, parts: Iterable[str]) -> None:
        """total == sum(parts), and the parts are shown as a table whose hidden cells merge."""
        part_list = list(parts)
        self.relate({total: -1, **{p: 1 for p in part_list}})
        self.breakdowns.append(Breakdown(total, part_list))

    def derived(self, name: str, combination: Mapping[str, int], value: float, *, displayed: bool = True) -> str:
        """A quantity a reader can compute from others (e.g. a funnel step's drop-off)."""
        self.add(name, value, displayed=displayed)
        self.relate({**combination, name: -1})
        return name


@dataclass(frozen=True)
class Decision:
    hidden: frozenset[str]
    merged: dict[str, list[str]]  # breakdown total -> its hidden parts (shown as one merged cell)
    k: int

    def shown(self, name: str) -> bool:
        return name not in self.hidden


def _small(value: int, k: int) -> bool:
    return 1 <= value < k


class _Auditor:
    def __init__(self, ledger: Ledger) -> None:
        self.names = list(ledger.quantities)
        self.index = {n: i for i, n in enumerate(self.names)}
        rows = np.zeros((max(len(ledger.relations), 1), len(self.names)))
        for r, relation in enumerate(ledger.relations):
            for name, coefficient in relation.items():
                rows[r, self.index[name]] = coefficient
        self.relations = rows

    def basis(self, unknown: list[int]) -> np.ndarray:
        """Orthonormal basis of the row space of the relations over the unknown quantities."""
        if not unknown:
            return np.zeros((0, 0))
        sub = self.relations[:, unknown]
        _, sigma, vt = np.linalg.svd(sub, full_matrices=False)
        return np.asarray(vt[sigma > TOLERANCE * max(1.0, float(sigma.max(initial=0.0)))])

    def derivable(self, vector: dict[str, int], unknown: list[int], basis: np.ndarray) -> bool:
        v = np.array([float(vector.get(self.names[i], 0)) for i in unknown])
        if not v.any():
            return True  # made of shown quantities only
        if basis.size == 0:
            return False
        residual = v - basis.T @ (basis @ v)
        return bool(np.linalg.norm(residual) < 1e-6 * max(1.0, float(np.linalg.norm(v))))


def protect(ledger: Ledger, k: int) -> Decision:
    """Which displayed quantities to hide so that no count from 1 to k-1 can be derived."""
    if k <= 1:
        return Decision(frozenset(), {}, k)
    auditor = _Auditor(ledger)
    quantities = ledger.quantities
    hidden: set[str] = set()

    def unknown_of(extra: set[str]) -> list[int]:
        return [auditor.index[n] for n, q in quantities.items() if not q.displayed or n in hidden or n in extra]

    def sensitive() -> list[tuple[dict[str, int], int, str | None]]:
        """(vector, value, the quantity itself or None for a merged cell)."""
        out: list[tuple[dict[str, int], int, str | None]] = [
            ({n: 1}, q.value, n) for n, q in quantities.items() if _small(q.value, k)
        ]
        for b in ledger.breakdowns:
            hidden_parts = [p for p in b.parts if p in hidden]
            if len(hidden_parts) > 1:
                merged_value = sum(quantities[p].value for p in hidden_parts)
                if _small(merged_value, k):
                    out.append(({p: 1 for p in hidden_parts}, merged_value, None))
        return out

    def breaks_a_rule() -> bool:
        unknown = unknown_of(set())
        basis = auditor.basis(unknown)
        return any(auditor.derivable(v, unknown, basis) for v, _, _ in sensitive())

    def cost(name: str) -> tuple[int, int, str]:
        q = quantities[name]
        return (1 if q.headline else 0, q.value, name)

    for _ in range(10 * len(quantities) + 10):
        unknown = unknown_of(set())
        basis = auditor.basis(unknown)
        offending = [(v, val, n) for v, val, n in sensitive() if auditor.derivable(v, unknown, basis)]
        if not offending:
            _show_what_is_known_anyway(auditor, quantities, hidden, unknown_of, breaks_a_rule, k)
            return Decision(frozenset(hidden), _merged(ledger, hidden), k)
        vector, _, name = min(offending, key=lambda o: o[1])
        if name is not None and quantities[name].displayed and name not in hidden:
            hidden.add(name)
            continue
        candidates = sorted(
            (n for n, q in quantities.items() if q.displayed and n not in hidden and q.value != 0 and n not in vector),
            key=cost,
        )
        chosen = None
        for candidate in candidates:
            trial = unknown_of({candidate})
            if not auditor.derivable(vector, trial, auditor.basis(trial)):
                chosen = candidate
                break
        if chosen is None:  # derivable in more than one way: take away the cheapest related quantity
            related = {n for relation in ledger.relations if set(relation) & set(vector) for n in relation}
            pool = [c for c in candidates if c in related] or candidates
            if not pool:
                raise RuntimeError("cannot protect the report's cells")  # pragma: no cover - all shown are 0
            chosen = pool[0]
        hidden.add(chosen)
    raise RuntimeError("cell protection did not converge")  # pragma: no cover


def _show_what_is_known_anyway(
    auditor: _Auditor,
    quantities: dict[str, Quantity],
    hidden: set[str],
    unknown_of: Callable[[set[str]], list[int]],
    breaks_a_rule: Callable[[], bool],
    k: int,
) -> None:
    """A hidden count that is not small and can be computed from the shown ones anyway (a greedy
    step hid it to no effect) is shown again — unless that changes a merged row into a small one."""
    for name in sorted(hidden, key=lambda n: -quantities[n].value):
        if _small(quantities[name].value, k):
            continue
        unknown = unknown_of(set())
        if auditor.derivable({name: 1}, unknown, auditor.basis(unknown)):
            hidden.discard(name)
            if breaks_a_rule():
                hidden.add(name)


def _merged(ledger: Ledger, hidden: set[str]) -> dict[str, list[str]]:
    return {
        b.total: [p for p in b.parts if p in hidden] for b in ledger.breakdowns if any(p in hidden for p in b.parts)
    }


def recoverable(ledger: Ledger, decision: Decision) -> list[str]:
    """Every hidden quantity with a value from 1 to k-1 that can still be computed from what is shown
    (the check tests use, written independently of `protect`'s loop: one rank test per quantity)."""
    names = list(ledger.quantities)
    index = {n: i for i, n in enumerate(names)}
    known_rows = []
    for relation in ledger.relations:
        row = np.zeros(len(names))
        for n, c in relation.items():
            row[index[n]] = c
        known_rows.append(row)
    for n, q in ledger.quantities.items():
        if q.displayed and n not in decision.hidden:
            row = np.zeros(len(names))
            row[index[n]] = 1
            known_rows.append(row)
    known = np.array(known_rows) if known_rows else np.zeros((0, len(names)))
    rank = np.linalg.matrix_rank(known) if known.size else 0
    out = []
    for n, q in ledger.quantities.items():
        if not _small(q.value, decision.k):
            continue
        probe = np.zeros(len(names))
        probe[index[n]] = 1
        if np.linalg.matrix_rank(np.vstack([known, probe])) == rank:
            out.append(n)
    return out
