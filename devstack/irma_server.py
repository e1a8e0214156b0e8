"""Dev-stack IRMA server: a real HTTP server on loopback that behaves like irmago where idbellen meets it.

Checked against irmago's source (privacybydesign/irmago; tests/conformance states each rule with the
file and function that implements it). What it does like irmago, with irmago's own switches
(`IrmaServerConfig`):

- requestor API: `POST /session` with token auth (raw `Authorization`, `Content-Type:
  application/json`, else 400 INVALID_REQUEST; wrong token 403), 501 UNSUPPORTED for a `callbackUrl`
  without `jwt_privkey` unless `allow_unsigned_callbacks`; `GET /session/{token}/status|result|
  result-jwt`, `DELETE /session/{token}` (200, empty body, after the CANCELLED callback), `GET
  /publickey`; tokens are 20 alphanumerics (a path without such a run is 400 INVALID_REQUEST, an
  unknown one 400 SESSION_UNKNOWN);
- session life: `timeout` bounds only the wait until the app connects, then `max_session_lifetime`
  from the last activity; a finished session is deleted `session_result_lifetime` after its last
  activity by a sweep every 10 s; a session that timed out is not stored as TIMEOUT: every access
  (the sweep included) fires a synchronous TIMEOUT callback until the sweep deletes it;
- the callback: POSTed synchronously to `callbackUrl` + "/" *before* the final status is stored (a
  result pull during the callback sees the old status), as an RS256 JWT (`iss` = `jwt_issuer`, `sub`
  `disclosing_result`, `exp` = iat + the request's `validity`, default 120 s) or, without a key, the
  plain result JSON; retried twice on transport errors only;
- every route but the event streams answers 503 after 4.2 s (irmago's `TimeoutMiddleware`): a
  callback that makes the app's `POST /proofs` slower fails the disclosure in the app, while the
  session still ends DONE once the callback returns;
- `disclosed` as irmago reports it: an unsatisfied disjunction is `null`, an empty optional one `[]`,
  attributes are PRESENT or NULL (`rawvalue: null`), extra ones one more inner list of EXTRA;
- irmago's log: each session request at INFO, `clientReturnUrl` (our DTMF code) and `callbackUrl`
  included. Kept in memory only (`DemoIrmaServer.log`), never written to stdout or Python logging:
  the dev stack keeps promise 4 while tests can show what a real irmago's log holds.

Client side (what the demo wallet and yivi-frontend use) is a simplified stand-in for the IRMA
protocol, which needs real credentials: `GET {sessionPtr.u}` for the request, `POST {u}/proofs` with
the attributes the wallet chose (no cryptographic proofs; the wallet states the proof status),
`DELETE {u}` to cancel. yivi-frontend's endpoints are in devstack/irma_frontend.py.

`fault` injects infrastructure failures on the requestor API: "500", "garbage", "slow", "reset".
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack.loopback import LoopbackServer, QuietHandler

FINAL = ("DONE", "CANCELLED", "TIMEOUT")
_ALPHABET = string.ascii_letters + string.digits
# internal/common/common.go SessionTokenRegex, matched unanchored (irma/messages.go ParseRequestorToken)
_TOKEN_RUN = re.compile(r"[A-Za-z0-9]{20}")
_DISCLOSURE_CONTEXT = "https://irma.app/ld/request/disclosure/v2"
_CLIENT_REQUEST_CONTEXT = "https://irma.app/ld/request/client/v1"
_OPTIONS_CONTEXT = "https://irma.app/ld/request/options/v1"
DEFAULT_JWT_VALIDITY = 120  # irma/requests.go DefaultJwtValidity
# Go's http.TimeoutHandler body when its message is empty (irma/server/api.go TimeoutMiddleware)
_TIMEOUT_BODY = "<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>"
_LEVELS = {"trace": 0, "debug": 1, "info": 2, "warning": 3, "error": 4}


def new_token() -> str:
    """irmago's session tokens: 20 alphanumerics (internal/common/common.go NewSessionToken)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(20))


_token = new_token  # older name, kept for callers


