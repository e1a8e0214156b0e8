"""Phone side: swap a DTMF code for a fresh secret bound to the contact.

This module never reads, decrypts or holds personal data: it sees only the DTMF item (hashes, ids,
timestamps), rate-limit buckets and the secret it creates. Warm, a redemption costs one
BatchGetItem (code + rate buckets) and one TransactWriteItems (the link, which also checks the
buckets); a failed lookup costs the same two (the second is the transaction that counts it). Every
lookup is counted or checked atomically before it is answered (`idbellen.limits`).

Connect retries a failed invocation up to 3 times within 8 s. Each attempt carries its start time;
a retry for the same contact replaces the earlier secret, and an older attempt can never overwrite a
newer one, so exactly one secret works: the one from the attempt Connect is still waiting for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from idbellen import audit, clock, codes, limits
from idbellen.observability_lite import count, count_by, redactor
from idbellen.store import CONTACT, DTMF, SECRET, ConditionFailed, Store, delete_op, put_op, update_op
from idbellen.wiring import Services

OK, NOT_FOUND, NOT_VERIFIED, INVALID_INPUT, RATE_LIMITED, ERROR = (
    "OK",
    "NOT_FOUND",
    "NOT_VERIFIED",
    "INVALID_INPUT",
    "RATE_LIMITED",
    "ERROR",
)
# A code still pending (disclosure not stored yet) is pulled from the IRMA server at most this often.
PULL_INTERVAL_SECONDS = 10
# Looked up while pending from this many different contacts, a code is burnt (relay defence).
PENDING_CONTACTS_MAX = 2
# Reads of the code and buckets before a lookup gives up on a code that keeps changing under it.
LOOKUP_ATTEMPTS = 4
_RETRY, _PULLED = "_retry", "_pulled"
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


def _unverified(result: str) -> dict[str, str]:
    """The caller goes to the queue unverified; count why (the result code is the only detail)."""
    count("CallsUnverified")
    count_by("CallsUnverified", reason=result.lower())
    count(f"Dtmf{result.title().replace('_', '')}")
    return {"result": result}


def redeem(svc: Services, call: Call) -> dict[str, str]:
    settings = svc.settings
    if not codes.valid_dtmf(call.digits, settings.dtmf_length):
        return _unverified(INVALID_INPUT)  # no lookup happened: nothing to count
    digits = str(call.digits)
    redactor.register(digits)
    store = svc.store
    key = svc.hash_key()
    now = clock.now()
    dtmf_pk = DTMF + codes.keyed_ref(key, "dtmf", settings.tenant, digits)
    caps = limits.for_call(key, settings.tenant, call.caller, now, settings.rate_limit_failures)

    pulled = False  # this lookup was counted and its pull made the code redeemable
    for _ in range(LOOKUP_ATTEMPTS):
        items = store.get_many([dtmf_pk, *caps.pks])
        if caps.exhausted(items):
            return _unverified(RATE_LIMITED)
        dtmf = items.get(dtmf_pk)
        if _pending(dtmf):
            assert dtmf is not None
            outcome = _pending_lookup(svc, call, dtmf, caps, now)
            if outcome == _RETRY:
                continue
            if outcome != _PULLED:
                return _unverified(outcome)
            dtmf, pulled = store.get(dtmf_pk), True
        result = _check(dtmf, call, settings.call_window_seconds, now)
        if result is not None:
            return _unverified(result) if pulled else _failed(store, caps, result)
        break
    else:
        return _unverified(RATE_LIMITED)  # the code kept changing under us: refuse, never answer uncounted
    assert dtmf is not None
    caller_match = _caller_match(key, settings.tenant, dtmf, call.caller)
    # The link transaction checks the buckets (a blocked number cannot redeem even the right code), or
    # takes back the lookup that was counted before its pull made the code redeemable.
    extra = caps.refund_ops() if pulled else caps.guard_ops()

    for _ in range(REDEEM_ATTEMPTS):
        secret = codes.new_secret()
        redactor.register(secret)
        try:
            _link(store, settings.tenant, dtmf, call, secret, now, caller_match, extra)
        except ConditionFailed as exc:
            if not pulled and caps.refused(exc.reasons[len(exc.reasons) - len(extra) :]):
                return _unverified(RATE_LIMITED)
            dtmf = store.get(dtmf_pk)
            retry = _check(dtmf, call, settings.call_window_seconds, now)
            if retry is not None:
                return _unverified(retry) if pulled else _failed(store, caps, retry)
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


def _failed(store: Store, caps: limits.Limits, result: str) -> dict[str, str]:
    """A lookup that does not redeem: count it in every bucket first; answer only once that committed."""
    try:
        limits.reserve(store, caps)
    except limits.LimitReached:
        return _unverified(RATE_LIMITED)
    return _unverified(result)


def _pending(dtmf: dict[str, Any] | None) -> bool:
    return dtmf is not None and dtmf.get("state") == "pending" and dtmf.get("redeemed_by") is None and not _burnt(dtmf)


def _burnt(dtmf: dict[str, Any]) -> bool:
    """A code looked up while pending from more than one contact can never be redeemed (relay defence)."""
    return len(dtmf.get("pending_contacts") or ()) >= PENDING_CONTACTS_MAX


def _pending_lookup(svc: Services, call: Call, dtmf: dict[str, Any], caps: limits.Limits, now: int) -> str:
    """A lookup of a code whose disclosure is not stored yet: the citizen's app may have dialled right
    after approving, before any trigger stored the result — or someone is polling the code to call the
    moment the citizen approves (a relayed session). So it counts as a failed lookup, it records the
    contact on the code, and it pulls the result at most once per `PULL_INTERVAL_SECONDS` per code.
    A second contact looking the code up while it is pending burns the code: polling cannot win.

    One transaction counts the lookup in the rate buckets and updates the code, conditioned on the
    code being exactly as read (`pending_lookups`), so concurrent lookups serialise; `_RETRY` asks the
    caller to read again. Returns `_PULLED`, `_RETRY` or the answer (`NOT_VERIFIED`, `NOT_FOUND`,
    `RATE_LIMITED`)."""
    seen = int(dtmf.get("pending_lookups", 0))
    contacts = set(dtmf.get("pending_contacts") or ()) | {call.initial_contact_id}
    burns = len(contacts) >= PENDING_CONTACTS_MAX
    pulled_at = dtmf.get("pulled_at")
    pull = svc.puller is not None and not burns and (pulled_at is None or now - int(pulled_at) >= PULL_INTERVAL_SECONDS)
    expression = "ADD pending_lookups :one, pending_contacts :contact"
    if pull:
        expression += " SET pulled_at = :now"
    version = "pending_lookups = :seen" if seen else "attribute_not_exists(pending_lookups)"
    values: dict[str, Any] = {
        ":one": 1,
        ":contact": {call.initial_contact_id},
        ":pending": "pending",
        ":now": now,
    }
    if seen:
        values[":seen"] = seen
    code_op = update_op(
        dtmf["pk"],
        expression,
        f"#state = :pending AND attribute_not_exists(redeemed_by) AND expires_at > :now AND {version}",
        {"#state": "state"},
        values,
    )
    try:
        limits.reserve(svc.store, caps, [code_op])
    except limits.LimitReached:
        return RATE_LIMITED
    except ConditionFailed:
        return _RETRY  # the code changed since it was read (disclosed, or another lookup): read again
    count("DtmfPendingLookups")
    if burns:
        count("DtmfCodesBurnt")
        return NOT_FOUND
    if pull and svc.puller is not None and svc.puller.pull(dtmf["session_pk"]) == "DISCLOSED":
        # Disclosed in the app, but no trigger had stored the result yet: the session function pulled it.
        return _PULLED
    return NOT_VERIFIED


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
    if dtmf is None or _burnt(dtmf):
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
    store: Store,
    tenant: str,
    dtmf: dict[str, Any],
    call: Call,
    secret: str,
    now: int,
    caller_match: str | None,
    extra: Sequence[dict[str, Any]] = (),
) -> None:
    """One transaction: claim the code, create the secret, drop a retry's old secret, point the
    session and the contact at it (and tell the session whether the caller's number matched).
    `extra` (the rate-limit checks) goes last, so its cancellation reasons are the last ones.

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
        store.transact([*ops, *extra])
    except ConditionFailed as failed:
        # only the contact pointer's condition failed: the contact is linked to another session
        others = failed.reasons[:2] + failed.reasons[3:]
        if failed.reasons[2:3] == ["ConditionalCheckFailed"] and "ConditionalCheckFailed" not in others:
            _replace(store, tenant, dtmf, secret_pk, contact_pk, ops, extra)
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
    store: Store,
    tenant: str,
    dtmf: dict[str, Any],
    secret_pk: str,
    contact_pk: str,
    ops: list[dict[str, Any]],
    extra: Sequence[dict[str, Any]],
) -> None:
    """The contact is linked to another session: link this one and delete that one, atomically."""
    first = store.get(contact_pk, include_expired=True, fields=("session_pk", "secret_pk", "dtmf_pk"))
    if first is None or first.get("session_pk") == dtmf["session_pk"]:
        raise ConditionFailed(["None", "None", "ConditionalCheckFailed", "None"])  # changed meanwhile: retry
    first_pk = str(first["session_pk"])
    # the first session's secret goes first in the list, like in every deletion (its reads stop at once)
    gone = [str(pk) for pk in (first.get("secret_pk"), first.get("dtmf_pk"), first_pk) if pk]
    moved = [*ops[:2], _contact_op(contact_pk, tenant, dtmf, secret_pk, previous=first_pk), *ops[3:]]
    # the rate-limit checks stay last, where `redeem` reads their cancellation reasons
    store.transact([*moved, *(delete_op(pk) for pk in gone), *extra])
    audit.record("deleted", tenant, first_pk, reason="replaced", items_deleted=len(gone))
    count("SessionsReplaced")
    count_by("SessionsDeleted", reason="replaced")


def mark_closed(svc: Services, call: Call) -> dict[str, str]:
    """Outside opening hours: tell the citizen's page, keep the code for a call within the window.
    A lookup like any other: counted in the rate buckets before anything is looked at or changed,
    whatever it finds (otherwise the flow's result would be a free oracle for codes)."""
    settings = svc.settings
    if not codes.valid_dtmf(call.digits, settings.dtmf_length):
        return {"result": INVALID_INPUT}
    digits = str(call.digits)
    redactor.register(digits)
    key = svc.hash_key()
    now = clock.now()
    dtmf_pk = DTMF + codes.keyed_ref(key, "dtmf", settings.tenant, digits)
    caps = limits.for_call(key, settings.tenant, call.caller, now, settings.rate_limit_failures)
    items = svc.store.get_many([dtmf_pk, *caps.pks])
    if caps.exhausted(items):
        return {"result": RATE_LIMITED}
    try:
        limits.reserve(svc.store, caps)
    except limits.LimitReached:
        return {"result": RATE_LIMITED}
    dtmf = items.get(dtmf_pk)
    if dtmf is None or _burnt(dtmf):
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
