"""Lint Amazon Connect flows: flow-language structure plus idbellen's own rules.

Structure (what an import into Connect would reject, or silently mis-wire): version and start
action, unique identifiers of at most 50 characters, known action types, transitions that point at
existing actions, error types each action type knows, the errors Connect requires, conditions only
where allowed, terminal actions without transitions, no unreachable actions, string-valued
parameters, content within 256,000 characters.

Our rules (DESIGN.md): flow logging disabled before any input or Lambda call; touchtone buffer
enabled before anything that takes time (so the digits the Yivi app dials after the pause are not
lost); the DTMF code (``$.StoredCustomerInput``) only ever passed to a Lambda, never stored as an
attribute; only the known contact attributes, from known sources; every Lambda call has an error
branch, a time limit of at most 3 s and STRING_MAP validation, and invokes a function *alias*;
during opening hours every path after the code entry (error and unverified paths included) reaches
a queue transfer (a module: its return), and every failure path sets ``verified=false`` first;
``MaximumLength`` equals the configured code length.

CLI: ``python -m contact_flows.lint [--values values.json] [--code-length N]`` lints every flow of
``contact_flows.FLOWS``: the template itself, then rendered with the values (default: the sample
values). Exit status 1 on any finding.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contact_flows import ALLOWED_CONTACT_ATTRIBUTES, FLOW_DIR, FLOWS
from contact_flows.render import PLACEHOLDER, RenderError, load_json, render

VERSION = "2019-10-30"
MAX_IDENTIFIER = 50
MAX_CONTENT = 256_000
MAX_LAMBDA_SECONDS = 3  # ours; Connect allows 1-8
MAX_INPUT_SECONDS = 20
DEFAULT_CODE_LENGTH = 8
TERMINAL = frozenset({"DisconnectParticipant", "EndFlowExecution", "EndFlowModuleExecution"})

# Error types each action type may declare, and those Connect requires (APIReference flow-language).
KNOWN_ERRORS: dict[str, frozenset[str]] = {
    "UpdateFlowLoggingBehavior": frozenset(),
    "GetParticipantInput": frozenset(
        {"NoMatchingError", "NoMatchingCondition", "InputTimeLimitExceeded", "InvalidPhoneNumber"}
    ),
    "UpdateContactTextToSpeechVoice": frozenset({"NoMatchingError"}),
    "CheckHoursOfOperation": frozenset({"NoMatchingError"}),
    "MessageParticipant": frozenset({"NoMatchingError"}),
    "InvokeLambdaFunction": frozenset({"NoMatchingError"}),
    "Compare": frozenset({"NoMatchingCondition"}),
    "UpdateContactAttributes": frozenset({"NoMatchingError"}),
    "UpdateContactEventHooks": frozenset({"NoMatchingError"}),
    "UpdateContactTargetQueue": frozenset({"NoMatchingError"}),
    "TransferContactToQueue": frozenset({"QueueAtCapacity", "NoMatchingError"}),
    "InvokeFlowModule": frozenset({"NoMatchingError"}),
    "DisconnectParticipant": frozenset(),
    "EndFlowExecution": frozenset(),
    "EndFlowModuleExecution": frozenset(),
}
# Every error branch an action can take must be wired, except GetParticipantInput's input-specific
# ones (a DTMF-only input block never takes them).
REQUIRED_ERRORS: dict[str, frozenset[str]] = {
    action: errors - {"NoMatchingCondition", "InputTimeLimitExceeded", "InvalidPhoneNumber"}
    if action == "GetParticipantInput"
    else errors
    for action, errors in KNOWN_ERRORS.items()
    if errors
}
EVENT_HOOKS = frozenset(
    {
        "AgentHold",
        "AgentWhisper",
        "CustomerHold",
        "CustomerQueue",
        "CustomerRemaining",
        "CustomerWhisper",
        "DefaultAgentUI",
        "DisconnectAgentUI",
        "PauseContact",
        "ResumeContact",
    }
)
# Action types each kind of flow may use (subset of what Connect allows: what we need).
ROLE_TYPES: dict[str, frozenset[str]] = {
    "inbound": frozenset(KNOWN_ERRORS) - {"EndFlowExecution", "EndFlowModuleExecution"},
    "disconnect": frozenset(KNOWN_ERRORS) - {"EndFlowExecution", "EndFlowModuleExecution"},
    "whisper": frozenset(
        {
            "UpdateContactAttributes",
            "UpdateFlowLoggingBehavior",
            "Compare",
            "InvokeLambdaFunction",
            "MessageParticipant",
            "UpdateContactTextToSpeechVoice",
            "EndFlowExecution",
        }
    ),
    "module": frozenset(KNOWN_ERRORS)
    - {"EndFlowExecution", "TransferContactToQueue", "DisconnectParticipant", "InvokeFlowModule"},
}
# Where the DTMF code may appear: passed to a Lambda, or compared (e.g. with "Timeout").
DTMF_PATH = "$.StoredCustomerInput"
ALLOWED_ATTRIBUTE_SOURCES = frozenset({"$.External.session_secret", "$.External.purpose"})
ALIAS_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+:(?!\$LATEST$)(?!\d+$)[A-Za-z0-9_-]+$"
)
TIMED = frozenset({"MessageParticipant", "InvokeLambdaFunction", "TransferContactToQueue"})


@dataclass(frozen=True)
class Finding:
    """One problem: which flow, which rule, which action."""

    flow: str
    rule: str
    action: str
    message: str

    def __str__(self) -> str:
        where = f" [{self.action}]" if self.action else ""
        return f"{self.flow}: {self.rule}{where}: {self.message}"


def is_store_input(action: Mapping[str, Any]) -> bool:
    params = action.get("Parameters") or {}
    return (
        action.get("Type") == "GetParticipantInput"
        and "EnableDTMFBuffer" not in params
        and str(params.get("StoreInput", "")).lower() == "true"
    )


def buffer_setting(action: Mapping[str, Any]) -> bool | None:
    """True/False for a Set touchtone buffer behavior action, else None."""
    params = action.get("Parameters") or {}
    if action.get("Type") == "GetParticipantInput" and "EnableDTMFBuffer" in params:
        return str(params["EnableDTMFBuffer"]).lower() == "true"
    return None


def edges(action: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(label, target) for every transition: ``next``, ``error:<type>``, ``cond:<operand>``."""
    transitions = action.get("Transitions") or {}
    if isinstance(transitions.get("NextAction"), str) and transitions["NextAction"]:
        yield "next", transitions["NextAction"]
    for error in transitions.get("Errors") or []:
        if isinstance(error, Mapping):
            yield f"error:{error.get('ErrorType')}", str(error.get("NextAction"))
    for cond in transitions.get("Conditions") or []:
        if isinstance(cond, Mapping):
            operands = (cond.get("Condition") or {}).get("Operands") or [""]
            yield f"cond:{operands[0]}", str(cond.get("NextAction"))


