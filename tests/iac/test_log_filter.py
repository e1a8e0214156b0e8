"""The template's log filter patterns, evaluated (tests/iac/logfilter.py) against the lines the functions
really write on the dev stack: the IRMA reachability alarm counts exactly the session function's lines of a
failed IRMA call, and nothing of a healthy call; no processing-log record could ever match it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devstack import DevStack
from tests.iac.logfilter import matches
from tests.privacy import canary


# -- the evaluator, on the documented examples and edge cases ---------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "line", "expected"),
    [
        ('{ $.eventType = "UpdateTrail" }', '{"eventType": "UpdateTrail"}', True),
        ('{ $.eventType = "UpdateTrail" }', '{"eventType": "UpdateTrailX"}', False),
        ("{ $.sourceIPAddress != 123.123.* }", '{"sourceIPAddress": "10.0.0.1"}', True),
        ("{ $.sourceIPAddress != 123.123.* }", '{"sourceIPAddress": "123.123.4.5"}', False),
        ("{ $.sourceIPAddress != 123.123.* }", "{}", False),
        ('{ $.a = "x" || $.b = "y" }', '{"b": "y"}', True),
        ('{ $.a = "x" && $.b = "y" }', '{"a": "x", "b": "z"}', False),
        ('{ $.a = "x" || $.b = "y" && $.c = "z" }', '{"a": "x"}', True),
        ('{ ($.a = "x" || $.b = "y") && $.c = "z" }', '{"a": "x"}', False),
        ("{ $.latency > 1000 }", '{"latency": 1500}', True),
        ("{ $.latency > 1000 }", '{"latency": "1500"}', False),
        ("{ $.n = 5 }", '{"n": 5.0}', True),
        ("{ $.user.id = 7 }", '{"user": {"id": 7}}', True),
        ("{ $.ok IS TRUE }", '{"ok": true}', True),
        ("{ $.gone NOT EXISTS }", '{"here": 1}', True),
        ("{ $.here EXISTS }", '{"here": null}', True),
        ("{ $.here IS NULL }", '{"here": null}', True),
        ('{ $.a = "x" }', "not json", False),
        ('{ $.a = "x" }', '["x"]', False),
    ],
)
def test_the_evaluator_follows_the_documented_rules(pattern: str, line: str, expected: bool) -> None:
    assert matches(pattern, line) is expected


# -- the template's pattern on real lines --------------------------------------------------------------------
@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with DevStack() as stack:
        yield stack


@pytest.fixture
def function_lines(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """The functions' log lines as Lambda would receive them: each record the functions' loggers emitted,
    formatted by that logger's own handler (JSON formatter; the logger's redaction filter already ran), plus
    what was written to stdout (metrics). Read through pytest's capture: the Powertools handler keeps the
    stdout it found at import, which under pytest is an earlier capture."""
    import logging

    from idbellen import observability, observability_lite

    formatters = {
        observability.logger._logger.name: observability.logger._logger.handlers[0],
        observability_lite.logger._logger.name: observability_lite._StdoutHandler(),
    }
    formatters[observability_lite.logger._logger.name].setFormatter(
        observability_lite._JsonFormatter(observability_lite.logger)
    )
    caplog.set_level(logging.INFO)

    def lines() -> list[str]:
        out = [formatters[r.name].format(r) for r in caplog.records if r.name in formatters]
        caplog.clear()
        return out + _json_lines(capsys.readouterr().out)

    yield lines


def _json_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("{")]


def test_the_irma_alarm_counts_the_session_functions_failed_irma_calls_only(
    resources: dict[str, Any], stack: DevStack, function_lines: Any
) -> None:
    pattern = resources["IrmaErrorsMetricFilter"]["Properties"]["FilterPattern"]
    function_lines()
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS)
    healthy = function_lines()
    assert status == 201 and healthy, "the healthy call wrote no lines: the check below would be vacuous"
    assert [line for line in healthy if matches(pattern, line)] == []
    for fault in ("500", "reset"):
        stack.irma.fault = fault
        try:
            assert stack.api("POST", "/sessions", {"purpose": "demo"}) == (503, {"error": "irma_unavailable"})
        finally:
            stack.irma.fault = None
        failed = function_lines()
        counted = [json.loads(line) for line in failed if matches(pattern, line)]
        assert len(counted) == 1, failed  # one line per failed call: the alarm counts calls
        assert counted[0]["function_name"].endswith("session")
        assert counted[0]["error_type"] == "IrmaError"
