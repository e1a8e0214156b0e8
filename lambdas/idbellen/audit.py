"""The processing log (verwerkingenlog): one structured record per processing step.

It proves afterwards what happened to a citizen's data without holding any of it: purposes,
attribute *types*, pseudonymous ids (a short session reference, contact id, agent id), outcomes and
ages — never attribute values, secrets, codes or phone numbers. Records are JSON lines on stdout
with `"log_type": "processing"`, so the DTMF path makes no extra network call; the deployment
routes them to their own log group with a longer retention (see docs/privacy.md).

The writer is a dedicated logger with its own handler at INFO: a log level set for debugging cannot
silence it, and it never propagates into other handlers.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from typing import Any

from idbellen import clock

LOG_TYPE = "processing"
SCHEMA = "idbellen.processing/1"
ALLOWED_FIELDS = frozenset(
    {
        "purpose",
        "attribute_types",
        "proof_status",
        "outcome",
        "reason",
        "contact_id",
        "initial_contact_id",
        "agent_id",
        "age_seconds",
        "trigger",
        "items_deleted",
    }
)
STEPS = frozenset({"session_started", "disclosed", "disclosure_rejected", "call_linked", "shown_to_agent", "deleted"})

_log = logging.getLogger("idbellen.processing")
_log.setLevel(logging.INFO)
_log.propagate = False
if not _log.handlers:
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _log.addHandler(_handler)


def session_ref(session_pk: str) -> str:
    """Short pseudonymous reference linking the steps of one session (a prefix of a hash of a hash)."""
    return session_pk.rsplit("#", 1)[-1][:16]


def record(step: str, tenant: str, session_pk: str, **fields: Any) -> dict[str, Any]:
    """Write one processing-log record. Unknown fields are refused, so a value cannot slip in."""
    if step not in STEPS:
        raise ValueError(f"unknown processing step {step!r}")
    unknown = set(fields) - ALLOWED_FIELDS
    if unknown:
        raise ValueError(f"fields not allowed in the processing log: {sorted(unknown)}")
    entry: dict[str, Any] = {
        "log_type": LOG_TYPE,
        "schema": SCHEMA,
        "id": str(uuid.uuid4()),
        "timestamp": clock.now(),
        "step": step,
        "tenant": tenant,
        "session_ref": session_ref(session_pk),
        **{k: v for k, v in fields.items() if v is not None},
    }
    _log.info(json.dumps(entry, separators=(",", ":"), sort_keys=True))
    return entry
