"""Offline Amazon Connect flow simulator: runs our rendered flows against Python Lambda handlers.

It interprets the flow-language actions our flows use and enforces what Connect enforces around
them, so a flow bug (a lost digit, a missing error branch, an attribute that would keep the DTMF
code for 24 months) shows up in a unit test instead of on a citizen's phone:

- Lambda calls get a Connect-shaped ``ContactFlowEvent`` (ContactData with ContactId,
  InitialContactId, InstanceARN, CustomerEndpoint, Attributes, …; Parameters resolved from the
  block's ``LambdaInvocationAttributes``); the ``InvocationTimeLimitSeconds`` limit; STRING_MAP
  validation (a flat object of strings, < 32 KB); ``$.External`` holding only the latest response
  (cleared when a call fails); retries on function errors and lost responses (up to 3 within 8 s);
  the Error branch on exceptions after the retries, on timeouts and on unparseable responses.
- The functions' own Lambda timeouts (``function_timeouts``, the template's ``Timeout``): the context's
  ``get_remaining_time_in_millis`` counts down on the simulator's clock, and work that takes time inside
  a handler (``spend``) past the timeout ends the attempt there — nothing after that point runs, as
  when Lambda stops an invocation — which Connect sees as a function error (and retries).
- Store customer input: ``MaximumLength``, the termination key, ``*`` as cancel key, ``Timeout``
  on no input; the touchtone buffer (up to 30 keys) and digits that arrive before the input block.
- Hours of operation open/closed, a queue at capacity, event hooks, logging behaviour.

Time limits run on an injectable clock (``VirtualClock`` by default): a handler only "takes time"
when it advances that clock, so a busy CI machine cannot turn a pass into a timeout.

Digits: ``digits`` are what the caller's phone sends. With ``early_digits=False`` they are typed
when the first input block asks. With ``early_digits=True`` they arrive right after the dialler's
pause, modelled as "before the first action that takes time" (a prompt, a Lambda call, an input
block): buffered if the touchtone buffer is on, captured if that action is the input block itself,
lost otherwise — which is what happens on a real call.

Nothing here prints or logs codes, secrets or attributes; the results are plain objects for tests.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devstack.lambda_context import LambdaContext

LambdaHandler = Callable[[dict[str, Any], Any], Any]

MAX_STRING_MAP_BYTES = 32 * 1024
MAX_ATTRIBUTE_BYTES = 32 * 1024
MAX_RETRIES = 3
RETRY_WINDOW_SECONDS = 8.0
BUFFER_SIZE = 30
MAX_STEPS = 500
DEFAULT_INSTANCE_ARN = "arn:aws:connect:eu-central-1:123456789012:instance/00000000-0000-4000-8000-000000000000"
DEFAULT_SYSTEM_NUMBER = "+31141234567"
TIMED_TYPES = frozenset({"MessageParticipant", "InvokeLambdaFunction", "TransferContactToQueue"})


class FlowError(RuntimeError):
    """The flow cannot be run as written (Connect would reject it or get stuck)."""


class LostResponse(ConnectionError):
    """The function ran but Connect never got its answer (a network fault): Connect retries."""


class FunctionTimedOut(BaseException):
    """Lambda ended the invocation at its timeout. A BaseException, so no handler's `except Exception`
    can catch it: like a real timeout, the code after that point never runs."""


class VirtualClock:
    """Seconds that only move when someone says so: deterministic time limits."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self._now += seconds

    advance = sleep


