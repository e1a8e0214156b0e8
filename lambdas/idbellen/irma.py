"""IRMA/Yivi requestor API client and the rules for accepting a disclosure result.

The requestor token authenticates us to the IRMA server; the per-session token is the key to a
citizen's result. Neither is ever logged: urllib3's logger is pinned (observability) because its
DEBUG lines carry request URLs, and both tokens are registered with the redactor.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from idbellen import clock
from idbellen.config import Purpose
from idbellen.errors import IntegrityError, IrmaError, SessionUnknown
from idbellen.observability import redactor

FINAL_STATUSES = frozenset({"DONE", "CANCELLED", "TIMEOUT"})
MOBILE_SUFFIX = ".mobilenumber"
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 3.0
JWT_LEEWAY = 30


@dataclass(frozen=True)
class StartedSession:
    token: str
    session_ptr: dict[str, Any]
    frontend_request: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What a result means for us: `final` ends the wait; `accepted` only for DONE + VALID + complete."""

    final: bool
    accepted: bool
    reason: str
    attributes: list[tuple[str, str]] = field(default_factory=list)
    proof_status: str = ""


def _session() -> requests.Session:
    http = requests.Session()
    # Reads are idempotent and retried on transport errors and 502/503/504; starting a session is a
    # POST and is retried only when the connection was never made.
    retry = Retry(
        total=2,
        connect=2,
        read=1,
        status=2,
        allowed_methods=frozenset({"GET", "DELETE"}),
        status_forcelist=(502, 503, 504),
        backoff_factor=0.1,
        raise_on_status=False,
    )
    http.mount("http://", HTTPAdapter(max_retries=retry))
    http.mount("https://", HTTPAdapter(max_retries=retry))
    return http


class IrmaClient:
    def __init__(self, base_url: str, requestor_token: Callable[[], str], http: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self._requestor_token = requestor_token
        self.http = http or _session()

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.http.request(method, self.base_url + path, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), **kwargs)
        except requests.RequestException:
            raise IrmaError("IRMA server unreachable") from None

    @staticmethod
    def _json(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise IrmaError("IRMA server sent malformed JSON") from None

    @staticmethod
    def _check(response: requests.Response) -> None:
        if response.status_code == 200:
            return
        error = ""
        try:
            body = response.json()
            error = body.get("error", "") if isinstance(body, dict) else ""
        except ValueError:
            pass
        if error == "SESSION_UNKNOWN":
            raise SessionUnknown("IRMA session unknown")
        raise IrmaError(f"IRMA server answered {response.status_code} {error}".strip())

    def start(self, request: dict[str, Any]) -> StartedSession:
        token = self._requestor_token()
        redactor.register(token)
        response = self._request(
            "POST",
            "/session",
            data=json.dumps(request),
            headers={"Authorization": token, "Content-Type": "application/json"},
        )
        self._check(response)
        body = self._json(response)
        try:
            started = StartedSession(
                token=str(body["token"]),
                session_ptr=dict(body["sessionPtr"]),
                frontend_request=dict(body.get("frontendRequest") or {}),
            )
        except (KeyError, TypeError, ValueError):
            raise IrmaError("IRMA server sent an unexpected session") from None
        if not started.token or not isinstance(started.session_ptr.get("u"), str):
            raise IrmaError("IRMA server sent an unexpected session")
        redactor.register(started.token)
        return started

    def result(self, session_token: str) -> dict[str, Any]:
        redactor.register(session_token)
        response = self._request("GET", f"/session/{session_token}/result")
        self._check(response)
        body = self._json(response)
        if not isinstance(body, dict):
            raise IrmaError("IRMA server sent an unexpected result")
        return body

    def cancel(self, session_token: str) -> None:
        """Best effort: a session we could not store must not stay usable at the IRMA server."""
        with contextlib.suppress(IrmaError):
            self._request("DELETE", f"/session/{session_token}")


def disclosure_request(
    purpose: Purpose, phone_number: str, dtmf: str, callback_url: str, timeout: int
) -> dict[str, Any]:
    """Extended session request. Never sets `augmentReturnUrl` (it would append our token)."""
    return {
        "request": {
            "@context": "https://irma.app/ld/request/disclosure/v2",
            "disclose": purpose.disclose,
            "labels": {str(i): purpose.label for i in range(len(purpose.disclose))},
            "clientReturnUrl": f"tel:{phone_number},{dtmf}",
        },
        "timeout": timeout,
        "callbackUrl": callback_url,
    }


def evaluate(result: dict[str, Any], purpose: Purpose) -> Outcome:
    """Accept only DONE + VALID with every requested inner conjunction present, values as raw strings."""
    status = result.get("status")
    proof = result.get("proofStatus") or ""
    if status not in FINAL_STATUSES:
        return Outcome(final=False, accepted=False, reason="pending")
    if status == "CANCELLED":
        return Outcome(True, False, "cancelled")
    if status == "TIMEOUT":
        return Outcome(True, False, "timeout")
    if proof != "VALID":
        return Outcome(True, False, "invalid_proof", proof_status=str(proof)[:32])
    disclosed = result.get("disclosed")
    allowed = set(purpose.attribute_ids())
    if not isinstance(disclosed, list) or len(disclosed) != len(purpose.disclose):
        return Outcome(True, False, "missing_attributes", proof_status=proof)
    attributes: list[tuple[str, str]] = []
    for con in disclosed:
        if not isinstance(con, list) or not con:
            return Outcome(True, False, "missing_attributes", proof_status=proof)
        for attr in con:
            if not isinstance(attr, dict):
                return Outcome(True, False, "missing_attributes", proof_status=proof)
            attr_id, raw, state = attr.get("id"), attr.get("rawvalue"), attr.get("status")
            if state != "PRESENT" or not isinstance(attr_id, str) or not isinstance(raw, str):
                return Outcome(True, False, "missing_attributes", proof_status=proof)
            if attr_id not in allowed:
                continue  # never store what the purpose did not ask for
            attributes.append((attr_id, raw))
    if not attributes:
        return Outcome(True, False, "missing_attributes", proof_status=proof)
    return Outcome(True, True, "accepted", attributes, proof)


def verify_result_jwt(token: str, public_key_pem: str) -> dict[str, Any]:
    """Verify an IRMA result JWT (RS256, iss irmaserver, sub disclosing_result, unexpired)."""
    import jwt  # only the callback path pays for PyJWT

    try:
        claims = jwt.decode(
            token,
            public_key_pem,
            algorithms=["RS256"],
            issuer="irmaserver",
            # Times are checked below against idbellen.clock, the one "now" every other check uses.
            options={"require": ["exp", "iat", "iss", "sub"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise IntegrityError("result JWT failed verification") from None
    if claims.get("sub") != "disclosing_result":
        raise IntegrityError("result JWT has the wrong subject")
    now, exp, iat = clock.now(), claims.get("exp"), claims.get("iat")
    if not _number(exp) or not _number(iat) or exp < now - JWT_LEEWAY or iat > now + JWT_LEEWAY:
        raise IntegrityError("result JWT expired or not yet valid")
    return dict(claims)


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def mobile_numbers(attributes: list[tuple[str, str]]) -> list[str]:
    return [value for attr_id, value in attributes if attr_id.endswith(MOBILE_SUFFIX)]
