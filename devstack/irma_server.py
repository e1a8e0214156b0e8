"""Demo IRMA server: a real HTTP server on loopback that speaks the requestor API shapes of irmago.

Requestor side (what idbellen uses): `POST /session` with `Authorization: <token>`, quoted status
strings, `/result` with `proofStatus`, `/result-jwt` signed with its own RSA key, `/publickey`,
`DELETE`, results that expire (`SESSION_UNKNOWN`), and the `callbackUrl` POST of the result JWT
before the app gets its answer. Client side (what the demo wallet uses): `GET {sessionPtr.u}` for the
request and `POST {u}/proofs` to disclose — a simplified stand-in for the real IRMA protocol, which
needs real credentials. No cryptographic proofs are checked: the wallet states the proof status.

`fault` injects infrastructure failures on the requestor API: "500", "garbage", "slow", "reset".
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack.loopback import LoopbackServer, QuietHandler

FINAL = ("DONE", "CANCELLED", "TIMEOUT")
_ALPHABET = string.ascii_letters + string.digits


def _token(n: int = 20) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


@dataclass
class DemoSession:
    token: str
    client_token: str
    request: dict[str, Any]
    timeout: int
    callback_url: str | None
    created: float
    status: str = "INITIALIZED"
    ended: float | None = None
    proof_status: str | None = None
    disclosed: list[list[dict[str, Any]]] = field(default_factory=list)
    frontend_auth: str = field(default_factory=_token)


class DemoIrmaServer:
    def __init__(
        self, requestor_token: str, clock: Callable[[], float] = time.time, result_lifetime: int = 300
    ) -> None:
        self.requestor_token = requestor_token
        self.clock = clock
        self.result_lifetime = result_lifetime
        self.sessions: dict[str, DemoSession] = {}
        self.by_client: dict[str, DemoSession] = {}
        self.lock = threading.RLock()
        self._due_callbacks: list[DemoSession] = []
        self.fault: str | None = None
        self.slow_seconds = 4.0
        self.callbacks_sent = 0
        self.send_callbacks = True
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key_pem = (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        self._server = LoopbackServer(_Handler, self)

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> DemoIrmaServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    # -- state ---------------------------------------------------------------------------------
    def _refresh(self, session: DemoSession) -> None:
        if session.status not in FINAL and self.clock() > session.created + session.timeout:
            self._end(session, "TIMEOUT")

    def _end(self, session: DemoSession, status: str) -> None:
        session.status = status
        session.ended = self.clock()
        if self.send_callbacks and session.callback_url:
            self._due_callbacks.append(session)

    def _flush_callbacks(self) -> None:
        """Send due callbacks outside the lock: the requestor may read the result while handling one."""
        while True:
            with self.lock:
                if not self._due_callbacks:
                    return
                session = self._due_callbacks.pop(0)
            self._callback(session)

    def find(self, token: str) -> DemoSession | None:
        try:
            return self._find(token)
        finally:
            self._flush_callbacks()

    def _find(self, token: str) -> DemoSession | None:
        with self.lock:
            session = self.sessions.get(token)
            if session is None:
                return None
            self._refresh(session)
            if session.ended is not None and self.clock() > session.ended + self.result_lifetime:
                self.sessions.pop(token, None)
                self.by_client.pop(session.client_token, None)
                return None
            return session

    def start_session(self, body: dict[str, Any]) -> DemoSession:
        request = body.get("request", body)
        if not isinstance(request, dict) or not isinstance(request.get("disclose"), list):
            raise ValueError("INVALID_REQUEST")
        if "augmentReturnUrl" in request:
            raise ValueError("INVALID_REQUEST")
        session = DemoSession(
            token=_token(),
            client_token=_token(),
            request=request,
            timeout=int(body.get("timeout", 300)),
            callback_url=body.get("callbackUrl"),
            created=self.clock(),
        )
        with self.lock:
            self.sessions[session.token] = session
            self.by_client[session.client_token] = session
        return session

    def result(self, session: DemoSession) -> dict[str, Any]:
        body: dict[str, Any] = {"token": session.token, "status": session.status, "type": "disclosing"}
        if session.status == "DONE":
            body["proofStatus"] = session.proof_status
            body["disclosed"] = session.disclosed
        return body

    def result_jwt(self, session: DemoSession) -> str:
        now = int(self.clock())
        claims = {**self.result(session), "iss": "irmaserver", "sub": "disclosing_result", "iat": now, "exp": now + 120}
        return jwt.encode(claims, self._key, algorithm="RS256")

    def _callback(self, session: DemoSession) -> None:
        """Like irmago: POST the result JWT (text/plain), 2 retries on transport errors."""
        if not (session.callback_url or "").startswith("http://127.0.0.1:"):
            return  # the demo server only ever calls back to loopback
        data = self.result_jwt(session)
        for _ in range(3):
            try:
                requests.post(session.callback_url or "", data=data, headers={"Content-Type": "text/plain"}, timeout=5)
                self.callbacks_sent += 1
                return
            except requests.RequestException:
                continue

    def disclose(
        self, client_token: str, disclosed: list[list[dict[str, Any]]], proof_status: str, status: str
    ) -> DemoSession:
        try:
            with self.lock:
                session = self.by_client.get(client_token)
                if session is None:
                    raise KeyError(client_token)
                self._refresh(session)
                if session.status in FINAL:
                    raise KeyError(client_token)
                session.disclosed = disclosed
                session.proof_status = proof_status
                self._end(session, status)
                return session
        finally:
            self._flush_callbacks()  # like irmago: the callback completes before the app gets its answer

    def cancel(self, token: str, by_requestor: bool = False) -> bool:
        """End a session. The app's cancel calls back before the app gets its answer; the requestor's
        own DELETE is answered first (it may be waiting for that answer while handling a request)."""
        with self.lock:
            session = self.sessions.get(token)
            if session is not None and session.status not in FINAL:
                self._end(session, "CANCELLED")
        if by_requestor:
            threading.Thread(target=self._flush_callbacks, daemon=True).start()
        else:
            self._flush_callbacks()
        return session is not None


def _error(status: int, code: str, description: str) -> dict[str, Any]:
    return {"status": status, "error": code, "description": description}


class _Handler(QuietHandler):
    @property
    def irma(self) -> DemoIrmaServer:
        return self.server.app  # type: ignore[attr-defined,no-any-return]

    def _fault(self) -> bool:
        fault = self.irma.fault
        if fault is None:
            return False
        if fault == "slow":
            time.sleep(self.irma.slow_seconds)
            return False
        if fault == "500":
            self.send(500, _error(500, "INTERNAL_ERROR", "injected fault"))
        elif fault == "garbage":
            self.send(200, b"<html>not json", "text/html")
        elif fault == "reset":
            self.close_connection = True
            self.connection.close()
        return True

    def _parts(self) -> list[str]:
        return [p for p in self.path.split("?", 1)[0].split("/") if p]

    def do_GET(self) -> None:
        parts = self._parts()
        if parts == ["publickey"]:
            self.send(200, self.irma.public_key_pem, "text/plain")
            return
        if len(parts) == 3 and parts[:2] == ["irma", "session"]:
            self._client_request(parts[2])
            return
        if len(parts) == 3 and parts[0] == "session":
            if self._fault():
                return
            session = self.irma.find(parts[1])
            if session is None:
                self.send(400, _error(400, "SESSION_UNKNOWN", "Unknown or expired session"))
            elif parts[2] == "status":
                self.send(200, json.dumps(session.status))
            elif parts[2] == "result":
                self.send(200, self.irma.result(session))
            elif parts[2] == "result-jwt":
                self.send(200, self.irma.result_jwt(session), "text/plain")
            else:
                self.send(404, _error(404, "NOT_FOUND", "no such endpoint"))
            return
        self.send(404, _error(404, "NOT_FOUND", "no such endpoint"))

    def _client_request(self, client_token: str) -> None:
        with self.irma.lock:
            session = self.irma.by_client.get(client_token)
            if session is not None:
                self.irma._refresh(session)
        self.irma._flush_callbacks()
        if session is None or session.status in FINAL:
            self.send(400, _error(400, "SESSION_UNKNOWN", "Unknown or expired session"))
            return
        session.status = "CONNECTED"
        self.send(200, session.request)

    def do_POST(self) -> None:
        parts = self._parts()
        body = self.read_body()
        if parts == ["session"]:
            if self._fault():
                return
            if self.headers.get("Authorization") != self.irma.requestor_token:
                self.send(403, _error(403, "UNAUTHORIZED", "requestor not authorized"))
                return
            try:
                request = json.loads(body)
                session = self.irma.start_session(request)
            except (ValueError, TypeError, AttributeError):
                self.send(400, _error(400, "INVALID_REQUEST", "malformed session request"))
                return
            self.send(
                200,
                {
                    "sessionPtr": {"u": f"{self.irma.url}/irma/session/{session.client_token}", "irmaqr": "disclosing"},
                    "token": session.token,
                    "frontendRequest": {
                        "authorization": session.frontend_auth,
                        "pairingHint": False,
                        "minProtocolVersion": "1.0",
                        "maxProtocolVersion": "1.1",
                    },
                },
            )
            return
        if len(parts) == 4 and parts[:2] == ["irma", "session"] and parts[3] == "proofs":
            try:
                payload = json.loads(body)
                session = self.irma.disclose(
                    parts[2], payload["disclosed"], payload.get("proofStatus", "VALID"), payload.get("status", "DONE")
                )
            except (KeyError, ValueError, TypeError):
                self.send(400, _error(400, "SESSION_UNKNOWN", "Unknown or expired session"))
                return
            self.send(200, {"proofStatus": session.proof_status, "status": session.status})
            return
        self.send(404, _error(404, "NOT_FOUND", "no such endpoint"))

    def do_DELETE(self) -> None:
        parts = self._parts()
        if len(parts) == 2 and parts[0] == "session":
            ok = self.irma.cancel(parts[1], by_requestor=True)
            self.send(204 if ok else 400, b"" if ok else _error(400, "SESSION_UNKNOWN", "Unknown session"))
            return
        if len(parts) == 3 and parts[:2] == ["irma", "session"]:
            session = self.irma.by_client.get(parts[2])
            ok = session is not None and self.irma.cancel(session.token)
            self.send(204 if ok else 400, b"" if ok else _error(400, "SESSION_UNKNOWN", "Unknown session"))
            return
        self.send(404, _error(404, "NOT_FOUND", "no such endpoint"))


# yivi-frontend's client endpoints (status, statusevents, frontend options, CORS): devstack/irma_frontend.py
from devstack.irma_frontend import add_frontend_endpoints  # noqa: E402

add_frontend_endpoints(_Handler)
