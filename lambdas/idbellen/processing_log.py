"""Where processing-log records go: straight into the processing log group, after the response.

With `IDBELLEN_PROCESSING_LOG_GROUP` set (the template always sets it), `audit.record` hands its
record here instead of printing it, so **no processing record ever reaches a function's operational
log group**: a CloudWatch Logs subscription filter can only copy a record out of a log group, never
remove it, and Lambda sends all of a function's output to one log group (`LoggingConfig.LogGroup`).
The records are written with `PutLogEvents` into their own group (KMS key whose policy names the
readers, `iac/template.yaml`).

Nobody waits on that call. In Lambda this module registers an *internal extension* (a thread in the
runtime process, Lambda Extensions API) during the function's init. Lambda hands the function's
response to its caller as soon as the handler returns, and keeps the execution environment running
until every extension has asked for its next event; the extension thread uses that time to flush the
invocation's records, then asks for the next event. So the Connect caller (and the browser, and the
agent's panel) never waits on a log call, and the DTMF path's budgets are untouched.

Where no extension could be registered (not in Lambda: the dev stack, tests; or a registration
refused), the records are flushed synchronously when the handler finishes (`after_response`).
A flush that fails keeps its records and tries again after the next invocation (at most
`MAX_BUFFERED` records are kept), and counts `ProcessingLogWriteFailures` (alarm: docs/metrics.md).

Without `IDBELLEN_PROCESSING_LOG_GROUP` (local runs, the dev stack by default) records are printed
on stdout as JSON lines, as before.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

GROUP_ENV = "IDBELLEN_PROCESSING_LOG_GROUP"
EXTENSION_NAME = "idbellen-processing-log"
MAX_BUFFERED = 1000
_EXTENSIONS_API = "/2020-01-01/extension"


def group() -> str:
    """The processing log group, or "" when records go to stdout."""
    return os.environ.get(GROUP_ENV, "").strip()


class Sink:
    """Buffers the records of an invocation and writes them to the processing log group."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[tuple[int, str, str, str]] = []  # (epoch ms, JSON line, tenant, log group)
        self._streams: dict[str, str] = {}  # log group -> this environment's stream in it
        self.extension: Extension | None = None

    def write(self, line: str, epoch_ms: int, tenant: str, log_group: str = "") -> None:
        """Buffer a record for `log_group` (its tenant's processing-log group; "" = `group()`)."""
        with self._lock:
            self._records.append((epoch_ms, line, tenant, log_group or group()))
            del self._records[:-MAX_BUFFERED]

    def pending(self) -> int:
        with self._lock:
            return len(self._records)

    def after_response(self) -> None:
        """The handler is done: hand the flush to the extension thread, or flush now without one."""
        if self.extension is not None and self.extension.active:
            self.extension.invocation_done()
        else:
            self.flush()

    def flush(self) -> bool:
        """Write the buffered records (one PutLogEvents per log group); on failure keep them for the next
        flush. Each tenant's records go to its own group only."""
        with self._lock:
            batch = sorted(self._records, key=lambda record: record[0])  # stable: order of writing
            self._records = []
        if not batch:
            return True
        ok = True
        for name in dict.fromkeys(record[3] for record in batch):
            ok = self._flush_group(name, [record for record in batch if record[3] == name]) and ok
        return ok

    def _flush_group(self, name: str, batch: list[tuple[int, str, str, str]]) -> bool:
        try:
            from idbellen import aws  # boto3 only when there is something to write

            logs = aws.client("logs")
            stream = self._streams.get(name)
            if stream is None:
                stream = _stream_name()
                try:
                    logs.create_log_stream(logGroupName=name, logStreamName=stream)
                except Exception as exc:
                    if _code(exc) != "ResourceAlreadyExistsException":
                        raise
                self._streams[name] = stream
            logs.put_log_events(
                logGroupName=name,
                logStreamName=stream,
                logEvents=[{"timestamp": ms, "message": line} for ms, line, _, _ in batch],
            )
            return True
        except Exception as exc:
            if _code(exc) == "ResourceNotFoundException":
                self._streams.pop(name, None)  # the stream went away: create it again next time
            with self._lock:
                self._records = (batch + self._records)[-MAX_BUFFERED:]
            _count_failure(batch[-1][2])
            return False


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _stream_name() -> str:
    """One stream per execution environment: date, function, a random id (no request data)."""
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "idbellen").replace(":", "_").replace("*", "_")
    return f"{time.strftime('%Y/%m/%d', time.gmtime())}/{function}/{uuid.uuid4().hex}"


