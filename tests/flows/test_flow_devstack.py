"""The flows against the real handlers: DevStack.call runs the rendered inbound flow, and the
disconnect / whisper flows run through the simulator with the real cleanup function."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devstack import DevStack
from devstack.flow_simulator import FlowSimulator, dev_values, flow_arns, lose_responses, simulator_for
from devstack.stack import INSTANCE_ARN, PHONE_NUMBER

WALLET = {
    "pbdf.gemeente.personalData.bsn": "999990019",
    "pbdf.gemeente.personalData.fullname": "Demo Burger",
}
INBOUND = flow_arns(INSTANCE_ARN)["inbound"]


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with DevStack() as running:
        yield running


def disclosed(stack: DevStack) -> tuple[str, str]:
    """A session the citizen has disclosed for: (session_id, the digits the app dials)."""
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201
    tel = stack.wallet.disclose(body["sessionPtr"], WALLET)
    return body["session_id"], tel.split(",", 1)[1]


def session_status(stack: DevStack, session_id: str) -> Any:
    status, body = stack.api("GET", f"/sessions/{session_id}")
    return body["status"] if status == 200 else status


def agent_view(stack: DevStack, secret: str, contact_id: str) -> int:
    """The dev agent accepted the contact; its panel reads."""
    stack.assign(contact_id)
    status, _ = stack.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": contact_id})
    return status


def real_simulator(stack: DevStack, dtmf: Any = None) -> FlowSimulator:
    return simulator_for(
        {"dtmf": dtmf or stack.handlers["dtmf"], "cleanup": stack.handlers["cleanup"]},
        instance_arn=INSTANCE_ARN,
        system_number=PHONE_NUMBER,
    )


def test_stack_call_runs_the_inbound_flow(stack: DevStack) -> None:
    session_id, digits = disclosed(stack)
    call = stack.call(digits, caller="+31610000001", early_digits=True)
    assert call.attributes["verified"] == "true"
    assert call.attributes["purpose"] == "demo"
    assert call.queued
    assert call.path[:3] == ["DisableFlowLogging", "EnableTouchtoneBuffer", "SetDutchVoice"]
    assert "RedeemCallCode" in call.path and call.path[-1] == "TransferToQueue"
    assert digits not in repr(call.attributes)
    assert session_status(stack, session_id) == "CALLED"
    assert agent_view(stack, call.attributes["session_secret"], call.contact_id) == 200


def test_stack_call_code_typed_when_asked(stack: DevStack) -> None:
    _, digits = disclosed(stack)
    call = stack.call(digits, caller="+31610000002")
    assert call.attributes["verified"] == "true"
    assert "Toets de belcode uit de Yivi-app in." in call.prompts


def test_stack_call_without_input_is_unverified_but_queued(stack: DevStack) -> None:
    call = stack.call("", caller="+31610000003")
    assert call.attributes == {"verified": "false"}
    assert call.queued
    assert call.lambda_result.get("result") == "INVALID_INPUT"


def test_stack_call_with_a_used_code_is_unverified(stack: DevStack) -> None:
    _, digits = disclosed(stack)
    assert stack.call(digits, caller="+31610000004").attributes["verified"] == "true"
    again = stack.call(digits, caller="+31610000004")
    assert again.attributes == {"verified": "false"}
    assert again.queued


def test_stack_call_outside_opening_hours_marks_the_session_closed(stack: DevStack) -> None:
    session_id, digits = disclosed(stack)
    call = stack.call(digits, caller="+31610000005", hours_open=False, early_digits=True)
    assert not call.queued
    assert call.attributes == {}
    assert call.path[-2:] == ["MarkSessionClosed", "Disconnect"]
    assert session_status(stack, session_id) == "CLOSED"


def test_stack_call_queue_full(stack: DevStack) -> None:
    _, digits = disclosed(stack)
    call = stack.call(digits, caller="+31610000006", queue_full=True)
    assert not call.queued
    assert call.prompts[-1].startswith("Het is nu erg druk.")


def test_lost_response_retry_ends_with_one_working_secret(stack: DevStack) -> None:
    session_id, digits = disclosed(stack)
    sim = real_simulator(stack, dtmf=lose_responses(stack.handlers["dtmf"]))
    run = sim.call(INBOUND, digits, caller="+31610000007", early_digits=True)
    assert run.invocations[0].attempts == 2
    assert run.attributes["verified"] == "true"
    assert agent_view(stack, run.attributes["session_secret"], run.contact_id) == 200
    secrets = [
        item
        for item in stack.table_items()
        if item.get("kind") == "secret" and item.get("contact_id") == run.contact_id
    ]
    assert len(secrets) == 1
    assert session_status(stack, session_id) in {"CALLED", "CONNECTED"}


def test_hang_up_before_an_agent_deletes_through_the_disconnect_flow(stack: DevStack) -> None:
    _, digits = disclosed(stack)
    sim = real_simulator(stack)
    run = sim.call(INBOUND, digits, caller="+31610000008", early_digits=True)
    secret = run.attributes["session_secret"]
    hook = sim.hang_up(run)
    assert hook is not None and "DeleteSessionData" in hook.path
    assert hook.invocations[0].outcome == "ok"
    assert hook.invocations[0].response["result"] == "OK"
    assert agent_view(stack, secret, run.contact_id) == 404


def test_disconnect_flow_leaves_contacts_an_agent_took(stack: DevStack) -> None:
    _, digits = disclosed(stack)
    sim = real_simulator(stack)
    run = sim.call(INBOUND, digits, caller="+31610000009", early_digits=True)
    sim.agent_connects(run)
    hook = sim.hang_up(run)
    assert hook is not None and "DeleteSessionData" not in hook.path
    assert agent_view(stack, run.attributes["session_secret"], run.contact_id) == 200


def test_real_dtmf_function_over_time_limit_is_unverified(stack: DevStack) -> None:
    _, digits = disclosed(stack)
    sim = real_simulator(stack)

    def slow(event: dict[str, Any], context: Any) -> Any:
        answer = stack.handlers["dtmf"](event, context)
        sim.clock.sleep(4)
        return answer

    sim.lambdas[dev_values(INSTANCE_ARN)["DtmfFunctionArn"]] = slow
    run = sim.call(INBOUND, digits, caller="+31610000010", early_digits=True)
    assert run.invocations[0].outcome == "timeout"
    assert run.attributes == {"verified": "false"}
    assert run.queued
