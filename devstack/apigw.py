"""Builds API Gateway HTTP API (payload 2.0) events for the real handlers, and serves them over HTTP.

`dispatch` is used both by `DevStack.api` (in-process) and by the loopback HTTP adapter that the
IRMA callback, `make serve` and the browser tests reach. Agent routes get the authorizer claims a
real JWT authorizer would add.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from devstack.identity import cognito_access_claims, scopes_of
from devstack.lambda_context import LambdaContext
from devstack.loopback import LoopbackServer, QuietHandler

Handler = Callable[[Any, Any], Any]

ROUTES: list[tuple[str, str, str]] = [
    ("POST", "/sessions", "session"),
    ("GET", "/tenants", "session"),  # public: the municipality picker (issue 14)
    ("GET", "/sessions/{session_id}", "session"),
    ("POST", "/sessions/{session_id}/complete", "session"),
    # greedy, as in iac/template.yaml: irmago POSTs to callbackUrl + "/" (irma/transport.go)
    ("POST", "/irma/callback/{callback_id+}", "session"),
    ("POST", "/agent/disclosure", "agent"),
    ("POST", "/agent/clear", "agent"),
]
# Routes the session function answers without Powertools' resolver (handlers/session.py): they keep no
# per-event state on a module-level object, so they need not wait for the resolver's turn. The IRMA
# callback must not: irmago calls back inside our own requests to it (a DELETE, a pull of a timed-out
# session), as it calls a second Lambda execution environment.
CONCURRENT_ROUTES = frozenset({"POST /irma/callback/{callback_id+}"})


def _match(method: str, raw_path: str) -> tuple[str, str, dict[str, str]] | None:
    path = raw_path.split("?", 1)[0]
    for route_method, template, function in ROUTES:
        if route_method != method:
            continue
        pattern = "^" + re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", template) + "$"
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        found = re.match(pattern, path)
        if found:
            return f"{method} {template}", function, {k: unquote(v) for k, v in found.groupdict().items()}
    return None


def build_event(
    method: str,
    raw_path: str,
    body: str | bytes | None,
    headers: dict[str, str] | None,
    route_key: str,
    path_parameters: dict[str, str],
    claims: dict[str, str] | None,
) -> dict[str, Any]:
    path, _, query = raw_path.partition("?")
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    is_b64 = isinstance(body, bytes)
    text = base64.b64encode(body).decode() if isinstance(body, bytes) else body
    now = time.time()
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "devstack",
        "domainName": "127.0.0.1",
        "domainPrefix": "devstack",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": hdrs.get("user-agent", "devstack"),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": scopes_of(claims)}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": hdrs,
        "requestContext": context,
        "isBase64Encoded": is_b64,
    }
    if text is not None:
        event["body"] = text
    if path_parameters:
        event["pathParameters"] = path_parameters
    return event


class ApiDispatcher:
    def __init__(self, handlers: dict[str, Handler], agent_claims: dict[str, str] | None = None) -> None:
        self.handlers = handlers
        # the dev agent's (devstack.identity); a fresh set per request unless fixed here
        self.agent_claims = agent_claims
        # A Lambda execution environment handles one event at a time, and Powertools' resolver keeps
        # the current event on the module-level app: concurrent requests take turns per function.
        self._turns = {name: threading.Lock() for name in handlers}

    def dispatch(
        self,
        method: str,
        raw_path: str,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        """`claims`: the authorizer claims of an agent route (default: the dev agent's); ignored elsewhere."""
        matched = _match(method.upper(), raw_path)
        if matched is None:
            return 404, {"content-type": "application/json"}, json.dumps({"message": "Not Found"})
        route_key, function, params = matched
        if function != "agent":
            claims = None
        elif claims is None:
            claims = self.agent_claims if self.agent_claims is not None else cognito_access_claims()
        event = build_event(method.upper(), raw_path, body, headers, route_key, params, claims)
        turn = contextlib.nullcontext() if route_key in CONCURRENT_ROUTES else self._turns[function]
        with turn:
            result = self.handlers[function](event, LambdaContext(function_name=f"idbellen-{function}"))
        status = int(result.get("statusCode", 200))
        out_headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        payload = result.get("body") or ""
        if result.get("isBase64Encoded"):
            payload = base64.b64decode(payload).decode()
        return status, out_headers, payload


class HttpApiAdapter:
    """The dispatcher on a loopback port (IRMA callbacks, pages, browser tests reach it here)."""

    def __init__(self, dispatcher: ApiDispatcher, cors_origins: tuple[str, ...] = ()) -> None:
        self.dispatcher = dispatcher
        self.cors_origins = cors_origins
        self._server = LoopbackServer(_Handler, self)

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> HttpApiAdapter:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()


class _Handler(QuietHandler):
    def _cors(self) -> dict[str, str]:
        adapter: HttpApiAdapter = self.server.app  # type: ignore[attr-defined]
        origin = self.headers.get("Origin")
        if origin and origin in adapter.cors_origins:
            return {
                "Access-Control-Allow-Origin": origin,
                "Vary": "Origin",
                "Access-Control-Allow-Headers": "content-type,authorization",
                "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
                "Access-Control-Max-Age": "600",
            }
        return {}

    def do_OPTIONS(self) -> None:
        self.send(204, b"", headers=self._cors())

    def _handle(self) -> None:
        adapter: HttpApiAdapter = self.server.app  # type: ignore[attr-defined]
        body = self.read_body()
        text: str | bytes | None
        try:
            text = body.decode("utf-8") if body else None
        except UnicodeDecodeError:
            text = body
        status, headers, payload = adapter.dispatcher.dispatch(self.command, self.path, text, dict(self.headers))
        content_type = headers.pop("content-type", "application/json")
        self.send(status, payload, content_type, headers={**headers, **self._cors()})

    do_GET = _handle
    do_POST = _handle
