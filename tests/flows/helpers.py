"""Shared helpers for the flow tests: templates, sample values, small flow edits."""

from __future__ import annotations

import copy
from typing import Any

from contact_flows import FLOWS
from contact_flows.render import load_json, render

SAMPLE_VALUES_FILE = FLOWS["inbound"].path.parent / "sample_values.json"


def template(key: str) -> dict[str, Any]:
    return load_json(FLOWS[key].path)


def sample_values(**overrides: Any) -> dict[str, Any]:
    values = dict(load_json(SAMPLE_VALUES_FILE))
    values.update(overrides)
    return values


def rendered(key: str, **overrides: Any) -> dict[str, Any]:
    return render(template(key), sample_values(**overrides))


def action(flow: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(a for a in flow["Actions"] if a["Identifier"] == ident)


def without(flow: dict[str, Any], ident: str) -> dict[str, Any]:
    """``flow`` minus one action, every transition to it rewired to its NextAction."""
    flow = copy.deepcopy(flow)
    gone = action(flow, ident)
    successor = gone["Transitions"]["NextAction"]
    flow["Actions"] = [a for a in flow["Actions"] if a["Identifier"] != ident]
    flow.get("Metadata", {}).get("ActionMetadata", {}).pop(ident, None)
    if flow["StartAction"] == ident:
        flow["StartAction"] = successor
    for a in flow["Actions"]:
        t = a["Transitions"]
        if t.get("NextAction") == ident:
            t["NextAction"] = successor
        for branch in t.get("Errors", []) + t.get("Conditions", []):
            if branch["NextAction"] == ident:
                branch["NextAction"] = successor
    return flow


def retarget(flow: dict[str, Any], ident: str, label: str, target: str) -> dict[str, Any]:
    """Point one transition of ``ident`` (``next``, an error type, or a condition operand) elsewhere."""
    flow = copy.deepcopy(flow)
    t = action(flow, ident)["Transitions"]
    if label == "next":
        t["NextAction"] = target
        return flow
    for branch in t.get("Errors", []):
        if branch["ErrorType"] == label:
            branch["NextAction"] = target
            return flow
    for branch in t.get("Conditions", []):
        if branch["Condition"]["Operands"] == [label]:
            branch["NextAction"] = target
            return flow
    raise KeyError(label)
