"""Evaluation metrics (CloudWatch EMF on stdout): each flow emits the counts and durations the
evaluation needs, with the per-purpose / per-reason breakdowns, and no metric name, dimension or value
carries a canary, a code, a secret or an id. Every emitted metric is in the catalogue, docs/metrics.md."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import DevStack
from tests.audit.helpers import (
    MOBILE,
    Metric,
    Run,
    call,
    clear,
    disclose,
    emf_lines,
    emf_metrics,
    hang_up,
    happy_path,
    leaks,
    read,
    start,
    total,
)

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
DIMENSION_KEYS = {"tenant", "service", "purpose", "reason", "trigger", "result"}
TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@pytest.fixture
def stack() -> Iterator[DevStack]:
    with DevStack() as running:
        yield running


def documented_names() -> set[str]:
    """Metric names in the first column of the catalogue's tables (`Name`)."""
    text = CATALOGUE.read_text(encoding="utf-8")
    return set(re.findall(r"^\|\s*`([A-Za-z]+)`\s*\|", text, flags=re.MULTILINE))


def _clean(out: str, run: Run, stack: DevStack) -> list[Metric]:
    """Parse the EMF lines and check them: documented names, closed dimension vocabulary, no values."""
    metrics = emf_metrics(out)
    assert metrics, "no metrics: the checks would be vacuous"
    names = documented_names()
    forbidden = [*run.forbidden(), *run.contact_ids, *stack.contacts]
    for metric in metrics:
        assert metric.name in names, f"{metric.name} is not in docs/metrics.md"
        assert set(metric.dimensions) <= DIMENSION_KEYS, metric
        assert {"tenant", "service"} <= set(metric.dimensions), metric
        for key, value in metric.dimensions.items():
            assert TOKEN.match(value), (key, value)
        assert metric.value >= 0
    for line in emf_lines(out):
        names_in_line = {d["Name"] for c in line["_aws"]["CloudWatchMetrics"] for d in c["Metrics"]}
        assert set(line) <= {"_aws", *DIMENSION_KEYS, *names_in_line}, set(line)
    text = "\n".join(re.findall(r"^\{.*\"_aws\".*$", out, flags=re.MULTILINE))
    found = leaks(text, forbidden)
    assert not found, f"metrics carry forbidden values: {found}"
    return metrics


