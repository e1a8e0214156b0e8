"""The contact lifecycle as Amazon Connect produces it, server side (DevStack), one test per sequence the
simulated desktop and the browser tests drive (tests/browser/test_lifecycle.py):

offer → missed, offer → rejected, offer → accepted → after-contact work → cleared, transfer to another
agent (cold and warm), the app tab closed and reopened, a supervisor monitoring the call — plus the
server's own rules: a clear ends only that agent's segment, reads only for live segments, one session per
contact (a second code replaces the first), and nothing of a session survives its contact.

What Connect does at each step (checked against amazon-connect-streams 2.28.2 `src/core.js` /
`src/api.js` and @amazon-connect/contact 1.0.12): an offer is a contact in this agent's snapshot whose
agent connection is not connected yet; a missed or rejected offer goes back to the queue (MISSED) and is
destroyed in the agent's snapshot; accepting connects the agent (DescribeContact: AgentInfo with
ConnectedToAgentTimestamp); a transfer creates a new segment (new ContactId, same InitialContactId,
contact event INITIATED with initiationMethod TRANSFER); each segment ends with its own COMPLETED event
after its after-contact work; a supervisor's monitoring connection is not the contact's agent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devstack import DevStack
from devstack.identity import DEV_AGENT, cognito_access_claims
from tests.audit.helpers import processing_records
from tests.privacy import canary

from .conftest import disclosed_session, session_status

SECOND = "tweede.medewerker@gemeente.example"
SUPERVISOR = "teamleider@gemeente.example"
LINKED = {"session", "dtmf", "secret", "contact"}


@pytest.fixture
def stack() -> Iterator[DevStack]:
    with DevStack() as running:
        yield running


class Call:
    """A verified call waiting in the queue, and the agents' panels reading and clearing it."""

    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.session = disclosed_session(stack)
        self.result = stack.call(self.session.digits, caller="+31612345678")
        assert self.result.attributes["verified"] == "true"
        self.secret = self.result.attributes["session_secret"]
        self.contact_id = self.result.contact_id

    def read(self, agent: str = DEV_AGENT, contact_id: str | None = None) -> tuple[int, Any]:
        body = {"secret": self.secret, "contact_id": contact_id or self.contact_id}
        return self.stack.api("POST", "/agent/disclosure", body, claims=cognito_access_claims(agent))

    def clear(self, agent: str = DEV_AGENT, contact_id: str | None = None) -> tuple[int, Any]:
        body = {"secret": self.secret, "contact_id": contact_id or self.contact_id}
        return self.stack.api("POST", "/agent/clear", body, claims=cognito_access_claims(agent))

    def items(self) -> list[dict[str, Any]]:
        return [i for i in self.stack.table_items() if i.get("kind") in LINKED]

    def status(self) -> Any:
        status, body = session_status(self.stack, self.session)
        return body["status"] if status == 200 else status


def test_offer_then_missed_shows_nothing_and_changes_nothing(stack: DevStack) -> None:
    call = Call(stack)
    stack.connect.offer(call.contact_id, DEV_AGENT)  # ringing at the dev agent
    assert call.read() == (404, {"error": "not_found"})  # an offer is not an accepted contact
    stack.connect.withdraw(call.contact_id)  # the offer timed out: back in the queue
    assert call.clear() == (204, None)  # a panel that (wrongly) clears a missed offer deletes nothing
    assert len(call.items()) == 4 and call.status() == "CALLED"
    # the next agent Connect offers it to accepts it and sees the data
    stack.assign(call.contact_id, SECOND)
    status, body = call.read(SECOND)
    assert status == 200 and body["purpose"] == "demo"
    assert call.status() == "CONNECTED"


def test_offer_then_rejected_shows_nothing_and_changes_nothing(stack: DevStack) -> None:
    call = Call(stack)
    stack.connect.offer(call.contact_id, DEV_AGENT)
    stack.connect.withdraw(call.contact_id)  # the agent rejected it
    assert call.read()[0] == 404
    assert call.clear() == (204, None)
    assert len(call.items()) == 4 and call.status() == "CALLED"
    stack.assign(call.contact_id)  # offered again later, this time accepted
    assert call.read()[0] == 200


