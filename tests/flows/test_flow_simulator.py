"""Every branch of the inbound, disconnect, whisper and module flows, run in the simulator with
small fake handlers (the real handlers run in test_flow_devstack.py)."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from devstack.flow_simulator import (
    ContactRun,
    FlowError,
    FlowSimulator,
    VirtualClock,
    dev_values,
    flow_arns,
    lose_responses,
    simulator_for,
)
from tests.flows.helpers import action, template, without

CODE = "12345678"
ARNS = flow_arns()
VALUES = dev_values()
INBOUND = ARNS["inbound"]
VERIFIED_PROMPT = "Dank u wel. Uw gegevens zijn gecontroleerd. U wordt zo doorverbonden met een medewerker."
UNVERIFIED_START = "Het is niet gelukt om uw gegevens automatisch te controleren."
ASK_CODE = "Toets de belcode uit de Yivi-app in."
WELCOME_START = "Welkom bij de gemeente."
CLOSED_START = "U belt buiten onze openingstijden."
QUEUE_FULL_START = "Het is nu erg druk."


class FakeDtmf:
    """Answers like the DTMF function: OK for CODE, NOT_FOUND otherwise; records what it got."""

    def __init__(self, behaviour: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.secrets = (f"secret-{n}" for n in itertools.count(1))
        self.behaviour = behaviour

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        if self.behaviour is not None:
            return self.behaviour(event)
        params = event["Details"]["Parameters"]
        if params.get("action") == "mark_closed":
            return {"result": "OK" if params.get("dtmf") == CODE else "NOT_FOUND"}
        if params.get("dtmf") == CODE:
            return {"result": "OK", "session_secret": next(self.secrets), "purpose": "demo"}
        return {"result": "NOT_FOUND"}

    @property
    def params(self) -> list[dict[str, str]]:
        return [e["Details"]["Parameters"] for e in self.events]


class FakeCleanup:
    def __init__(self, fail: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail = fail

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, str]:
        self.events.append(event)
        if self.fail:
            raise RuntimeError("table unavailable")
        return {"result": "OK", "deleted": "3"}


def make(dtmf: Callable[..., Any] | None = None, cleanup: Any = None, **kwargs: Any) -> FlowSimulator:
    return simulator_for({"dtmf": dtmf or FakeDtmf(), "cleanup": cleanup or FakeCleanup()}, **kwargs)


def assert_unverified_and_queued(run: ContactRun) -> None:
    assert run.attributes == {"verified": "false"}
    assert run.queued and run.ended == "queued"
    assert run.queue_arn == VALUES["QueueArn"]
    assert any(p.startswith(UNVERIFIED_START) for p in run.prompts)
    assert VERIFIED_PROMPT not in run.prompts


# ---- inbound: the happy path ---------------------------------------------------------------------
def test_verified_call_is_queued_with_the_secret() -> None:
    dtmf = FakeDtmf()
    run = make(dtmf).call(INBOUND, CODE, caller="+31612345678")
    assert run.attributes == {"session_secret": "secret-1", "verified": "true", "purpose": "demo"}
    assert run.queued and run.ended == "queued" and run.queue_arn == VALUES["QueueArn"]
    assert run.path == [
        "DisableFlowLogging",
        "EnableTouchtoneBuffer",
        "SetDutchVoice",
        "CheckOpeningHours",
        "SayWelcome",
        "StoreCallCode",
        "RedeemCallCode",
        "CheckRedeemResult",
        "SetVerified",
        "SayVerified",
        "SetDisconnectFlow",
        "SetCustomerWhisperFlow",
        "SetDefaultQueue",
        "TransferToQueue",
    ]
    assert run.prompts[0].startswith(WELCOME_START)
    assert run.prompts[1:] == [ASK_CODE, VERIFIED_PROMPT]
    assert run.voice == "Laura"
    assert run.event_hooks == {
        "CustomerRemaining": VALUES["DisconnectFlowArn"],
        "CustomerWhisper": VALUES["CustomerWhisperFlowArn"],
    }
    # The code goes to the Lambda as a parameter, with flow logging off, and nowhere else.
    assert dtmf.params == [{"dtmf": CODE}]
    (invocation,) = run.invocations
    assert (invocation.outcome, invocation.attempts, invocation.flow_logging) == ("ok", 1, False)
    assert CODE not in repr(run.attributes)


def test_lambda_gets_a_connect_shaped_event() -> None:
    dtmf = FakeDtmf()
    run = make(dtmf).call(INBOUND, CODE, caller="+31611111111")
    event = dtmf.events[0]
    assert event["Name"] == "ContactFlowEvent"
    data = event["Details"]["ContactData"]
    assert data["ContactId"] == run.contact_id == data["InitialContactId"]
    assert data["InstanceARN"].startswith("arn:aws:connect:")
    assert data["CustomerEndpoint"] == {"Address": "+31611111111", "Type": "TELEPHONE_NUMBER"}
    assert data["Channel"] == "VOICE"
    assert data["Attributes"] == {}
    assert isinstance(event["Details"]["Parameters"], dict)


def test_every_call_is_a_new_contact() -> None:
    sim = make()
    first, second = sim.call(INBOUND, CODE), sim.call(INBOUND, CODE)
    assert first.contact_id != second.contact_id
    transferred = sim.call(INBOUND, CODE, contact_id="c-2", initial_contact_id="c-1")
    assert (transferred.contact_id, transferred.initial_contact_id) == ("c-2", "c-1")


# ---- inbound: every way verification can fail still reaches an agent ------------------------------
@pytest.mark.parametrize(
    "answer",
    [
        {"result": "NOT_FOUND"},
        {"result": "NOT_VERIFIED"},
        {"result": "INVALID_INPUT"},
        {"result": "RATE_LIMITED"},
        {"result": "ERROR"},
        {"result": "SOMETHING_NEW"},
        {},
    ],
)
def test_non_ok_results_queue_as_unverified(answer: dict[str, str]) -> None:
    run = make(FakeDtmf(lambda _e: answer)).call(INBOUND, CODE)
    assert_unverified_and_queued(run)
    assert "SetUnverified" in run.path


def test_wrong_code_is_unverified() -> None:
    assert_unverified_and_queued(make().call(INBOUND, "87654321"))


def test_no_input_sends_timeout() -> None:
    dtmf = FakeDtmf()
    run = make(dtmf).call(INBOUND, "")
    assert dtmf.params == [{"dtmf": "Timeout"}]
    assert_unverified_and_queued(run)


def test_ok_without_a_secret_is_unverified() -> None:
    """Set contact attributes is all-or-nothing: a missing $.External value takes its Error branch."""
    run = make(FakeDtmf(lambda _e: {"result": "OK", "purpose": "demo"})).call(INBOUND, CODE)
    assert_unverified_and_queued(run)


def test_dtmf_function_that_raises_is_retried_then_unverified() -> None:
    def boom(_event: dict[str, Any]) -> Any:
        raise RuntimeError("bug")

    dtmf = FakeDtmf(boom)
    run = make(dtmf).call(INBOUND, CODE)
    assert_unverified_and_queued(run)
    assert run.invocations[0].outcome == "error"
    assert run.invocations[0].attempts == 4 == len(dtmf.events)  # the call and 3 retries


def test_retries_stop_at_eight_seconds() -> None:
    clock = VirtualClock()

    def slow_failure(_event: dict[str, Any]) -> Any:
        clock.sleep(3)  # within the 3 s limit, but three of them fill the 8 s window
        raise RuntimeError("throttled")

    run = make(FakeDtmf(slow_failure), clock=clock).call(INBOUND, CODE)
    assert run.invocations[0].attempts == 3
    assert_unverified_and_queued(run)


def test_dtmf_function_over_its_time_limit_takes_the_error_branch() -> None:
    clock = VirtualClock()

    def slow(event: dict[str, Any]) -> Any:
        clock.sleep(3.5)
        return {"result": "OK", "session_secret": "late", "purpose": "demo"}

    run = make(FakeDtmf(slow), clock=clock).call(INBOUND, CODE)
    assert run.invocations[0].outcome == "timeout"
    assert run.invocations[0].attempts == 1
    assert_unverified_and_queued(run)


def test_exactly_at_the_time_limit_is_in_time() -> None:
    clock = VirtualClock()

    def just_in_time(event: dict[str, Any]) -> Any:
        clock.sleep(3)
        return {"result": "OK", "session_secret": "s", "purpose": "demo"}

    run = make(FakeDtmf(just_in_time), clock=clock).call(INBOUND, CODE)
    assert run.attributes["verified"] == "true"


@pytest.mark.parametrize(
    "answer",
    [
        {"result": "OK", "session_secret": {"nested": "x"}, "purpose": "demo"},
        {"result": "OK", "session_secret": 42, "purpose": "demo"},
        {"result": "OK", "session_secret": "s" * 33_000, "purpose": "demo"},
        ["OK"],
        "OK",
        None,
    ],
    ids=["nested", "number", "too-big", "list", "string", "none"],
)
def test_unparseable_responses_take_the_error_branch(answer: Any) -> None:
    run = make(FakeDtmf(lambda _e: answer)).call(INBOUND, CODE)
    assert run.invocations[0].outcome == "invalid_response"
    assert run.invocations[0].attempts == 1
    assert_unverified_and_queued(run)


def test_connect_retry_after_a_lost_response_keeps_the_second_answer() -> None:
    dtmf = FakeDtmf()
    run = make(lose_responses(dtmf)).call(INBOUND, CODE)
    assert len(dtmf.events) == 2  # the function ran twice for the same contact
    assert dtmf.events[0]["Details"]["ContactData"]["ContactId"] == run.contact_id
    assert dtmf.events[1]["Details"]["ContactData"]["ContactId"] == run.contact_id
    assert run.invocations[0].attempts == 2
    assert run.attributes["session_secret"] == "secret-2"  # the answer Connect actually received


def test_unregistered_function_is_an_error_branch() -> None:
    values = dev_values()
    values["DtmfFunctionArn"] = values["DtmfFunctionArn"].replace(":live", ":canary")
    sim = simulator_for({"dtmf": FakeDtmf()}, values=values)
    sim.lambdas.clear()
    run = sim.call(INBOUND, CODE)
    assert run.invocations[0].outcome == "not_found"
    assert_unverified_and_queued(run)


# ---- inbound: digits, buffer, input settings --------------------------------------------------
def test_digits_dialled_before_the_input_block_are_buffered() -> None:
    dtmf = FakeDtmf()
    run = make(dtmf).call(INBOUND, CODE, early_digits=True)
    assert dtmf.params == [{"dtmf": CODE}]
    assert not run.digits_lost
    assert ASK_CODE not in run.prompts  # the buffer held the whole code: the prompt is skipped
    assert run.attributes["verified"] == "true"


def test_without_the_buffer_early_digits_are_lost() -> None:
    """Why the buffer comes first: the same call against a flow without it loses the code."""
    sim = make(dtmf := FakeDtmf())
    flow = without(sim.flows[INBOUND], "EnableTouchtoneBuffer")
    run = sim.call(flow, CODE, early_digits=True)
    assert run.digits_lost
    assert dtmf.params == [{"dtmf": "Timeout"}]
    assert_unverified_and_queued(run)


def test_early_digits_into_an_input_block_that_is_listening() -> None:
    sim = make(dtmf := FakeDtmf())
    flow = without(without(sim.flows[INBOUND], "EnableTouchtoneBuffer"), "SayWelcome")
    run = sim.call(flow, CODE, early_digits=True)
    assert not run.digits_lost
    assert dtmf.params == [{"dtmf": CODE}]


def test_partial_buffer_still_prompts() -> None:
    dtmf = FakeDtmf()
    run = make(dtmf).call(INBOUND, "1234", early_digits=True)
    assert ASK_CODE in run.prompts
    assert dtmf.params == [{"dtmf": "1234"}]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1234#5678", "1234"),  # the termination key ends input
        ("99*12345678", CODE),  # * starts over
        ("123456789", CODE),  # MaximumLength stops at the code length
        ("#", "Timeout"),
    ],
)
def test_store_customer_input_settings(typed: str, stored: str) -> None:
    dtmf = FakeDtmf()
    make(dtmf).call(INBOUND, typed)
    assert dtmf.params == [{"dtmf": stored}]


def test_code_length_follows_configuration() -> None:
    dtmf = FakeDtmf()
    make(dtmf, code_length=6).call(INBOUND, CODE)
    assert dtmf.params == [{"dtmf": CODE[:6]}]


# ---- inbound: hours, queue ------------------------------------------------------------------
def test_closed_hours_marks_the_session_and_hangs_up() -> None:
    dtmf = FakeDtmf()
    run = make(dtmf).call(INBOUND, CODE, early_digits=True, hours_open=False)
    assert run.ended == "disconnected" and not run.queued
    assert run.attributes == {}
    assert len(run.prompts) == 1 and run.prompts[0].startswith(CLOSED_START)
    assert dtmf.params == [{"dtmf": CODE, "action": "mark_closed"}]
    assert run.path[-3:] == ["StoreCallCodeClosed", "MarkSessionClosed", "Disconnect"]
    assert run.invocations[0].flow_logging is False


def test_closed_hours_survives_a_failing_mark_closed() -> None:
    def boom(_event: dict[str, Any]) -> Any:
        raise RuntimeError("down")

    run = make(FakeDtmf(boom)).call(INBOUND, CODE, hours_open=False)
    assert run.ended == "disconnected" and run.invocations[0].outcome == "error"


def test_closed_hours_without_digits() -> None:
    dtmf = FakeDtmf()
    run = make(dtmf).call(INBOUND, "", hours_open=False)
    assert dtmf.params == [{"dtmf": "Timeout", "action": "mark_closed"}]
    assert run.ended == "disconnected"


def test_hours_per_hours_of_operation_arn() -> None:
    run = make().call(INBOUND, CODE, hours_open={VALUES["HoursOfOperationArn"]: False})
    assert run.ended == "disconnected"


def test_queue_full_says_so_and_hangs_up() -> None:
    run = make().call(INBOUND, CODE, queue_full=True)
    assert not run.queued and run.ended == "disconnected"
    assert run.prompts[-1].startswith(QUEUE_FULL_START)
    assert run.path[-3:] == ["TransferToQueue", "SayQueueFull", "Disconnect"]


def test_purpose_queue_for_verified_callers_default_for_others() -> None:
    values = dev_values()
    values["PurposeQueues"] = {"demo": "arn:aws:connect:eu-central-1:123456789012:instance/i/queue/demo"}
    sim = simulator_for({"dtmf": FakeDtmf()}, values=values)
    verified = sim.call(INBOUND, CODE)
    assert verified.queue_arn == values["PurposeQueues"]["demo"]
    assert "SetQueue-demo" in verified.path
    unverified = sim.call(INBOUND, "00000000")
    assert unverified.queue_arn == values["QueueArn"]


def test_only_the_full_purpose_queue_rejects() -> None:
    values = dev_values()
    demo_queue = "arn:aws:connect:eu-central-1:123456789012:instance/i/queue/demo"
    values["PurposeQueues"] = {"demo": demo_queue}
    sim = simulator_for({"dtmf": FakeDtmf()}, values=values)
    assert not sim.call(INBOUND, CODE, queue_full=frozenset({demo_queue})).queued
    assert sim.call(INBOUND, "00000000", queue_full=frozenset({demo_queue})).queued


# ---- $.External ---------------------------------------------------------------------------------
def _two_calls_flow(first: str, second: str) -> dict[str, Any]:
    def invoke(ident: str, arn: str, nxt: str) -> dict[str, Any]:
        return {
            "Identifier": ident,
            "Type": "InvokeLambdaFunction",
            "Parameters": {
                "LambdaFunctionARN": arn,
                "InvocationTimeLimitSeconds": "3",
                "ResponseValidation": {"ResponseType": "STRING_MAP"},
            },
            "Transitions": {"NextAction": nxt, "Errors": [{"NextAction": nxt, "ErrorType": "NoMatchingError"}]},
        }

    return {
        "Version": "2019-10-30",
        "StartAction": "First",
        "Actions": [
            invoke("First", first, "Second"),
            invoke("Second", second, "Check"),
            {
                "Identifier": "Check",
                "Type": "Compare",
                "Parameters": {"ComparisonValue": "$.External.session_secret"},
                "Transitions": {
                    "Conditions": [
                        {"NextAction": "Stale", "Condition": {"Operator": "Equals", "Operands": ["from-first"]}}
                    ],
                    "Errors": [{"NextAction": "End", "ErrorType": "NoMatchingCondition"}],
                },
            },
            {
                "Identifier": "Stale",
                "Type": "MessageParticipant",
                "Parameters": {"Text": "stale"},
                "Transitions": {"NextAction": "End"},
            },
            {"Identifier": "End", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}},
        ],
    }


@pytest.mark.parametrize("second", ["answers", "raises"])
def test_external_holds_only_the_latest_response(second: str) -> None:
    def first_fn(_e: dict[str, Any], _c: Any) -> dict[str, str]:
        return {"result": "OK", "session_secret": "from-first"}

    def second_fn(_e: dict[str, Any], _c: Any) -> dict[str, str]:
        if second == "raises":
            raise RuntimeError("down")
        return {"result": "NOT_FOUND"}

    sim = FlowSimulator(flows={}, lambdas={"arn:first": first_fn, "arn:second": second_fn})
    run = sim.call(_two_calls_flow("arn:first", "arn:second"), "")
    assert "Stale" not in run.path
    assert run.path[-1] == "End"


# ---- disconnect and whisper flows ---------------------------------------------------------------
def test_hang_up_before_an_agent_deletes_the_session_data() -> None:
    cleanup = FakeCleanup()
    sim = make(cleanup=cleanup)
    run = sim.call(INBOUND, CODE)
    hook = sim.hang_up(run)
    assert hook is not None and hook.ended == "disconnected"
    assert hook.path == ["DisableFlowLogging", "CheckVerified", "CheckAgentConnected", "DeleteSessionData", "End"]
    (event,) = cleanup.events
    assert event["Details"]["Parameters"] == {"reason": "disconnect"}
    assert event["Details"]["ContactData"]["ContactId"] == run.contact_id
    assert event["Details"]["ContactData"]["Attributes"]["verified"] == "true"
    assert hook.invocations[0].flow_logging is False


def test_no_cleanup_from_the_disconnect_flow_once_an_agent_was_connected() -> None:
    cleanup = FakeCleanup()
    sim = make(cleanup=cleanup)
    run = sim.call(INBOUND, CODE)
    whisper = sim.agent_connects(run)
    assert whisper is not None and whisper.ended == "ended"
    assert whisper.path == ["MarkAgentConnected", "End"]
    assert run.attributes["agent_connected"] == "true"
    hook = sim.hang_up(run)
    assert hook is not None and "DeleteSessionData" not in hook.path
    assert cleanup.events == []


def test_no_cleanup_for_unverified_contacts() -> None:
    cleanup = FakeCleanup()
    sim = make(cleanup=cleanup)
    hook = sim.hang_up(sim.call(INBOUND, "00000000"))
    assert hook is not None and hook.path == ["DisableFlowLogging", "CheckVerified", "End"]
    assert cleanup.events == []


def test_failing_cleanup_still_ends_the_disconnect_flow() -> None:
    sim = make(cleanup=FakeCleanup(fail=True))
    run = sim.call(INBOUND, CODE)
    hook = sim.hang_up(run)
    assert hook is not None and hook.ended == "disconnected"
    assert hook.invocations[0].outcome == "error"


def test_no_hooks_when_closed() -> None:
    sim = make()
    run = sim.call(INBOUND, CODE, hours_open=False)
    assert sim.hang_up(run) is None


# ---- the flow module ------------------------------------------------------------------------------
def _host_flow(module_arn: str) -> dict[str, Any]:
    return {
        "Version": "2019-10-30",
        "StartAction": "IdStep",
        "Actions": [
            {
                "Identifier": "IdStep",
                "Type": "InvokeFlowModule",
                "Parameters": {"FlowModuleId": module_arn},
                "Transitions": {
                    "NextAction": "Queue",
                    "Errors": [{"NextAction": "Queue", "ErrorType": "NoMatchingError"}],
                },
            },
            {
                "Identifier": "Queue",
                "Type": "UpdateContactTargetQueue",
                "Parameters": {"QueueId": "arn:aws:connect:eu-central-1:123456789012:instance/i/queue/own"},
                "Transitions": {
                    "NextAction": "Transfer",
                    "Errors": [{"NextAction": "End", "ErrorType": "NoMatchingError"}],
                },
            },
            {
                "Identifier": "Transfer",
                "Type": "TransferContactToQueue",
                "Parameters": {},
                "Transitions": {
                    "NextAction": "End",
                    "Errors": [
                        {"NextAction": "End", "ErrorType": "QueueAtCapacity"},
                        {"NextAction": "End", "ErrorType": "NoMatchingError"},
                    ],
                },
            },
            {"Identifier": "End", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}},
        ],
    }


@pytest.mark.parametrize(("digits", "verified"), [(CODE, "true"), ("00000000", "false"), ("", "false")])
def test_module_from_a_municipality_flow(digits: str, verified: str) -> None:
    dtmf = FakeDtmf()
    sim = make(dtmf)
    run = sim.call(_host_flow(ARNS["module"]), digits, early_digits=True)
    assert run.attributes["verified"] == verified
    assert run.queued
    assert "ReturnToFlow" in run.path and run.path[-1] == "Transfer"
    assert run.invocations[0].flow_logging is False


def test_module_run_directly_returns() -> None:
    sim = make()
    run = sim.call(sim.modules[ARNS["module"]], CODE)
    assert run.ended == "returned" and run.attributes["verified"] == "true"


def test_missing_module_takes_the_error_branch() -> None:
    run = make().call(_host_flow("arn:unknown-module"), CODE)
    assert run.queued and run.attributes == {}


# ---- the simulator refuses what it cannot run -----------------------------------------------------
def test_unknown_action_type_is_a_flow_error() -> None:
    sim = make()
    flow = copy.deepcopy(sim.flows[INBOUND])
    action(flow, "SayWelcome")["Type"] = "PlayPrompt"
    with pytest.raises(FlowError, match="PlayPrompt"):
        sim.call(flow, CODE)


def test_missing_error_branch_is_a_flow_error() -> None:
    def boom(_event: dict[str, Any]) -> Any:
        raise RuntimeError("down")

    sim = make(FakeDtmf(boom))
    flow = copy.deepcopy(sim.flows[INBOUND])
    action(flow, "RedeemCallCode")["Transitions"]["Errors"] = []
    with pytest.raises(FlowError, match="no branch"):
        sim.call(flow, CODE)


def test_unknown_flow_arn() -> None:
    with pytest.raises(FlowError):
        make().call("arn:nope", CODE)


def test_an_unrendered_template_is_refused() -> None:
    with pytest.raises(FlowError, match="placeholders"):
        make().call(template("inbound"), CODE)


@pytest.mark.parametrize("limit", ["0", "9", "three"])
def test_invalid_time_limit_is_a_flow_error(limit: str) -> None:
    sim = make()
    flow = copy.deepcopy(sim.flows[INBOUND])
    action(flow, "RedeemCallCode")["Parameters"]["InvocationTimeLimitSeconds"] = limit
    with pytest.raises(FlowError, match="InvocationTimeLimitSeconds"):
        sim.call(flow, CODE)
