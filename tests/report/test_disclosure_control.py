"""Small-cell protection (idbellen_report.disclosure_control): no count from 1 to k-1 is shown or can
be recomputed from what is shown — by subtraction from a total, across two breakdowns of one total,
or through a funnel difference — and zero is not treated as small."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idbellen_report.disclosure_control import Ledger, protect, recoverable

K = 5


def _reasons(values: dict[str, int], total: int | None = None) -> Ledger:
    ledger = Ledger()
    ledger.add("total", sum(values.values()) if total is None else total, headline=True)
    for name, value in values.items():
        ledger.add(name, value)
    ledger.breakdown("total", list(values))
    return ledger


def test_a_small_cell_is_hidden_together_with_a_second_one() -> None:
    """Hiding only the 3 would leave it as 12 - 0 - 9: the 9 goes too, and the two are shown merged."""
    ledger = _reasons({"cancelled": 3, "timeout": 0, "invalid": 9})
    decision = protect(ledger, K)
    assert decision.hidden == {"cancelled", "invalid"}
    assert decision.merged == {"total": ["cancelled", "invalid"]}
    assert recoverable(ledger, decision) == []


def test_zero_is_shown_and_large_cells_stay() -> None:
    ledger = _reasons({"a": 40, "b": 0, "c": 25})
    decision = protect(ledger, K)
    assert decision.hidden == frozenset()


def test_the_merged_cell_of_hidden_parts_is_not_small() -> None:
    """Two small cells (1 + 2 = 3) merged would still show 3: a third cell joins them."""
    ledger = _reasons({"a": 1, "b": 2, "c": 30, "d": 40})
    decision = protect(ledger, K)
    hidden = sorted(decision.hidden)
    assert hidden == ["a", "b", "c"]
    merged = sum(ledger.value(n) for n in decision.merged["total"])
    assert merged >= K
    assert recoverable(ledger, decision) == []


def test_a_small_total_hides_its_whole_breakdown() -> None:
    ledger = _reasons({"a": 1, "b": 2})
    decision = protect(ledger, K)
    assert {"total", "a", "b"} <= decision.hidden


def test_two_breakdowns_of_one_total_cannot_be_played_off() -> None:
    """Disclosures by purpose and by duration class share their total: a cell hidden in one
    breakdown must not be recoverable through the other."""
    ledger = Ledger()
    ledger.add("disclosed", 60, headline=True)
    for name, value in {"p:demo": 57, "p:tax": 3}.items():
        ledger.add(name, value)
    ledger.breakdown("disclosed", ["p:demo", "p:tax"])
    ledger.add("n", 60)
    for name, value in {"t:0": 20, "t:1": 30, "t:2": 10}.items():
        ledger.add(name, value)
    ledger.breakdown("n", ["t:0", "t:1", "t:2"])
    ledger.relate({"n": 1, "disclosed": -1})
    decision = protect(ledger, K)
    assert "p:tax" in decision.hidden
    assert recoverable(ledger, decision) == []
    assert "disclosed" not in decision.hidden  # a headline total goes only as a last resort


def test_a_small_funnel_difference_is_not_left_computable() -> None:
    """Disclosed 40 and verified calls 38 for one purpose would tell that 2 people dropped out."""
    ledger = Ledger()
    for name, value in {"disclosed": 100, "verified": 85}.items():
        ledger.add(name, value, headline=True)
    for name, value in {"d:a": 40, "d:b": 60, "v:a": 38, "v:b": 47}.items():
        ledger.add(name, value)
    ledger.breakdown("disclosed", ["d:a", "d:b"])
    ledger.breakdown("verified", ["v:a", "v:b"])
    ledger.derived("gap:a", {"d:a": 1, "v:a": -1}, 2)
    ledger.derived("gap:b", {"d:b": 1, "v:b": -1}, 13)
    decision = protect(ledger, K)
    assert "gap:a" in decision.hidden
    assert recoverable(ledger, decision) == []


def test_relations_are_checked_against_the_values() -> None:
    ledger = Ledger()
    ledger.add("t", 10)
    ledger.add("a", 4)
    with pytest.raises(ValueError, match="does not hold"):
        ledger.breakdown("t", ["a"])


def test_the_independent_check_does_find_a_recoverable_cell() -> None:
    """`recoverable` (the tests' own rank check) is not vacuous: with nothing hidden it flags the 3."""
    from idbellen_report.disclosure_control import Decision

    ledger = _reasons({"cancelled": 3, "invalid": 9})
    open_decision = Decision(frozenset({"cancelled"}), {}, K)
    assert recoverable(ledger, open_decision) == ["cancelled"]


@st.composite
def _linked_tables(draw: st.DrawFn) -> Ledger:
    """A total split two ways (like purposes and duration classes) plus per-part differences to a
    second split total (like disclosed vs verified per purpose), with many small values."""
    small_or_large = st.one_of(st.integers(0, 6), st.integers(7, 80))
    parts = draw(st.lists(small_or_large, min_size=2, max_size=4))
    later = [draw(st.integers(0, p)) for p in parts]  # a funnel step: never more than the step before
    classes = draw(st.lists(st.integers(0, 3), min_size=len(parts), max_size=len(parts)))
    ledger = Ledger()
    ledger.add("first", sum(parts), headline=True)
    ledger.add("second", sum(later), headline=True)
    names = [ledger.add(f"f:{i}", v) for i, v in enumerate(parts)]
    later_names = [ledger.add(f"s:{i}", v) for i, v in enumerate(later)]
    ledger.breakdown("first", names)
    ledger.breakdown("second", later_names)
    for i, (a, b) in enumerate(zip(parts, later, strict=True)):
        ledger.derived(f"gap:{i}", {f"f:{i}": 1, f"s:{i}": -1}, a - b)
    buckets = [0, 0, 0, 0]
    for value, cls in zip(parts, classes, strict=True):
        buckets[cls] += value
    ledger.add("n", sum(parts))
    bucket_names = [ledger.add(f"b:{i}", v) for i, v in enumerate(buckets)]
    ledger.breakdown("n", bucket_names)
    ledger.relate({"n": 1, "first": -1})
    return ledger


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_linked_tables(), st.integers(2, 6))
def test_no_small_count_survives_in_any_linked_table(ledger: Ledger, k: int) -> None:
    decision = protect(ledger, k)
    shown = {n: q.value for n, q in ledger.quantities.items() if q.displayed and n not in decision.hidden}
    assert not [n for n, v in shown.items() if 1 <= v < k]
    assert recoverable(ledger, decision) == []
    for total, hidden_parts in decision.merged.items():
        if total not in decision.hidden:
            merged = sum(ledger.value(p) for p in hidden_parts)
            assert merged == 0 or merged >= k, (total, hidden_parts)