def test_accepted_then_after_contact_work_then_cleared(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    call = Call(stack)
    user_id = stack.assign(call.contact_id)
    assert call.read()[0] == 200
    # the caller hangs up: the agent is in after-contact work, the data stays (CONNECTED_TO_AGENT and
    # DISCONNECTED contact events change nothing; the disconnect flow leaves a contact an agent had)
    stack.contact_event(call.contact_id, "DISCONNECTED")
    hook = stack.contact_flow_event(call.contact_id, call.contact_id, {})
    assert stack.invoke("cleanup", hook) == {"result": "OK", "deleted": "0"}
    assert call.read()[0] == 200
    # after-contact work done, the agent clears the contact: the call's last segment ends
    assert call.clear() == (204, None)
    assert call.items() == []
    assert call.read()[0] == 404 and call.status() == 404
    assert stack.contact_event(call.contact_id, "COMPLETED") == {"result": "OK", "deleted": "0"}
    deleted = [r for r in processing_records(capsys.readouterr().out) if r["step"] == "deleted"]
    assert [(r["reason"], r["agent_id"]) for r in deleted] == [("cleared", user_id)]


def test_cold_transfer_to_another_agent(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    """The first agent transfers and leaves: their segment ends (ACW, clear); the receiving agent sees
    the data; the first segment's id stops reading; the last segment's end deletes everything."""
    call = Call(stack)
    first_agent = stack.assign(call.contact_id)
    assert call.read()[0] == 200
    second = stack.transfer(call.contact_id)
    assert call.clear() == (204, None)  # the first agent's segment is over
    assert len(call.items()) == 4
    assert call.read()[0] == 404  # the first segment's id no longer reads
    second_agent = stack.assign(second, SECOND)
    status, body = call.read(SECOND, second)
    assert status == 200 and [a["value"] for a in body["attributes"]] == ["999990019", "Demo Burger"]
    assert stack.contact_event(call.contact_id, "COMPLETED")["deleted"] == "0"  # late, repeated: no-op
    assert call.read(SECOND, second)[0] == 200
    assert call.clear(SECOND, second) == (204, None)
    assert call.items() == []
    assert stack.contact_event(second, "COMPLETED")["deleted"] == "0"
    records = processing_records(capsys.readouterr().out)
    ended = [(r["contact_id"], r["trigger"], r["agent_id"]) for r in records if r["step"] == "segment_ended"]
    assert ended == [(call.contact_id, "cleared", first_agent)]
    deleted = [(r["reason"], r["agent_id"]) for r in records if r["step"] == "deleted"]
    assert deleted == [("cleared", second_agent)]


def test_warm_transfer_both_agents_on_the_call(stack: DevStack) -> None:
    """Consult then hand over: both segments live at once; completing the first keeps the data."""
    call = Call(stack)
    stack.assign(call.contact_id)
    second = stack.transfer(call.contact_id)
    stack.assign(second, SECOND)
    assert call.read()[0] == 200 and call.read(SECOND, second)[0] == 200
    assert stack.contact_event(call.contact_id, "COMPLETED")["deleted"] == "0"
    assert call.read()[0] == 404 and call.read(SECOND, second)[0] == 200
    assert stack.contact_event(second, "COMPLETED")["deleted"] == "4"
    assert call.items() == []


def test_a_transfer_whose_contact_event_never_arrived_reads_once_connect_vouches(stack: DevStack) -> None:
    """Contact events are best effort: the receiving agent's read registers the segment when
    DescribeContact names this call's InitialContactId and that agent as the one who accepted it."""
    call = Call(stack)
    stack.assign(call.contact_id)
    assert call.read()[0] == 200
    second = "a0000000-0000-4000-8000-00000000000b"
    stack.contacts[second] = call.contact_id
    stack.connect.add_contact(second, call.contact_id, previous_contact_id=call.contact_id, method="TRANSFER")
    stack.assign(second, SECOND)
    assert call.read(SECOND, second)[0] == 200
    assert call.clear() == (204, None)
    assert len(call.items()) == 4  # the second segment lives
    assert call.clear(SECOND, second) == (204, None)
    assert call.items() == []


def test_a_segment_of_another_call_is_never_registered(stack: DevStack) -> None:
    call, other = Call(stack), Call(stack)
    stack.assign(call.contact_id)
    stack.assign(other.contact_id, SECOND)
    assert call.read(SECOND, other.contact_id)[0] == 404  # the second agent's own call, this call's secret
    assert call.clear(SECOND, other.contact_id) == (204, None)
    assert len(call.items()) == 8  # both calls intact
    assert call.read()[0] == 200 and other.read(SECOND)[0] == 200


def test_app_tab_closed_and_reopened_reads_again_and_deletes_nothing(stack: DevStack) -> None:
    """Closing the tab sends nothing to the server; the reopened tab reads the same contact again."""
    call = Call(stack)
    stack.assign(call.contact_id)
    first = call.read()
    assert first[0] == 200
    again = call.read()
    assert again == first
    assert len(call.items()) == 4 and call.status() == "CONNECTED"


def test_supervisor_monitoring_sees_nothing_and_cannot_clear(stack: DevStack) -> None:
    """A supervisor's monitoring connection is not the contact's agent (DescribeContact keeps naming the
    agent who accepted it): refused, and a clear from the supervisor's panel deletes nothing."""
    call = Call(stack)
    stack.assign(call.contact_id)
    assert call.read(SUPERVISOR) == (404, {"error": "not_found"})
    assert call.clear(SUPERVISOR) == (204, None)
    assert len(call.items()) == 4 and call.read()[0] == 200


def test_clear_is_bound_to_the_contact_and_the_agent(stack: DevStack) -> None:
    call = Call(stack)
    stack.assign(call.contact_id)
    assert call.clear(SECOND) == (204, None)  # another agent
    assert call.clear(contact_id="c0000000-0000-4000-8000-00000000000c") == (204, None)  # another contact
    assert len(call.items()) == 4
    missing = stack.api("POST", "/agent/clear", {"secret": call.secret})
    assert missing == (400, {"error": "missing_or_invalid_contact_id"})
    assert call.clear() == (204, None) and call.items() == []
    assert call.clear() == (204, None)  # idempotent


def test_repeated_and_unknown_completed_events_change_nothing(stack: DevStack) -> None:
    call = Call(stack)
    stack.assign(call.contact_id)
    second = stack.transfer(call.contact_id)
    for _ in range(3):
        assert stack.contact_event(call.contact_id, "COMPLETED")["deleted"] == "0"
    assert stack.contact_event("d0000000-0000-4000-8000-00000000000d", "COMPLETED")["deleted"] == "0"
    stack.contacts["e0000000-0000-4000-8000-00000000000e"] = call.contact_id  # a segment never registered
    assert stack.contact_event("e0000000-0000-4000-8000-00000000000e", "COMPLETED")["deleted"] == "0"
    assert len(call.items()) == 4
    # a transfer event for a segment that already ended does not bring it back
    stack.contact_event(call.contact_id, "INITIATED", initiationMethod="TRANSFER")
    assert stack.contact_event(second, "COMPLETED")["deleted"] == "4"


def test_a_second_code_on_a_linked_contact_replaces_the_first_session(
    stack: DevStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """The verify module run twice on one contact: the newest proof counts. The first session's data,
    code and secret are deleted in the same transaction that links the second."""
    call = Call(stack)
    stack.assign(call.contact_id)
    assert call.read()[0] == 200
    later = disclosed_session(stack)
    again = stack.call(later.digits, contact_id=call.contact_id)
    assert again.lambda_result["result"] == "OK"
    assert call.read()[0] == 404 and call.status() == 404  # the first session is gone
    new_secret = again.attributes["session_secret"]
    request = {"secret": new_secret, "contact_id": call.contact_id}
    assert stack.api("POST", "/agent/disclosure", request)[0] == 200
    kinds = sorted(i["kind"] for i in call.items())
    assert kinds == ["contact", "dtmf", "secret", "session"]  # one session's worth, not two
    # Connect's retry of the second redemption relinks the same session, deleting nothing more
    retry = stack.call(later.digits, contact_id=call.contact_id)
    assert retry.lambda_result["result"] == "OK"
    assert len(call.items()) == 4
    assert stack.contact_event(call.contact_id, "COMPLETED")["deleted"] == "4"
    assert stack.table_items() == [] or {i["kind"] for i in stack.table_items()} == {"rate"}
    records = processing_records(capsys.readouterr().out)
    replaced = [r for r in records if r["step"] == "deleted" and r["reason"] == "replaced"]
    assert len(replaced) == 1 and replaced[0]["items_deleted"] == 3


def test_nothing_of_a_session_survives_its_contact(stack: DevStack) -> None:
    """Every sequence above ends the same way: after the last segment, not one item of the session."""
    call = Call(stack)
    stack.assign(call.contact_id)
    call.read()
    second = stack.transfer(call.contact_id)
    stack.assign(second, SECOND)
    call.read(SECOND, second)
    call.clear()
    stack.contact_event(call.contact_id, "COMPLETED")
    call.clear(SECOND, second)
    stack.contact_event(second, "COMPLETED")
    assert stack.table_items() == []
    assert stack.connect.attributes[call.contact_id]["session_secret"] == ""  # blanked in Connect too


def test_a_stale_secret_pointer_opens_nothing_the_session_names_its_own_secret(stack: DevStack) -> None:
    """Isolates the read's `secret_pk = :spk` condition: today a replaced secret's pointer is deleted in the
    same transaction that links the new one, so no other condition lets a stale pointer through. Here a
    pointer for another secret is planted next to the live one (as a half-applied relink would leave it):
    it leads to the right session and passes the agent binding, and only the session's own `secret_pk`
    refuses it."""
    import hashlib

    from idbellen import codes
    from idbellen.store import marshal

    call = Call(stack)
    stack.assign(call.contact_id)
    assert call.read()[0] == 200
    (pointer,) = [i for i in call.items() if i["kind"] == "secret"]
    stale = codes.new_secret()
    planted = {**pointer, "pk": "SECRET#" + hashlib.sha256(stale.encode()).hexdigest()}
    assert planted["pk"] == "SECRET#" + codes.sha256_ref(stale)
    stack.session.client("dynamodb").put_item(TableName=stack.resources.table, Item=marshal(planted))
    body = {"secret": stale, "contact_id": call.contact_id}
    assert stack.api("POST", "/agent/disclosure", body) == (404, {"error": "not_found"})
    assert call.read()[0] == 200  # the session's own secret still works


def test_a_result_read_while_pending_cannot_overwrite_a_session_that_failed_since(
    stack: DevStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Isolates the accept transaction's `#status = :pending` on the session: every path that fails a session
    fails its code in the same transaction, so the code's own `#state = :pending` would refuse first. Here
    the session failed while its code stayed pending, and the trigger read the session before it failed
    (a stale read): only the session's condition keeps the failure final."""
    import hashlib

    from idbellen.store import Store

    stack.irma.send_callbacks = False
    try:
        status, started = stack.api("POST", "/sessions", {"purpose": "demo"})
        assert status == 201
        stack.wallet.disclose(started["sessionPtr"], canary.DEMO_CREDENTIALS)  # DONE at the IRMA server
    finally:
        stack.irma.send_callbacks = True
    pk = "SESSION#" + hashlib.sha256(started["session_id"].encode()).hexdigest()
    ddb = stack.session.client("dynamodb")
    ddb.update_item(
        TableName=stack.resources.table,
        Key={"pk": {"S": pk}},
        UpdateExpression="SET #s = :failed",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":failed": {"S": "FAILED"}},
    )
    real_get = Store.get

    def stale_get(self: Store, key: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        item = real_get(self, key, *args, **kwargs)
        if key == pk and item is not None:
            item = {**item, "status": "PENDING"}  # what the trigger read before the session failed
        return item

    monkeypatch.setattr(Store, "get", stale_get)
    stack.api("POST", f"/sessions/{started['session_id']}/complete", {})
    monkeypatch.undo()
    items = {i["kind"]: i for i in stack.table_items() if i["pk"] == pk or i["kind"] == "dtmf"}
    assert items["session"]["status"] == "FAILED"
    assert "disclosure" not in items["session"]
