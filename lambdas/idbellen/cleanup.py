"""Deletion: every trace of a session goes when its contact completes, when the agent clears it, when
the caller hangs up before reaching an agent, and in any case when it expires.

All paths are idempotent (contact events are best effort, unordered and may repeat) and delete the
pointers before the session item, so an interrupted delete is finished by the next trigger.
"""

from __future__ import annotations

from typing import Any

from idbellen import audit, clock
from idbellen.observability import count, count_by, logger, safe_error
from idbellen.store import CONTACT, MEMBER_FIELDS, SECRET, SESSION, ConditionFailed
from idbellen.wiring import Services

TRANSFER_METHODS = frozenset({"TRANSFER", "QUEUE_TRANSFER"})


def delete_session(
    svc: Services, session_pk: str, reason: str, extra_keys: list[str] | None = None, agent_id: str | None = None
) -> int:
    store = svc.store
    session = store.get(
        session_pk, include_expired=True, fields=(*MEMBER_FIELDS, "created_at", "purpose", "agent_seen_at")
    )
    entry = list(extra_keys or [])
    members = [str(session[f]) for f in MEMBER_FIELDS if session.get(f)] if session is not None else []
    # Order matters when a delete is interrupted: the secret pointer goes first (the agent's read stops
    # at once), then the other pointers, then the session item (the data), and the trigger's own entry
    # point (the contact or secret it came in with) last, so the trigger's retry still finds the session.
    members = sorted((k for k in members if k not in entry), key=lambda k: not k.startswith(SECRET))
    deleted = store.delete_keys([*members, session_pk, *entry])
    if session is None and not deleted:
        return 0  # nothing left: an earlier trigger already finished this deletion
    if session is not None:
        contact_keys = [str(session["contact_pk"])] if session.get("contact_pk") else []
    else:
        # An earlier attempt was interrupted after it had deleted the session item (it raised before
        # logging); this one finished the job, since its own entry point was left for last.
        contact_keys = [k for k in entry if k.startswith(CONTACT)]
    for key in contact_keys:
        blank_contact_secret(svc, key.removeprefix(CONTACT))
    _record_deletion(svc, session_pk, reason, deleted, session, agent_id)
    return deleted


def _record_deletion(
    svc: Services, session_pk: str, reason: str, deleted: int, session: dict[str, Any] | None, agent_id: str | None
) -> None:
    """Exactly one processing-log record per deleted session, and the PII-free deletion metrics.
    When an interrupted attempt is finished, purpose and age went with the session item."""
    fields: dict[str, Any] = {"reason": reason, "items_deleted": deleted, "agent_id": agent_id}
    age = None
    if session is None:
        fields["outcome"] = "finished"
    else:
        age = clock.now() - int(session.get("created_at", clock.now()))
        fields.update(purpose=session.get("purpose"), age_seconds=age)
    audit.record("deleted", svc.settings.tenant, session_pk, **fields)
    count("SessionsDeleted")
    count(f"SessionsDeleted{reason.title().replace('_', '')}")
    count_by("SessionsDeleted", reason=reason)
    if age is not None:
        count("RecordAgeAtDeletion", age, "Seconds")
        count_by("RecordAgeAtDeletion", age, "Seconds", reason=reason)
    if deleted:
        count("RecordsDeleted", deleted)
    if session is not None and session.get("agent_seen_at") is not None:
        # The evaluation funnel's last step: sessions shown to an agent at least once (AgentReads
        # counts every read), counted once per session when it is deleted.
        count("SessionsShown")
        count_by("SessionsShown", purpose=session.get("purpose"))


def blank_contact_secret(svc: Services, initial_contact_id: str) -> None:
    """Overwrite the (now useless) `session_secret` contact attribute in Connect. Best effort: the
    records are already gone, so a failure leaves only a dead value; it is counted for an alarm."""
    if not svc.settings.blank_secret or svc.contacts is None or not initial_contact_id:
        return
    try:
        svc.contacts.blank_secret(initial_contact_id)
    except Exception as exc:
        logger.warning("could not blank the contact's session_secret attribute", extra=safe_error(exc))
        count("SecretBlankFailures")
        return
    count("SecretsBlanked")


def end_segment(svc: Services, session_pk: str, contact_id: str) -> set[str] | None:
    """End one live segment of a linked call: move it from `segments` to `ended` on the session item.

    Returns the segments still live, or None when `contact_id` was not a live segment (already ended,
    never known, or the session is gone) — then nothing changed, which makes every trigger idempotent.
    The condition `contains(segments, :c)` guarantees the DELETE removed exactly one element, so the
    UPDATED_NEW answer is the remaining set on DynamoDB and on moto alike: when the last element goes,
    DynamoDB removes the attribute and neither returns it (tests/integration/test_dynamodb_conformance.py).
    """
    try:
        remaining = svc.store.update(
            session_pk,
            "DELETE #segments :c ADD #ended :c",
            "attribute_exists(pk) AND contains(#segments, :cid)",
            names={"#segments": "segments", "#ended": "ended"},
            values={":c": {contact_id}, ":cid": contact_id},
            returns="UPDATED_NEW",
        ).get("segments")
    except ConditionFailed:
        return None
    return set(remaining) if isinstance(remaining, set) else set()