class WallClock:
    """Real monotonic time, for trying a flow against real latency (never in tests)."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def lose_responses(handler: LambdaHandler, times: int = 1) -> LambdaHandler:
    """Wrap ``handler`` so its first ``times`` answers are lost after it has run (Connect retries)."""
    remaining = [times]

    def wrapped(event: dict[str, Any], context: Any) -> Any:
        result = handler(event, context)
        if remaining[0] > 0:
            remaining[0] -= 1
            raise LostResponse("response lost")
        return result

    return wrapped


@dataclass
class Invocation:
    """One Invoke AWS Lambda function block, however many attempts it took."""

    action: str
    function_arn: str
    attempts: int
    outcome: str  # ok | error | timeout | invalid_response | not_found
    flow_logging: bool  # whether flow logging was on while Connect sent the event
    parameter_names: list[str]
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class ContactRun:
    """What one flow run did to a contact."""

    flow: str
    contact_id: str
    initial_contact_id: str
    attributes: dict[str, str]
    ended: str = ""  # queued | disconnected | ended | returned
    queued: bool = False
    queue_arn: str | None = None
    prompts: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    event_hooks: dict[str, str] = field(default_factory=dict)
    invocations: list[Invocation] = field(default_factory=list)
    voice: str | None = None
    flow_logging: bool = True
    digits_lost: bool = False
    caller: str | None = None


@dataclass
class _State:
    run: ContactRun
    hours_open: bool | Mapping[str, bool]
    full_queues: bool | frozenset[str]
    typed: str = ""
    early: str = ""
    buffer_on: bool = False
    buffer: list[str] = field(default_factory=list)
    stored_input: str | None = None
    external: dict[str, Any] = field(default_factory=dict)


def _name_of(arn: str) -> str:
    """Function name (with qualifier) from a Lambda ARN, for the context object."""
    parts = arn.split(":")
    return parts[6] if len(parts) > 6 else arn


def _validate_response(response: Any, response_type: str) -> dict[str, Any] | None:
    """What Connect accepts as a Lambda answer (None: unparseable, take the Error branch)."""
    try:
        payload = json.loads(json.dumps(response))
    except (TypeError, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    if response_type == "STRING_MAP":
        if not all(isinstance(v, str) for v in payload.values()):
            return None
        if len(json.dumps(payload).encode()) >= MAX_STRING_MAP_BYTES:
            return None
    return payload


class FlowSimulator:
    """Runs rendered flows for simulated contacts. ``flows`` and ``modules`` map ARN -> flow."""

    def __init__(
        self,
        *,
        flows: Mapping[str, Mapping[str, Any]],
        lambdas: Mapping[str, LambdaHandler],
        modules: Mapping[str, Mapping[str, Any]] | None = None,
        clock: VirtualClock | WallClock | None = None,
        instance_arn: str = DEFAULT_INSTANCE_ARN,
        system_number: str = DEFAULT_SYSTEM_NUMBER,
        function_timeouts: Mapping[str, float] | None = None,
    ) -> None:
        self.flows = dict(flows)
        self.lambdas = dict(lambdas)
        self.modules = dict(modules or {})
        self.clock = clock or VirtualClock()
        self.instance_arn = instance_arn
        self.system_number = system_number
        self.runs: dict[str, ContactRun] = {}
        self.function_timeouts = dict(function_timeouts or {})  # function ARN -> Lambda Timeout (s)
        self.on_spend: list[Callable[[float], None]] = []  # other clocks that move with `spend`
        self._attempt_deadline: float | None = None

    def spend(self, seconds: float) -> None:
        """Work inside a handler that takes `seconds`: the clock moves (and every `on_spend` clock);
        past the function's Lambda timeout the attempt ends right here (FunctionTimedOut)."""
        deadline = self._attempt_deadline
        if deadline is not None and self.clock.now() + seconds > deadline:
            moved = max(0.0, deadline - self.clock.now())
            self.clock.sleep(moved)
            for other in self.on_spend:
                other(moved)
            raise FunctionTimedOut("Task timed out")
        self.clock.sleep(seconds)
        for other in self.on_spend:
            other(seconds)

    # ---- public ------------------------------------------------------------------------------
    def call(
        self,
        flow: str | Mapping[str, Any],
        digits: str,
        *,
        caller: str | None = "+31612345678",
        early_digits: bool = False,
        hours_open: bool | Mapping[str, bool] = True,
        queue_full: bool | frozenset[str] = False,
        contact_id: str | None = None,
        initial_contact_id: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> ContactRun:
        """A new contact enters ``flow`` (an ARN in ``flows`` or a flow dict) and sends ``digits``."""
        contact_id = contact_id or str(uuid.uuid4())
        run = ContactRun(
            flow=flow if isinstance(flow, str) else "<flow>",
            contact_id=contact_id,
            initial_contact_id=initial_contact_id or contact_id,
            attributes=dict(attributes or {}),
            caller=caller,
        )
        state = _State(
            run=run,
            hours_open=hours_open,
            full_queues=queue_full,
            typed="" if early_digits else digits,
            early=digits if early_digits else "",
        )
        self._run(self._flow(flow), state)
        self.runs[contact_id] = run
        return run

    def run_hook(self, run: ContactRun, hook: str) -> ContactRun | None:
        """Run the flow the contact set for ``hook`` (e.g. CustomerWhisper, CustomerRemaining).

        The hook flow sees and updates the same contact attributes; returns its own run record.
        """
        arn = run.event_hooks.get(hook)
        if arn is None:
            return None
        hook_run = ContactRun(
            flow=arn,
            contact_id=run.contact_id,
            initial_contact_id=run.initial_contact_id,
            attributes=run.attributes,  # the same contact: shared on purpose
            queue_arn=run.queue_arn,
            flow_logging=run.flow_logging,
            caller=run.caller,
        )
        self._run(self._flow(arn), _State(run=hook_run, hours_open=True, full_queues=False))
        return hook_run

    def agent_connects(self, run: ContactRun) -> ContactRun | None:
        """An agent picks up: Connect runs the customer whisper flow."""
        return self.run_hook(run, "CustomerWhisper")

    def hang_up(self, run: ContactRun) -> ContactRun | None:
        """The contact disconnects: Connect runs the disconnect flow (CustomerRemaining hook)."""
        return self.run_hook(run, "CustomerRemaining")

    # ---- interpreter -------------------------------------------------------------------------
    def _flow(self, flow: str | Mapping[str, Any]) -> Mapping[str, Any]:
        if isinstance(flow, str):
            if flow not in self.flows:
                raise FlowError(f"no flow registered for {flow!r}")
            flow = self.flows[flow]
        if "${" in json.dumps(flow):
            raise FlowError("the flow still has ${placeholders}: render it first (contact_flows.render)")
        return flow

    def _run(self, flow: Mapping[str, Any], state: _State) -> str:
        actions = {a["Identifier"]: a for a in flow.get("Actions", [])}
        current = flow.get("StartAction")
        for _ in range(MAX_STEPS):
            action = actions.get(str(current))
            if action is None:
                raise FlowError(f"transition to unknown action {current!r}")
            state.run.path.append(action["Identifier"])
            if state.early and self._takes_time(action):
                self._deliver_early_digits(action, state)
            kind, value = self._execute(action, state)
            if kind == "end":
                state.run.ended = value
                return value
            current = self._next(action, kind, value)
        raise FlowError("flow did not end within the step limit (a loop?)")

    @staticmethod
    def _takes_time(action: Mapping[str, Any]) -> bool:
        params = action.get("Parameters") or {}
        if action.get("Type") == "GetParticipantInput":
            return "EnableDTMFBuffer" not in params
        return action.get("Type") in TIMED_TYPES

    @staticmethod
    def _is_store_input(action: Mapping[str, Any]) -> bool:
        params = action.get("Parameters") or {}
        return (
            action.get("Type") == "GetParticipantInput"
            and "EnableDTMFBuffer" not in params
            and str(params.get("StoreInput", "")).lower() == "true"
        )

    def _deliver_early_digits(self, action: Mapping[str, Any], state: _State) -> None:
        digits, state.early = state.early, ""
        if state.buffer_on:
            room = BUFFER_SIZE - len(state.buffer)
            state.buffer.extend(list(digits)[:room])
        elif action.get("Type") == "GetParticipantInput":
            state.typed = digits + state.typed  # the input block itself is listening
        else:
            state.run.digits_lost = True

    @staticmethod
    def _next(action: Mapping[str, Any], kind: str, value: str) -> str:
        transitions = action.get("Transitions") or {}
        ident = action.get("Identifier")
        if kind == "next":
            target = transitions.get("NextAction")
            if not target:
                raise FlowError(f"{ident}: no NextAction")
            return str(target)
        if kind == "result":
            for cond in transitions.get("Conditions") or []:
                condition = cond.get("Condition") or {}
                if condition.get("Operator") != "Equals":
                    raise FlowError(f"{ident}: only Equals conditions are simulated")
                if value in (condition.get("Operands") or []):
                    return str(cond["NextAction"])
            kind, value = "error", "NoMatchingCondition"
        errors = {e.get("ErrorType"): e.get("NextAction") for e in transitions.get("Errors") or []}
        target = errors.get(value) or (errors.get("NoMatchingError") if value != "NoMatchingCondition" else None)
        if not target:
            raise FlowError(f"{ident}: no branch for error {value}")
        return str(target)

    def _flow_data(self, state: _State) -> dict[str, Any]:
        run = state.run
        return {
            "StoredCustomerInput": state.stored_input,
            "External": state.external,
            "Attributes": run.attributes,
            "ContactId": run.contact_id,
            "InitialContactId": run.initial_contact_id,
            "Channel": "VOICE",
            "InstanceARN": self.instance_arn,
            "CustomerEndpoint": {"Address": run.caller, "Type": "TELEPHONE_NUMBER"} if run.caller else None,
            "SystemEndpoint": {"Address": self.system_number, "Type": "TELEPHONE_NUMBER"},
            "Queue": {"ARN": run.queue_arn, "Name": run.queue_arn.rsplit("/", 1)[-1]} if run.queue_arn else None,
        }

    def _resolve(self, value: Any, state: _State) -> Any:
        """A static value, or the value a single JSONPath (``$.A.b``) names (None when absent)."""
        if not isinstance(value, str) or not value.startswith("$."):
            return value
        node: Any = self._flow_data(state)
        for part in value[2:].split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, str) else None

    def _execute(self, action: Mapping[str, Any], state: _State) -> tuple[str, str]:
        typ = action.get("Type")
        params = action.get("Parameters") or {}
        run = state.run
        if typ == "UpdateFlowLoggingBehavior":
            run.flow_logging = params.get("FlowLoggingBehavior") == "Enabled"
            return "next", ""
        if typ == "GetParticipantInput":
            return self._participant_input(action, params, state)
        if typ == "UpdateContactTextToSpeechVoice":
            run.voice = str(params.get("TextToSpeechVoice"))
            return "next", ""
        if typ == "CheckHoursOfOperation":
            hours = state.hours_open
            is_open = hours if isinstance(hours, bool) else hours.get(str(params.get("HoursOfOperationId")), True)
            return "result", "True" if is_open else "False"
        if typ == "MessageParticipant":
            run.prompts.append(self._prompt_text(params, state))
            return "next", ""
        if typ == "InvokeLambdaFunction":
            return self._invoke(action, params, state)
        if typ == "Compare":
            resolved = self._resolve(params.get("ComparisonValue"), state)
            return "result", resolved if isinstance(resolved, str) else "\0absent"
        if typ == "UpdateContactAttributes":
            return self._set_attributes(params, state)
        if typ == "UpdateContactEventHooks":
            hooks = params.get("EventHooks") or {}
            if len(hooks) != 1:
                return "error", "NoMatchingError"
            for hook, target in hooks.items():
                run.event_hooks[hook] = str(self._resolve(target, state))
            return "next", ""
        if typ == "UpdateContactTargetQueue":
            queue = self._resolve(params.get("QueueId"), state)
            if not queue:
                return "error", "NoMatchingError"
            run.queue_arn = str(queue)
            return "next", ""
        if typ == "TransferContactToQueue":
            if not run.queue_arn:
                return "error", "NoMatchingError"
            full = state.full_queues
            if full is True or (isinstance(full, frozenset) and run.queue_arn in full):
                return "error", "QueueAtCapacity"
            run.queued = True
            state.buffer.clear()  # Connect clears the touchtone buffer on transfer
            return "end", "queued"
        if typ == "InvokeFlowModule":
            return self._invoke_module(params, state)
        if typ == "DisconnectParticipant":
            return "end", "disconnected"
        if typ == "EndFlowExecution":
            return "end", "ended"
        if typ == "EndFlowModuleExecution":
            return "end", "returned"
        raise FlowError(f"{action.get('Identifier')}: action type {typ!r} is not simulated")

    def _prompt_text(self, params: Mapping[str, Any], state: _State) -> str:
        if "Text" in params:
            return str(self._resolve(params["Text"], state))
        if "SSML" in params:
            return str(self._resolve(params["SSML"], state))
        return f"<prompt {params.get('PromptId')}>"

    def _participant_input(
        self, action: Mapping[str, Any], params: Mapping[str, Any], state: _State
    ) -> tuple[str, str]:
        if "EnableDTMFBuffer" in params:
            if str(params["EnableDTMFBuffer"]).lower() == "true":
                state.buffer_on = True
            else:
                if str(params.get("StoreInput", "")).lower() == "true":
                    state.stored_input = "".join(state.buffer) or "Timeout"
                state.buffer_on = False
                state.buffer.clear()
            return "next", ""
        dtmf = params.get("DTMFConfiguration") or {}
        terminators = set(str(dtmf.get("InputTerminationSequence", "#")))
        cancel_enabled = str(dtmf.get("DisableCancelKey", "False")).lower() != "true"
        if not self._is_store_input(action):
            # A menu: one key, matched against the conditions.
            keys = state.buffer[:1] or list(state.typed[:1])
            if state.buffer:
                state.buffer.pop(0)
            else:
                if "Text" in params or "SSML" in params or "PromptId" in params:
                    state.run.prompts.append(self._prompt_text(params, state))
                state.typed = state.typed[1:]
            if not keys:
                return "error", "InputTimeLimitExceeded"
            return "result", keys[0]
        validation = (params.get("InputValidation") or {}).get("CustomValidation") or {}
        try:
            maximum = int(str(validation.get("MaximumLength", "20")))
        except ValueError as exc:
            raise FlowError(f"{action.get('Identifier')}: MaximumLength is not a number") from exc
        buffered = state.buffer[:maximum]
        del state.buffer[: len(buffered)]
        if len(buffered) < maximum and any(k in params for k in ("Text", "SSML", "PromptId")):
            state.run.prompts.append(self._prompt_text(params, state))  # prompt skipped if buffer is full
        keys, state.typed = buffered + list(state.typed), ""
        collected: list[str] = []
        for key in keys:
            if len(collected) >= maximum or key in terminators:
                break
            if key == "*" and cancel_enabled:
                collected.clear()
            elif key.isdigit():
                collected.append(key)
        state.stored_input = "".join(collected) or "Timeout"
        return "next", ""

    def _event(self, parameters: dict[str, str], state: _State) -> dict[str, Any]:
        run = state.run
        data = self._flow_data(state)
        return {
            "Name": "ContactFlowEvent",
            "Details": {
                "ContactData": {
                    "Attributes": dict(run.attributes),
                    "Channel": "VOICE",
                    "ContactId": run.contact_id,
                    "InitialContactId": run.initial_contact_id,
                    "PreviousContactId": run.initial_contact_id,
                    "InitiationMethod": "INBOUND",
                    "InstanceARN": self.instance_arn,
                    "CustomerEndpoint": data["CustomerEndpoint"],
                    "SystemEndpoint": data["SystemEndpoint"],
                    "Queue": data["Queue"],
                    "LanguageCode": "nl-NL",
                    "MediaStreams": {"Customer": {"Audio": None}},
                    "References": {},
                },
                "Parameters": parameters,
            },
        }

    def _invoke(self, action: Mapping[str, Any], params: Mapping[str, Any], state: _State) -> tuple[str, str]:
        arn = str(self._resolve(params.get("LambdaFunctionARN"), state))
        try:
            limit = float(int(str(params.get("InvocationTimeLimitSeconds", "8"))))
        except ValueError:
            limit = 0.0
        if not 1 <= limit <= 8:
            raise FlowError(f"{action.get('Identifier')}: InvocationTimeLimitSeconds must be 1-8")
        response_type = str((params.get("ResponseValidation") or {}).get("ResponseType", "STRING_MAP"))
        raw_params = params.get("LambdaInvocationAttributes") or {}
        parameters = {str(k): str(self._resolve(v, state) or "") for k, v in raw_params.items()}
        record = Invocation(
            action=str(action.get("Identifier")),
            function_arn=arn,
            attempts=0,
            outcome="not_found",
            flow_logging=state.run.flow_logging,
            parameter_names=sorted(parameters),
        )
        state.run.invocations.append(record)
        state.external = {}  # $.External only ever holds the latest successful answer
        handler = self.lambdas.get(arn)
        if handler is None:
            return "error", "NoMatchingError"
        started = self.clock.now()
        while True:
            record.attempts += 1
            attempt_start = self.clock.now()
            timeout = self.function_timeouts.get(arn)
            deadline = attempt_start + timeout if timeout is not None else None
            context = LambdaContext(
                function_name=_name_of(arn),
                remaining_ms=(lambda d=deadline: int(max(0.0, d - self.clock.now()) * 1000))
                if deadline is not None
                else None,
            )
            self._attempt_deadline = deadline
            try:
                response = handler(copy.deepcopy(self._event(parameters, state)), context)
                failed = False
            except FunctionTimedOut:  # Lambda ended the attempt: a function error, Connect retries
                response, failed = None, True
            except Exception:  # the function raised, or its answer was lost: Connect retries
                response, failed = None, True
            finally:
                self._attempt_deadline = None
            if self.clock.now() - attempt_start > limit:
                record.outcome = "timeout"
                return "error", "NoMatchingError"
            if failed:
                within_window = self.clock.now() - started < RETRY_WINDOW_SECONDS
                if record.attempts <= MAX_RETRIES and within_window:
                    continue
                record.outcome = "error"
                return "error", "NoMatchingError"
            payload = _validate_response(response, response_type)
            if payload is None:
                record.outcome = "invalid_response"
                return "error", "NoMatchingError"
            record.outcome, record.response = "ok", payload
            state.external = payload
            return "next", ""

    def _set_attributes(self, params: Mapping[str, Any], state: _State) -> tuple[str, str]:
        if params.get("TargetContact", "Current") != "Current":
            raise FlowError("only TargetContact Current is simulated")
        updates: dict[str, str] = {}
        for key, value in (params.get("Attributes") or {}).items():
            resolved = self._resolve(value, state)
            if not isinstance(resolved, str):
                return "error", "NoMatchingError"  # all or nothing
            updates[str(key)] = resolved
        merged = {**state.run.attributes, **updates}
        if len(json.dumps(merged).encode()) > MAX_ATTRIBUTE_BYTES:
            return "error", "NoMatchingError"
        state.run.attributes.update(updates)
        return "next", ""

    def _invoke_module(self, params: Mapping[str, Any], state: _State) -> tuple[str, str]:
        module = self.modules.get(str(self._resolve(params.get("FlowModuleId"), state)))
        if module is None:
            return "error", "NoMatchingError"
        module = self._flow(module)
        saved = state.external
        state.external = {}  # a module's $.External is its own
        try:
            ended = self._run(module, state)
        finally:
            state.external = saved
        if ended == "returned":
            return "next", ""
        return "end", ended


