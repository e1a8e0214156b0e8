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
Like every client route they go through the session transaction (irmaserver/helpers.go
sessionMiddleware): polling a timed-out session fires a TIMEOUT callback each time, as in irmago.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from devstack.irma_server import IrmaHttpError, Response, _client_token

_FRONTEND_OPTIONS_CONTEXT = "https://irma.app/ld/request/frontendoptions/v1"
_FINAL = ("DONE", "CANCELLED", "TIMEOUT")
_SSE_MAX_SECONDS = 600


def _frontend_status(session: Any) -> dict[str, Any]:
    return {"status": session.status, "nextSession": None}


def add_frontend_endpoints(handler_cls: type) -> None:
    original_get = handler_cls.do_GET
    original_post = handler_cls.do_POST
    original_end_headers = handler_cls.end_headers

    def _status(self: Any, client_token: str, *, check_auth: bool) -> Any:
        """The session's status through a transaction (a timed-out session calls back)."""
        auth = self.headers.get("Authorization") or ""

        def read(session: Any) -> tuple[bool, Any]:
            if check_auth and not secrets.compare_digest(auth, session.frontend_auth):
                return False, IrmaHttpError(403, "UNAUTHORIZED", "frontend not authorized")
            return False, session.status

        out = self.irma._transaction(read, client_token=_client_token(client_token))
        if isinstance(out, IrmaHttpError):
            raise out
        return out

    def _sse(self: Any, client_token: str, legacy: bool) -> None:
        try:
            status = _status(self, client_token, check_auth=not legacy)
        except IrmaHttpError as exc:
            self.send(exc.status, exc.body())
            return
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
                    session = self.irma.by_client.get(client_token)
                    if session is not None:
                        status = session.status
                        # helpers.go serverSentEventsHandler: TIMEOUT at the deadline, no transaction
                        if status not in _FINAL and self.irma._timeout(session, self.irma.clock()) <= 0:
                            status = "TIMEOUT"
                if status != last:
                    payload = json.dumps(status if legacy else {"status": status, "nextSession": None})
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
            if parts[4] == "status":
                self._within_deadline(
                    lambda: Response(200, {"status": _status(self, parts[2], check_auth=True), "nextSession": None})
                )
            elif parts[4] == "statusevents":
                self.irma.catch_up()
                _sse(self, parts[2], legacy=False)
            else:
                self.send(404, {"status": 404, "error": "INVALID_REQUEST", "description": "no such endpoint"})
            return
        if len(parts) == 4 and parts[:2] == ["irma", "session"] and parts[3] in ("status", "statusevents"):
            if parts[3] == "status":
                self._within_deadline(lambda: Response(200, json.dumps(_status(self, parts[2], check_auth=False))))
            else:
                self.irma.catch_up()
                _sse(self, parts[2], legacy=True)
            return
        original_get(self)

    def do_POST(self: Any) -> None:
        parts = self._parts()
        if len(parts) == 5 and parts[:2] == ["irma", "session"] and parts[3] == "frontend":
            body = self.read_body()
            self._within_deadline(lambda: _frontend_post(self, parts[2], parts[4], body))
            return
        original_post(self)

    def _frontend_post(self: Any, client_token: str, action: str, body: bytes) -> Response:
        auth = self.headers.get("Authorization") or ""

        def change(session: Any) -> tuple[bool, Any]:
            if not secrets.compare_digest(auth, session.frontend_auth):
                return False, IrmaHttpError(403, "UNAUTHORIZED", "frontend not authorized")
            if action == "options":
                try:
                    method = json.loads(body or b"{}").get("pairingMethod", "none")
                except (ValueError, AttributeError):
                    method = None
                if session.status != "INITIALIZED" or method not in ("none", "pin"):
                    return False, IrmaHttpError(400, "INVALID_REQUEST", "bad options")
                session.pairing_method = method
                session.pairing_code = f"{secrets.randbelow(10000):04d}" if method == "pin" else None
                options: dict[str, Any] = {"@context": _FRONTEND_OPTIONS_CONTEXT, "pairingMethod": method}
                if session.pairing_code:
                    options["pairingCode"] = session.pairing_code
                return True, Response(200, options)
            if action == "pairingcompleted":
                if session.status != "PAIRING":
                    return False, IrmaHttpError(400, "INVALID_REQUEST", "Pairing was not enabled")
                self.irma._set_status(session, "CONNECTED")
                return True, Response(204, b"")
            return False, Response(404, {"status": 404, "error": "INVALID_REQUEST", "description": "no such endpoint"})

        out = self.irma._transaction(change, client_token=_client_token(client_token))
        if isinstance(out, IrmaHttpError):
            raise out
        return out  # type: ignore[no-any-return]

    def do_OPTIONS(self: Any) -> None:  # CORS preflight for the browser-facing client routes
        if self._parts()[:2] == ["irma", "session"]:
            self.send_response(204)
            self.send_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Cache-Control")
            self.send_header("Access-Control-Max-Age", "600")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send(404, {"status": 404, "error": "INVALID_REQUEST", "description": "no such endpoint"})

    def end_headers(self: Any) -> None:
        if self.path.startswith("/irma/session/"):
            self.send_header("Access-Control-Allow-Origin", "*")
        original_end_headers(self)

    handler_cls.do_GET = do_GET
    handler_cls.do_POST = do_POST
    handler_cls.do_OPTIONS = do_OPTIONS
    handler_cls.end_headers = end_headers
