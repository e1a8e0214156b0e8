"""Agent side: show the verified attributes for the contact segment the agent is on, and end it.

Every "no" is the same 404 `not_found` — unknown, expired, cleared, wrong contact, ended segment, another
agent's contact, tampered — so the API cannot be used to probe which secrets exist. Warm, a read costs
one GetItem, one UpdateItem (marks the session CONNECTED and returns it) and one KMS Decrypt, plus, with
the agent binding on, one `DescribeContact` (and a cached `DescribeUser`).

Segments: a linked call has a set of live contact ids (`segments` on the session item): the segment
that redeemed the code, plus every transfer segment (the `INITIATED` contact event, or — with the binding
on — Connect's `DescribeContact` naming this call's InitialContactId when that segment's agent reads).
A read is accepted only for a live segment; ending a segment (this agent's clear, or its `COMPLETED`
event) moves it to `ended` for good, and the end of the last live one deletes everything.
"""

from __future__ import annotations

import json
import re
from typing import Any

from idbellen import audit, clock, codes, crypto
from idbellen.agents import Agent
from idbellen.cleanup import delete_session, end_segment, finish_if_ended, record_segment_end
from idbellen.connect_contacts import ContactView
from idbellen.errors import BadRequest, IntegrityError, NotFound
from idbellen.observability import count, count_by, logger, redactor, safe_error
from idbellen.store import SECRET, SESSION, ConditionFailed
from idbellen.wiring import Services

CONTACT_ID = re.compile(r"^[A-Za-z0-9-]{1,128}\Z")


def _secret_pk(secret: object) -> str:
    if not isinstance(secret, str) or not codes.SECRET_PATTERN.match(secret):
        raise BadRequest("invalid_secret")
    redactor.register(secret)
    return SECRET + codes.sha256_ref(secret)


def _contact_id(contact_id: object) -> str:
    if not isinstance(contact_id, str) or not CONTACT_ID.match(contact_id):
        raise BadRequest("invalid_contact_id")
    return contact_id


def _bound_agent(svc: Services, contact_id: str, initial_contact_id: str, agent: Agent | None) -> ContactView | None:
    """The agent binding (on whenever a Connect instance is configured): Connect's user on this segment
    is exactly the signed-in agent, the agent accepted it, and the segment belongs to this call. None
    when any of that does not hold; fails closed when Connect cannot be asked."""
    if svc.contacts is None or agent is None or not agent.username:
        count("AgentContactMismatch")
        return None
    try:
        view = svc.contacts.describe(contact_id)
    except Exception as exc:
        logger.warning("could not check the agent on the contact", extra=safe_error(exc))
        count("AgentCheckErrors")
        return None
    if view.initial_contact_id != initial_contact_id or not view.accepted or view.agent_username != agent.username:
        count("AgentContactMismatch")
        return None
    return view


def _agent_ref(view: ContactView | None, agent: Agent | None) -> str | None:
    """The pseudonymous agent id for the processing log: Connect's user id, else the token's subject."""
    if view is not None and view.agent_user_id:
        return view.agent_user_id
    return agent.subject if agent is not None else None


def read(svc: Services, secret: object, contact_id: object, agent: Agent | None) -> dict[str, Any]:
    secret_pk = _secret_pk(secret)
    contact_id = _contact_id(contact_id)
    store = svc.store
    pointer = store.get(secret_pk)
    if pointer is None:
        raise NotFound("not_found")
    session_pk = str(pointer["session_pk"])
    view = None
    if svc.settings.verify_agent:
        view = _bound_agent(svc, contact_id, str(pointer.get("initial_contact_id")), agent)
        if view is None:
            raise NotFound("not_found")
    now = clock.now()
    base = "attribute_exists(pk) AND expires_at > :now AND secret_pk = :spk AND attribute_exists(disclosure)"
    if view is not None:
        # Connect vouched that this segment belongs to the call: it becomes live unless it already ended
        expression = "SET #status = :connected, agent_seen_at = if_not_exists(agent_seen_at, :now) ADD #segments :c"
        condition = base + " AND NOT contains(#ended, :cid)"
        names = {"#status": "status", "#segments": "segments", "#ended": "ended"}
        values: dict[str, Any] = {":c": {contact_id}}
    else:
        expression = "SET #status = :connected, agent_seen_at = if_not_exists(agent_seen_at, :now)"
        condition = base + " AND contains(#segments, :cid)"
        names = {"#status": "status", "#segments": "segments"}
        values = {}
    try:
        session = store.update(
            session_pk,
            expression,
            condition,
            names=names,
            values={**values, ":connected": "CONNECTED", ":now": now, ":spk": secret_pk, ":cid": contact_id},
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
        agent_id=_agent_ref(view, agent),
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


def clear(svc: Services, secret: object, contact_id: object, agent: Agent | None) -> int:
    """The agent's segment ended (after-contact work done, contact cleared): end that segment only, and
    when it was the last live one delete every item of the session. Idempotent; a clear for another
    contact, or (binding on) by an agent Connect does not have on it, changes nothing."""
    secret_pk = _secret_pk(secret)
    contact_id = _contact_id(contact_id)
    pointer = svc.store.get(secret_pk, include_expired=True)
    if pointer is None:
        return 0
    session_pk = str(pointer["session_pk"])
    view = None
    if svc.settings.verify_agent:
        view = _bound_agent(svc, contact_id, str(pointer.get("initial_contact_id")), agent)
        if view is None:
            return 0
    agent_ref = _agent_ref(view, agent)
    remaining = end_segment(svc, session_pk, contact_id)
    if remaining is None:
        return finish_if_ended(svc, session_pk, "cleared", [secret_pk], agent_ref)
    if remaining:
        record_segment_end(svc, session_pk, contact_id, "cleared", agent_ref)
        return 0
    return delete_session(svc, session_pk, reason="cleared", extra_keys=[secret_pk], agent_id=agent_ref)