# ---- the dev stack's deployment: our rendered flows wired to handlers ----------------------------
DEV_REGION = "eu-central-1"
DEV_ACCOUNT = "123456789012"


def dev_values(instance_arn: str = DEFAULT_INSTANCE_ARN, code_length: int | str = 8) -> dict[str, Any]:
    """Placeholder values like ``iac/`` would produce, for the dev stack and tests."""

    def function(name: str) -> str:
        return f"arn:aws:lambda:{DEV_REGION}:{DEV_ACCOUNT}:function:idbellen-{name}:live"

    return {
        "DtmfFunctionArn": function("dtmf"),
        "CleanupFunctionArn": function("cleanup"),
        "QueueArn": f"{instance_arn}/queue/idbellen-default",
        "HoursOfOperationArn": f"{instance_arn}/operating-hours/idbellen",
        "DisconnectFlowArn": f"{instance_arn}/contact-flow/idbellen-disconnect",
        "CustomerWhisperFlowArn": f"{instance_arn}/contact-flow/idbellen-customer-whisper",
        "DtmfLength": str(code_length),
    }


def flow_arns(instance_arn: str = DEFAULT_INSTANCE_ARN) -> dict[str, str]:
    """Where each flow of ``contact_flows.FLOWS`` lives in the simulated instance."""
    return {
        "inbound": f"{instance_arn}/contact-flow/idbellen-inbound",
        "disconnect": f"{instance_arn}/contact-flow/idbellen-disconnect",
        "customer_whisper": f"{instance_arn}/contact-flow/idbellen-customer-whisper",
        "module": f"{instance_arn}/flow-module/idbellen-id-step",
    }


