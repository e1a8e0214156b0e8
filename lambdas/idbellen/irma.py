"""IRMA/Yivi requestor API client and the rules for accepting a disclosure result.

The requestor token authenticates us to the IRMA server; the per-session token is the key to a
citizen's result. Neither is ever logged: urllib3's logger is pinned (observability) because its
DEBUG lines carry request URLs, and both tokens are registered with the redactor.

`requests` is imported only when a client is built: the IRMA callback (which must answer within the
app's 4.2 s, cold) uses the result rules here and never calls the IRMA server.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard

from idbellen import clock
from idbellen.config import Purpose
from idbellen.errors import IntegrityError, IrmaError, SessionUnknown
from idbellen.redaction import redactor

if TYPE_CHECKING:
    import requests

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
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

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
        import requests

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
    purpose: Purpose, phone_number: str, dtmf: str, callback_url: str | None, timeout: int
) -> dict[str, Any]:
    """Extended session request. Never sets `augmentReturnUrl` (it would append our token).

    Attributes the purpose requires are asked for with `notNull` (the app then offers only
    credentials that hold a value); optional ones as plain ids (a NULL value satisfies them). No
    `callbackUrl` when `callback_url` is None: irmago refuses one (501) without a JWT key unless it
    allows unsigned callbacks."""
    disclose = [
        [[a if a in purpose.optional else {"type": a, "notNull": True} for a in con] for con in discon]
        for discon in purpose.disclose
    ]
    request: dict[str, Any] = {
        "request": {
            "@context": "https://irma.app/ld/request/disclosure/v2",
            "disclose": disclose,
            "labels": {str(i): purpose.label for i in range(len(purpose.disclose))},
            "clientReturnUrl": f"tel:{phone_number},{dtmf}",
        },
        "timeout": timeout,
    }
    if callback_url is not None:
        request["callbackUrl"] = callback_url
    return request


def evaluate(result: dict[str, Any], purpose: Purpose) -> Outcome:
    """Accept only DONE + VALID where every disjunction of the purpose is satisfied by one of its
    alternatives, as irmago reports it (irma/requests.go `AttributeConDisCon.Satisfy`, irma/verify.go
    `DisclosedAttributes`):

    - `disclosed[i]` answers disjunction i: the attributes of one alternative, in its order, each
      `PRESENT` with a string value or — only if the purpose marks it optional — `NULL` (`rawvalue`
      null); `[]` only where the purpose allows an empty alternative; `null` (unsatisfied) never;
    - after them may come one list of `EXTRA` attributes (disclosed, not asked for): dropped;
    - anything else — fewer lists, an unknown shape, an attribute the alternative does not name —
      is `missing_attributes`. Never more is stored than the purpose asked for, never less accepted.
    """
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
    missing = Outcome(True, False, "missing_attributes", proof_status=proof)
    disclosed = result.get("disclosed")
    wanted = len(purpose.disclose)
    if not isinstance(disclosed, list) or len(disclosed) not in (wanted, wanted + 1):
        return missing
    if len(disclosed) == wanted + 1 and not _all_extra(disclosed[-1]):
        return missing
    attributes: list[tuple[str, str]] = []
    for discon, answer in zip(purpose.disclose, disclosed[:wanted], strict=True):
        chosen = _satisfied(discon, answer, purpose.optional)
        if chosen is None:
            return missing
        attributes.extend(chosen)
    if not attributes:
        return missing
    return Outcome(True, True, "accepted", attributes, proof)


def _satisfied(discon: list[list[str]], answer: object, optional: frozenset[str]) -> list[tuple[str, str]] | None:
    """The (id, value) pairs with a value if `answer` satisfies one alternative of `discon`."""
    if not isinstance(answer, list):
        return None  # null: irmago's unsatisfied disjunction
    for con in discon:
        if len(con) != len(answer):
            continue
        values: list[tuple[str, str]] = []
        for attr_id, attr in zip(con, answer, strict=True):
            if not isinstance(attr, dict) or attr.get("id") != attr_id:
                break
            state, raw = attr.get("status"), attr.get("rawvalue")
            if state == "PRESENT" and isinstance(raw, str):
                values.append((attr_id, raw))
            elif state == "NULL" and raw is None and attr_id in optional:
                continue  # an optional attribute without a value: nothing to store
            else:
                break
        else:
            return values
    return None


def _all_extra(answer: object) -> bool:
    return (
        isinstance(answer, list)
        and bool(answer)
        and all(isinstance(a, dict) and a.get("status") == "EXTRA" for a in answer)
    )


def verify_result_jwt(token: str, public_keys: str | Sequence[str], issuer: str = "irmaserver") -> dict[str, Any]:
    """Verify an IRMA result JWT: RS256 by one of `public_keys` (PEM; two during a key rotation),
    `iss` irmago's `jwt_issuer`, `sub` `disclosing_result`, unexpired (`exp` = iat + the request's
    validity, 120 s by default)."""
    import jwt  # only the callback path pays for PyJWT

    keys = [public_keys] if isinstance(public_keys, str) else list(public_keys)
    claims: dict[str, Any] | None = None
    for pem in keys:
        try:
            claims = jwt.decode(
                token,
                pem,
                algorithms=["RS256"],
                issuer=issuer,
                # Times are checked below against idbellen.clock, the one "now" every other check uses.
                options={"require": ["exp", "iat", "iss", "sub"], "verify_exp": False, "verify_iat": False},
            )
            break
        except jwt.PyJWTError:
            continue
    if claims is None:
        raise IntegrityError("result JWT failed verification")
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
