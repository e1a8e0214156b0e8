"""The parts of an Amazon Connect `ContactFlowEvent` we use, read defensively.

ContactData fields can be null or missing (CustomerEndpoint, Queue, …) and Powertools'
`ConnectContactFlowEvent` raises on missing keys, so both flow-invoked functions read through here.
Standard library only: this is on the DTMF function's cold-start path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_ID = 128


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


@dataclass(frozen=True)
class FlowEvent:
    contact_id: str
    initial_contact_id: str
    caller: str | None
    instance_arn: str | None
    parameters: dict[str, Any]
    dialled: str | None = None  # SystemEndpoint.Address: the number the caller dialled (tenant resolution)


def parse(event: object) -> FlowEvent | None:
    """None when the event has no usable ContactId (not something Connect sends)."""
    details = _obj(_obj(event).get("Details"))
    data = _obj(details.get("ContactData"))
    contact_id = data.get("ContactId")
    if not isinstance(contact_id, str) or not contact_id or len(contact_id) > MAX_ID:
        return None
    initial = data.get("InitialContactId")
    if not isinstance(initial, str) or not initial or len(initial) > MAX_ID:
        initial = contact_id
    return FlowEvent(
        contact_id=contact_id,
        initial_contact_id=initial,
        caller=_text(_obj(data.get("CustomerEndpoint")).get("Address"), 32),
        instance_arn=_text(data.get("InstanceARN"), 256),
        parameters=_obj(details.get("Parameters")),
        dialled=_text(_obj(data.get("SystemEndpoint")).get("Address"), 32),
    )