def simulator_for(
    handlers: Mapping[str, LambdaHandler],
    *,
    instance_arn: str = DEFAULT_INSTANCE_ARN,
    values: Mapping[str, Any] | None = None,
    code_length: int | str = 8,
    clock: VirtualClock | WallClock | None = None,
    system_number: str = DEFAULT_SYSTEM_NUMBER,
    timeouts: Mapping[str, float] | None = None,
) -> FlowSimulator:
    """Our flows, rendered with ``values`` (default ``dev_values``), calling ``handlers``.
    ``timeouts`` maps ``dtmf``/``cleanup`` to their Lambda timeouts (the template's ``Timeout``).

    ``handlers`` maps ``dtmf`` and ``cleanup`` to callables; they are registered under the alias
    ARNs of the values, so a flow that invoked anything else would take its Error branch.
    """
    from contact_flows.render import render_all

    values = dict(values) if values is not None else dev_values(instance_arn, code_length)
    rendered = render_all(values)
    arns = flow_arns(instance_arn)
    lambdas = {values["DtmfFunctionArn"]: handlers["dtmf"]}
    if "cleanup" in handlers:
        lambdas[values["CleanupFunctionArn"]] = handlers["cleanup"]
    flows = {arns[key]: flow for key, flow in rendered.items() if key != "module"}
    flows[values["DisconnectFlowArn"]] = rendered["disconnect"]
    flows[values["CustomerWhisperFlowArn"]] = rendered["customer_whisper"]
    return FlowSimulator(
        flows=flows,
        lambdas=lambdas,
        modules={arns["module"]: rendered["module"]},
        clock=clock,
        instance_arn=instance_arn,
        system_number=system_number,
        function_timeouts={values[f"{name.title()}FunctionArn"]: seconds for name, seconds in (timeouts or {}).items()},
    )


def template_timeouts() -> dict[str, float]:
    """The DTMF and cleanup functions' Lambda `Timeout` in iac/template.yaml."""
    from pathlib import Path

    from devstack.template_resources import load_template

    resources = load_template(Path(__file__).resolve().parent.parent / "iac" / "template.yaml")["Resources"]
    return {name: float(resources[f"{name.title()}Function"]["Properties"]["Timeout"]) for name in ("dtmf", "cleanup")}


__all__ = [
    "ContactRun",
    "FlowError",
    "FlowSimulator",
    "FunctionTimedOut",
    "Invocation",
    "LostResponse",
    "VirtualClock",
    "WallClock",
    "dev_values",
    "flow_arns",
    "lose_responses",
    "simulator_for",
    "template_timeouts",
]
