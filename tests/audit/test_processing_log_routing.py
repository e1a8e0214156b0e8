"""The deployment can neither drop nor mis-route the processing log: each function's log group feeds the
forwarder with a filter that matches the records the code writes, and Lambda's log-level filtering
(which treats a JSON line without a `level` key as INFO) keeps them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from idbellen import audit

from devstack.template_resources import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "iac" / "template.yaml"
HANDLERS = {
    "idbellen.handlers.session.handler",
    "idbellen.handlers.dtmf.handler",
    "idbellen.handlers.agent.handler",
    "idbellen.handlers.cleanup.handler",
}
LEVELS_KEEPING_INFO = {"TRACE", "DEBUG", "INFO"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and props.get("Handler") in HANDLERS:
            found[name] = props
    assert {p["Handler"] for p in found.values()} == HANDLERS
    return found


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def test_log_level_filtering_keeps_processing_records(template: dict[str, Any]) -> None:
    default = template.get("Globals", {}).get("Function", {}).get("LoggingConfig", {})
    for name, props in _functions(template).items():
        config = {**default, **props.get("LoggingConfig", {})}
        level = str(config.get("ApplicationLogLevel", "INFO")).upper()
        assert level in LEVELS_KEEPING_INFO, f"{name}: ApplicationLogLevel {level} would drop the processing log"
    record = audit.record("session_started", "default", "SESSION#" + "c" * 64, purpose="demo")
    assert "level" not in record  # so Lambda files it as INFO


def test_every_function_log_group_feeds_the_forwarder(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    filters = [r["Properties"] for r in resources.values() if r.get("Type") == "AWS::Logs::SubscriptionFilter"]
    fed = {_ref(f["LogGroupName"]) for f in filters if '"processing"' in f["FilterPattern"]}
    for name, props in _functions(template).items():
        group = _ref(props.get("LoggingConfig", {}).get("LogGroup"))
        assert group in fed, f"{name}'s log group {group} does not feed the processing-log forwarder"
    for f in filters:
        assert f["FilterPattern"].replace(" ", "") == '{$.log_type="processing"}'


def test_the_filter_matches_what_the_code_writes(capsys: pytest.CaptureFixture[str]) -> None:
    audit.record("deleted", "default", "SESSION#" + "d" * 64, purpose="demo", reason="expired", age_seconds=3600)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0]["log_type"] == "processing"
