"""The processing log (verwerkingenlog): every step of every flow writes exactly one record, with the
whitelisted fields only, and no record carries a value — no attribute value, secret, code, token,
session id or phone number. Runs the real handlers through DevStack and reads stdout as CloudWatch
would."""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from idbellen import audit
from idbellen.sessions import session_pk

from devstack import DevStack
from devstack.identity import DEV_AGENT
from tests.audit.helpers import (
    BSN_ATTR,
    MOBILE,
    MOBILE_ATTR,
    NAME_ATTR,
    Run,
    call,
    clear,
    disclose,
    hang_up,
    happy_path,
    leaks,
    processing_records,
    read,
    start,
)

ENVELOPE = audit.ENVELOPE_FIELDS
ALLOWED = ENVELOPE | audit.ALLOWED_FIELDS
STEP_FIELDS = {
    "session_started": {"purpose", "attribute_types"},
    "disclosed": {"purpose", "attribute_types", "proof_status", "trigger"},
    "disclosure_rejected": {"purpose", "reason", "trigger"},
    "call_linked": {"purpose", "contact_id", "initial_contact_id", "relink"},
    "shown_to_agent": {"purpose", "contact_id", "agent_id", "attribute_types"},
    "deleted": {"purpose", "reason", "age_seconds", "items_deleted"},
    "segment_ended": {"contact_id", "trigger"},
}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def stack() -> Iterator[DevStack]:
    with DevStack() as running:
        yield running


def _check_shape(records: list[dict[str, Any]], run: Run, text: str) -> None:
    """Whitelist, well-formed envelope, and no forbidden value anywhere in the records or the text."""
    assert records, "no processing records: the test would be vacuous"
    for record in records:
        assert set(record) <= ALLOWED, set(record) - ALLOWED
        required = STEP_FIELDS[record["step"]]
        if record.get("outcome") == "finished":  # a retry finishing an interrupted deletion
            required = {"reason", "items_deleted"}
        assert required <= set(record), (record["step"], required - set(record))
        assert record["schema"] == audit.SCHEMA
        assert UUID.match(record["id"]) and UUID.match(record["verwerking_id"])
        assert re.fullmatch(r"[0-9a-f]{16}", record["session_ref"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["timestamp"])
        assert record["confidentiality"] == "normaal" and record["retention"] == "P1Y"
        assert "[invalid]" not in str(record), record
        for attr in record.get("attribute_types", []):
            assert attr in (BSN_ATTR, NAME_ATTR, MOBILE_ATTR)
    found = leaks(text, run.forbidden())
    assert not found, f"processing records carry forbidden values: {found}"


def test_happy_path_writes_each_step_exactly_once(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    run = Run()
    result = happy_path(stack, run)
    records = processing_records(capsys.readouterr().out)
    steps = [r["step"] for r in records]
    assert steps == ["session_started", "disclosed", "call_linked", "shown_to_agent", "deleted"]
    text = "\n".join(str(r) for r in records)
    _check_shape(records, run, text)
    # one processing (verwerking) per session: every step carries the same references
    assert len({r["session_ref"] for r in records}) == 1
    assert len({r["verwerking_id"] for r in records}) == 1
    assert len({r["id"] for r in records}) == 5
    by_step = {r["step"]: r for r in records}
    assert by_step["session_started"]["attribute_types"] == [BSN_ATTR, NAME_ATTR]
    assert by_step["disclosed"]["proof_status"] == "VALID"
    assert by_step["disclosed"]["trigger"] in ("callback", "browser", "phone")
    assert by_step["call_linked"]["contact_id"] == result.contact_id
    assert by_step["call_linked"]["relink"] is False
    assert by_step["shown_to_agent"]["contact_id"] == result.contact_id
    # the agent by Connect's user id (pseudonymous), never by the username they sign in with
    assert by_step["shown_to_agent"]["agent_id"] == stack.connect.user_id(DEV_AGENT)
    deleted = by_step["deleted"]
    assert deleted["reason"] == "completed"
    assert 95 <= deleted["age_seconds"] <= 110
    assert deleted["items_deleted"] >= 4


def test_redundant_triggers_log_one_disclosure(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    """Callback, browser `complete` and the phone-side pull all reach the result; one record."""
    run = Run()
    body = start(stack, run)
    disclose(stack, run, body)
    for _ in range(3):
        status, answer = stack.api("POST", f"/sessions/{body['session_id']}/complete")
        assert status == 200 and answer["status"] == "DISCLOSED"
    pulled = stack.invoke("session", {"idbellen_action": "pull", "session_pk": session_pk(body["session_id"])})
    assert pulled == {"status": "DISCLOSED"}
    records = processing_records(capsys.readouterr().out)
    assert Counter(r["step"] for r in records) == {"session_started": 1, "disclosed": 1}
    _check_shape(records, run, "\n".join(map(str, records)))


def test_result_pulled_by_the_phone_side_is_logged_once(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    """No callback arrives: the DTMF function has the session function pull the result; a later
    browser `complete` finds it stored. One record, naming the trigger that stored it."""
    stack.irma.send_callbacks = False
    run = Run()
    body = start(stack, run)
    digits = disclose(stack, run, body)
    result = call(stack, run, digits)
    assert result.attributes.get("verified") == "true"
    stack.api("POST", f"/sessions/{body['session_id']}/complete")
    records = processing_records(capsys.readouterr().out)
    assert Counter(r["step"] for r in records) == {"session_started": 1, "disclosed": 1, "call_linked": 1}
    assert next(r for r in records if r["step"] == "disclosed")["trigger"] == "phone"
    _check_shape(records, run, "\n".join(map(str, records)))


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"proof_status": "INVALID"}, "invalid_proof"),
        ({"proof_status": "EXPIRED"}, "invalid_proof"),
        ({"status": "CANCELLED"}, "cancelled"),
        ({"status": "TIMEOUT"}, "timeout"),
    ],
)
def test_rejected_disclosure_is_logged_with_its_reason(
    stack: DevStack, capsys: pytest.CaptureFixture[str], kwargs: dict[str, str], reason: str
) -> None:
    run = Run()
    body = start(stack, run)
    digits = disclose(stack, run, body, **kwargs)
    stack.api("POST", f"/sessions/{body['session_id']}/complete")
    if digits:  # a DONE session with a bad proof: the app still dials
        result = call(stack, run, digits)
        assert result.attributes.get("verified") == "false"
    records = processing_records(capsys.readouterr().out)
    assert [r["step"] for r in records] == ["session_started", "disclosure_rejected"]
    rejected = records[1]
    assert rejected["reason"] == reason and rejected["status"] == "rejected"
    if "proof_status" in kwargs:
        assert rejected["proof_status"] == kwargs["proof_status"]
    _check_shape(records, run, "\n".join(map(str, records)))