def _leaves(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path, obj


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


class _Linter:
    def __init__(self, flow: Mapping[str, Any], name: str, role: str, code_length: int, template: bool):
        self.flow, self.name, self.role = flow, name, role
        self.code_length, self.template = code_length, template
        self.findings: list[Finding] = []
        self.actions: dict[str, Mapping[str, Any]] = {}

    def add(self, rule: str, action: str, message: str) -> None:
        self.findings.append(Finding(self.name, rule, action, message))

    # ---- structure -------------------------------------------------------------------------
    def structure(self) -> bool:
        flow = self.flow
        if flow.get("Version") != VERSION:
            self.add("structure", "", f"Version must be {VERSION!r}")
        unknown = set(flow) - {"Version", "StartAction", "Metadata", "Actions", "Settings"}
        if unknown:
            self.add("structure", "", f"unknown top-level keys {sorted(unknown)}")
        actions = flow.get("Actions")
        if not isinstance(actions, list) or not actions:
            self.add("structure", "", "Actions must be a non-empty list")
            return False
        for action in actions:
            ident = action.get("Identifier") if isinstance(action, Mapping) else None
            if not isinstance(ident, str) or not ident:
                self.add("structure", "", "every action needs a string Identifier")
                continue
            if len(ident) > MAX_IDENTIFIER:
                self.add("structure", ident, f"Identifier longer than {MAX_IDENTIFIER} characters")
            if ident in self.actions:
                self.add("structure", ident, "duplicate Identifier")
            self.actions[ident] = action
        if flow.get("StartAction") not in self.actions:
            self.add("structure", "", "StartAction does not name an action")
            return False
        if len(json.dumps(flow, ensure_ascii=False, separators=(",", ":"))) > MAX_CONTENT:
            self.add("structure", "", f"content longer than {MAX_CONTENT} characters")
        metadata = flow.get("Metadata") or {}
        stale = set((metadata.get("ActionMetadata") or {}) if isinstance(metadata, Mapping) else {})
        for ident in sorted(stale - set(self.actions)):
            self.add("structure", ident, "Metadata.ActionMetadata names an action that does not exist")
        for ident, action in self.actions.items():
            self.action_structure(ident, action)
        reachable = self.reachable(str(flow["StartAction"]))
        for ident in self.actions:
            if ident not in reachable:
                self.add("structure", ident, "unreachable action")
        return True

    def action_structure(self, ident: str, action: Mapping[str, Any]) -> None:
        typ = action.get("Type")
        if typ not in KNOWN_ERRORS:
            self.add("structure", ident, f"unknown action type {typ!r}")
            return
        if typ not in ROLE_TYPES[self.role]:
            self.add("structure", ident, f"{typ} is not allowed in a {self.role} flow")
        params = action.get("Parameters")
        transitions = action.get("Transitions")
        if not isinstance(params, Mapping) or not isinstance(transitions, Mapping):
            self.add("structure", ident, "Parameters and Transitions must be objects")
            return
        for path, value in _leaves(params):
            if path and not isinstance(value, str):
                self.add("structure", ident, f"parameter {path} must be a string, not {type(value).__name__}")
        extra = set(transitions) - {"NextAction", "Errors", "Conditions"}
        if extra:
            self.add("structure", ident, f"unknown transition keys {sorted(extra)}")
        if typ in TERMINAL:
            if transitions:
                self.add("structure", ident, "a terminal action must have empty Transitions")
            return
        for label, target in edges(action):
            if target not in self.actions:
                self.add("structure", ident, f"transition {label} points at unknown action {target!r}")
        declared = [e.get("ErrorType") for e in transitions.get("Errors") or []]
        if len(declared) != len(set(declared)):
            self.add("structure", ident, "an error type is declared twice")
        for error in declared:
            if error not in KNOWN_ERRORS[typ]:
                self.add("structure", ident, f"{typ} has no error type {error!r}")
        required = set(REQUIRED_ERRORS.get(typ, frozenset()))
        if typ == "GetParticipantInput" and not is_store_input(action) and buffer_setting(action) is None:
            required |= {"NoMatchingCondition"}
        for error in sorted(required - set(declared)):
            rule = "lambda-error-branch" if typ == "InvokeLambdaFunction" else "structure"
            self.add(rule, ident, f"missing required error branch {error}")
        conditions = transitions.get("Conditions") or []
        for cond in conditions:
            c = cond.get("Condition") if isinstance(cond, Mapping) else None
            operands = c.get("Operands") if isinstance(c, Mapping) else None
            if (
                not isinstance(c, Mapping)
                or c.get("Operator") != "Equals"
                or not isinstance(operands, list)
                or len(operands) != 1
                or not all(isinstance(o, str) for o in operands)
            ):
                self.add("structure", ident, "conditions must be Equals with one string operand")
        allows_conditions = typ in {"Compare", "CheckHoursOfOperation"} or (
            typ == "GetParticipantInput" and not is_store_input(action) and buffer_setting(action) is None
        )
        if conditions and not allows_conditions:
            self.add("structure", ident, f"{typ} does not support conditions here")
        if (
            typ not in {"Compare", "CheckHoursOfOperation", "TransferContactToQueue"}
            and "NextAction" not in transitions
            and not conditions
        ):
            self.add("structure", ident, "non-terminal action without NextAction")
        self.parameters(ident, typ, params, transitions)

    def parameters(self, ident: str, typ: str, params: Mapping[str, Any], transitions: Mapping[str, Any]) -> None:
        if typ == "UpdateFlowLoggingBehavior" and params.get("FlowLoggingBehavior") not in {"Enabled", "Disabled"}:
            self.add("structure", ident, "FlowLoggingBehavior must be Enabled or Disabled")
        if typ == "CheckHoursOfOperation":
            operands = sorted(label for label, _ in edges({"Transitions": transitions}) if label.startswith("cond:"))
            if operands != ["cond:False", "cond:True"]:
                self.add("structure", ident, "needs exactly the conditions Equals True and Equals False")
        if typ == "Compare":
            value = params.get("ComparisonValue")
            if not isinstance(value, str) or not re.fullmatch(r"\$\.[A-Za-z0-9_.]+", value):
                self.add("structure", ident, "ComparisonValue must be one JSONPath")
        if typ == "UpdateContactEventHooks":
            hooks = params.get("EventHooks")
            if not isinstance(hooks, Mapping) or len(hooks) != 1 or not set(hooks) <= EVENT_HOOKS:
                self.add("structure", ident, "EventHooks must hold exactly one known event hook")
        if typ == "UpdateContactAttributes" and params.get("TargetContact") not in {"Current", "Related"}:
            self.add("structure", ident, "TargetContact must be Current or Related")
        if typ == "UpdateContactTargetQueue" and not params.get("QueueId") and not params.get("AgentId"):
            self.add("structure", ident, "QueueId is required")
        if typ == "GetParticipantInput" and is_store_input(self.actions[ident]):
            if not isinstance(params.get("InputValidation"), Mapping):
                self.add("structure", ident, "StoreInput True requires InputValidation")
            if sum(k in params for k in ("Text", "SSML", "PromptId")) > 1:
                self.add("structure", ident, "at most one of Text, SSML, PromptId")
        if typ == "InvokeLambdaFunction":
            limit = _int(params.get("InvocationTimeLimitSeconds"))
            if limit is None or not 1 <= limit <= 8:
                self.add("structure", ident, "InvocationTimeLimitSeconds must be an integer 1-8")
            if (params.get("ResponseValidation") or {}).get("ResponseType") not in {"STRING_MAP", "JSON"}:
                self.add("structure", ident, "ResponseValidation.ResponseType must be STRING_MAP or JSON")
            if not params.get("LambdaFunctionARN"):
                self.add("structure", ident, "LambdaFunctionARN is required")

    def reachable(self, start: str) -> set[str]:
        seen: set[str] = set()
        stack = [start]
        while stack:
            ident = stack.pop()
            if ident in seen or ident not in self.actions:
                continue
            seen.add(ident)
            stack.extend(target for _, target in edges(self.actions[ident]))
        return seen

    # ---- dataflow helpers ------------------------------------------------------------------
    def may_states(self, initial: str, step: Callable[[Mapping[str, Any], str, str], str]) -> dict[str, set[str]]:
        """States an action may be entered with (forward may-analysis over every path)."""
        states: dict[str, set[str]] = {ident: set() for ident in self.actions}
        start = str(self.flow["StartAction"])
        states[start].add(initial)
        work = [start]
        while work:
            ident = work.pop()
            action = self.actions[ident]
            for state in list(states[ident]):
                for label, target in edges(action):
                    if target not in states:
                        continue
                    new = step(action, state, label)
                    if new not in states[target]:
                        states[target].add(new)
                        work.append(target)
        return states

    def all_paths_reach(
        self, start: str, is_target: Callable[[Mapping[str, Any]], bool], memo: dict[str, bool] | None = None
    ) -> bool:
        """Whether every path from ``start`` hits a target before it ends (cycles count as failing)."""
        memo = {} if memo is None else memo
        if start in memo:
            return memo[start]
        memo[start] = False  # cycle guard
        action = self.actions.get(start)
        if action is None:
            return False
        if is_target(action):
            memo[start] = True
            return True
        successors = [target for _, target in edges(action)]
        result = bool(successors) and all(self.all_paths_reach(t, is_target, memo) for t in successors)
        memo[start] = result
        return result

    # ---- our rules -------------------------------------------------------------------------
    def rules(self) -> None:
        sensitive = [i for i, a in self.actions.items() if is_store_input(a) or a.get("Type") == "InvokeLambdaFunction"]

        def logging_step(action: Mapping[str, Any], state: str, _label: str) -> str:
            if action.get("Type") == "UpdateFlowLoggingBehavior":
                return "off" if (action.get("Parameters") or {}).get("FlowLoggingBehavior") == "Disabled" else "on"
            return state

        logging = self.may_states("on", logging_step)
        for ident in sensitive:
            if "on" in logging[ident]:
                self.add("logging-disabled", ident, "flow logging may still be enabled here (logs hold Lambda I/O)")

        has_input = any(is_store_input(a) for a in self.actions.values())
        if has_input and self.role in {"inbound", "module"}:

            def buffer_step(action: Mapping[str, Any], state: str, _label: str) -> str:
                # The rule is about order: was buffering switched on before anything that takes
                # time? (Its own error branch only fires for non-voice contacts.)
                setting = buffer_setting(action)
                if setting is None:
                    return state
                return "on" if setting else "off"

            buffer = self.may_states("off", buffer_step)
            for ident, action in self.actions.items():
                if (action.get("Type") in TIMED or is_store_input(action)) and "off" in buffer[ident]:
                    self.add(
                        "buffer-first",
                        ident,
                        "touchtone buffer may be off here: digits dialled after the pause can be lost",
                    )

        for ident, action in self.actions.items():
            self.dtmf_and_attributes(ident, action)
            if action.get("Type") == "InvokeLambdaFunction":
                self.lambda_rules(ident, action.get("Parameters") or {})
            if is_store_input(action):
                self.input_rules(ident, action.get("Parameters") or {})
        if self.role in {"inbound", "module"}:
            self.paths_reach_queue()

    def dtmf_and_attributes(self, ident: str, action: Mapping[str, Any]) -> None:
        params = action.get("Parameters") or {}
        typ = action.get("Type")
        for path, value in _leaves(params):
            if not isinstance(value, str) or "storedcustomerinput" not in value.lower():
                continue
            allowed = (typ == "InvokeLambdaFunction" and path.startswith("LambdaInvocationAttributes.")) or (
                typ == "Compare" and path == "ComparisonValue"
            )
            if not allowed or value != DTMF_PATH:
                self.add("dtmf-not-stored", ident, f"the DTMF code may only be passed to a Lambda ({path})")
        if typ in {"UpdateContactAttributes", "UpdateFlowAttributes"}:
            attributes = params.get("Attributes") or params.get("FlowAttributes") or {}
            for key, value in attributes.items() if isinstance(attributes, Mapping) else []:
                if key not in ALLOWED_CONTACT_ATTRIBUTES:
                    self.add("attributes", ident, f"attribute {key!r} is not in the allowed set")
                if isinstance(value, str) and value.startswith("$") and value not in ALLOWED_ATTRIBUTE_SOURCES:
                    self.add("attributes", ident, f"attribute {key!r} copies {value}, not an allowed source")

    def lambda_rules(self, ident: str, params: Mapping[str, Any]) -> None:
        limit = _int(params.get("InvocationTimeLimitSeconds"))
        if limit is not None and limit > MAX_LAMBDA_SECONDS:
            self.add("lambda-timeout", ident, f"time limit {limit}s exceeds our {MAX_LAMBDA_SECONDS}s")
        if (params.get("ResponseValidation") or {}).get("ResponseType") != "STRING_MAP":
            self.add("lambda-response", ident, "use STRING_MAP response validation")
        arn = str(params.get("LambdaFunctionARN", ""))
        if self.template:
            if not PLACEHOLDER.fullmatch(arn):
                self.add("lambda-alias", ident, "LambdaFunctionARN must be a ${Placeholder} in a template")
        elif not ALIAS_ARN.match(arn):
            self.add("lambda-alias", ident, "invoke a function alias (rollback = one alias move)")

    def input_rules(self, ident: str, params: Mapping[str, Any]) -> None:
        maximum = ((params.get("InputValidation") or {}).get("CustomValidation") or {}).get("MaximumLength")
        expected = "${DtmfLength}" if self.template else str(self.code_length)
        if maximum != expected:
            self.add("code-length", ident, f"MaximumLength {maximum!r} must be {expected!r}")
        seconds = _int(params.get("InputTimeLimitSeconds"))
        if seconds is None or not 1 <= seconds <= MAX_INPUT_SECONDS:
            self.add("input-timeout", ident, f"InputTimeLimitSeconds must be 1-{MAX_INPUT_SECONDS}")

    def paths_reach_queue(self) -> None:
        """During opening hours, everything after code entry ends in the queue (module: returns)."""
        target_type = "EndFlowModuleExecution" if self.role == "module" else "TransferContactToQueue"

        def is_target(action: Mapping[str, Any]) -> bool:
            return action.get("Type") == target_type

        def sets_unverified(action: Mapping[str, Any]) -> bool:
            attributes = (action.get("Parameters") or {}).get("Attributes") or {}
            return action.get("Type") == "UpdateContactAttributes" and attributes.get("verified") == "false"

        open_region: set[str] = set()
        stack = [str(self.flow["StartAction"])]
        while stack:
            ident = stack.pop()
            if ident in open_region or ident not in self.actions:
                continue
            open_region.add(ident)
            action = self.actions[ident]
            for label, target in edges(action):
                # Out of hours is the one case allowed to hang up; NextAction (the console's
                # fallback, never taken when both conditions exist) does not count as open.
                if action.get("Type") == "CheckHoursOfOperation" and label in {"cond:False", "next"}:
                    continue
                stack.append(target)
        memo: dict[str, bool] = {}
        failure_starts: list[tuple[str, str]] = []
        for ident in sorted(open_region):
            action = self.actions[ident]
            if not (is_store_input(action) or action.get("Type") == "InvokeLambdaFunction"):
                continue
            if not self.all_paths_reach(ident, is_target, memo):
                self.add("reaches-queue", ident, f"a path from here never reaches {target_type}")
            failure_starts += [(ident, t) for label, t in edges(action) if label.startswith("error:")]
        for ident in sorted(open_region):
            action = self.actions[ident]
            value = str((action.get("Parameters") or {}).get("ComparisonValue", ""))
            if action.get("Type") == "Compare" and value.startswith("$.External."):
                failure_starts += [(ident, t) for label, t in edges(action) if label == "error:NoMatchingCondition"]
        unverified_memo: dict[str, bool] = {}
        for ident, target in failure_starts:
            if not self.all_paths_reach(target, sets_unverified, unverified_memo):
                self.add("marks-unverified", ident, "a failure path does not set verified=false")


def lint_flow(
    flow: Mapping[str, Any],
    *,
    role: str,
    code_length: int = DEFAULT_CODE_LENGTH,
    name: str = "flow",
    template: bool = False,
) -> list[Finding]:
    """All findings for one flow (a template when ``template``; else rendered)."""
    linter = _Linter(flow, name, role, code_length, template)
    if linter.structure():
        linter.rules()
    return linter.findings


def configured_code_length() -> int:
    return int(os.environ.get("IDBELLEN_DTMF_LENGTH", str(DEFAULT_CODE_LENGTH)))


def lint_all(values: Mapping[str, Any] | None = None, code_length: int | None = None) -> list[Finding]:
    """Every flow in ``FLOWS``: the template, and the template rendered with ``values``."""
    code_length = configured_code_length() if code_length is None else code_length
    if values is None:
        values = dict(load_json(FLOW_DIR / "sample_values.json"))
        values["DtmfLength"] = str(code_length)
    findings: list[Finding] = []
    for spec in FLOWS.values():
        template = load_json(spec.path)
        findings += lint_flow(template, role=spec.role, code_length=code_length, name=spec.file, template=True)
        try:
            rendered = render(template, values)
        except RenderError as exc:
            findings.append(Finding(spec.file, "render", "", str(exc)))
            continue
        findings += lint_flow(rendered, role=spec.role, code_length=code_length, name=f"{spec.file} (rendered)")
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contact_flows.lint", description="Lint the contact flows.")
    parser.add_argument("--values", help="placeholder values (default: contact_flows/sample_values.json)")
    parser.add_argument("--code-length", type=int, help="configured code length (default: IDBELLEN_DTMF_LENGTH or 8)")
    args = parser.parse_args(argv)
    values = load_json(Path(args.values)) if args.values else None
    findings = lint_all(values, args.code_length)
    for finding in findings:
        sys.stdout.write(f"{finding}\n")
    sys.stdout.write(f"lint-flows: {len(FLOWS)} flows, {len(findings)} finding(s)\n")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