@dataclass(frozen=True)
class IrmaServerConfig:
    """irmago's switches that matter to idbellen (irma/server/conf.go, requestorserver/conf.go, the
    CLI's flags in yivi/cli/irmacli/server.go), lifetimes in seconds."""

    jwt_privkey: bool = True  # `jwt_privkey`: sign results (callbacks, /result-jwt, /publickey)
    jwt_issuer: str = "irmaserver"  # `jwt_issuer` (the CLI's default; the library's is empty)
    allow_unsigned_callbacks: bool = False  # `allow_unsigned_callbacks`
    session_result_lifetime: int = 300  # `session_result_lifetime`, 5 minutes
    max_session_lifetime: int = 900  # `max_session_lifetime`, 15 minutes
    write_timeout: float = 4.0  # server.WriteTimeout; the TimeoutHandler answers 503 200 ms later
    sweep_interval: float = 10.0  # the memory store's deleteExpired schedule
    background_sweep: bool = True  # sweep on a real-time schedule too (not only when touched)
    log_level: str = "info"  # irmago's CLI: info (default), debug (-v), trace (-vv) or quiet (-q)
    augment_client_return_url: bool = True  # `augment_client_return_url`: harsher, appends the token


@dataclass
class DemoSession:
    token: str
    client_token: str
    request: dict[str, Any]  # the session request the app gets (disclose, labels, clientReturnUrl)
    timeout: int  # the requestor's `timeout` (ClientTimeout), 0 = max_session_lifetime
    validity: int  # the requestor's `validity` (ResultJwtValidity)
    callback_url: str | None
    created: float
    last_active: float = 0.0
    status: str = "INITIALIZED"
    proof_status: str | None = None
    disclosed: list[Any] | None = None
    error: dict[str, Any] | None = None
    frontend_auth: str = field(default_factory=new_token)
    client_auth: str | None = None
    pairing_method: str = "none"
    pairing_code: str | None = None

    @property
    def ended(self) -> float | None:
        return self.last_active if self.status in FINAL else None

    def clone(self) -> DemoSession:
        return replace(self, request=copy.deepcopy(self.request), disclosed=copy.deepcopy(self.disclosed))


class IrmaHttpError(Exception):
    """An irmago error response: `{"status", "error", "description"}` (irma/server/errors.go)."""

    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(error)
        self.status, self.error, self.description = status, error, description

    def body(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error, "description": self.description}


SESSION_UNKNOWN = (400, "SESSION_UNKNOWN", "Unknown or expired session")
INVALID_REQUEST = (400, "INVALID_REQUEST", "Invalid HTTP request")


@dataclass
class Response:
    status: int
    body: bytes | str | Any = b""
    content_type: str = "application/json; charset=UTF-8"


@dataclass
class CallbackRecord:
    token: str
    status: str
    signed: bool
    nested: bool  # started while another callback of the same session was still open
    answer: int | None = None  # HTTP status of the callback's answer (None: transport error)


