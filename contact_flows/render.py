"""Fill the ``${Placeholders}`` of a flow template from deployment values.

Used by ``iac/`` (at build time) and by the simulator. A flow with a placeholder left unfilled is
refused: Connect would import it and fail only when a citizen calls.

Values are a flat JSON object, placeholder name -> string (numbers are accepted and stringified),
plus one optional structured key, ``PurposeQueues`` (purpose id -> queue ARN): the inbound flow's
``ChoosePurposeQueue`` action gets one condition per entry, or is removed when there are none.

CLI::

    python -m contact_flows.render --values values.json contact_flows/id_inbound.json [-o out.json]
    python -m contact_flows.render --values values.json --out-dir build/flows     # every flow
    python -m contact_flows.render --values v.json --keep DisconnectFlowArn --compact flow.json  # Fn::Sub
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contact_flows import FLOWS

PLACEHOLDER = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}")
PURPOSE_QUEUES_KEY = "PurposeQueues"
PURPOSE_QUEUE_ACTION = "ChoosePurposeQueue"
MAX_IDENTIFIER = 50


class RenderError(ValueError):
    """A template cannot be rendered with the given values."""


def placeholders(obj: Any) -> set[str]:
    """Every placeholder name used anywhere in ``obj`` (strings, dict keys included)."""
    found: set[str] = set()
    if isinstance(obj, str):
        found.update(PLACEHOLDER.findall(obj))
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            found |= placeholders(key) | placeholders(value)
    elif isinstance(obj, list):
        for item in obj:
            found |= placeholders(item)
    return found


def _scalar_values(values: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in values.items():
        if name == PURPOSE_QUEUES_KEY:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise RenderError(f"value {name!r} must be a string or an integer")
        text = str(value)
        if not text or PLACEHOLDER.search(text) or "${" in text:
            raise RenderError(f"value {name!r} is empty or contains a placeholder")
        out[name] = text
    return out


def _substitute(obj: Any, values: Mapping[str, str]) -> Any:
    if isinstance(obj, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), obj)
    if isinstance(obj, Mapping):
        return {_substitute(k, values): _substitute(v, values) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_substitute(item, values) for item in obj]
    return obj


def _action_index(flow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {action["Identifier"]: action for action in flow.get("Actions", [])}


def _safe_identifier(prefix: str, purpose: str, taken: set[str]) -> str:
    base = prefix + re.sub(r"[^A-Za-z0-9_-]", "-", purpose)
    base = base[:MAX_IDENTIFIER]
    ident, n = base, 1
    while ident in taken:
        suffix = f"-{n}"
        ident, n = base[: MAX_IDENTIFIER - len(suffix)] + suffix, n + 1
    taken.add(ident)
    return ident


def _expand_purpose_queues(flow: dict[str, Any], purpose_queues: Mapping[str, str]) -> None:
    """Give ``ChoosePurposeQueue`` one branch per purpose queue, or remove it when there are none."""
    actions = _action_index(flow)
    chooser = actions.get(PURPOSE_QUEUE_ACTION)
    if chooser is None:
        return
    default = next(
        e["NextAction"] for e in chooser["Transitions"].get("Errors", []) if e["ErrorType"] == "NoMatchingCondition"
    )
    if not purpose_queues:
        # Rewire everything that pointed at the chooser to its default, then drop it.
        for action in flow["Actions"]:
            transitions = action.get("Transitions", {})
            if transitions.get("NextAction") == PURPOSE_QUEUE_ACTION:
                transitions["NextAction"] = default
            for branch in transitions.get("Errors", []) + transitions.get("Conditions", []):
                if branch.get("NextAction") == PURPOSE_QUEUE_ACTION:
                    branch["NextAction"] = default
        if flow.get("StartAction") == PURPOSE_QUEUE_ACTION:
            flow["StartAction"] = default
        flow["Actions"] = [a for a in flow["Actions"] if a["Identifier"] != PURPOSE_QUEUE_ACTION]
        flow.get("Metadata", {}).get("ActionMetadata", {}).pop(PURPOSE_QUEUE_ACTION, None)
        return
    transfer = actions[default]["Transitions"]["NextAction"]
    taken = set(actions)
    conditions = []
    for purpose, queue_arn in sorted(purpose_queues.items()):
        if not isinstance(purpose, str) or not isinstance(queue_arn, str) or not purpose or not queue_arn:
            raise RenderError("PurposeQueues must map non-empty purpose ids to queue ARNs")
        ident = _safe_identifier("SetQueue-", purpose, taken)
        conditions.append({"NextAction": ident, "Condition": {"Operator": "Equals", "Operands": [purpose]}})
        flow["Actions"].append(
            {
                "Identifier": ident,
                "Type": "UpdateContactTargetQueue",
                "Parameters": {"QueueId": queue_arn},
                "Transitions": {
                    "NextAction": transfer,
                    "Errors": [{"NextAction": default, "ErrorType": "NoMatchingError"}],
                },
            }
        )
    chooser["Transitions"]["Conditions"] = conditions


def render(
    template: Mapping[str, Any], values: Mapping[str, Any], keep: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """Return a filled copy of ``template``; raise ``RenderError`` if any placeholder stays unfilled.

    ``keep`` names placeholders that may stay, on purpose: the syntax is CloudFormation's
    ``Fn::Sub``, so ``iac/`` can leave e.g. ``${DisconnectFlowArn}`` for the stack to fill.
    """
    scalars = _scalar_values(values)
    flow = copy.deepcopy(dict(template))
    purpose_queues = values.get(PURPOSE_QUEUES_KEY) or {}
    if not isinstance(purpose_queues, Mapping):
        raise RenderError("PurposeQueues must be an object")
    _expand_purpose_queues(flow, purpose_queues)
    rendered = _substitute(flow, scalars)
    missing = placeholders(rendered) - set(keep)
    if missing:
        raise RenderError(f"unfilled placeholder(s): {', '.join(sorted(missing))}")
    return rendered


def load_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def render_file(
    path: str | Path, values: Mapping[str, Any], keep: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    try:
        return render(load_json(path), values, keep)
    except RenderError as exc:
        raise RenderError(f"{Path(path).name}: {exc}") from None


def render_all(values: Mapping[str, Any], keep: frozenset[str] | set[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """Every flow of ``contact_flows.FLOWS``, rendered, by key."""
    return {key: render_file(spec.path, values, keep) for key, spec in FLOWS.items()}


def to_content(flow: Mapping[str, Any]) -> str:
    """The ``Content`` string for ``AWS::Connect::ContactFlow(Module)`` (compact, ≤ 256,000 chars)."""
    content = json.dumps(flow, ensure_ascii=False, separators=(",", ":"))
    if len(content) > 256_000:
        raise RenderError("flow content exceeds Connect's 256,000 character limit")
    return content


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contact_flows.render", description=__doc__.split("\n")[0])
    parser.add_argument("--values", required=True, help="JSON object with the placeholder values")
    parser.add_argument("flow", nargs="?", help="template to render (default: all, needs --out-dir)")
    parser.add_argument("-o", "--output", help="write here instead of stdout")
    parser.add_argument("--out-dir", help="render every flow into this directory as <file name>")
    parser.add_argument("--compact", action="store_true", help="emit Connect Content form (one line)")
    parser.add_argument(
        "--keep", action="append", default=[], metavar="NAME", help="leave ${NAME} for Fn::Sub (repeatable)"
    )
    args = parser.parse_args(argv)
    keep = set(args.keep)
    try:
        values = load_json(args.values)
        if not isinstance(values, dict):
            raise RenderError("values file must hold a JSON object")
        if args.flow:
            outputs = {Path(args.flow).name: render_file(args.flow, values, keep)}
        elif args.out_dir:
            outputs = {FLOWS[key].file: flow for key, flow in render_all(values, keep).items()}
        else:
            parser.error("give a flow file or --out-dir")
    except (RenderError, OSError, json.JSONDecodeError) as exc:
        sys.stderr.write(f"render: {exc}\n")
        return 1
    for name, flow in outputs.items():
        text = to_content(flow) if args.compact else json.dumps(flow, indent=2, ensure_ascii=False)
        if args.out_dir and not args.flow:
            out = Path(args.out_dir)
            out.mkdir(parents=True, exist_ok=True)
            (out / name).write_text(text + "\n", encoding="utf-8")
        elif args.output:
            Path(args.output).write_text(text + "\n", encoding="utf-8")
        else:
            sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