def _count_failure(tenant: str) -> None:
    """One EMF metric line (fixed name, a count): records could not be written yet."""
    from idbellen.observability_lite import SERVICE, metrics
    from idbellen.redaction import metric_dimensions

    metrics.emit_single("ProcessingLogWriteFailures", "Count", 1, metric_dimensions(tenant, SERVICE, {}))


class Extension:
    """A Lambda internal extension (Extensions API): after each invocation's response it flushes the
    sink, then asks for the next event. Registered during init only (Lambda refuses later)."""

    def __init__(self, sink: Sink, api: str) -> None:
        self.sink = sink
        self.api = api
        self.active = False
        self._id = ""
        self._done = threading.Event()
        self._deadline_ms = 0

    def register(self) -> bool:
        try:
            status, headers, _ = self._request(
                "POST",
                "/register",
                json.dumps({"events": ["INVOKE"]}).encode(),
                {"Lambda-Extension-Name": EXTENSION_NAME, "Content-Type": "application/json"},
                timeout=2.0,
            )
        except OSError:
            return False
        self._id = headers.get("lambda-extension-identifier", "")
        if status != 200 or not self._id:
            return False
        self.active = True
        threading.Thread(target=self._loop, name=EXTENSION_NAME, daemon=True).start()
        return True

    def invocation_done(self) -> None:
        self._done.set()

    def _loop(self) -> None:
        while True:
            try:
                status, _, body = self._request("GET", "/event/next", None, {"Lambda-Extension-Identifier": self._id})
            except OSError:
                break
            if status != 200:
                break
            event = json.loads(body or b"{}")
            if event.get("eventType") != "INVOKE":
                continue
            # Wait for the handler to finish (its response is then already on its way), at most
            # until the invocation's deadline, then write the records before asking for more.
            remaining = (int(event.get("deadlineMs", 0)) - int(time.time() * 1000)) / 1000
            self._done.wait(timeout=max(remaining, 0.0) + 0.5)
            self._done.clear()
            self.sink.flush()
        self.active = False  # the API went away: flush inline from now on
        self.sink.flush()

    def _request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], timeout: float | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        import http.client  # only in Lambda (botocore loads it there anyway): not on the DTMF import path

        connection = http.client.HTTPConnection(self.api, timeout=timeout)
        try:
            connection.request(method, _EXTENSIONS_API + path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()


sink = Sink()


def install() -> None:
    """In a Lambda execution environment with a processing log group: register the extension (once,
    during init). Elsewhere nothing happens, and `after_response` flushes inline."""
    api = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
    if sink.extension is not None or not api or not group():
        return
    extension = Extension(sink, api)
    sink.extension = extension
    if not extension.register():
        sys.stderr.write('{"level":"WARNING","message":"processing log: no extension, records flushed inline"}\n')


def after_response[F: Callable[..., Any]](handler: F) -> F:
    """Outermost decorator of every handler: once it returned, the invocation's records are written
    (by the extension thread after the response, or here without one)."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(event, context, *args, **kwargs)
        finally:
            # With the extension registered this must run on every invocation: the extension waits for it.
            if (sink.extension is not None and sink.extension.active) or group() or sink.pending():
                sink.after_response()

    return wrapper  # type: ignore[return-value]
