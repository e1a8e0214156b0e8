"""Agent side: show the verified attributes for the contact the agent is on, and clear them.

Every "no" is the same 404 `not_found` — unknown, expired, cleared, wrong contact, tampered — so the
API cannot be used to probe which secrets exist. Warm, a read costs one GetItem, one UpdateItem
(marks the session CONNECTED and returns it) and one KMS Decrypt.
"""

from __future__ import annotations

import json
import re
from typing import Any

from idbellen import audit, clock, codes, crypto
from idbellen.cleanup import delete_session
from idbellen.errors import BadRequest, IntegrityError, NotFound
from idbellen.observability import count, count_by, logger, redactor, safe_error
from idbellen.store import CONTACT, SECRET, SESSION, ConditionFailed
from idbellen.wiring import Services

CONTACT_ID = re.compile(r"^[A-Za-z0-9-]{1,128}$")


def _secret_pk(secret: object) -> str:
    if not isinstance(secret, str) or not codes.SECRET_PATTERN.match(secret):
        raise BadRequest("invalid_secret")
    redactor.register(secret)
    return SECRET + codes.sha256_ref(secret)


def _belongs(svc: Services, pointer: dict[str, Any], contact_id: str) -> bool:
    """The contact's own id or its InitialContactId; a later segment of a transferred call counts
    once the cleanup function has seen its transfer event."""
    if contact_id in (pointer.get("contact_id"), pointer.get("initial_contact_id")):
        return True
    contact = svc.store.get(CONTACT + str(pointer.get("initial_contact_id")))
    return contact is not None and contact_id in contact.get("segments", set())


def _agent_on_contact(svc: Services, contact_id: str, agent_id: str | None) -> bool:
    """Optional check (IDBELLEN_VERIFY_AGENT): Connect says this agent is on this contact. Fails closed."""
    if svc.contacts is None or not agent_id:
        count("AgentContactMismatch")
        return False
    try:
        on_contact = svc.contacts.agent_on_contact(contact_id, agent_id)
    except Exception as exc:
        logger.warning("could not check the agent on the contact", extra=safe_error(exc))
        count("AgentCheckErrors")
        return False
    if not on_contact:
        count("AgentContactMismatch")
    return on_contact


def read(svc: Services, secret: object, contact_id: object, agent_id: str | None) -> dict[str, Any]:
    secret_pk = _secret_pk(secret)
    if not isinstance(contact_id, str) or not CONTACT_ID.match(contact_id):
        raise BadRequest("invalid_contact_id")
    store = svc.store
    pointer = store.get(secret_pk)
    if pointer is None or not _belongs(svc, pointer, contact_id):
        raise NotFound("not_found")
    session_pk = str(pointer["session_pk"])
    if svc.settings.verify_agent and not _agent_on_contact(svc, contact_id, agent_id):
        raise NotFound("not_found")
    now = clock.now()
    try:
        session = store.update(
            session_pk,
            "SET #status = :connected, agent_seen_at = if_not_exists(agent_seen_at, :now)",
            "attribute_exists(pk) AND expires_at > :now AND secret_pk = :spk AND attribute_exists(disclosure)",
            names={"#status": "status"},
            values={":connected": "CONNECTED", ":now": now, ":spk": secret_pk},
        )
    except ConditionFailed:
        raise NotFound("not_found") from None
    context = crypto.encryption_context(svc.settings.tenant, session_pk.removeprefix(SESSION))
    try:
        data_key = svc.envelope.open_key(session.get("data_key"), context)
        payload = json.loads(data_key.open("disclosure", session.get("disclosure")))
    except IntegrityError:
        count("IntegrityFailures")
        logger.error("disclosure failed verification; shown as not found")
        raise NotFound("not_found") from None
    purpose = svc.settings.purpose(str(payload.get("purpose")))
    attributes = []
    for attr_id, value in payload.get("attributes", []):
        redactor.register(value)
        labels = {lang: purpose.label_for(attr_id, lang) if purpose else attr_id for lang in ("nl", "en")}
        attributes.append({"id": attr_id, "label": labels["nl"], "labels": labels, "value": value})
    audit.record(
        "shown_to_agent",
        svc.settings.tenant,
        session_pk,
        purpose=payload.get("purpose"),
        contact_id=contact_id,
        agent_id=agent_id,
        attribute_types=[a["id"] for a in attributes],
    )
    count("AgentReads")
    count_by("AgentReads", purpose=payload.get("purpose"))
    return {
        "purpose": payload.get("purpose"),
        "purpose_label": purpose.label if purpose else None,
        "attributes": attributes,
        "caller_match": session.get("caller_match", "unknown"),
        "disclosed_at": session.get("disclosed_at"),
        "expires_at": session.get("expires_at"),
    }


def clear(svc: Services, secret: object, agent_id: str | None) -> int:
    """The agent cleared the contact: delete every item of the session. Idempotent."""
    secret_pk = _secret_pk(secret)
    pointer = svc.store.get(secret_pk, include_expired=True)
    if pointer is None:
        return 0
    return delete_session(svc, str(pointer["session_pk"]), reason="cleared", extra_keys=[secret_pk])
