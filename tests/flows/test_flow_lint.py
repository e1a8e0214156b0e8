"""The flow linter: our flows are clean, and each rule catches the mistake it exists for."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from contact_flows import FLOWS
from contact_flows.lint import Finding, lint_all, lint_flow, main
from tests.flows.helpers import action, rendered, retarget, template, without


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def lint_inbound(flow: dict[str, Any], **kwargs: Any) -> list[Finding]:
    return lint_flow(flow, role="inbound", **kwargs)


def test_our_flows_are_clean() -> None:
    assert lint_all() == []


@pytest.mark.parametrize("key", list(FLOWS))
def test_templates_are_clean(key: str) -> None:
    spec = FLOWS[key]
    assert lint_flow(template(key), role=spec.role, template=True) == []


def test_cli_exit_status(capsys) -> None:
    assert main([]) == 0
    assert "0 finding(s)" in capsys.readouterr().out
    assert main(["--code-length", "6"]) == 0  # sample values are rendered with the configured length


def test_code_length_must_match_configuration() -> None:
    flow = rendered("inbound", DtmfLength="8")
    findings = lint_inbound(flow, code_length=10)
    assert rules(findings) == {"code-length"}
    assert {f.action for f in findings} == {"StoreCallCode", "StoreCallCodeClosed"}


def test_hard_coded_code_length_in_a_template() -> None:
    flow = template("inbound")
    action(flow, "StoreCallCode")["Parameters"]["InputValidation"]["CustomValidation"]["MaximumLength"] = "8"
    assert rules(lint_inbound(flow, template=True)) == {"code-length"}


def test_logging_must_be_disabled_before_input() -> None:
    findings = lint_inbound(without(rendered("inbound"), "DisableFlowLogging"))
    assert rules(findings) == {"logging-disabled"}
    assert "RedeemCallCode" in {f.action for f in findings}


def test_logging_enabled_again_is_caught() -> None:
    flow = rendered("disconnect")
    action(flow, "DisableFlowLogging")["Parameters"]["FlowLoggingBehavior"] = "Enabled"
    assert rules(lint_flow(flow, role="disconnect")) == {"logging-disabled"}


def test_buffer_must_come_before_anything_that_takes_time() -> None:
    flow = without(rendered("inbound"), "EnableTouchtoneBuffer")
    assert rules(lint_inbound(flow)) == {"buffer-first"}


def test_buffer_after_the_welcome_prompt_is_too_late() -> None:
    flow = without(rendered("inbound"), "EnableTouchtoneBuffer")
    buffer = copy.deepcopy(action(rendered("inbound"), "EnableTouchtoneBuffer"))
    buffer["Transitions"] = {
        "NextAction": "StoreCallCode",
        "Errors": [{"NextAction": "StoreCallCode", "ErrorType": "NoMatchingError"}],
    }
    flow["Actions"].append(buffer)
    flow = retarget(flow, "SayWelcome", "next", "EnableTouchtoneBuffer")
    flow = retarget(flow, "SayWelcome", "NoMatchingError", "EnableTouchtoneBuffer")
    findings = lint_inbound(flow)
    assert rules(findings) == {"buffer-first"}
    assert "SayWelcome" in {f.action for f in findings}


def test_dtmf_code_never_stored_as_an_attribute() -> None:
    flow = rendered("inbound")
    action(flow, "SetUnverified")["Parameters"]["Attributes"]["code"] = "$.StoredCustomerInput"
    assert {"dtmf-not-stored", "attributes"} <= rules(lint_inbound(flow))


def test_dtmf_code_not_spoken_back() -> None:
    flow = rendered("inbound")
    action(flow, "SayUnverified")["Parameters"]["Text"] = "$.StoredCustomerInput"
    assert rules(lint_inbound(flow)) == {"dtmf-not-stored"}


def test_only_known_attributes_from_known_sources() -> None:
    flow = rendered("inbound")
    action(flow, "SetVerified")["Parameters"]["Attributes"]["purpose"] = "$.CustomerEndpoint.Address"
    assert rules(lint_inbound(flow)) == {"attributes"}


def test_every_lambda_call_needs_an_error_branch() -> None:
    flow = rendered("inbound")
    action(flow, "RedeemCallCode")["Transitions"]["Errors"] = []
    findings = lint_inbound(flow)
    assert ("lambda-error-branch", "RedeemCallCode") in {(f.rule, f.action) for f in findings}
    assert "missing required error branch NoMatchingError" in {f.message for f in findings}


def test_lambda_error_must_still_reach_the_queue() -> None:
    flow = retarget(rendered("inbound"), "RedeemCallCode", "NoMatchingError", "Disconnect")
    findings = lint_inbound(flow)
    assert rules(findings) == {"reaches-queue", "marks-unverified"}


def test_unverified_result_must_set_verified_false() -> None:
    flow = retarget(rendered("inbound"), "CheckRedeemResult", "NoMatchingCondition", "SayUnverified")
    assert rules(lint_inbound(flow)) == {"marks-unverified"}


def test_module_failure_paths_must_return() -> None:
    flow = rendered("module")
    flow["Actions"].append({"Identifier": "Hang", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}})
    flow = retarget(flow, "SayUnverified", "next", "Hang")
    findings = lint_flow(flow, role="module")
    assert "reaches-queue" in rules(findings)
    assert "DisconnectParticipant is not allowed in a module flow" in {f.message for f in findings}


@pytest.mark.parametrize(("seconds", "rule"), [("5", "lambda-timeout"), ("9", "structure"), ("0", "structure")])
def test_lambda_time_limits(seconds: str, rule: str) -> None:
    flow = rendered("inbound")
    action(flow, "RedeemCallCode")["Parameters"]["InvocationTimeLimitSeconds"] = seconds
    assert rule in rules(lint_inbound(flow))


def test_lambda_must_be_string_map() -> None:
    flow = rendered("inbound")
    action(flow, "RedeemCallCode")["Parameters"]["ResponseValidation"]["ResponseType"] = "JSON"
    assert rules(lint_inbound(flow)) == {"lambda-response"}


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:lambda:eu-central-1:111122223333:function:idbellen-dtmf",
        "arn:aws:lambda:eu-central-1:111122223333:function:idbellen-dtmf:$LATEST",
        "arn:aws:lambda:eu-central-1:111122223333:function:idbellen-dtmf:7",
    ],
)
def test_lambda_must_be_an_alias(arn: str) -> None:
    flow = rendered("inbound", DtmfFunctionArn=arn)
    assert rules(lint_inbound(flow)) == {"lambda-alias"}


def test_template_lambda_arn_must_be_a_placeholder() -> None:
    flow = template("disconnect")
    action(flow, "DeleteSessionData")["Parameters"]["LambdaFunctionARN"] = (
        "arn:aws:lambda:eu-central-1:111122223333:function:idbellen-cleanup:live"
    )
    assert rules(lint_flow(flow, role="disconnect", template=True)) == {"lambda-alias"}


def test_input_timeout_must_be_sane() -> None:
    flow = rendered("inbound")
    action(flow, "StoreCallCode")["Parameters"]["InputTimeLimitSeconds"] = "60"
    assert rules(lint_inbound(flow)) == {"input-timeout"}


def structure_messages(flow: dict[str, Any], role: str = "inbound") -> set[str]:
    return {f.message for f in lint_flow(flow, role=role) if f.rule == "structure"}


def test_structure_unknown_type() -> None:
    flow = rendered("inbound")
    action(flow, "SayWelcome")["Type"] = "PlayPrompt"
    assert "unknown action type 'PlayPrompt'" in structure_messages(flow)


def test_structure_duplicate_and_long_identifiers() -> None:
    flow = rendered("inbound")
    flow["Actions"].append(copy.deepcopy(action(flow, "SayWelcome")))
    long_one = copy.deepcopy(action(flow, "Disconnect"))
    long_one["Identifier"] = "x" * 51
    flow["Actions"].append(long_one)
    messages = structure_messages(flow)
    assert "duplicate Identifier" in messages
    assert "Identifier longer than 50 characters" in messages
    assert "unreachable action" in messages


def test_structure_dangling_transition() -> None:
    flow = retarget(rendered("inbound"), "SayWelcome", "next", "Nowhere")
    assert "transition next points at unknown action 'Nowhere'" in structure_messages(flow)


def test_structure_unreachable_action() -> None:
    flow = rendered("customer_whisper")
    flow["Actions"].append({"Identifier": "Orphan", "Type": "EndFlowExecution", "Parameters": {}, "Transitions": {}})
    findings = lint_flow(flow, role="whisper")
    assert [(f.action, f.message) for f in findings] == [("Orphan", "unreachable action")]


def test_structure_parameters_must_be_strings() -> None:
    flow = rendered("inbound")
    action(flow, "RedeemCallCode")["Parameters"]["InvocationTimeLimitSeconds"] = 3
    assert "parameter InvocationTimeLimitSeconds must be a string, not int" in structure_messages(flow)


def test_structure_error_types_and_terminal_actions() -> None:
    flow = rendered("inbound")
    action(flow, "SayWelcome")["Transitions"]["Errors"].append({"NextAction": "Disconnect", "ErrorType": "Busy"})
    action(flow, "Disconnect")["Transitions"] = {"NextAction": "SayWelcome"}
    messages = structure_messages(flow)
    assert "MessageParticipant has no error type 'Busy'" in messages
    assert "a terminal action must have empty Transitions" in messages


def test_structure_hours_check_needs_true_and_false() -> None:
    flow = rendered("inbound")
    action(flow, "CheckOpeningHours")["Transitions"]["Conditions"].pop()
    assert "needs exactly the conditions Equals True and Equals False" in structure_messages(flow)


def test_structure_version_and_start() -> None:
    flow = rendered("inbound")
    flow["Version"] = "2020-01-01"
    flow["StartAction"] = "Missing"
    messages = structure_messages(flow)
    assert "Version must be '2019-10-30'" in messages
    assert "StartAction does not name an action" in messages


def test_structure_event_hooks_one_entry() -> None:
    flow = rendered("inbound")
    action(flow, "SetDisconnectFlow")["Parameters"]["EventHooks"]["CustomerWhisper"] = "arn:x"
    assert "EventHooks must hold exactly one known event hook" in structure_messages(flow)


def test_readme_has_every_spoken_prompt() -> None:
    """The README's prompt table (Dutch with English) stays in step with the flows."""
    readme = (FLOWS["inbound"].path.parent / "README.md").read_text(encoding="utf-8")
    for key in ("inbound", "module"):
        for a in template(key)["Actions"]:
            text = a["Parameters"].get("Text")
            if text:
                assert text in readme, f"{key}/{a['Identifier']}: prompt missing from README"


def test_structure_stale_metadata() -> None:
    flow = rendered("disconnect")
    flow["Metadata"]["ActionMetadata"]["Gone"] = {"position": {"x": 0, "y": 0}}
    assert "Metadata.ActionMetadata names an action that does not exist" in structure_messages(flow, "disconnect")
