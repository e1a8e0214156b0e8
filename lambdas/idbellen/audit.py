"""The processing log (verwerkingenlog): one structured record per processing step.

It proves afterwards what happened to a citizen's data without holding any of it: purposes,
attribute *types*, pseudonymous ids (a short session reference, contact id, agent id), outcomes and
ages — never attribute values, secrets, codes or phone numbers. Records are JSON lines with
`"log_type": "processing"`. Deployed (`IDBELLEN_PROCESSING_LOG_GROUP` set), they go straight into
their own KMS-encrypted log group, written after the response by `idbellen.processing_log` (a Lambda
internal extension), so no caller waits on a log call and no record reaches a function's operational
log group; without a group (local runs) they are printed on stdout. See docs/processing-log.md.

The fields follow the VNG "Verwerkingenlogging" API standard (verwerkingsactie) and the Logboek
Dataverwerkingen where they fit; docs/processing-log.md has the mapping. What they cannot hold by
design: the standard's `verwerkteObjecten[].objectId` (the BSN of the data subject) — our log links
steps by a pseudonymous session reference instead.

The writer is a dedicated logger with its own handler at INFO: a log level set for debugging cannot
silence it, and it never propagates into other handlers. Every field is whitelisted and its value
checked against the shape it must have; a value of the wrong shape is written as `[invalid]`, so
nothing personal can slip in through a field, and the step itself never fails because of its log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from idbellen import clock, processing_log

LOG_TYPE = "processing"
SCHEMA = "idbellen.processing/2"
SYSTEM = "idbellen"
INVALID = "[invalid]"
# Namespace for the per-session `verwerking_id` (a UUIDv5 of tenant + session reference).
_NAMESPACE = uuid.UUID("6f1d4a52-6c2b-5e0c-9a57-4b1f0f6c1d01")

_PURPOSE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")
_ATTRIBUTE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){3}\Z")
_TOKEN = re.compile(r"^[A-Za-z_]{1,40}\Z")
_CONTACT = re.compile(r"^[A-Za-z0-9-]{1,128}\Z")
_AGENT = re.compile(r"^[A-Za-z0-9@._:+-]{1,128}\Z")


def _int(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else INVALID


def _match(pattern: re.Pattern[str]) -> Any:
    return lambda value: value if isinstance(value, str) and pattern.match(value) else INVALID


def _types(value: Any) -> Any:
    if not isinstance(value, list | tuple):
        return INVALID
    return [a if isinstance(a, str) and _ATTRIBUTE.match(a) else INVALID for a in value]


# field -> validator; the only fields a record may carry besides the fixed envelope.
FIELDS = {
    "purpose": _match(_PURPOSE),
    "attribute_types": _types,
    "proof_status": _match(_TOKEN),
    "outcome": _match(_TOKEN),
    "reason": _match(_TOKEN),
    "contact_id": _match(_CONTACT),
    "initial_contact_id": _match(_CONTACT),
    "agent_id": _match(_AGENT),
    "age_seconds": _int,
    "trigger": _match(_TOKEN),
    "items_deleted": _int,
    "relink": lambda v: v if isinstance(v, bool) else INVALID,
}
ALLOWED_FIELDS = frozenset(FIELDS)
ENVELOPE_FIELDS = frozenset(
    {
        "log_type",
        "schema",
        "id",
        "verwerking_id",
        "timestamp",
        "epoch",
        "step",
        "action",
        "processing",
        "status",
        "tenant",
        "session_ref",
        "system",
        "executor",
        "confidentiality",
        "retention",
        "activity",
        "legal_basis",
    }
)

# step -> (Dutch action name: the standard's actieNaam, status). The processing (verwerkingNaam) is
# the same for every step: identifying a caller for a contact-centre call.
STEP_ACTIONS = {
    "session_started": ("Identificatiesessie gestart", "ok"),
    "disclosed": ("Gegevens getoond in Yivi en ontvangen", "ok"),
    "disclosure_rejected": ("Gegevens niet geaccepteerd", "rejected"),
    "call_linked": ("Gesprek gekoppeld aan identificatie", "ok"),
    "shown_to_agent": ("Gegevens getoond aan medewerker", "ok"),
    "segment_ended": ("Gespreksdeel beëindigd", "ok"),
    "deleted": ("Gegevens verwijderd", "ok"),
}
STEPS = frozenset(STEP_ACTIONS)
PROCESSING_NAME = "Identificatie beller KCC (idbellen)"


class _StdoutHandler(logging.StreamHandler[Any]):
    """Writes to whatever sys.stdout is now (Lambda's, or a test's capture), never a stale stream."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:
        return


