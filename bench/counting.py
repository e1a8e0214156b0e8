"""Exact counts of the AWS and IRMA calls the handlers make.

AWS: every boto3 client idbellen builds goes through `idbellen.aws.client`; the bench wraps that
function and registers a botocore `before-call.*.*` hook on each client it returns, so each API call
(retries excluded: one logical call) is counted by service and operation.
HTTP: the IRMA client uses `requests`; the bench wraps `requests.adapters.HTTPAdapter.send` and
counts the requests that go to the IRMA server's requestor API (`<irma url>/session...`).
Counting happens only inside a `window()`, so the dev stack's own traffic is never counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SERVICES = ("dynamodb", "kms", "ssm", "http")


class CallCounter:
    def __init__(self, irma_url: str) -> None:
        self.irma_prefix = irma_url.rstrip("/") + "/session"
        self._lock = threading.Lock()
        self._active = False
        self._calls: Counter[str] = Counter()
        self._hooked: dict[int, Any] = {}
        self._undo: list[Any] = []

    # -- installation ---------------------------------------------------------------------------
    def install(self) -> CallCounter:
        import requests.adapters
        from idbellen import aws

        original_client = aws.client

        def counted_client(service: str) -> Any:
            client = original_client(service)
            if id(client) not in self._hooked:
                client.meta.events.register("before-call.*.*", self._on_aws_call)
                self._hooked[id(client)] = client  # keep it alive so the id stays unique
            return client

        aws.client = counted_client  # type: ignore[assignment]
        self._undo.append(lambda: setattr(aws, "client", original_client))

        original_send = requests.adapters.HTTPAdapter.send

        def counted_send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            if self._active and str(request.url).startswith(self.irma_prefix):
                self._add("http:" + request.method + " " + _route(str(request.url), self.irma_prefix))
            return original_send(adapter, request, *args, **kwargs)

        requests.adapters.HTTPAdapter.send = counted_send  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(requests.adapters.HTTPAdapter, "send", original_send))
        return self

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    # -- counting -------------------------------------------------------------------------------
    def _on_aws_call(self, event_name: str = "", **_: Any) -> None:
        if self._active:
            _, service, operation = event_name.split(".", 2)
            self._add(f"{service}:{operation}")

    def _add(self, key: str) -> None:
        with self._lock:
            self._calls[key] += 1

    @contextmanager
    def window(self) -> Iterator[Counter[str]]:
        """Count the calls made inside the block; the yielded Counter fills in when it ends."""
        result: Counter[str] = Counter()
        with self._lock:
            self._calls = Counter()
            self._active = True
        try:
            yield result
        finally:
            with self._lock:
                self._active = False
                result.update(self._calls)


def summarise(calls: Counter[str]) -> dict[str, Any]:
    """{"dynamodb": n, "kms": n, "ssm": n, "http": n, <other services>: n, "ops": [...]}"""
    out: dict[str, Any] = dict.fromkeys(SERVICES, 0)
    for key, n in calls.items():
        service = key.split(":", 1)[0]
        out[service] = out.get(service, 0) + n
    out["ops"] = sorted(f"{key} x{n}" if n > 1 else key for key, n in calls.items())
    return out


def _route(url: str, prefix: str) -> str:
    """`/session/<token>/result` → `/session/{token}/result` (the token never reaches the report)."""
    rest = url[len(prefix) :].split("?", 1)[0]
    parts = [p for p in rest.split("/") if p]
    if parts:
        parts[0] = "{token}"
    return "/session" + "".join("/" + p for p in parts)