def start_segment(svc: Services, session_pk: str, contact_id: str) -> bool:
    """A new segment of a linked call (a transfer). A segment that already ended never comes back."""
    try:
        svc.store.update(
            session_pk,
            "ADD #segments :c",
            "attribute_exists(pk) AND expires_at > :now AND NOT contains(#ended, :cid)",
            names={"#segments": "segments", "#ended": "ended"},
            values={":c": {contact_id}, ":cid": contact_id, ":now": clock.now()},
            returns="NONE",
        )
    except ConditionFailed:
        return False
    return True


def finish_if_ended(svc: Services, session_pk: str, reason: str, entry: list[str], agent_id: str | None = None) -> int:
    """A trigger whose segment is no longer live: when no segment of the call lives but records are
    left (an earlier attempt ended the last segment and was interrupted while deleting), finish it."""
    session = svc.store.get(session_pk, include_expired=True, fields=("segments",))
    if session is not None and session.get("segments"):
        return 0  # other segments live (or this one was never part of the call): nothing to do
    return delete_session(svc, session_pk, reason=reason, extra_keys=entry, agent_id=agent_id)


def record_segment_end(svc: Services, session_pk: str, contact_id: str, trigger: str, agent_id: str | None) -> None:
    """A segment ended while others of the call live on (the last one's end is the `deleted` record)."""
    audit.record(
        "segment_ended", svc.settings.tenant, session_pk, contact_id=contact_id, trigger=trigger, agent_id=agent_id
    )
    count("SegmentsEnded")
    count_by("SegmentsEnded", trigger=trigger)


def contact_completed(svc: Services, contact_id: str, initial_contact_id: str) -> int:
    """A segment completed (after-contact work included). Delete when no other segment of the call lives."""
    contact_pk = CONTACT + initial_contact_id
    contact = svc.store.get(contact_pk, include_expired=True, fields=("session_pk",))
    if contact is None:
        return 0
    session_pk = str(contact["session_pk"])
    remaining = end_segment(svc, session_pk, contact_id)
    if remaining is None:
        return finish_if_ended(svc, session_pk, "completed", [contact_pk])
    if remaining:
        record_segment_end(svc, session_pk, contact_id, "completed", None)
        return 0
    return delete_session(svc, session_pk, reason="completed", extra_keys=[contact_pk])


def segment_started(svc: Services, contact_id: str, initial_contact_id: str) -> int:
    """A transfer created a new segment of a linked call: keep the data until that one completes too."""
    contact = svc.store.get(CONTACT + initial_contact_id, fields=("session_pk",))
    if contact is not None:
        start_segment(svc, str(contact["session_pk"]), contact_id)
    return 0


def caller_hung_up(svc: Services, initial_contact_id: str) -> int:
    """From the disconnect flow: only a contact that never reached an agent may go now; otherwise the
    agent may still be in after-contact work and COMPLETED will delete it."""
    contact = svc.store.get(CONTACT + initial_contact_id, include_expired=True)
    if contact is None:
        return 0
    session = svc.store.get(str(contact["session_pk"]), include_expired=True, fields=("agent_seen_at",))
    if session is not None and session.get("agent_seen_at"):
        return 0
    return delete_session(svc, str(contact["session_pk"]), reason="hung_up", extra_keys=[CONTACT + initial_contact_id])


def sweep(svc: Services) -> int:
    """Remove everything past `expires_at`, whatever DynamoDB's own TTL sweeper has done yet."""
    return sweep_items(svc, list(svc.store.scan_expired(clock.now())))


def sweep_items(svc: Services, items: list[dict[str, Any]]) -> int:
    """Delete these expired items (keys from `Store.scan_expired`) of the tenant of `svc`."""
    now = clock.now()
    deleted = 0
    for item in items:
        pk = str(item["pk"])
        if pk.startswith(SESSION):
            deleted += delete_session(svc, pk, reason="expired")
        elif svc.store.delete_if_expired(pk, now):
            deleted += 1
            count("RecordsDeleted")
    return deleted


def event_ids(detail: dict[str, Any]) -> tuple[str, str, str, str]:
    """(eventType, contactId, initialContactId, initiationMethod) from a contact event, whatever the
    key casing (samples differ)."""
    lowered = {str(k).lower(): v for k, v in detail.items()}

    def text(name: str) -> str:
        value = lowered.get(name.lower())
        return value.strip() if isinstance(value, str) else ""

    contact_id = text("contactId")
    return (
        text("eventType").upper(),
        contact_id,
        text("initialContactId") or contact_id,
        text("initiationMethod").upper(),
    )