# In Lambda with a processing log group: register the extension that writes the records after the
# response (this import runs during the function's init, the only time Lambda accepts it).
processing_log.install()

_log = logging.getLogger("idbellen.processing")
_log.setLevel(logging.INFO)
_log.propagate = False
if not _log.handlers:
    _handler = _StdoutHandler()
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _log.addHandler(_handler)


def session_ref(session_pk: str) -> str:
    """Short pseudonymous reference linking the steps of one session (a prefix of the SHA-256 of the session id)."""
    return session_pk.rsplit("#", 1)[-1][:16]


def verwerking_id(tenant: str, session_pk: str) -> str:
    """The standard's verwerkingId: one UUID for all steps of a session, derived from the reference."""
    return str(uuid.uuid5(_NAMESPACE, f"{tenant}:{session_ref(session_pk)}"))


def _settings(tenant: str) -> tuple[Any, bool]:
    """The settings of the record's tenant (None where there are none: a record must never fail on
    config), and whether they are a registry tenant's (whose records go to its own group)."""
    try:
        from idbellen import wiring

        return wiring.settings_for(tenant)
    except Exception:
        return None, False


def record(step: str, tenant: str, session_pk: str, **fields: Any) -> dict[str, Any]:
    """Write one processing-log record. Unknown fields are refused, so a value cannot slip in."""
    if step not in STEPS:
        raise ValueError(f"unknown processing step {step!r}")
    unknown = set(fields) - ALLOWED_FIELDS
    if unknown:
        raise ValueError(f"fields not allowed in the processing log: {sorted(unknown)}")
    settings, registered = _settings(tenant)
    purpose = settings.purpose(fields["purpose"]) if settings and isinstance(fields.get("purpose"), str) else None
    now = clock.now()
    action, status = STEP_ACTIONS[step]
    entry: dict[str, Any] = {
        "log_type": LOG_TYPE,
        "schema": SCHEMA,
        "id": str(uuid.uuid4()),
        "verwerking_id": verwerking_id(tenant, session_pk),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "epoch": int(now),
        "step": step,
        "action": action,
        "processing": PROCESSING_NAME,
        "status": status,
        "tenant": tenant if _PURPOSE.match(tenant) else INVALID,
        "session_ref": session_ref(session_pk),
        "system": SYSTEM,
        "confidentiality": "normaal",
        "retention": settings.processing_log_retention if settings else "P1Y",
        "executor": (settings.controller_oin or None) if settings else None,
        "activity": purpose.activity if purpose else None,
        "legal_basis": purpose.legal_basis if purpose else None,
        **{k: FIELDS[k](v) for k, v in fields.items() if v is not None},
    }
    entry = {k: v for k, v in entry.items() if v is not None}
    line = json.dumps(entry, separators=(",", ":"), sort_keys=True)
    if processing_log.group():
        # each controller's records in its own group (the shared group: tenants no longer registered)
        target = settings.processing_log_group if registered and settings.processing_log_group else ""
        processing_log.sink.write(line, int(time.time() * 1000), entry["tenant"], target or processing_log.group())
    else:
        _log.info(line)
    return entry
