"""Phone side: swap a DTMF code for a fresh secret bound to the contact.

This module never reads, decrypts or holds personal data: it sees only the DTMF item (hashes, ids,
timestamps), rate-limit counters and the secret it creates. Warm, a redemption costs one
BatchGetItem (code + rate counters) and one TransactWriteItems.

Connect retries a failed invocation up to 3 times within 8 s. Each attempt carries its start time;
a retry for the same contact replaces the earlier secret, and an older attempt can never overwrite a
newer one, so exactly one secret works: the one from the attempt Connect is still waiting for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idbellen import audit, clock, codes
from idbellen.observability_lite import count, count_by, redactor
from idbellen.store import CONTACT, DTMF, RATE, SECRET, ConditionFailed, Store, delete_op, put_op, update_op
from idbellen.wiring import Services

OK, NOT_FOUND, NOT_VERIFIED, INVALID_INPUT, RATE_LIMITED, ERROR = (
    "OK",
    "NOT_FOUND",
    "NOT_VERIFIED",
    "INVALID_INPUT",
    "RATE_LIMITED",
    "ERROR",
)
RATE_WINDOW_SECONDS = 600
GLOBAL_WINDOW_SECONDS = 60
GLOBAL_FAILURES_PER_MINUTE = 120
# Connect makes at most 4 attempts per contact (the first and 3 retries), so the newest attempt can
# lose the link transaction to at most 3 older ones; one more covers a transient TransactionConflict.
REDEEM_ATTEMPTS = 5


@dataclass(frozen=True)
class Call:
    """What the contact flow tells us about the call; nothing here is stored in plaintext."""

    digits: object
    contact_id: str
    initial_contact_id: str
    caller: str | None
    attempt_at: float
    # The latest moment (idbellen clock) this attempt may start linking: after it the flow may give up
    # before the answer arrives (see `_link`). None: no deadline (direct callers, tests).
    deadline: float | None = None


class TooLate(Exception):
    """This attempt can no longer link a secret in time for the flow to receive it: nothing was written.
    The DTMF handler lets it surface as a function error, which Connect retries (or, after its retries,
    takes the Error branch: the caller is queued unverified and no secret exists)."""


def _rate_keys(svc: Services, key: bytes, caller: str | None, now: int) -> tuple[str, str]:
    tenant = svc.settings.tenant
    number = codes.normalise_phone(caller or "") or "anonymous"
    caller_ref = codes.keyed_ref(key, "caller", tenant, number)
    return (
        f"{RATE}{caller_ref}#{now // RATE_WINDOW_SECONDS}",
        f"{RATE}global#{tenant}#{now // GLOBAL_WINDOW_SECONDS}",
    )


def _record_failure(store: Store, tenant: str, rate_pks: tuple[str, str], now: int) -> None:
    """Count a failed code for this caller and globally; counters expire with their window."""
    windows = (RATE_WINDOW_SECONDS, GLOBAL_WINDOW_SECONDS)
    for pk, window in zip(rate_pks, windows, strict=True):
        store.update(
            pk,
            "ADD failures :one SET expires_at = if_not_exists(expires_at, :exp), kind = :kind, tenant = :tenant",
            values={
                ":one": 1,
                ":exp": (now // window + 1) * window + 60,
                ":kind": "rate",
                ":tenant": tenant,
            },
            returns="NONE",
        )


def _unverified(result: str) -> dict[str, str]:
    """The caller goes to the queue unverified; count why (the result code is the only detail)."""
    count("CallsUnverified")
    count_by("CallsUnverified", reason=result.lower())
    count(f"Dtmf{result.title().replace('_', '')}")
    return {"result": result}


def redeem(svc: Services, call: Call) -> dict[str, str]:
    settings = svc.settings
    if not codes.valid_dtmf(call.digits, settings.dtmf_length):
        return _unverified(INVALID_INPUT)
    digits = str(call.digits)
    redactor.register(digits)
    store = svc.store
    key = svc.hash_key()
    now = clock.now()
    dtmf_pk = DTMF + codes.keyed_ref(key, "dtmf", settings.tenant, digits)
    rate_pks = _rate_keys(svc, key, call.caller, now)
    items = store.get_many([dtmf_pk, *rate_pks])
    caller_failures = int(items.get(rate_pks[0], {}).get("failures", 0))
    global_failures = int(items.get(rate_pks[1], {}).get("failures", 0))
    if caller_failures >= settings.rate_limit_failures or global_failures >= GLOBAL_FAILURES_PER_MINUTE:
        return _unverified(RATE_LIMITED)

    dtmf = items.get(dtmf_pk)
    pending = dtmf is not None and dtmf.get("state") == "pending"
    if pending and svc.puller is not None and svc.puller.pull(dtmf["session_pk"]) == "DISCLOSED":  # type: ignore[index]
        # Disclosed in the app, but no trigger had stored the result yet: the session function pulled it.
        dtmf = store.get(dtmf_pk)
    result = _check(dtmf, call, settings.call_window_seconds, now)
    if result is not None:
        if result == NOT_FOUND:
            _record_failure(store, settings.tenant, rate_pks, now)
        return _unverified(result)
    assert dtmf is not None
    caller_match = _caller_match(key, settings.tenant, dtmf, call.caller)

    for _ in range(REDEEM_ATTEMPTS):
        secret = codes.new_secret()
        redactor.register(secret)
        try:
            _link(store, settings.tenant, dtmf, call, secret, now, caller_match)
        except ConditionFailed:
            dtmf = store.get(dtmf_pk)
            retry = _check(dtmf, call, settings.call_window_seconds, now)
            if retry is not None:
                return _unverified(retry)
            assert dtmf is not None
            if float(dtmf.get("attempt_at", 0)) >= call.attempt_at:
                # A newer attempt for this contact has linked the call; Connect listens to that one.
                return {"result": ERROR}
            continue
        audit.record(
            "call_linked",
            settings.tenant,
            dtmf["session_pk"],
            purpose=dtmf["purpose"],
            contact_id=call.contact_id,
            initial_contact_id=call.initial_contact_id,
            relink=dtmf.get("redeemed_by") == call.initial_contact_id,
        )
        count("CallsVerified")
        count_by("CallsVerified", purpose=dtmf["purpose"])
        if dtmf.get("disclosed_at"):
            count("TimeFromDisclosureToCall", now - int(dtmf["disclosed_at"]), "Seconds")
            count_by("TimeFromDisclosureToCall", now - int(dtmf["disclosed_at"]), "Seconds", purpose=dtmf["purpose"])
        response = {"result": OK, "session_secret": secret, "purpose": str(dtmf["purpose"])}
        if caller_match is not None:
            response["caller_match"] = caller_match
            count_by("CallerMatchChecked", result="match" if caller_match == "true" else "mismatch")
        return response
    return {"result": ERROR}


def _caller_match(key: bytes, tenant: str, dtmf: dict[str, Any], caller: str | None) -> str | None:
    """Whether the calling number is the mobile number the citizen disclosed, compared as keyed
    hashes (neither number is read or kept); None when the purpose disclosed no mobile number."""
    if not dtmf.get("mobile_hash"):
        return None
    number = codes.normalise_phone(caller or "")
    match = number is not None and codes.keyed_ref(key, "phone", tenant, number) == dtmf["mobile_hash"]
    return "true" if match else "false"


def _check(dtmf: dict[str, Any] | None, call: Call, window: int, now: int) -> str | None:
    """Why this code cannot be redeemed by this call, or None when it can."""
    if dtmf is None:
        return NOT_FOUND
    redeemed_by = dtmf.get("redeemed_by")
    if redeemed_by is not None and redeemed_by != call.initial_contact_id:
        return NOT_FOUND  # single use: a second call with the same code is a stranger
    if dtmf.get("state") != "disclosed":
        return NOT_VERIFIED
    if now > int(dtmf.get("disclosed_at", 0)) + window:
        return NOT_VERIFIED
    return None


def _link(
    store: Store, tenant: str, dtmf: dict[str, Any], call: Call, secret: str, now: int, caller_match: str | None
) -> None:
    """One transaction: claim the code, create the secret, drop a retry's old secret, point the
    session and the contact at it (and tell the session whether the caller's number matched).

    Linking rules:
    - Too late: an attempt past `call.deadline` writes nothing (raises TooLate). The DTMF function's
      Lambda timeout is shorter than the flow's InvocationTimeLimitSeconds, so an attempt that is still
      running when Connect stops waiting is ended by Lambda first (docs/security.md, "Timeouts").
    - One contact holds one session. A second code redeemed on a contact that is already linked to
      another session (the verify module run twice) replaces it: in the same transaction the first
      session's session, code and secret items are deleted and the contact points at the new session,
      whose live segment is the one that redeemed the code. The caller's newest proof counts, and nothing
      of the first one stays readable (its secret is gone at once).
    """
    if call.deadline is not None and clock.now_precise() > call.deadline:
        count("DtmfTooLate")
        raise TooLate("the flow may no longer be waiting")
    session_pk = dtmf["session_pk"]
    expires_at = int(dtmf["expires_at"])
    secret_pk = SECRET + codes.sha256_ref(secret)
    contact_pk = CONTACT + call.initial_contact_id
    old_secret_pk = dtmf.get("secret_pk") if dtmf.get("redeemed_by") == call.initial_contact_id else None
    values: dict[str, Any] = {
        ":ic": call.initial_contact_id,
        ":spk": secret_pk,
        ":at": call.attempt_at,
        ":now": now,
        ":disclosed": "disclosed",
    }
    if old_secret_pk:
        claim = "redeemed_by = :ic AND secret_pk = :old AND attempt_at < :at"
        values[":old"] = old_secret_pk
    else:
        claim = "attribute_not_exists(redeemed_by)"
    ops = [
        update_op(
            dtmf["pk"],
            "SET redeemed_by = :ic, secret_pk = :spk, attempt_at = :at, redeemed_at = :now",
            f"attribute_exists(pk) AND #state = :disclosed AND expires_at > :now AND {claim}",
            {"#state": "state"},
            values,
        ),
        put_op(
            {
                "pk": secret_pk,
                "kind": "secret",
                "tenant": tenant,
                "session_pk": session_pk,
                "contact_id": call.contact_id,
                "initial_contact_id": call.initial_contact_id,
                "expires_at": expires_at,
            }
        ),
        _contact_op(contact_pk, tenant, dtmf, secret_pk, previous=None),
        update_op(
            session_pk,
            "SET #status = :called, secret_pk = :spk, contact_pk = :cpk, called_at = :now, caller_match = :match"
            " ADD #segments :segment",
            "attribute_exists(pk) AND expires_at > :now",
            {"#status": "status", "#segments": "segments"},
            {
                ":called": "CALLED",
                ":spk": secret_pk,
                ":cpk": contact_pk,
                ":now": now,
                ":match": caller_match or "unknown",
                ":segment": {call.contact_id},
            },
        ),
    ]
    if old_secret_pk:
        ops.append(delete_op(old_secret_pk))
    try:
        store.transact(ops)
    except ConditionFailed as failed:
        # only the contact pointer's condition failed: the contact is linked to another session
        if failed.reasons[:4] == ["None", "None", "ConditionalCheckFailed", "None"]:
            _replace(store, tenant, dtmf, secret_pk, contact_pk, ops)
            return
        raise


def _contact_op(
    contact_pk: str, tenant: str, dtmf: dict[str, Any], secret_pk: str, previous: str | None
) -> dict[str, Any]:
    """The contact pointer names the session and its code and secret items (ids only), so that a second
    code on this contact can find and delete the first session without reading it. Created, kept (a
    retry of the same session), or moved from the session `previous`."""
    values: dict[str, Any] = {
        ":session": dtmf["session_pk"],
        ":dtmf": dtmf["pk"],
        ":secret": secret_pk,
        ":kind": "contact",
        ":tenant": tenant,
        ":exp": int(dtmf["expires_at"]),
    }
    if previous:
        condition = "session_pk = :previous"
        values[":previous"] = previous
    else:
        condition = "attribute_not_exists(pk) OR session_pk = :session"
    return update_op(
        contact_pk,
        "SET session_pk = :session, dtmf_pk = :dtmf, secret_pk = :secret, kind = :kind, tenant = :tenant,"
        " expires_at = :exp",
        condition,
        None,
        values,
    )


def _replace(
    store: Store, tenant: str, dtmf: dict[str, Any], secret_pk: str, contact_pk: str, ops: list[dict[str, Any]]
) -> None:
    """The contact is linked to another session: link this one and delete that one, atomically."""
    first = store.get(contact_pk, include_expired=True, fields=("session_pk", "secret_pk", "dtmf_pk"))
    if first is None or first.get("session_pk") == dtmf["session_pk"]:
        raise ConditionFailed(["None", "None", "ConditionalCheckFailed", "None"])  # changed meanwhile: retry
    first_pk = str(first["session_pk"])
    # the first session's secret goes first in the list, like in every deletion (its reads stop at once)
    gone = [str(pk) for pk in (first.get("secret_pk"), first.get("dtmf_pk"), first_pk) if pk]
    moved = [*ops[:2], _contact_op(contact_pk, tenant, dtmf, secret_pk, previous=first_pk), *ops[3:]]
    store.transact([*moved, *(delete_op(pk) for pk in gone)])
    audit.record("deleted", tenant, first_pk, reason="replaced", items_deleted=len(gone))
    count("SessionsReplaced")
    count_by("SessionsDeleted", reason="replaced")


def mark_closed(svc: Services, digits: object) -> dict[str, str]:
    """Outside opening hours: tell the citizen's page, keep the code for a call within the window."""
    settings = svc.settings
    if not codes.valid_dtmf(digits, settings.dtmf_length):
        return {"result": INVALID_INPUT}
    redactor.register(str(digits))
    dtmf_pk = DTMF + codes.keyed_ref(svc.hash_key(), "dtmf", settings.tenant, str(digits))
    dtmf = svc.store.get(dtmf_pk)
    if dtmf is None:
        return {"result": NOT_FOUND}
    try:
        svc.store.update(
            dtmf["session_pk"],
            "SET #status = :closed",
            "attribute_exists(pk) AND #status = :disclosed",
            names={"#status": "status"},
            values={":closed": "CLOSED", ":disclosed": "DISCLOSED"},
            returns="NONE",
        )
    except ConditionFailed:
        return {"result": NOT_FOUND}
    count("CallsOutsideHours")
    return {"result": OK}
