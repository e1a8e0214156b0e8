"""Fault injection on the process's own boto3 clients (`idbellen.aws.client(...)`) with botocore hooks.

Two ways in, both removed again when the context ends:
- `mode="call"`: a `before-call` hook raises `ClientError` before anything is sent — no botocore retry,
  the code sees the error exactly once per call (persistent outages, AccessDenied, ...).
- `mode="send"`: a `before-send` hook answers with an HTTP error response, so botocore parses it and
  its retry policy runs exactly as against real AWS (throttling that clears after a retry, ...).

Messages may carry canary values on purpose: a code path that logs or returns an exception's text
would then leak them, and the privacy checks see it.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

_ids = itertools.count()


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class Fault:
    service: str
    operation: str
    code: str
    message: str = "injected fault"
    status: int = 400
    times: int | None = None  # None = every call while active
    after: int = 0  # let this many calls through first (fail in the middle of a sequence)
    reasons: list[str] | None = None  # TransactionCanceledException cancellation reasons
    mode: str = "call"
    hits: int = 0
    seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _take(self) -> bool:
        with self._lock:
            self.seen += 1
            if self.seen <= self.after:
                return False
            if self.times is not None and self.hits >= self.times:
                return False
            self.hits += 1
            return True

    def _response(self) -> dict[str, Any]:
        response: dict[str, Any] = {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {"HTTPStatusCode": self.status},
        }
        if self.reasons is not None:
            response["CancellationReasons"] = [{"Code": r, "Message": self.message} for r in self.reasons]
        return response

    def before_call(self, **_: Any) -> None:
        if self._take():
            raise ClientError(self._response(), self.operation)  # type: ignore[arg-type]

    def before_send(self, request: Any = None, **_: Any) -> AWSResponse | None:
        if not self._take():
            return None
        body: dict[str, Any] = {"__type": self.code, "message": self.message}
        if self.reasons is not None:
            body["CancellationReasons"] = [{"Code": r, "Message": self.message} for r in self.reasons]
        headers = {"x-amzn-requestid": "injected", "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url if request else "", self.status, headers, _Raw(json.dumps(body).encode()))


def event_service(service: str) -> str:
    from idbellen import aws

    return str(aws.client(service).meta.service_model.service_id.hyphenize())


@contextmanager
def aws_fault(service: str, operation: str, code: str, **kwargs: Any) -> Iterator[Fault]:
    """Inject `code` into `service.operation` on the idbellen client while the context is open."""
    from idbellen import aws

    fault = Fault(service, operation, code, **kwargs)
    client = aws.client(service)
    name = event_service(service)
    hook = "before-call" if fault.mode == "call" else "before-send"
    handler = fault.before_call if fault.mode == "call" else fault.before_send
    unique = f"idbellen-fault-{next(_ids)}"
    client.meta.events.register(f"{hook}.{name}.{operation}", handler, unique_id=unique)
    try:
        yield fault
    finally:
        client.meta.events.unregister(f"{hook}.{name}.{operation}", unique_id=unique)


def throttled(service: str, operation: str, **kwargs: Any) -> Any:
    code = {"dynamodb": "ProvisionedThroughputExceededException"}.get(service, "ThrottlingException")
    return aws_fault(service, operation, code, **kwargs)
