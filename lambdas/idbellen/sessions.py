"""Citizen side: start a disclosure session, report its status, accept or pull its result.

Three idempotent triggers reach `_accept`: the IRMA server's callback (a signed result JWT), the
browser's `complete`, and the DTMF function's pull. Only the first result that is final changes the
record; later triggers see the stored status.

The callback never calls the IRMA server. irmago POSTs it synchronously inside the app's final
request, *before* it stores DONE (a pull during the callback still reads CONNECTED), and a session
that timed out fires a TIMEOUT callback on every access until it is deleted: a callback that pulled
would read nothing useful, or feed the next callback. With a JWT key the signed result is used as
is; without one (`IDBELLEN_IRMA_UNSIGNED_CALLBACKS=on`) the body is never read: the callback only
leaves a hint, and the citizen's next status poll pulls (docs/architecture.md, "IRMA callbacks").

Logging and metrics come from `observability_lite` (stdlib), so the callback's cold start imports
no Powertools: it must answer within the app's 4.2 s (`make bench`: `cold_callback_ms`).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from idbellen import audit, clock, codes, crypto
from idbellen.errors import BadRequest, ConfigError, IntegrityError, IrmaError, NotFound, SessionUnknown, Unavailable
from idbellen.irma import disclosure_request, evaluate, mobile_numbers, verify_result_jwt
from idbellen.observability_lite import count, count_by, logger, redactor, safe_error
from idbellen.store import CALLBACK, DTMF, SESSION, ConditionFailed, delete_op, put_op, update_op
from idbellen.wiring import Services

PENDING, DISCLOSED, FAILED, CLOSED, CALLED, CONNECTED = (
    "PENDING",
    "DISCLOSED",
    "FAILED",
    "CLOSED",
    "CALLED",
    "CONNECTED",
)
START_ATTEMPTS = 3


def session_pk(session_id: str) -> str:
    return SESSION + codes.sha256_ref(session_id)


def _context(svc: Services, pk: str) -> dict[str, str]:
    return crypto.encryption_context(svc.settings.tenant, pk.removeprefix(SESSION))


def start(svc: Services, purpose_id: object) -> dict[str, Any]:
    settings = svc.settings
    settings.require("phone_number", "public_api_url")
    purpose = settings.purpose(purpose_id) if isinstance(purpose_id, str) else None
    if purpose is None:
        raise BadRequest("unknown_purpose")
    key = svc.hash_key()
    for _ in range(START_ATTEMPTS):
        session_id = codes.new_session_id()
        dtmf = codes.new_dtmf(settings.dtmf_length)
        redactor.register(dtmf)
        pk = session_pk(session_id)
        dtmf_pk = DTMF + codes.keyed_ref(key, "dtmf", settings.tenant, dtmf)
        # The callback URL carries its own random id (irmago logs callback URLs; the session_id is a
        # status handle that shows the DTMF code once disclosed): a pointer item leads to the session.
        callback_url, callback_pk = None, None
        if settings.irma_callbacks != "off":
            callback_id = codes.new_secret()
            callback_pk = CALLBACK + codes.sha256_ref(callback_id)
            callback_url = f"{settings.public_api_url}/irma/callback/{callback_id}"
        request = disclosure_request(purpose, settings.phone_number, dtmf, callback_url, settings.irma_session_timeout)
        try:
            started = svc.irma.start(request)
        except IrmaError:
            count("IrmaErrors")
            raise
        now = clock.now()
        expires_at = now + settings.ttl_seconds
        try:
            data_key = svc.envelope.new_key(_context(svc, pk))
            base = {"tenant": settings.tenant, "expires_at": expires_at, "created_at": now}
            pointer = [put_op({**base, "pk": callback_pk, "kind": "callback", "session_pk": pk})] if callback_pk else []
            svc.store.transact(
                [
                    put_op(
                        {
                            **base,
                            "pk": pk,
                            "kind": "session",
                            "status": PENDING,
                            "purpose": purpose.id,
                            "data_key": data_key.stored(),
                            "irma_token": data_key.seal("irma_token", started.token.encode()),
                            "dtmf_display": crypto.display_seal(session_id, pk, dtmf),
                            "dtmf_pk": dtmf_pk,
                            "callback_pk": callback_pk,
                        }
                    ),
                    put_op(
                        {
                            **base,
                            "pk": dtmf_pk,
                            "kind": "dtmf",
                            "state": "pending",
                            "session_pk": pk,
                            "purpose": purpose.id,
                        }
                    ),
                    *pointer,
                ]
            )
        except ConditionFailed:
            svc.irma.cancel(started.token)  # a code collision: try again with a fresh code
            continue
        except Exception:
            svc.irma.cancel(started.token)
            raise
        audit.record(
            "session_started",
            settings.tenant,
            pk,
            purpose=purpose.id,
            attribute_types=purpose.attribute_ids(),
        )
        count("SessionsStarted")
        count_by("SessionsStarted", purpose=purpose.id)
        return {
            "session_id": session_id,
            "sessionPtr": started.session_ptr,
            "frontendRequest": started.frontend_request,
            "phone_number": settings.phone_number,
            "expires_at": expires_at,
        }
    raise Unavailable("could not allocate a code")


def _load(svc: Services, session_id: object) -> tuple[str, dict[str, Any]]:
    if not isinstance(session_id, str) or not codes.SESSION_ID_PATTERN.match(session_id):
        raise NotFound("unknown session")
    pk = session_pk(session_id)
    item = svc.store.get(pk)
    if item is None:
        raise NotFound("unknown session")
    return pk, item


def status(svc: Services, session_id: object) -> dict[str, Any]:
    pk, item = _load(svc, session_id)
    assert isinstance(session_id, str)
    if item["status"] == PENDING and item.get("result_hint"):
        # An unsigned callback said the session ended: pull now (irmago has stored the result by the
        # time the browser polls; a pull that still reads an unfinished session changes nothing).
        # A status poll never fails because of it: the IRMA server may be down, the status is not.
        try:
            if _pull(svc, pk, item, trigger="hint") != PENDING:
                item = svc.store.get(pk) or item
        except (Unavailable, IntegrityError) as exc:
            logger.warning("pull after a callback hint failed", extra=safe_error(exc))
    body: dict[str, Any] = {
        "status": item["status"],
        "purpose": item["purpose"],
        "expires_at": item["expires_at"],
    }
    if item["status"] == DISCLOSED:
        # The citizen's own view may dial by hand; the code is readable only with the session id.
        body["phone_number"] = svc.settings.phone_number
        try:
            body["dtmf"] = crypto.display_open(session_id, pk, item.get("dtmf_display"))
        except IntegrityError:
            logger.error("dtmf display failed verification")
    if item["status"] == FAILED:
        body["reason"] = item.get("fail_reason", "failed")
    return body


def complete(svc: Services, session_id: object) -> dict[str, Any]:
    """Browser trigger: pull the result unless it is already stored. Never returns attributes."""
    pk, item = _load(svc, session_id)
    return {"status": _pull(svc, pk, item, trigger="browser")}


def pull_by_pk(svc: Services, pk: object) -> dict[str, Any]:
    """DTMF-function trigger (via lambda.invoke): status only."""
    if not isinstance(pk, str) or not pk.startswith(SESSION) or len(pk) > 100:
        return {"status": "UNKNOWN"}
    item = svc.store.get(pk)
    if item is None:
        return {"status": "UNKNOWN"}
    return {"status": _pull(svc, pk, item, trigger="phone")}


def callback(svc: Services, callback_id: object, body: str) -> dict[str, Any]:
    """IRMA server trigger. Never calls the IRMA server (see the module docstring).

    Signed (a JWT key is configured): the result JWT must verify against one of the keys, carry the
    configured issuer and this session's token; then it is accepted as it stands. Unsigned (no key,
    unsigned callbacks on): the body is not read at all; the session gets a `result_hint` and the
    next status poll pulls. Off: we sent no callbackUrl, so nothing is expected here (404)."""
    settings = svc.settings
    mode = settings.irma_callbacks
    if mode == "off":
        raise NotFound("callbacks are off")
    if not isinstance(callback_id, str) or not codes.SECRET_PATTERN.match(callback_id):
        raise NotFound("unknown callback")
    pointer = svc.store.get(CALLBACK + codes.sha256_ref(callback_id))
    if pointer is None:
        raise NotFound("unknown callback")  # never issued, or the session's result is already final
    pk = str(pointer["session_pk"])
    item = svc.store.get(pk)
    if item is None:
        raise NotFound("unknown session")
    if item["status"] != PENDING:
        return {"status": item["status"]}  # e.g. the repeated TIMEOUT callbacks of a timed-out session
    if mode == "unsigned":
        return {"status": _hint(svc, pk)}
    if not body:
        raise BadRequest("result_jwt_required")
    try:
        claims = verify_result_jwt(body.strip(), settings.irma_jwt_public_keys, settings.irma_jwt_issuer)
    except IntegrityError:
        count("CallbackRejected")
        raise BadRequest("invalid_result_jwt") from None
    data_key = svc.envelope.open_key(item.get("data_key"), _context(svc, pk))
    token = data_key.open("irma_token", item.get("irma_token")).decode()
    if not hmac.compare_digest(str(claims.get("token", "")), token):
        count("CallbackRejected")
        raise BadRequest("invalid_result_jwt")
    return {"status": _accept(svc, pk, item, claims, data_key, trigger="callback")}


def _hint(svc: Services, pk: str) -> str:
    """Note that an (unsigned, untrusted) callback arrived; one write per session at most."""
    try:
        svc.store.update(
            pk,
            "SET result_hint = :now",
            "#status = :pending AND attribute_not_exists(result_hint) AND expires_at > :now",
            names={"#status": "status"},
            values={":pending": PENDING, ":now": clock.now()},
            returns="NONE",
        )
    except ConditionFailed:
        return PENDING  # already hinted (irmago repeats TIMEOUT callbacks), or no longer pending
    count("CallbackHints")
    return PENDING


def _pull(svc: Services, pk: str, item: dict[str, Any], trigger: str) -> str:
    if item["status"] != PENDING:
        return str(item["status"])
    data_key = svc.envelope.open_key(item.get("data_key"), _context(svc, pk))
    token = data_key.open("irma_token", item.get("irma_token")).decode()
    redactor.register(token)
    try:
        result = svc.irma.result(token)
    except IrmaError:
        count("IrmaErrors")
        raise
    except SessionUnknown:
        # The IRMA server forgot the session (results live ~5 minutes): nothing can be accepted any more.
        result = {"status": "TIMEOUT", "_reason": "result_expired"}
    return _accept(svc, pk, item, result, data_key, trigger=trigger)


def _pointer_gone(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The callback pointer goes with the final result: no callback can change it any more, and no
    item of a finished session is left that deletion would have to know about."""
    return [delete_op(str(item["callback_pk"]))] if item.get("callback_pk") else []


