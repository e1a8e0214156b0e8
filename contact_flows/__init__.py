"""Amazon Connect flows of idbellen, as code.

The JSON files next to this module are the source (Connect flow language, ``Version 2019-10-30``,
with ``${Placeholders}`` for deployment values). This package renders them (``render``) and lints
them (``lint``); ``devstack.flow_simulator`` runs them offline against the real handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FLOW_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class FlowSpec:
    """One flow file and how Connect knows it (``Type`` of ``AWS::Connect::ContactFlow``)."""

    key: str
    file: str
    connect_type: str  # CONTACT_FLOW | CUSTOMER_WHISPER | MODULE (AWS::Connect::ContactFlowModule)
    role: str  # inbound | disconnect | whisper | module

    @property
    def path(self) -> Path:
        return FLOW_DIR / self.file


FLOWS: dict[str, FlowSpec] = {
    spec.key: spec
    for spec in (
        FlowSpec("inbound", "id_inbound.json", "CONTACT_FLOW", "inbound"),
        FlowSpec("disconnect", "id_disconnect.json", "CONTACT_FLOW", "disconnect"),
        FlowSpec("customer_whisper", "id_customer_whisper.json", "CUSTOMER_WHISPER", "whisper"),
        FlowSpec("module", "id_module.json", "MODULE", "module"),
    )
}

# Contact attributes a flow may set. They live in the contact record for 24 months: never a code,
# a phone number or anything personal (DESIGN.md promise 1).
ALLOWED_CONTACT_ATTRIBUTES = frozenset({"session_secret", "verified", "purpose", "agent_connected"})

__all__ = ["ALLOWED_CONTACT_ATTRIBUTES", "FLOWS", "FLOW_DIR", "FlowSpec"]
