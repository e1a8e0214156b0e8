"""Shared by tests/audit and tests/metrics: canary data, the flows that drive the real handlers through
`DevStack`, and parsers for what the functions print on stdout (processing-log records and EMF
metrics)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from devstack import DevStack

BSN_ATTR = "pbdf.gemeente.personalData.bsn"
NAME_ATTR = "pbdf.gemeente.personalData.fullname"
MOBILE_ATTR = "pbdf.sidn-pbdf.mobilenumber.mobilenumber"
BSN = "999990019"
FULLNAME = "Canarius Vögelaar"
MOBILE = "+31687654321"
CALLER = "+31698765432"
WALLET = {BSN_ATTR: BSN, NAME_ATTR: FULLNAME, MOBILE_ATTR: MOBILE}
PERSONAL = [BSN, FULLNAME, "Canarius", "Vögelaar", "Vogelaar", MOBILE, "0687654321", "687654321", CALLER, "0698765432"]


def processing_records(text: str) -> list[dict[str, Any]]:
    """Every stdout line that is a processing-log record."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("{") and '"log_type"' in line:
            record = json.loads(line)
            if record.get("log_type") == "processing":
                out.append(record)
    return out


@dataclass
class Metric:
    name: str
    unit: str
    value: float
    dimensions: dict[str, str]


def emf_metrics(text: str) -> list[Metric]:
    """Every metric in the EMF lines on stdout, one entry per (line, metric, value)."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        doc = json.loads(line)
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            dims = {k: str(doc[k]) for dim_set in directive["Dimensions"] for k in dim_set}
            for definition in directive["Metrics"]:
                values = doc[definition["Name"]]
                for value in values if isinstance(values, list) else [values]:
                    out.append(Metric(definition["Name"], definition.get("Unit", ""), float(value), dims))
    return out


def emf_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{") and '"_aws"' in line]


def total(metrics: list[Metric], name: str, **dims: str) -> float:
    """Sum of a metric over the lines whose dimension set is exactly tenant + service + `dims`."""
    wanted = {"tenant": "default", "service": "idbellen", **dims}
    return sum(m.value for m in metrics if m.name == name and m.dimensions == wanted)


@dataclass
class Run:
    """What one flow produced: the values that must never show up, and ids the records should carry."""

    secrets: set[str] = field(default_factory=set)
    contact_ids: list[str] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)

    def forbidden(self) -> list[str]:
        """Personal canaries plus every code, secret, token and session id of this run."""
        return [*PERSONAL, *self.secrets, *self.session_ids]


def leaks(text: str, values: list[str]) -> list[str]:
    """The forbidden values in `text` (digit values only as whole digit runs)."""
    hits = []
    for value in values:
        if re.fullmatch(r"\+?[0-9]+", value):
            if re.search(rf"(?<![0-9]){re.escape(value)}(?![0-9])", text):
                hits.append(value)
        elif value.lower() in text.lower() or json.dumps(value)[1:-1].lower() in text.lower():
            hits.append(value)
    return hits


def start(stack: DevStack, run: Run, purpose: str = "demo") -> dict[str, Any]:
    status, body = stack.api("POST", "/sessions", {"purpose": purpose})
    assert status == 201, body
    run.session_ids.append(body["session_id"])
    run.secrets.add(json.dumps(body["sessionPtr"]))
    return body


def disclose(stack: DevStack, run: Run, body: dict[str, Any], **kwargs: Any) -> str:
    """Disclose in the wallet; the digits the app dials ("" when the session did not end DONE)."""
    tel = stack.wallet.disclose(body["sessionPtr"], WALLET, **kwargs)
    if tel is None:
        return ""
    digits = tel.split(",", 1)[1]
    run.secrets.add(digits)
    return digits


def call(stack: DevStack, run: Run, digits: str, caller: str = CALLER) -> Any:
    result = stack.call(digits, caller=caller)
    run.contact_ids.append(result.contact_id)
    secret = result.attributes.get("session_secret")
    if secret:
        run.secrets.add(secret)
    return result


def read(stack: DevStack, result: Any, accept: bool = True) -> tuple[int, Any]:
    """The dev agent's panel reads the call (`accept`: the agent accepted it in Connect first)."""
    if accept:
        stack.assign(result.contact_id)
    return stack.api(
        "POST",
        "/agent/disclosure",
        {"secret": result.attributes["session_secret"], "contact_id": result.contact_id},
    )


def happy_path(stack: DevStack, run: Run, purpose: str = "demo", caller: str = CALLER) -> Any:
    """Session → disclosure → verified call → agent read → contact completed."""
    body = start(stack, run, purpose)
    digits = disclose(stack, run, body)
    result = call(stack, run, digits, caller)
    assert result.attributes.get("verified") == "true", result.lambda_result
    status, shown = read(stack, result)
    assert status == 200, shown
    stack.clock.advance(95)
    stack.contact_event(result.contact_id, "COMPLETED")
    return result


def clear(stack: DevStack, result: Any) -> tuple[int, Any]:
    """The dev agent's panel clears its segment of the call."""
    return stack.api(
        "POST", "/agent/clear", {"secret": result.attributes["session_secret"], "contact_id": result.contact_id}
    )


def hang_up(stack: DevStack, result: Any) -> Any:
    """The disconnect flow's call to the cleanup function (caller hung up before an agent)."""
    event = stack.contact_flow_event(result.contact_id, result.initial_contact_id, {})
    return stack.invoke("cleanup", event)
