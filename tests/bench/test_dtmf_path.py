"""What keeps the DTMF function's cold start small, checked structurally (no timing): its import
chain loads no Powertools, `cryptography`, `requests` or PyJWT, and its stdlib logger and metrics
(`observability_lite`) write the same shapes as Powertools' and keep the privacy hardening."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("aws_lambda_powertools", "cryptography", "requests", "jwt", "boto3")


def test_the_dtmf_handler_imports_nothing_heavy() -> None:
    code = f"import sys, json, idbellen.handlers.dtmf; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    # boto3 comes with the first client (idbellen.aws is lazy); the rest never on this path
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def _emf_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]


def _shape(doc: dict[str, Any]) -> Any:
    aws = doc["_aws"]["CloudWatchMetrics"][0]
    names = [m["Name"] for m in aws["Metrics"]]
    return (
        aws["Namespace"],
        sorted(aws["Dimensions"][0]),
        sorted((m["Name"], m["Unit"]) for m in aws["Metrics"]),
        {k: doc[k] for k in sorted(aws["Dimensions"][0])},
        {n: doc[n] for n in names},
    )


def test_lite_metrics_have_the_shape_of_powertools_metrics() -> None:
    from idbellen import observability, observability_lite

    def emit(module: Any) -> list[Any]:
        buffer = io.StringIO()

        @module.metrics.log_metrics
        def handler(event: Any, context: Any) -> None:
            module.set_tenant("default")
            module.count("CallsVerified")
            module.count("CallsVerified")
            module.count("TimeFromDisclosureToCall", 12, "Seconds")
            module.count_by("CallsVerified", purpose="demo")
            module.count_by("CallsUnverified", reason="NOT_FOUND-with-an-id-1234567890123456789012345678901234567890")

        with redirect_stdout(buffer):
            handler({}, None)
        return sorted((_shape(d) for d in _emf_lines(buffer.getvalue())), key=repr)

    assert emit(observability_lite) == emit(observability)


def test_lite_logger_never_logs_the_event_and_scrubs_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    from idbellen.observability_lite import LiteLogger, redactor

    log = LiteLogger(name="idbellen.dtmf.test")
    log._logger.setLevel(logging.DEBUG)
    redactor.register("s3cr3t-value-registered")

    @log.inject_lambda_context(log_event=True)
    def handler(event: Any, context: Any) -> None:
        log.debug("redeeming %s for +31612345678", "s3cr3t-value-registered")
        try:
            raise ValueError("999990019")
        except ValueError as exc:
            log.exception("failed", extra={"detail": "code 24681357"})
            log.error("failed again", extra={"error_type": type(exc).__name__})

    class Context:
        function_name = "idbellen-dtmf"
        memory_limit_in_mb = 128
        invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:idbellen-dtmf"
        aws_request_id = "req-1"

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        handler({"Details": {"Parameters": {"dtmf": "87654321"}}}, Context())
    text = buffer.getvalue()
    for secret in ("87654321", "s3cr3t-value-registered", "+31612345678", "999990019", "24681357", "Traceback"):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["level"] for line in lines] == ["DEBUG", "ERROR", "ERROR"]
    assert lines[0]["function_request_id"] == "req-1" and lines[0]["cold_start"] is True
    assert lines[0]["location"].startswith("handler:")
    assert not logging.getLogger("idbellen.dtmf.test").propagate
    for name in ("botocore", "boto3", "urllib3", "requests"):
        assert logging.getLogger(name).level >= logging.WARNING  # pinned by idbellen.redaction