def test_verified_call_emits_the_evaluation_metrics(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    run = Run()
    happy_path(stack, run)
    metrics = _clean(capsys.readouterr().out, run, stack)
    assert total(metrics, "SessionsStarted") == 1
    assert total(metrics, "SessionsStarted", purpose="demo") == 1
    assert total(metrics, "DisclosureAccepted") == 1
    assert total(metrics, "DisclosureAccepted", purpose="demo", trigger="callback") == 1
    assert total(metrics, "DisclosureRejected") == 0
    assert total(metrics, "CallsVerified") == 1
    assert total(metrics, "CallsVerified", purpose="demo") == 1
    assert total(metrics, "CallsUnverified") == 0
    assert total(metrics, "AgentReads") == 1
    assert total(metrics, "AgentReads", purpose="demo") == 1
    assert total(metrics, "SessionsDeleted") == 1
    assert total(metrics, "SessionsDeletedCompleted") == 1
    assert total(metrics, "SessionsDeleted", reason="completed") == 1
    assert total(metrics, "RecordsDeleted") >= 4
    assert total(metrics, "SecretsBlanked") == 1
    durations = {m.name: m for m in metrics if m.unit == "Seconds" and set(m.dimensions) == {"tenant", "service"}}
    assert set(durations) == {"TimeToDisclosure", "TimeFromDisclosureToCall", "RecordAgeAtDeletion"}
    assert 95 <= durations["RecordAgeAtDeletion"].value <= 110
    assert 95 <= total(metrics, "RecordAgeAtDeletion", reason="completed") <= 110
    assert total(metrics, "TimeToDisclosure", purpose="demo") >= 0
    assert [m for m in metrics if m.name == "TimeFromDisclosureToCall" and m.dimensions.get("purpose") == "demo"]


def test_time_from_disclosure_to_call_measures_the_wait(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    run = Run()
    digits = disclose(stack, run, start(stack, run))
    stack.clock.advance(240)
    call(stack, run, digits)
    metrics = _clean(capsys.readouterr().out, run, stack)
    waits = [m.value for m in metrics if m.name == "TimeFromDisclosureToCall"]
    assert len(waits) == 2 and all(240 <= w <= 250 for w in waits)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [({"proof_status": "INVALID"}, "invalid_proof"), ({"status": "CANCELLED"}, "cancelled")],
)
def test_rejected_disclosures_are_counted_by_reason(
    stack: DevStack, capsys: pytest.CaptureFixture[str], kwargs: dict[str, str], reason: str
) -> None:
    run = Run()
    body = start(stack, run)
    disclose(stack, run, body, **kwargs)
    stack.api("POST", f"/sessions/{body['session_id']}/complete")
    metrics = _clean(capsys.readouterr().out, run, stack)
    assert total(metrics, "DisclosureRejected") == 1
    assert total(metrics, "DisclosureRejected", purpose="demo", reason=reason) == 1
    assert total(metrics, "DisclosureAccepted") == 0


def test_unverified_calls_are_counted_by_reason(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    run = Run()
    call(stack, run, "12345678")  # unknown code
    for digits in ("Timeout", "12ab"):  # what the flow passes on no input; not a code
        contact = str(uuid.uuid4())
        stack.invoke("dtmf", stack.contact_flow_event(contact, contact, {"dtmf": digits}))
    for _ in range(11):  # a brute-force run from one number: the 11th is rate limited
        call(stack, run, str(10_000_000 + uuid.uuid4().int % 90_000_000), caller=MOBILE)
    metrics = _clean(capsys.readouterr().out, run, stack)
    assert total(metrics, "CallsVerified") == 0
    unverified = total(metrics, "CallsUnverified")
    assert unverified == 14
    assert total(metrics, "CallsUnverified", reason="not_found") == 11
    assert total(metrics, "CallsUnverified", reason="invalid_input") == 2
    assert total(metrics, "CallsUnverified", reason="rate_limited") == 1
    assert total(metrics, "DtmfNotFound") == 11
    assert total(metrics, "DtmfInvalidInput") == 2
    assert total(metrics, "DtmfRateLimited") == 1
    breakdown = sum(m.value for m in metrics if m.name == "CallsUnverified" and "reason" in m.dimensions)
    assert breakdown == unverified


def test_code_before_disclosure_is_not_verified(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    """A code dialled before the citizen finished in the app: NOT_VERIFIED, counted as such."""
    stack.irma.send_callbacks = False
    run = Run()
    body = start(stack, run)
    session = next(iter(stack.irma.sessions.values()))
    digits = session.request["clientReturnUrl"].split(",", 1)[1]
    run.secrets.add(digits)
    result = call(stack, run, digits)
    assert result.attributes["verified"] == "false"
    assert body["session_id"]
    metrics = _clean(capsys.readouterr().out, run, stack)
    assert total(metrics, "CallsUnverified", reason="not_verified") == 1
    assert total(metrics, "DtmfNotVerified") == 1


def test_caller_match_is_counted_without_numbers(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    run = Run()
    happy_path(stack, run, purpose="belastingen", caller=MOBILE)
    happy_path(stack, run, purpose="belastingen")  # called from another number
    metrics = _clean(capsys.readouterr().out, run, stack)
    assert total(metrics, "CallerMatchChecked", result="match") == 1
    assert total(metrics, "CallerMatchChecked", result="mismatch") == 1
    assert total(metrics, "SessionsStarted", purpose="belastingen") == 2


@pytest.mark.parametrize(("how", "name"), [("cleared", "SessionsDeletedCleared"), ("hung_up", "SessionsDeletedHungUp")])
def test_deletions_are_counted_by_reason(
    stack: DevStack, capsys: pytest.CaptureFixture[str], how: str, name: str
) -> None:
    run = Run()
    result = call(stack, run, disclose(stack, run, start(stack, run)))
    stack.clock.advance(30)
    if how == "cleared":
        assert read(stack, result)[0] == 200
        assert clear(stack, result)[0] == 204
    else:
        hang_up(stack, result)
    metrics = _clean(capsys.readouterr().out, run, stack)
    assert total(metrics, name) == 1
    assert total(metrics, "SessionsDeleted", reason=how) == 1
    assert 30 <= total(metrics, "RecordAgeAtDeletion", reason=how) <= 45


def test_expiry_is_counted_with_record_age(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    run = Run()
    disclose(stack, run, start(stack, run))
    stack.clock.advance(3700)
    stack.sweep()
    metrics = _clean(capsys.readouterr().out, run, stack)
    assert total(metrics, "SessionsDeletedExpired") == 1
    assert total(metrics, "SessionsDeleted", reason="expired") == 1
    assert 3700 <= total(metrics, "RecordAgeAtDeletion", reason="expired") <= 3720
    assert total(metrics, "SecretsBlanked") == 0  # never linked to a contact


def test_breakdown_dimensions_are_a_closed_vocabulary() -> None:
    """An id or a value passed as a dimension is published as `other`; unknown keys are refused."""
    import contextlib
    import io

    from idbellen.observability import count_by

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        count_by("SessionsStarted", purpose="999990019 Jan")
        count_by("CallsUnverified", reason="0612345678-ab cd")
    lines = emf_lines(buffer.getvalue())
    assert [line.get("purpose", line.get("reason")) for line in lines] == ["other", "other"]
    assert "999990019" not in buffer.getvalue() and "0612345678" not in buffer.getvalue()
    with pytest.raises(ValueError, match="not allowed"):
        count_by("AgentReads", contact_id="abc")


def test_irma_failures_are_counted(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    """An IRMA server fault on start and on a pull (browser, and the phone side's pull) counts IrmaErrors."""
    run = Run()
    stack.irma.fault = "500"
    assert stack.api("POST", "/sessions", {"purpose": "demo"})[0] == 503
    stack.irma.fault = None
    stack.irma.send_callbacks = False
    body = start(stack, run)
    digits = disclose(stack, run, body)
    stack.irma.fault = "500"
    assert stack.api("POST", f"/sessions/{body['session_id']}/complete")[0] == 503
    assert call(stack, run, digits).attributes["verified"] == "false"
    metrics = _clean(capsys.readouterr().out, run, stack)
    assert total(metrics, "IrmaErrors") == 3
    assert total(metrics, "DependencyErrors") == 2  # the two HTTP requests answered 503
