"""The processing log never passes through a function's operational log group, and no caller waits on it.

Deployed, every function is told the processing log group (`IDBELLEN_PROCESSING_LOG_GROUP`) and
`audit.record` hands its records to `idbellen.processing_log` instead of printing them; the records
are written with PutLogEvents after the handler returned - by a Lambda internal extension thread in
Lambda (proven here against a stand-in of the Lambda Extensions API), inline elsewhere. The dev-stack
run of a whole ID call with a group configured is in tests/audit/test_processing_log_sink.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from idbellen import audit, processing_log

from devstack.template_resources import function_environment_names

GROUP = "/idbellen/test/processing-log"
SESSION_PK = "SESSION#" + "c" * 64


def test_every_function_is_told_the_processing_log_group() -> None:
    env = function_environment_names()
    assert set(env) == {"SessionFunction", "DtmfFunction", "AgentFunction", "CleanupFunction"}
    for function, names in env.items():
        assert "IDBELLEN_PROCESSING_LOG_GROUP" in names, function


@pytest.mark.parametrize("name", ["session", "dtmf", "agent", "cleanup"])
def test_every_handler_hands_its_records_over_once_it_returned(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the event (here a meaningless one, so the handler fails fast), the handler's wrapper
    calls the sink exactly once, after the handler."""
    import importlib

    monkeypatch.setenv(processing_log.GROUP_ENV, GROUP)
    calls: list[str] = []
    monkeypatch.setattr(processing_log.sink, "after_response", lambda: calls.append("after_response"))
    module = importlib.import_module(f"idbellen.handlers.{name}")
    with contextlib.suppress(Exception):  # only the hand-over matters here
        module.handler({}, None)
    assert calls == ["after_response"]


class FakeLogs:
    """CloudWatch Logs as the sink uses it; remembers which thread wrote what, and can fail."""

    class Failure(Exception):
        response = {"Error": {"Code": "ServiceUnavailableException"}}

    def __init__(self, timeline: list[str]) -> None:
        self.timeline = timeline
        self.streams: list[str] = []
        self.events: list[tuple[str, str, list[dict[str, Any]]]] = []
        self.fail = 0

    def create_log_stream(self, logGroupName: str, logStreamName: str) -> None:
        self.streams.append(logStreamName)

    def put_log_events(self, logGroupName: str, logStreamName: str, logEvents: list[dict[str, Any]]) -> None:
        if self.fail:
            self.fail -= 1
            raise self.Failure()
        self.timeline.append(f"put:{threading.current_thread().name}")
        self.events.append((logGroupName, logStreamName, logEvents))


@pytest.fixture
def fake_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLogs]:
    from idbellen import aws

    fake = FakeLogs([])
    original = aws.client
    monkeypatch.setattr(aws, "client", lambda service: fake if service == "logs" else original(service))
    monkeypatch.setenv(processing_log.GROUP_ENV, GROUP)
    monkeypatch.setattr(processing_log, "sink", processing_log.Sink())
    yield fake


def _records(fake: FakeLogs) -> list[dict[str, Any]]:
    return [json.loads(e["message"]) for _, _, events in fake.events for e in events]


def test_with_a_group_no_record_reaches_stdout_or_a_logger(
    fake_logs: FakeLogs, caplog: pytest.LogCaptureFixture
) -> None:
    out = io.StringIO()
    with caplog.at_level(logging.DEBUG), redirect_stdout(out):
        audit.record("session_started", "default", SESSION_PK, purpose="demo")
        audit.record("deleted", "default", SESSION_PK, purpose="demo", reason="expired", age_seconds=3600)
    assert out.getvalue() == ""
    assert not [r for r in caplog.records if "processing" in r.getMessage()]
    assert processing_log.sink.pending() == 2
    assert processing_log.sink.flush()
    ((group, stream, _),) = fake_logs.events
    assert group == GROUP and fake_logs.streams == [stream]
    assert [r["step"] for r in _records(fake_logs)] == ["session_started", "deleted"]
    assert all(r["log_type"] == "processing" for r in _records(fake_logs))


def test_without_a_group_records_go_to_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(processing_log.GROUP_ENV, raising=False)
    audit.record("deleted", "default", SESSION_PK, purpose="demo", reason="expired", age_seconds=3600)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0]["log_type"] == "processing"


