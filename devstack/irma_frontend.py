"""The demo IRMA server's client endpoints that yivi-frontend uses in the citizen's browser.

yivi-frontend (state-client in @privacybydesign/yivi-client, bundled in yivi-frontend 0.1.3) talks to
`sessionPtr.u` directly, from the page's origin, so irmago serves these with permissive CORS:
- `GET  {u}/frontend/statusevents`  server-sent events, `data: {"status": …, "nextSession": null}`
- `GET  {u}/frontend/status`         `{"status": …, "nextSession": null}` (polling fallback)
- `POST {u}/frontend/options`        `{"@context": …/frontendoptions/v1, "pairingMethod": "none"|"pin"}`
- `POST {u}/frontend/pairingcompleted`
- `GET  {u}/statusevents`, `GET {u}/status` (protocol 1.0 names: a JSON string)
- `DELETE {u}`                       cancel (already served by irma_server.py)
With protocol ≥ 1.1 the frontend sends `Authorization: <frontendRequest.authorization>`; it is checked.
`add_frontend_endpoints(_Handler)` (called at the end of irma_server.py) adds them to the handler.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

_FRONTEND_OPTIONS_CONTEXT = "https://irma.app/ld/request/frontendoptions/v1"
_FINAL = ("DONE", "CANCELLED", "TIMEOUT")
_SSE_MAX_SECONDS = 600


def _frontend_status(session: Any) -> dict[str, Any]:
    return {"status": session.status, "nextSession": None}


def add_frontend_endpoints(handler_cls: type) -> None:
    original_get = handler_cls.do_GET
    original_post = handler_cls.do_POST
    original_end_headers = handler_cls.end_headers

    def _client_session(self: Any, client_token: str, *, check_auth: bool) -> Any:
        irma = self.irma
        with irma.lock:
            session = irma.by_client.get(client_token)
            if session is not None:
                irma._refresh(session)
        irma._flush_callbacks()
        if session is None:
            self.send(400, {"status": 400, "error": "SESSION_UNKNOWN", "description": "Unknown or expired session"})
            return None
        if check_auth and not secrets.compare_digest(self.headers.get("Authorization") or "", session.frontend_auth):
            self.send(403, {"status": 403, "error": "UNAUTHORIZED", "description": "frontend not authorized"})
            return None
        return session

    def _sse(self: Any, session: Any, legacy: bool) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        last = "INITIALIZED"  # like the polling client's start state: only changes are events
        started = beat = time.monotonic()
        try:
            while time.monotonic() - started < _SSE_MAX_SECONDS:
                with self.irma.lock:
                    self.irma._refresh(session)
                    status = session.status
                self.irma._flush_callbacks()
                if status != last:
                    payload = json.dumps(status if legacy else _frontend_status(session))
                    self.wfile.write(f"data: {payload}\n\n".encode())
                    self.wfile.flush()
                    last = status
                    if status in _FINAL:
                        return
                if time.monotonic() - beat > 10:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    beat = time.monotonic()
                time.sleep(0.2)
        except OSError:
            return

    def do_GET(self: Any) -> None:
        parts = self._parts()
        if len(parts) == 5 and parts[:2] == ["irma", "session"] and parts[3] == "frontend":
            session = _client_session(self, parts[2], check_auth=True)
            if session is None:
                return
            if parts[4] == "status":
                with self.irma.lock:
                    body = _frontend_status(session)
                self.send(200, body)
            elif parts[4] == "statusevents":
                _sse(self, session, legacy=False)
            else:
                self.send(404, {"status": 404, "error": "NOT_FOUND", "description": "no such endpoint"})
            return
        if len(parts) == 4 and parts[:2] == ["irma", "session"] and parts[3] in ("status", "statusevents"):
            session = _client_session(self, parts[2], check_auth=False)
            if session is None:
                return
            if parts[3] == "status":
                self.send(200, json.dumps(session.status))
            else:
                _sse(self, session, legacy=True)
            return
        original_get(self)

    def do_POST(self: Any) -> None:
        parts = self._parts()
        if len(parts) == 5 and parts[:2] == ["irma", "session"] and parts[3] == "frontend":
            body = self.read_body()
            session = _client_session(self, parts[2], check_auth=True)
            if session is None:
                return
            if parts[4] == "options":
                try:
                    method = json.loads(body or b"{}").get("pairingMethod", "none")
                except (ValueError, AttributeError):
                    method = None
                if method not in ("none", "pin"):
                    self.send(400, {"status": 400, "error": "INVALID_REQUEST", "description": "bad options"})
                    return
                options: dict[str, Any] = {"@context": _FRONTEND_OPTIONS_CONTEXT, "pairingMethod": method}
                if method == "pin":
                    options["pairingCode"] = f"{secrets.randbelow(10000):04d}"
                self.send(200, options)
            elif parts[4] == "pairingcompleted":
                self.send(204, b"")
            else:
                self.send(404, {"status": 404, "error": "NOT_FOUND", "description": "no such endpoint"})
            return
        original_post(self)

    def do_OPTIONS(self: Any) -> None:  # CORS preflight for the browser-facing client routes
        if self._parts()[:2] == ["irma", "session"]:
            self.send_response(204)
            self.send_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Cache-Control")
            self.send_header("Access-Control-Max-Age", "600")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send(404, {"status": 404, "error": "NOT_FOUND", "description": "no such endpoint"})

    def end_headers(self: Any) -> None:
        if self.path.startswith("/irma/session/"):
            self.send_header("Access-Control-Allow-Origin", "*")
        original_end_headers(self)

    handler_cls.do_GET = do_GET
    handler_cls.do_POST = do_POST
    handler_cls.do_OPTIONS = do_OPTIONS
    handler_cls.end_headers = end_headers