def _accept(
    svc: Services,
    pk: str,
    item: dict[str, Any],
    result: dict[str, Any],
    data_key: crypto.DataKey,
    trigger: str,
) -> str:
    settings = svc.settings
    purpose = settings.purpose(item["purpose"])
    if purpose is None:
        raise ConfigError("a stored session names a purpose that is no longer configured")
    outcome = evaluate(result, purpose)
    if not outcome.final:
        return PENDING
    now = clock.now()
    reason = result.get("_reason") or outcome.reason
    try:
        if outcome.accepted:
            payload = json.dumps(
                {"purpose": purpose.id, "attributes": [[a, v] for a, v in outcome.attributes]},
                separators=(",", ":"),
            ).encode()
            mobile_hash = None
            numbers = [codes.normalise_phone(n) for n in mobile_numbers(outcome.attributes)]
            if numbers and numbers[0]:
                mobile_hash = codes.keyed_ref(svc.hash_key(), "phone", settings.tenant, numbers[0])
            dtmf_values: dict[str, Any] = {":disclosed": "disclosed", ":now": now}
            dtmf_set = "SET #state = :disclosed, disclosed_at = :now"
            if mobile_hash:
                dtmf_set += ", mobile_hash = :mobile"
                dtmf_values[":mobile"] = mobile_hash
            svc.store.transact(
                [
                    *_pointer_gone(item),
                    update_op(
                        pk,
                        "SET #status = :disclosed, disclosure = :disclosure, disclosed_at = :now",
                        "#status = :pending AND expires_at > :now",
                        {"#status": "status"},
                        {
                            ":disclosed": DISCLOSED,
                            ":pending": PENDING,
                            ":now": now,
                            ":disclosure": data_key.seal("disclosure", payload),
                        },
                    ),
                    update_op(
                        item["dtmf_pk"],
                        dtmf_set,
                        "attribute_exists(pk) AND #state = :pending",
                        {"#state": "state"},
                        {**dtmf_values, ":pending": "pending"},
                    ),
                ]
            )
            audit.record(
                "disclosed",
                settings.tenant,
                pk,
                purpose=purpose.id,
                attribute_types=[a for a, _ in outcome.attributes],
                proof_status=outcome.proof_status,
                trigger=trigger,
            )
            count("DisclosureAccepted")
            count_by("DisclosureAccepted", purpose=purpose.id, trigger=trigger)
            count("TimeToDisclosure", now - int(item["created_at"]), "Seconds")
            count_by("TimeToDisclosure", now - int(item["created_at"]), "Seconds", purpose=purpose.id)
            return DISCLOSED
        svc.store.transact(
            [
                *_pointer_gone(item),
                update_op(
                    pk,
                    "SET #status = :failed, fail_reason = :reason",
                    "#status = :pending",
                    {"#status": "status"},
                    {":failed": FAILED, ":pending": PENDING, ":reason": reason},
                ),
                update_op(
                    item["dtmf_pk"],
                    "SET #state = :failed",
                    "attribute_exists(pk)",
                    {"#state": "state"},
                    {":failed": "failed"},
                ),
            ]
        )
    except ConditionFailed:
        # Another trigger got there first: report what it stored.
        current = svc.store.get(pk)
        return str(current["status"]) if current else FAILED
    audit.record(
        "disclosure_rejected",
        settings.tenant,
        pk,
        purpose=purpose.id,
        reason=reason,
        proof_status=outcome.proof_status or None,
        trigger=trigger,
    )
    count("DisclosureRejected")
    count_by("DisclosureRejected", purpose=purpose.id, reason=reason)
    return FAILED
