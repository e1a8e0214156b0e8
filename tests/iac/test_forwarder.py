"""The inline processing-log forwarder: copies only `"log_type": "processing"` records."""

from __future__ import annotations

import base64
import gzip
import json
import sys
import types

from devstack.template_resources import load_template
from tests.iac.conftest import TEMPLATE


class _FakeLogs:
    class exceptions:
        class ResourceAlreadyExistsException(Exception):
            pass

    def __init__(self):
        self.streams, self.events = [], []

    def create_log_stream(self, logGroupName, logStreamName):
        self.streams.append((logGroupName, logStreamName))

    def put_log_events(self, logGroupName, logStreamName, logEvents):
        self.events.append((logGroupName, logStreamName, logEvents))


def _load(monkeypatch):
    code = load_template(TEMPLATE)["Resources"]["ProcessingLogForwarder"]["Properties"]["InlineCode"]
    fake = _FakeLogs()
    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=lambda name: fake))
    monkeypatch.setenv("PROCESSING_LOG_GROUP", "/idbellen/x/processing-log")
    namespace: dict = {}
    exec(compile(code, "forwarder", "exec"), namespace)
    return namespace["handler"], fake


def _event(messages):
    data = {
        "messageType": "DATA_MESSAGE",
        "logGroup": "/aws/lambda/idbellen-test-dtmf",
        "logStream": "2026/11/28/[live]abc",
        "logEvents": [{"id": str(i), "timestamp": 1000 + i, "message": m} for i, m in enumerate(messages)],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}


def test_forwards_processing_records_only(monkeypatch):
    handler, fake = _load(monkeypatch)
    processing = json.dumps({"log_type": "processing", "step": "call_linked", "session_ref": "ab"})
    out = handler(_event([processing, '{"level":"INFO","message":"x"}', "START RequestId: 1"]), None)
    assert out == {"forwarded": 1}
    ((group, stream, events),) = fake.events
    assert group == "/idbellen/x/processing-log"
    assert stream.startswith("idbellen-test-dtmf/")
    assert [e["message"] for e in events] == [processing]


def test_nothing_to_forward(monkeypatch):
    handler, fake = _load(monkeypatch)
    assert handler(_event(['{"level":"INFO"}']), None) == {"forwarded": 0}
    assert fake.events == []
