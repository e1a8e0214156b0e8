"""A whole ID call on the dev stack with the processing log group configured, as deployed: every step's
record lands in that log group (the embedded CloudWatch Logs), none on stdout or in any other log,
none carries a value, and nothing else is written there."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import redirect_stdout
from typing import Any

import pytest

from devstack import DevStack
from tests.audit.helpers import WALLET, Run, call, disclose, emf_metrics, hang_up, happy_path, leaks, start

GROUP = "/idbellen/dev/processing-log"


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with DevStack(settings={"IDBELLEN_PROCESSING_LOG_GROUP": GROUP}) as running:
        kms = running.session.client("kms")
        key = kms.create_key(Description="processing log (dev stack)")["KeyMetadata"]["Arn"]
        running.session.client("logs").create_log_group(logGroupName=GROUP, kmsKeyId=key)
        yield running


def group_records(stack: DevStack) -> list[dict[str, Any]]:
    logs = stack.session.client("logs")
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": GROUP}
    while True:
        out = logs.filter_log_events(**kwargs)
        events += out.get("events", [])
        if not out.get("nextToken"):
            break
        kwargs["nextToken"] = out["nextToken"]
    return [json.loads(e["message"]) for e in sorted(events, key=lambda e: (e["timestamp"], e["ingestionTime"]))]


def test_every_step_lands_in_the_processing_log_group_and_nowhere_else(
    stack: DevStack, caplog: pytest.LogCaptureFixture
) -> None:
    before = len(group_records(stack))
    run = Run()
    out = io.StringIO()
    with caplog.at_level(logging.DEBUG), redirect_stdout(out):
        happy_path(stack, run)
        body = start(stack, run)
        digits = disclose(stack, run, body)
        hung = call(stack, run, digits)
        hang_up(stack, hung)
        rejected = start(stack, run)
        disclose(stack, run, rejected, proof_status="INVALID")
    records = group_records(stack)[before:]
    steps = [r["step"] for r in records]
    assert steps.count("session_started") == 3
    assert {"disclosed", "disclosure_rejected", "call_linked", "shown_to_agent", "deleted"} <= set(steps)
    assert [r["reason"] for r in records if r["step"] == "deleted"] == ["completed", "hung_up"]
    assert all(r["log_type"] == "processing" for r in records)
    text = json.dumps(records, ensure_ascii=False)
    assert leaks(text, run.forbidden()) == []
    # Nothing of it on stdout (the operational log group's input) or in any logger
    printed = out.getvalue()
    assert '"log_type"' not in printed and "verwerking_id" not in printed
    assert emf_metrics(printed), "the functions printed nothing at all: the check above would be vacuous"
    assert not [r for r in caplog.records if "verwerking_id" in r.getMessage()]
    assert WALLET  # the canary wallet the flows disclosed from (tests/audit/helpers.py)


def test_only_processing_records_are_written_there(stack: DevStack) -> None:
    run = Run()
    happy_path(stack, run)
    for record in group_records(stack):
        assert record["log_type"] == "processing" and record["schema"].startswith("idbellen.processing/")
