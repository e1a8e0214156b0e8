"""A redemption that finishes after the flow gave up never leaves a secret the caller does not have.

Connect waits the block's InvocationTimeLimitSeconds (3 s) per attempt and retries a function error up
to 3 times within 8 s; a timeout takes the Error branch (the caller is queued unverified). The DTMF
function's Lambda timeout (iac/template.yaml, 2 s) is shorter, so Lambda ends a slow attempt before
Connect stops waiting — a function error, which Connect retries — and the handler links only while at
least COMMIT_RESERVE_SECONDS of its Lambda time are left (`redemption.TooLate` otherwise, also a
function error). These tests run the real inbound flow and the real DTMF function in the flow simulator
with the template's timeouts (`DevStack.call`); slowness is modelled with `FlowSimulator.spend`, which
moves the simulator's and the handlers' clocks together and ends the attempt at the Lambda timeout.
The last test is the control: with the old 7 s timeout the same slow redemption leaves an orphan secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from idbellen.session_puller import LambdaSessionPuller
from idbellen.store import Store

from devstack import DevStack
from devstack.flow_simulator import dev_values, template_timeouts
from devstack.stack import INSTANCE_ARN

WALLET = {"pbdf.gemeente.personalData.bsn": "999990019", "pbdf.gemeente.personalData.fullname": "Demo Burger"}
DTMF_ARN = dev_values(INSTANCE_ARN)["DtmfFunctionArn"]


@pytest.fixture
def stack() -> Iterator[DevStack]:
    with DevStack() as running:
        yield running


def _code(stack: DevStack, callback: bool = True) -> tuple[str, str]:
    stack.irma.send_callbacks = callback
    try:
        status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
        assert status == 201
        tel = stack.wallet.disclose(body["sessionPtr"], WALLET)
    finally:
        stack.irma.send_callbacks = True
    return body["session_id"], tel.split(",", 1)[1]


def _items(stack: DevStack, kind: str) -> list[dict[str, Any]]:
    return [i for i in stack.table_items() if i.get("kind") == kind]


def _status(stack: DevStack, session_id: str) -> str:
    return str(stack.api("GET", f"/sessions/{session_id}")[1]["status"])


def test_the_template_timeouts_are_the_simulated_ones(stack: DevStack) -> None:
    sim = stack._flow_simulator()
    assert sim.function_timeouts[DTMF_ARN] == template_timeouts()["dtmf"] == 2.0


def test_a_slow_pull_ends_the_attempt_before_it_links_and_the_retry_links_the_one_secret(
    stack: DevStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No callback reached us; the DTMF function has the session function pull the result, which takes
    1.8 s: past the commit deadline (2 s - 0.5 s). The attempt links nothing and fails; Connect's
    retry finds the code disclosed and links - one secret, the one the contact carries."""
    session_id, digits = _code(stack, callback=False)
    sim = stack._flow_simulator()
    original = LambdaSessionPuller.pull

    def slow_pull(self: LambdaSessionPuller, session_pk: str) -> str:
        answer = original(self, session_pk)
        sim.spend(1.8)
        return answer

    monkeypatch.setattr(LambdaSessionPuller, "pull", slow_pull)
    call = stack.call(digits)
    (redeem,) = [i for i in call.path if i == "RedeemCallCode"]
    invocation = next(i for i in sim.runs[call.contact_id].invocations if i.action == redeem)
    assert invocation.attempts == 2 and invocation.outcome == "ok"
    assert call.attributes["verified"] == "true"
    (secret,) = _items(stack, "secret")
    assert secret["contact_id"] == call.contact_id
    stack.assign(call.contact_id)
    request = {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
    assert stack.api("POST", "/agent/disclosure", request)[0] == 200
    assert _status(stack, session_id) == "CONNECTED"


def test_an_attempt_lambda_ends_mid_work_leaves_nothing_and_connect_retries(
    stack: DevStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pull takes 2.5 s: Lambda ends the attempt at 2 s (before Connect's 3 s); the retry links."""
    _, digits = _code(stack, callback=False)
    sim = stack._flow_simulator()
    original = LambdaSessionPuller.pull
    pulls: list[str] = []

    def slower_pull(self: LambdaSessionPuller, session_pk: str) -> str:
        answer = original(self, session_pk)
        pulls.append(answer)
        sim.spend(2.5)
        return answer

    monkeypatch.setattr(LambdaSessionPuller, "pull", slower_pull)
    call = stack.call(digits)
    invocation = next(i for i in sim.runs[call.contact_id].invocations if i.action == "RedeemCallCode")
    assert invocation.attempts == 2 and pulls == ["DISCLOSED"]
    assert call.attributes["verified"] == "true"
    assert [i["contact_id"] for i in _items(stack, "secret")] == [call.contact_id]


def test_when_every_attempt_is_too_slow_the_caller_is_unverified_and_no_secret_exists(
    stack: DevStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt's reads take 1.8 s: each ends before linking, Connect retries within its 8 s window
    and then takes the Error branch. Nothing was linked: no secret, no contact pointer, the session is
    still DISCLOSED and the code still works on the next call."""
    session_id, digits = _code(stack)
    sim = stack._flow_simulator()
    original = Store.get_many

    def slow_reads(self: Store, pks: list[str]) -> dict[str, dict[str, Any]]:
        sim.spend(1.8)
        return original(self, pks)

    monkeypatch.setattr(Store, "get_many", slow_reads)
    call = stack.call(digits)
    invocation = next(i for i in sim.runs[call.contact_id].invocations if i.action == "RedeemCallCode")
    assert invocation.attempts == 4 and invocation.outcome == "error"
    assert call.attributes == {"verified": "false"} and call.queued
    assert _items(stack, "secret") == [] and _items(stack, "contact") == []
    assert _status(stack, session_id) == "DISCLOSED"
    monkeypatch.setattr(Store, "get_many", original)
    again = stack.call(digits)
    assert again.attributes["verified"] == "true"


def test_control_with_the_old_seven_second_timeout_a_late_link_orphans_a_secret(
    stack: DevStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configuration issue 11 found (Lambda timeout 7 s > the flow's 3 s): the flow gives up at 3 s
    and queues the caller unverified, the function links at 4 s - a secret nobody has. This is what
    the tests above rule out; it shows they can fail."""
    _, digits = _code(stack, callback=False)
    sim = stack._flow_simulator()
    monkeypatch.setitem(sim.function_timeouts, DTMF_ARN, 7.0)
    original = LambdaSessionPuller.pull

    def slow_pull(self: LambdaSessionPuller, session_pk: str) -> str:
        answer = original(self, session_pk)
        sim.spend(4.0)
        return answer

    monkeypatch.setattr(LambdaSessionPuller, "pull", slow_pull)
    call = stack.call(digits)
    invocation = next(i for i in sim.runs[call.contact_id].invocations if i.action == "RedeemCallCode")
    assert invocation.outcome == "timeout"
    assert call.attributes == {"verified": "false"}
    orphans = _items(stack, "secret")
    assert len(orphans) == 1 and orphans[0]["contact_id"] == call.contact_id  # linked, but nobody has it