class DemoIrmaServer:
    def __init__(
        self,
        requestor_token: str,
        clock: Callable[[], float] = time.time,
        result_lifetime: int | None = None,
        config: IrmaServerConfig | None = None,
    ) -> None:
        config = config or IrmaServerConfig()
        if result_lifetime is not None:
            config = replace(config, session_result_lifetime=result_lifetime)
        self.config = config
        self.requestor_token = requestor_token
        self.clock = clock
        self.sessions: dict[str, DemoSession] = {}
        self.by_client: dict[str, DemoSession] = {}
        self.lock = threading.RLock()
        self.fault: str | None = None
        self.slow_seconds = 4.0
        self.send_callbacks = True
        self.callbacks: list[CallbackRecord] = []
        self.log: list[dict[str, Any]] = []
        self._open_callbacks: dict[str, int] = {}
        self._sweep_lock = threading.Lock()
        self._last_sweep = clock()
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        self._key: rsa.RSAPrivateKey | None = None
        if config.jwt_privkey:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._server = LoopbackServer(_Handler, self)

    # -- configuration and keys --------------------------------------------------------------------
    @property
    def result_lifetime(self) -> int:
        return self.config.session_result_lifetime

    @property
    def result_kept_at_most(self) -> float:
        """How long after a session's last activity its result can still be read: the lifetime, plus
        up to one sweep interval until the sweep deletes it."""
        return self.config.session_result_lifetime + self.config.sweep_interval

    @property
    def public_key_pem(self) -> str:
        """The result-JWT key's public half, as `GET /publickey` serves it ("" without a key)."""
        if self._key is None:
            return ""
        return (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def rotate_jwt_key(self) -> str:
        """Install a new `jwt_privkey` (a key rotation); returns the new public key."""
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.public_key_pem

    @property
    def callbacks_sent(self) -> int:
        return sum(1 for c in self.callbacks if c.answer is not None)

    @property
    def nested_callbacks(self) -> int:
        return sum(1 for c in self.callbacks if c.nested)

    def callbacks_for(self, token: str) -> list[CallbackRecord]:
        return [c for c in self.callbacks if c.token == token]

    def session_for(self, session_ptr: dict[str, Any]) -> DemoSession:
        """The session behind a session pointer (tests use it to reach the requestor token)."""
        client_token = str(session_ptr["u"]).rstrip("/").rsplit("/", 1)[-1]
        with self.lock:
            return self.by_client[client_token]

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> DemoIrmaServer:
        self._server.start()
        if self.config.background_sweep:
            self._sweeper = threading.Thread(target=self._sweep_forever, daemon=True)
            self._sweeper.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.stop()

    # -- irmago's log (in memory only) -----------------------------------------------------------
    def _log(self, level: str, message: str, **fields: Any) -> None:
        if self.config.log_level == "quiet" or _LEVELS[level] < _LEVELS[self.config.log_level]:
            return
        with self.lock:
            self.log.append({"level": level, "msg": message, **fields})

    def log_text(self) -> str:
        with self.lock:
            return "\n".join(json.dumps(r, sort_keys=True) for r in self.log)

    # -- session life (irma/server/irmaserver/helpers.go timeout, ttl) -------------------------------
    def _timeout(self, session: DemoSession, now: float) -> float:
        period: float = self.config.max_session_lifetime
        if session.status == "INITIALIZED" and session.timeout:
            period = session.timeout
        elif session.status in FINAL:
            period = 0
        return period - (now - session.last_active)

    def _ttl(self, session: DemoSession, now: float) -> float:
        return self._timeout(session, now) + self.config.session_result_lifetime

    def _set_status(self, session: DemoSession, status: str) -> None:
        """helpers.go setStatus: a final status calls back at once, on the (not yet stored) copy."""
        session.status = status
        if status in FINAL:
            self._callback(session)

    def _transaction(
        self,
        handler: Callable[[DemoSession], tuple[bool, Any]],
        *,
        token: str | None = None,
        client_token: str | None = None,
        now: float | None = None,
    ) -> Any:
        """sessions.go handleTransaction: the handler works on a copy; a timed-out session becomes
        TIMEOUT on that copy (calling back) and stays stored as it was unless the handler updates."""
        with self.lock:
            stored = self.sessions.get(token) if token is not None else self.by_client.get(client_token or "")
            if stored is None:
                raise IrmaHttpError(*SESSION_UNKNOWN)
            work = stored.clone()
        if work.status not in FINAL and self._timeout(work, self.clock() if now is None else now) <= 0:
            self._set_status(work, "TIMEOUT")
        update, value = handler(work)
        if update:
            with self.lock:
                if self.sessions.get(work.token) is not stored:
                    raise IrmaHttpError(500, "INTERNAL_ERROR", "Internal server error")
                self.sessions[work.token] = work
                self.by_client[work.client_token] = work
            self._log("info", "Session updated", session=work.token, status=work.status)
        return value

    def _mark_alive(self, session: DemoSession) -> None:
        session.last_active = self.clock()

    # -- the sweep (irmaserver/sessions.go deleteExpired, every 10 s) ----------------------------------
    def sweep(self, now: float | None = None) -> int:
        """One run of the memory store's deleteExpired at `now`: touching every session (which calls
        back for each timed-out one), then deleting those whose ttl has passed. Returns deletions."""
        now = self.clock() if now is None else now
        with self.lock:
            tokens = list(self.sessions)
        expired: list[str] = []
        for token in tokens:
            try:
                if self._transaction(lambda s: (False, self._ttl(s, now) <= 0), token=token, now=now):
                    expired.append(token)
            except IrmaHttpError:
                continue
        with self.lock:
            for token in expired:
                session = self.sessions.pop(token, None)
                if session is not None:
                    self.by_client.pop(session.client_token, None)
        for token in expired:
            self._log("info", "Deleting expired session", session=token)
        return len(expired)

    def catch_up(self, now: float | None = None) -> None:
        """Run every sweep that is due by `now` on the 10-second schedule. The dev stack's clock can
        jump forward; the sweeps it jumped over happen here, before the next request is handled
        (sweeps in which nothing can happen — no session timed out or past its lifetime — are
        skipped, so a jump of hours stays cheap)."""
        now = self.clock() if now is None else now
        if not self._sweep_lock.acquire(blocking=False):
            return  # a sweep is running (irmago's runs in its own goroutine, requests do not wait)
        try:
            interval = self.config.sweep_interval
            while self._last_sweep + interval <= now:
                tick = self._last_sweep + interval
                with self.lock:
                    events = [self._event_at(s) for s in self.sessions.values()]
                earliest = min(events, default=now + interval)
                if earliest > tick:
                    skip = (min(earliest, now) - tick) // interval
                    if skip >= 1:
                        self._last_sweep += skip * interval
                        continue
                    if not events:
                        self._last_sweep = tick
                        continue
                self.sweep(tick)
                self._last_sweep = tick
        finally:
            self._sweep_lock.release()

    def _event_at(self, session: DemoSession) -> float:
        """From when a sweep has something to do for this session: its timeout (then a TIMEOUT
        callback every sweep until it is deleted), or, once finished, its deletion."""
        if session.status in FINAL:
            return session.last_active + self.config.session_result_lifetime
        period: float = self.config.max_session_lifetime
        if session.status == "INITIALIZED" and session.timeout:
            period = session.timeout
        return session.last_active + period

    def _sweep_forever(self) -> None:
        while not self._stop.wait(min(1.0, self.config.sweep_interval)):
            try:
                self.catch_up()
            except Exception:  # noqa: S112 (a sweep must never stop the sweeper)
                continue

    # -- results ------------------------------------------------------------------------------------
    def result(self, session: DemoSession) -> dict[str, Any]:
        """server.SessionResult as JSON (irma/server/api.go: omitempty on proofStatus, disclosed, error)."""
        body: dict[str, Any] = {"token": session.token, "status": session.status, "type": "disclosing"}
        if session.proof_status:
            body["proofStatus"] = session.proof_status
        if session.disclosed:
            body["disclosed"] = session.disclosed
        if session.error:
            body["error"] = session.error
        return body

    def result_jwt(self, session: DemoSession) -> str:
        """server.ResultJwt: RS256, iss = jwt_issuer (left out when empty), sub, iat, exp = iat + validity."""
        if self._key is None:
            raise IrmaHttpError(500, "EXCEPTION", "JWT signing not supported")
        now = int(self.clock())
        claims: dict[str, Any] = {**self.result(session), "sub": "disclosing_result", "iat": now}
        claims["exp"] = now + (session.validity or DEFAULT_JWT_VALIDITY)
        if self.config.jwt_issuer:
            claims["iss"] = self.config.jwt_issuer
        return jwt.encode(claims, self._key, algorithm="RS256")

    def _callback(self, session: DemoSession) -> None:
        """server.DoResultCallback, synchronously: the JWT (text/plain) with a key, else the plain
        result (application/json), to callbackUrl + "/" (irma/transport.go NewHTTPTransport appends
        the slash); retried twice on transport errors only; the answer's status is ignored."""
        url = session.callback_url
        if not url or not self.send_callbacks:
            return
        if not url.startswith("https"):
            self._log(
                "warning",
                "POSTing session result to callback URL without TLS: attributes are unencrypted in traffic",
                session=session.token,
                callbackUrl=url,
            )
        if not url.startswith("http://127.0.0.1:"):
            return  # the dev stack only ever calls back to loopback
        if self._key is not None:
            data, content_type = self.result_jwt(session), "text/plain; charset=UTF-8"
        else:
            data, content_type = json.dumps(self.result(session)), "application/json; charset=UTF-8"
        with self.lock:
            nested = self._open_callbacks.get(session.token, 0) > 0
            self._open_callbacks[session.token] = self._open_callbacks.get(session.token, 0) + 1
        record = CallbackRecord(session.token, session.status, self._key is not None, nested)
        with self.lock:
            self.callbacks.append(record)
        try:
            for _ in range(3):
                try:
                    answer = requests.post(
                        url if url.endswith("/") else url + "/",
                        data=data.encode(),
                        headers={"Content-Type": content_type, "User-Agent": "irmago"},
                        timeout=20,
                    )
                    record.answer = answer.status_code
                    return
                except requests.RequestException:
                    continue
            self._log(
                "warning", "failed to POST session result to callback URL", session=session.token, callbackUrl=url
            )
        finally:
            with self.lock:
                self._open_callbacks[session.token] -= 1

    # -- requestor API ---------------------------------------------------------------------------
    def start_session(self, body: Any) -> DemoSession:
        """requestorserver/server.go createSession (after token auth)."""
        if not isinstance(body, dict):
            raise IrmaHttpError(*INVALID_REQUEST)
        extended = "request" in body
        request = body.get("request") if extended else body
        base = body if extended else {}
        if not isinstance(request, dict) or not isinstance(request.get("disclose"), list):
            raise IrmaHttpError(*INVALID_REQUEST)
        if request.get("@context", _DISCLOSURE_CONTEXT) != _DISCLOSURE_CONTEXT or not _valid_condiscon(
            request["disclose"]
        ):
            raise IrmaHttpError(*INVALID_REQUEST)
        timeout, validity, callback_url = base.get("timeout", 0), base.get("validity", 0), base.get("callbackUrl")
        if not isinstance(timeout, int) or not isinstance(validity, int):
            raise IrmaHttpError(*INVALID_REQUEST)
        if callback_url is not None and not isinstance(callback_url, str):
            raise IrmaHttpError(*INVALID_REQUEST)
        if callback_url and self._key is None and not self.config.allow_unsigned_callbacks:
            message = (
                "callbackUrl provided but no JWT private key is installed: "
                "either install JWT or enable allow_unsigned_callbacks in configuration"
            )
            self._log("warning", message, requestor="requestor")
            raise IrmaHttpError(501, "UNSUPPORTED", message)
        now = self.clock()
        session = DemoSession(
            token=new_token(),
            client_token=new_token(),
            request=copy.deepcopy(request),
            timeout=timeout,
            validity=validity or DEFAULT_JWT_VALIDITY,
            callback_url=callback_url or None,
            created=now,
            last_active=now,
        )
        return_url = session.request.get("clientReturnUrl")
        if self.config.augment_client_return_url and session.request.get("augmentReturnUrl") and return_url:
            joiner = "&" if "?" in return_url else "?"
            session.request["clientReturnUrl"] = f"{return_url}{joiner}token={session.token}"
        with self.lock:
            self.sessions[session.token] = session
            self.by_client[session.client_token] = session
        self._log("info", "Session started", action="disclosing", session=session.token)
        logged = {**base, "request": session.request} if extended else session.request
        if self.config.log_level in ("debug", "trace"):
            self._log(
                "info",
                "Session request: " + json.dumps(logged),
                session=session.token,
                clienttoken=session.client_token,
            )
        else:
            self._log(
                "info",
                "Session request (purged of attribute values): " + json.dumps(_purged(logged)),
                session=session.token,
            )
        return session

    def status_of(self, token: str) -> str:
        return str(self._transaction(lambda s: (False, s.status), token=token))

    def result_of(self, token: str) -> dict[str, Any]:
        return dict(self._transaction(lambda s: (False, self.result(s)), token=token))

    def result_jwt_of(self, token: str) -> str:
        if self._key is None:
            raise IrmaHttpError(500, "EXCEPTION", "JWT signing not supported")
        return str(self._transaction(lambda s: (False, self.result_jwt(s)), token=token))

    def cancel(self, token: str) -> None:
        """api.go CancelSession: handleDelete in a transaction that always stores (so a timed-out
        session is stored as TIMEOUT here, after its callback); a finished session is left alone."""

        def delete(session: DemoSession) -> tuple[bool, None]:
            if session.status not in FINAL:
                self._mark_alive(session)
                session.proof_status, session.disclosed, session.error = None, None, None
                self._set_status(session, "CANCELLED")
            return True, None

        self._transaction(delete, token=token)

    # -- client side (the app) ---------------------------------------------------------------------
    def client_request(self, client_token: str, authorization: str | None) -> dict[str, Any]:
        """handle.go handleGetClientRequest: only once, from INITIALIZED; CONNECTED (or PAIRING)."""

        def get(session: DemoSession) -> tuple[bool, Any]:
            if session.status != "INITIALIZED":
                return False, IrmaHttpError(403, "UNEXPECTED_REQUEST", "Session already started")
            self._mark_alive(session)
            if not authorization:
                session.error = {"error": "UNAUTHORIZED", "description": "No authorization header provided"}
                self._set_status(session, "CANCELLED")
                return True, IrmaHttpError(403, "UNAUTHORIZED", "No authorization header provided")
            session.client_auth = authorization
            self._set_status(session, "PAIRING" if session.pairing_method != "none" else "CONNECTED")
            return True, {
                "@context": _CLIENT_REQUEST_CONTEXT,
                "protocolVersion": "2.8",
                "options": {"@context": _OPTIONS_CONTEXT, "pairingMethod": session.pairing_method},
                "request": session.request,
            }

        out = self._transaction(get, client_token=client_token)
        if isinstance(out, IrmaHttpError):
            raise out
        return dict(out)

    def post_proofs(self, client_token: str, authorization: str | None, payload: Any) -> dict[str, Any]:
        """handle.go handleSessionProofs: verify against the request, then setStatus(DONE) — which
        calls back — and only then is the session stored (the middleware's transaction)."""

        def proofs(session: DemoSession) -> tuple[bool, Any]:
            if session.status == "PAIRING":
                return False, IrmaHttpError(403, "PAIRING_REQUIRED", "Pairing is required first")
            if session.status != "CONNECTED":
                return False, IrmaHttpError(403, "UNEXPECTED_REQUEST", "Session not yet started or already finished")
            if not authorization or authorization != session.client_auth:
                return False, IrmaHttpError(403, "UNAUTHORIZED", "You are not authorized to access the session")
            if not isinstance(payload, dict) or not isinstance(payload.get("disclosed"), list):
                return False, IrmaHttpError(400, "MALFORMED_INPUT", "Input could not be parsed")
            self._mark_alive(session)
            stated = str(payload.get("proofStatus") or "VALID")
            complete, disclosed = _verify(session.request["disclose"], payload["disclosed"], payload.get("extra") or [])
            if stated == "INVALID":
                session.proof_status, session.disclosed = "INVALID", None
            else:
                session.disclosed = disclosed
                session.proof_status = "MISSING_ATTRIBUTES" if stated == "VALID" and not complete else stated
            self._set_status(session, "DONE")
            return True, {"sessionType": "disclosing", "protocolVersion": "2.8", "proofStatus": session.proof_status}

        out = self._transaction(proofs, client_token=client_token)
        if isinstance(out, IrmaHttpError):
            raise out
        return dict(out)

    def client_cancel(self, client_token: str) -> None:
        def delete(session: DemoSession) -> tuple[bool, None]:
            if session.status in FINAL:
                return False, None
            self._mark_alive(session)
            self._set_status(session, "CANCELLED")
            return True, None

        self._transaction(delete, client_token=client_token)

    def abandon(self, client_token: str) -> None:
        """The app walks away: the session's last activity moves back past its timeout (as if the
        time had passed for it alone). The next access times it out and calls back (the demo wallet's
        `status="TIMEOUT"`)."""
        with self.lock:
            session = self.by_client[client_token]
            remaining = self._timeout(session, self.clock())
            if remaining > -1:
                session.last_active -= remaining + 1

    # -- kept for older callers -----------------------------------------------------------------------
    def find(self, token: str) -> DemoSession | None:
        try:
            return self._transaction(lambda s: (False, s), token=token)  # type: ignore[no-any-return]
        except IrmaHttpError:
            return None


def _purged(request: dict[str, Any]) -> dict[str, Any]:
    """helpers.go purgeRequest: the request without required attribute *values* (all else stays,
    clientReturnUrl and callbackUrl included)."""
    out = copy.deepcopy(request)
    inner = out.get("request", out)
    for discon in inner.get("disclose", []):
        for con in discon:
            for attr in con:
                if isinstance(attr, dict):
                    attr.pop("value", None)
    return out


def _attribute_request(entry: Any) -> dict[str, Any] | None:
    """irma/requests.go AttributeRequest: a plain id, or {"type", "value", "notNull"}."""
    if isinstance(entry, str):
        return {"type": entry, "value": None, "notNull": False}
    if isinstance(entry, dict) and isinstance(entry.get("type"), str):
        value = entry.get("value")
        return {
            "type": entry["type"],
            "value": value if isinstance(value, str) else None,
            "notNull": bool(entry.get("notNull")),
        }
    return None


def _valid_condiscon(disclose: list[Any]) -> bool:
    return all(
        isinstance(discon, list)
        and discon
        and all(isinstance(con, list) and all(_attribute_request(a) is not None for a in con) for con in discon)
        for discon in disclose
    )


def _verify(
    disclose: list[list[list[Any]]], chosen: list[Any], extra: list[Any]
) -> tuple[bool, list[list[dict[str, Any]] | None]]:
    """irma/verify.go DisclosedAttributes + requests.go AttributeConDisCon.Satisfy: for each
    disjunction the attributes of the first alternative the disclosed ones satisfy, positionally
    (`null` when none does, `[]` for a chosen empty alternative), then one list of EXTRA ones."""
    out: list[list[dict[str, Any]] | None] = []
    complete = True
    for i, discon in enumerate(disclose):
        given = chosen[i] if i < len(chosen) and isinstance(chosen[i], list) else None
        satisfied: list[dict[str, Any]] | None = None
        if given is not None:
            for con in discon:
                requests_ = [_attribute_request(a) for a in con]
                if len(con) == 0:
                    if not given:
                        satisfied = []
                        break
                    continue
                if len(given) < len(con):
                    continue
                attrs = [_disclosed_attribute(a, "PRESENT") for a in given[: len(con)]]
                if all(
                    r is not None
                    and a["id"] == r["type"]
                    and (not r["notNull"] or a["rawvalue"] is not None)
                    and (r["value"] is None or a["rawvalue"] == r["value"])
                    for r, a in zip(requests_, attrs, strict=True)
                ):
                    satisfied = attrs
                    break
        if satisfied is None:
            complete = False
        out.append(satisfied)
    extras = [_disclosed_attribute(a, "EXTRA") for a in extra if isinstance(a, dict)]
    if extras:
        out.append(extras)
    return complete, out


def _disclosed_attribute(given: Any, status: str) -> dict[str, Any]:
    """irma/verify.go DisclosedAttribute: NULL (rawvalue and value null) when the value is absent."""
    attr_id = str(given.get("id")) if isinstance(given, dict) else ""
    raw = given.get("rawvalue") if isinstance(given, dict) else None
    raw = raw if isinstance(raw, str) else None
    return {
        "rawvalue": raw,
        "value": {"": raw, "en": raw, "nl": raw} if raw is not None else None,
        "id": attr_id,
        "status": status if raw is not None or status == "EXTRA" else "NULL",
        "issuancetime": 1700000000,
    }


def _error(status: int, code: str, description: str) -> dict[str, Any]:
    return {"status": status, "error": code, "description": description}


class _Handler(QuietHandler):
    @property
    def irma(self) -> DemoIrmaServer:
        return self.server.app  # type: ignore[attr-defined,no-any-return]

    def _parts(self) -> list[str]:
        return [p for p in self.path.split("?", 1)[0].split("/") if p]

    # -- irmago's TimeoutMiddleware: 503 after write_timeout + 200 ms; the work goes on --------------
    def _within_deadline(self, work: Callable[[], Response]) -> None:
        self.irma.catch_up()
        box: dict[str, Response] = {}

        def run() -> None:
            try:
                box["response"] = work()
            except IrmaHttpError as exc:
                box["response"] = Response(exc.status, exc.body())

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(self.irma.config.write_timeout + 0.2)
        response = box.get("response")
        if response is None:
            self.send(503, _TIMEOUT_BODY, "text/html; charset=utf-8")
            return
        self.send(response.status, response.body, response.content_type)

    def _fault(self) -> Response | None:
        fault = self.irma.fault
        if fault is None:
            return None
        if fault == "slow":
            time.sleep(self.irma.slow_seconds)
            return None
        if fault == "500":
            return Response(500, _error(500, "INTERNAL_ERROR", "injected fault"))
        if fault == "garbage":
            return Response(200, b"<html>not json", "text/html")
        return Response(-1)  # reset

    def _send_or_reset(self, work: Callable[[], Response]) -> None:
        fault = self._fault()
        if fault is not None and fault.status == -1:
            self.close_connection = True
            self.connection.close()
            return
        if fault is not None:
            self.send(fault.status, fault.body, fault.content_type)
            return
        self._within_deadline(work)

    def _requestor_token(self, raw: str) -> str:
        if not _TOKEN_RUN.search(raw):
            raise IrmaHttpError(*INVALID_REQUEST)
        return raw

    def do_GET(self) -> None:
        parts = self._parts()
        irma = self.irma
        if parts == ["publickey"]:
            if irma._key is None:
                self.send(501, _error(501, "UNSUPPORTED", "Unsupported by this server"))
            else:
                self.send(200, irma.public_key_pem, "text/plain")
            return
        if len(parts) == 3 and parts[:2] == ["irma", "session"]:
            auth = self.headers.get("Authorization")
            self._within_deadline(lambda: Response(200, irma.client_request(_client_token(parts[2]), auth)))
            return
        if len(parts) == 3 and parts[0] == "session":

            def work() -> Response:
                token = self._requestor_token(parts[1])
                if parts[2] == "status":
                    return Response(200, json.dumps(irma.status_of(token)))
                if parts[2] == "result":
                    return Response(200, irma.result_of(token))
                if parts[2] == "result-jwt":
                    return Response(200, irma.result_jwt_of(token), "text/plain")
                return Response(404, _error(404, "INVALID_REQUEST", "no such endpoint"))

            self._send_or_reset(work)
            return
        self.send(404, _error(404, "INVALID_REQUEST", "no such endpoint"))

    def do_POST(self) -> None:
        parts = self._parts()
        body = self.read_body()
        irma = self.irma
        if parts == ["session"]:
            self._send_or_reset(lambda: self._create(body))
            return
        if len(parts) == 4 and parts[:2] == ["irma", "session"] and parts[3] == "proofs":
            auth = self.headers.get("Authorization")

            def work() -> Response:
                try:
                    payload = json.loads(body or b"null")
                except ValueError:
                    raise IrmaHttpError(400, "MALFORMED_INPUT", "Input could not be parsed") from None
                return Response(200, irma.post_proofs(_client_token(parts[2]), auth, payload))

            self._within_deadline(work)
            return
        self.send(404, _error(404, "INVALID_REQUEST", "no such endpoint"))

    def _create(self, body: bytes) -> Response:
        """requestorserver/auth.go PresharedKeyAuthenticator + server.go checkAuth/createSession."""
        irma = self.irma
        auth = self.headers.get("Authorization") or ""
        content_type = self.headers.get("Content-Type") or ""
        if not auth or not content_type.startswith("application/json"):
            if not content_type.startswith(("application/json", "text/plain")):
                raise IrmaHttpError(400, "INVALID_REQUEST", "Unsupported Content-Type: " + content_type)
            raise IrmaHttpError(400, "INVALID_REQUEST", "request could not be authenticated")
        if not secrets.compare_digest(auth, irma.requestor_token):
            raise IrmaHttpError(403, "UNAUTHORIZED", "You are not authorized to issue or verify this attribute")
        try:
            request = json.loads(body)
        except ValueError:
            raise IrmaHttpError(*INVALID_REQUEST) from None
        session = irma.start_session(request)
        return Response(
            200,
            {
                "sessionPtr": {"u": f"{irma.url}/irma/session/{session.client_token}", "irmaqr": "disclosing"},
                "token": session.token,
                "frontendRequest": {
                    "authorization": session.frontend_auth,
                    "minProtocolVersion": "1.0",
                    "maxProtocolVersion": "1.1",
                },
            },
        )

    def do_DELETE(self) -> None:
        parts = self._parts()
        irma = self.irma
        if len(parts) == 2 and parts[0] == "session":

            def work() -> Response:
                irma.cancel(self._requestor_token(parts[1]))
                return Response(200, b"", "text/plain")

            self._within_deadline(work)
            return
        if len(parts) == 3 and parts[:2] == ["irma", "session"]:

            def client_work() -> Response:
                irma.client_cancel(_client_token(parts[2]))
                return Response(200, b"", "text/plain")

            self._within_deadline(client_work)
            return
        self.send(404, _error(404, "INVALID_REQUEST", "no such endpoint"))


def _client_token(raw: str) -> str:
    """irma/messages.go ParseClientToken (sessionMiddleware): 400 INVALID_REQUEST when malformed."""
    if not _TOKEN_RUN.search(raw):
        raise IrmaHttpError(*INVALID_REQUEST)
    return raw


# yivi-frontend's client endpoints (status, statusevents, frontend options, CORS): devstack/irma_frontend.py
from devstack.irma_frontend import add_frontend_endpoints  # noqa: E402

add_frontend_endpoints(_Handler)