def test_unknown_code_writes_no_record(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    """A call with a wrong code concerns no session and no citizen's data: nothing to log."""
    result = stack.call("12345678", caller=MOBILE)
    assert result.attributes.get("verified") == "false"
    assert processing_records(capsys.readouterr().out) == []


def test_agent_clear_then_completed_logs_one_deletion(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    run = Run()
    body = start(stack, run)
    result = call(stack, run, disclose(stack, run, body))
    assert read(stack, result)[0] == 200
    assert read(stack, result)[0] == 200  # a second look is a second processing step
    status, _ = clear(stack, result)
    assert status == 204
    clear(stack, result)  # idempotent
    stack.contact_event(result.contact_id, "COMPLETED")
    stack.contact_event(result.contact_id, "COMPLETED")  # events repeat
    records = processing_records(capsys.readouterr().out)
    assert Counter(r["step"] for r in records) == {
        "session_started": 1,
        "disclosed": 1,
        "call_linked": 1,
        "shown_to_agent": 2,
        "deleted": 1,
    }
    assert [r["reason"] for r in records if r["step"] == "deleted"] == ["cleared"]
    # the clear names the agent who ended the call (Connect's user id)
    assert [r["agent_id"] for r in records if r["step"] == "deleted"] == [stack.connect.user_id(DEV_AGENT)]
    _check_shape(records, run, "\n".join(map(str, records)))


def test_hang_up_before_agent_logs_hung_up(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    run = Run()
    body = start(stack, run)
    result = call(stack, run, disclose(stack, run, body))
    assert hang_up(stack, result)["result"] == "OK"
    stack.contact_event(result.contact_id, "COMPLETED")
    records = processing_records(capsys.readouterr().out)
    deleted = [r for r in records if r["step"] == "deleted"]
    assert [d["reason"] for d in deleted] == ["hung_up"]
    assert "shown_to_agent" not in {r["step"] for r in records}
    _check_shape(records, run, "\n".join(map(str, records)))


def test_expiry_sweep_logs_expired_with_age(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    run = Run()
    never_called = start(stack, run)
    disclose(stack, run, never_called)
    called = start(stack, run)
    call(stack, run, disclose(stack, run, called))
    stack.clock.advance(3601)
    stack.sweep()
    stack.sweep()  # a second sweep finds nothing left
    records = processing_records(capsys.readouterr().out)
    deleted = [r for r in records if r["step"] == "deleted"]
    assert [d["reason"] for d in deleted] == ["expired", "expired"]
    assert all(3601 <= d["age_seconds"] <= 3620 for d in deleted)
    assert len({d["session_ref"] for d in deleted}) == 2
    _check_shape(records, run, "\n".join(map(str, records)))


def test_mobile_purpose_never_logs_a_number(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    """The purpose that discloses the mobile number; the caller matches it (caller_match=true)."""
    run = Run()
    result = happy_path(stack, run, purpose="belastingen", caller=MOBILE)
    assert result.lambda_result.get("caller_match") == "true"
    out = capsys.readouterr().out
    records = processing_records(out)
    assert [r["step"] for r in records][-1] == "deleted"
    assert MOBILE_ATTR in records[0]["attribute_types"]
    _check_shape(records, run, "\n".join(map(str, records)))


def test_connect_retry_is_logged_as_a_relink(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    """Connect retries a failed invocation: the second link of the same contact says `relink`."""
    run = Run()
    body = start(stack, run)
    digits = disclose(stack, run, body)
    contact = str(uuid.uuid4())
    for _ in range(2):
        answer = stack.invoke("dtmf", stack.contact_flow_event(contact, contact, {"dtmf": digits}))
        assert answer["result"] == "OK"
        run.secrets.add(answer["session_secret"])
    linked = [r for r in processing_records(capsys.readouterr().out) if r["step"] == "call_linked"]
    assert [r["relink"] for r in linked] == [False, True]
    assert {r["contact_id"] for r in linked} == {contact}


def test_vng_references_come_from_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    """Per-purpose register reference and legal basis, the controller's OIN and the retention."""
    from devstack.stack import DEMO_PURPOSES

    purposes = {
        "demo": {
            **DEMO_PURPOSES["demo"],
            "activity": "https://gemeente.example/avg-register/kcc-identificatie",
            "legal_basis": "AVG art. 6(1)(e); Wabb art. 10",
        }
    }
    settings = {
        "IDBELLEN_CONTROLLER_OIN": "00000001001234567000",
        "IDBELLEN_PROCESSING_LOG_RETENTION": "P400D",
    }
    run = Run()
    with DevStack(purposes=purposes, settings=settings) as stack:
        happy_path(stack, run)
    records = processing_records(capsys.readouterr().out)
    assert len(records) == 5
    for record in records:
        assert record["activity"] == "https://gemeente.example/avg-register/kcc-identificatie"
        assert record["legal_basis"] == "AVG art. 6(1)(e); Wabb art. 10"
        assert record["executor"] == "00000001001234567000"
        assert record["retention"] == "P400D"
        assert record["system"] == "idbellen"
    assert not leaks("\n".join(map(str, records)), run.forbidden())


def test_log_level_switches_cannot_silence_or_widen_it(
    stack: DevStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root and Powertools loggers at CRITICAL: the processing log still writes, and only its records."""
    monkeypatch.setattr(logging.getLogger(), "level", logging.CRITICAL)
    monkeypatch.setattr(logging.getLogger("idbellen"), "level", logging.CRITICAL)
    run = Run()
    happy_path(stack, run)
    records = processing_records(capsys.readouterr().out)
    assert [r["step"] for r in records] == ["session_started", "disclosed", "call_linked", "shown_to_agent", "deleted"]
    processing = logging.getLogger("idbellen.processing")
    assert processing.propagate is False and processing.level == logging.INFO


def test_record_refuses_unknown_fields_and_blanks_misshapen_values() -> None:
    with pytest.raises(ValueError, match="not allowed"):
        audit.record("deleted", "default", "SESSION#" + "a" * 64, bsn="999990019")
    with pytest.raises(ValueError, match="unknown processing step"):
        audit.record("looked_at", "default", "SESSION#" + "a" * 64)
    entry = audit.record(
        "shown_to_agent",
        "default",
        "SESSION#" + "b" * 64,
        purpose="Jan Jansen",  # a value where a purpose id belongs
        contact_id="06 12345678",
        agent_id="jan jansen <jan@example.org>",
        attribute_types=[BSN_ATTR, "999990019"],
        age_seconds="12",
    )
    assert entry["purpose"] == entry["contact_id"] == entry["agent_id"] == "[invalid]"
    assert entry["attribute_types"] == [BSN_ATTR, "[invalid]"]
    assert entry["age_seconds"] == "[invalid]"
    assert "999990019" not in str(entry) and "12345678" not in str(entry)


@pytest.mark.parametrize("after", [0, 1, 2, 3])
def test_an_interrupted_deletion_is_logged_once_by_the_retry_that_finishes_it(
    stack: DevStack, capsys: pytest.CaptureFixture[str], after: int
) -> None:
    """A DynamoDB fault after `after` deletes (secret, code, session item, contact pointer) fails the
    contact event; EventBridge's retry finishes the deletion. Exactly one `deleted` record either way —
    also when the first attempt had already removed the session item — and the Connect secret is
    blanked."""
    from tests.faults.inject import aws_fault

    run = Run()
    result = call(stack, run, disclose(stack, run, start(stack, run)))
    fault = aws_fault("dynamodb", "DeleteItem", "InternalServerError", status=500, after=after)
    with fault, pytest.raises(RuntimeError):
        stack.contact_event(result.contact_id, "COMPLETED")
    assert stack.contact_event(result.contact_id, "COMPLETED")["result"] == "OK"
    stack.contact_event(result.contact_id, "COMPLETED")  # and once more: nothing left, nothing logged
    records = processing_records(capsys.readouterr().out)
    deleted = [r for r in records if r["step"] == "deleted"]
    assert len(deleted) == 1, deleted
    assert deleted[0]["reason"] == "completed"
    # the session item went in the first attempt when 3 deletes got through: the retry logs "finished"
    assert deleted[0].get("outcome") == ("finished" if after == 3 else None)
    assert [i for i in stack.table_items() if i.get("kind") != "rate"] == []
    assert stack.connect.attributes[result.initial_contact_id]["session_secret"] == ""
    _check_shape(records, run, "\n".join(map(str, records)))
