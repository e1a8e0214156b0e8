"""Connect's copy of the secret and the optional agent check, through the real boto3 calls against the
dev stack's Connect stand-in (`AWS_ENDPOINT_URL_CONNECT`).

- When a session's records are deleted (completed, cleared, hung up, expired), the contact attribute
  `session_secret` is overwritten with "" (UpdateContactAttributes works on completed contacts).
- The secret left anywhere else (an exported contact record, a failed blanking) is useless: with the
  records gone it opens nothing.
- The agent binding (on by default, since the dev stack configures a Connect instance) shows a disclosure
  only to the Connect user who accepted the contact; the finer cases are in tests/e2e/test_agent_identity.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from idbellen.connect_contacts import instance_id

from devstack import DevStack
from devstack.identity import DEV_AGENT
from tests.audit.helpers import Run, call, clear, disclose, emf_metrics, hang_up, processing_records, read, start, total


@pytest.fixture
def stack() -> Iterator[DevStack]:
    with DevStack() as running:
        yield running


def _linked_call(stack: DevStack, run: Run) -> object:
    body = start(stack, run)
    result = call(stack, run, disclose(stack, run, body))
    assert stack.connect.attributes[result.initial_contact_id]["session_secret"]
    return result


def _session_items(stack: DevStack) -> list[dict[str, object]]:
    return [i for i in stack.table_items() if i.get("kind") in ("session", "dtmf", "secret", "contact")]


def _blank_calls(stack: DevStack) -> list[str]:
    return [contact for op, contact in stack.connect.calls if op == "UpdateContactAttributes"]


def test_completed_contact_has_its_secret_blanked(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    run = Run()
    result = _linked_call(stack, run)
    secret = result.attributes["session_secret"]
    assert read(stack, result)[0] == 200
    stack.contact_event(result.contact_id, "COMPLETED")
    attributes = stack.connect.attributes[result.initial_contact_id]
    assert attributes["session_secret"] == ""
    assert attributes["verified"] == "true"  # only the secret is touched
    assert _blank_calls(stack) == [result.initial_contact_id]
    assert total(emf_metrics(capsys.readouterr().out), "SecretsBlanked") == 1
    # and the old secret, wherever a copy survived, opens nothing any more
    status, body = stack.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": result.contact_id})
    assert (status, body) == (404, {"error": "not_found"})
    assert _session_items(stack) == []


@pytest.mark.parametrize("how", ["cleared", "hung_up", "expired"])
def test_every_deletion_path_blanks_the_secret_once(stack: DevStack, how: str) -> None:
    run = Run()
    result = _linked_call(stack, run)
    if how == "cleared":
        assert read(stack, result)[0] == 200
        assert clear(stack, result)[0] == 204
    elif how == "hung_up":
        assert hang_up(stack, result)["result"] == "OK"
    else:
        stack.clock.advance(3601)
        stack.sweep()
    stack.contact_event(result.contact_id, "COMPLETED")  # arrives later; nothing left to do
    assert stack.connect.attributes[result.initial_contact_id]["session_secret"] == ""
    assert _blank_calls(stack) == [result.initial_contact_id]
    assert _session_items(stack) == []


def test_contacts_that_were_never_linked_are_left_alone(stack: DevStack) -> None:
    """An unverified call, and a session that expired without a call: no Connect call at all."""
    run = Run()
    disclose(stack, run, start(stack, run))
    wrong = stack.call("12345678")
    assert wrong.attributes["verified"] == "false"
    stack.contact_event(wrong.contact_id, "COMPLETED")
    stack.clock.advance(3601)
    stack.sweep()
    assert stack.connect.calls == []


def test_a_connect_failure_never_blocks_deletion(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack.connect.fail.add("UpdateContactAttributes")
    run = Run()
    result = _linked_call(stack, run)
    answer = stack.contact_event(result.contact_id, "COMPLETED")
    assert answer["result"] == "OK"
    assert _session_items(stack) == []
    out = capsys.readouterr().out
    assert [r["step"] for r in processing_records(out)][-1] == "deleted"
    metrics = emf_metrics(out)
    assert total(metrics, "SecretBlankFailures") == 1
    assert total(metrics, "SecretsBlanked") == 0
    # the attribute keeps the dead value; it opens nothing
    secret = stack.connect.attributes[result.initial_contact_id]["session_secret"]
    assert secret == result.attributes["session_secret"]
    assert stack.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": result.contact_id})[0] == 404


def test_blanking_can_be_switched_off() -> None:
    run = Run()
    with DevStack(settings={"IDBELLEN_BLANK_SECRET": "off"}) as stack:
        result = _linked_call(stack, run)
        stack.contact_event(result.contact_id, "COMPLETED")
        assert stack.connect.calls == []
        assert _session_items(stack) == []


def test_agent_check_shows_the_disclosure_only_to_the_agent_on_the_contact(
    stack: DevStack, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Run()
    result = _linked_call(stack, run)
    # nobody on the contact yet (still queued): refused, and the session is not marked CONNECTED
    assert read(stack, result, accept=False) == (404, {"error": "not_found"})
    session_id = run.session_ids[0]
    assert stack.api("GET", f"/sessions/{session_id}")[1]["status"] == "CALLED"
    # another agent took the call
    stack.assign(result.contact_id, "someone-else@gemeente.example")
    assert read(stack, result, accept=False)[0] == 404
    # the authenticated agent (the dev agent) is the one on the contact
    status, body = read(stack, result)
    assert status == 200 and body["purpose"] == "demo"
    # Connect unreachable: fail closed
    stack.connect.fail.add("DescribeContact")
    assert read(stack, result, accept=False)[0] == 404
    out = capsys.readouterr().out
    metrics = emf_metrics(out)
    assert total(metrics, "AgentContactMismatch") == 2
    assert total(metrics, "AgentCheckErrors") == 1
    shown = [r for r in processing_records(out) if r["step"] == "shown_to_agent"]
    assert [r["agent_id"] for r in shown] == [stack.connect.user_id(DEV_AGENT)]


def test_agent_check_can_be_switched_off_for_local_use() -> None:
    """Explicitly off (never the template's default): no Connect call, any agent of the group reads."""
    run = Run()
    with DevStack(settings={"IDBELLEN_VERIFY_AGENT": "off"}) as stack:
        result = _linked_call(stack, run)
        assert read(stack, result, accept=False)[0] == 200
        assert [op for op, _ in stack.connect.calls] == []


def test_instance_id_from_arn() -> None:
    arn = "arn:aws:connect:eu-central-1:123456789012:instance/00000000-0000-4000-8000-000000000000"
    assert instance_id(arn) == "00000000-0000-4000-8000-000000000000"
    assert instance_id("00000000-0000-4000-8000-000000000000") == "00000000-0000-4000-8000-000000000000"