def test_a_failed_write_keeps_the_records_counts_it_and_writes_them_next_time(
    fake_logs: FakeLogs, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_logs.fail = 1
    audit.record("session_started", "default", SESSION_PK, purpose="demo")
    assert not processing_log.sink.flush()
    assert processing_log.sink.pending() == 1
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert [m["ProcessingLogWriteFailures"] for m in metrics] == [[1.0]]
    assert metrics[0]["tenant"] == "default"
    audit.record("deleted", "default", SESSION_PK, purpose="demo", reason="expired", age_seconds=3600)
    assert processing_log.sink.flush()
    assert [r["step"] for r in _records(fake_logs)] == ["session_started", "deleted"]
    assert processing_log.sink.pending() == 0


# -- the Lambda internal extension, against a stand-in of the Extensions API ---------------------------
class ExtensionsApi:
    """The Lambda Extensions API as an internal extension sees it: register, then event/next, which
    blocks until the test delivers the next event. Records the order of requests in `timeline`."""

    def __init__(self, timeline: list[str], accept: bool = True) -> None:
        self.timeline = timeline
        self.accept = accept
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.nexts = threading.Semaphore(0)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                assert self.path == "/2020-01-01/extension/register"
                assert body == {"events": ["INVOKE"]}
                assert self.headers["Lambda-Extension-Name"] == processing_log.EXTENSION_NAME
                api.timeline.append("register")
                self.send_response(200 if api.accept else 403)
                if api.accept:
                    self.send_header("Lambda-Extension-Identifier", "ext-1")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def do_GET(self) -> None:
                assert self.path == "/2020-01-01/extension/event/next"
                assert self.headers["Lambda-Extension-Identifier"] == "ext-1"
                api.timeline.append("next")
                api.nexts.release()
                event = api.events.get()
                if event is None:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, request_id: str) -> None:
        import time

        self.events.put({"eventType": "INVOKE", "requestId": request_id, "deadlineMs": int(time.time() * 1000) + 3000})

    def wait_for_next(self) -> None:
        assert self.nexts.acquire(timeout=30), "the extension never asked for its next event"

    def close(self) -> None:
        self.events.put(None)
        self.server.shutdown()


@pytest.fixture
def extensions_api(fake_logs: FakeLogs, monkeypatch: pytest.MonkeyPatch) -> Iterator[ExtensionsApi]:
    api = ExtensionsApi(fake_logs.timeline)
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", api.address)
    yield api
    api.close()


def test_the_extension_writes_after_the_response_and_only_then_releases_the_invocation(
    fake_logs: FakeLogs, extensions_api: ExtensionsApi
) -> None:
    """In Lambda: the handler returns without any log call in the caller's thread; the extension
    thread writes the invocation's records, and asks for its next event (which ends the invocation
    for Lambda) only after that."""
    processing_log.install()
    extension = processing_log.sink.extension
    assert extension is not None and extension.active
    extensions_api.wait_for_next()  # init done: the extension waits for the first invocation

    @processing_log.after_response
    def handler(event: Any, context: Any) -> dict[str, str]:
        audit.record("call_linked", "default", SESSION_PK, purpose="demo", contact_id="c-1", initial_contact_id="c-1")
        return {"result": "OK"}

    for n in (1, 2):
        extensions_api.invoke(f"req-{n}")
        caller = threading.current_thread().name
        assert handler({}, None) == {"result": "OK"}
        fake_logs.timeline.append(f"returned:{caller}")
        extensions_api.wait_for_next()
    puts = [t for t in fake_logs.timeline if t.startswith("put:")]
    assert puts == [f"put:{processing_log.EXTENSION_NAME}"] * 2  # never in the caller's thread
    assert fake_logs.timeline[:2] == ["register", "next"]
    # each invocation: the put happens before the extension asks for the next event
    after_init = [t for t in fake_logs.timeline[2:] if not t.startswith("returned:")]
    assert after_init == [f"put:{processing_log.EXTENSION_NAME}", "next"] * 2
    assert [r["step"] for r in _records(fake_logs)] == ["call_linked", "call_linked"]


def test_a_handler_done_before_the_extension_saw_the_invocation_is_still_flushed(
    fake_logs: FakeLogs, extensions_api: ExtensionsApi
) -> None:
    processing_log.install()
    extensions_api.wait_for_next()
    audit.record("session_started", "default", SESSION_PK, purpose="demo")
    processing_log.sink.after_response()  # the handler finished first
    extensions_api.invoke("req-1")  # only now does the extension get the INVOKE event
    extensions_api.wait_for_next()
    assert [r["step"] for r in _records(fake_logs)] == ["session_started"]


def test_a_refused_registration_flushes_inline(fake_logs: FakeLogs, extensions_api: ExtensionsApi) -> None:
    extensions_api.accept = False
    processing_log.install()
    assert processing_log.sink.extension is not None and not processing_log.sink.extension.active

    @processing_log.after_response
    def handler(event: Any, context: Any) -> None:
        audit.record("session_started", "default", SESSION_PK, purpose="demo")

    handler({}, None)
    assert fake_logs.timeline == ["register", f"put:{threading.current_thread().name}"]


def test_no_extension_outside_lambda(fake_logs: FakeLogs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_RUNTIME_API", raising=False)
    processing_log.install()
    assert processing_log.sink.extension is None
