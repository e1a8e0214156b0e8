"""Cleanup function: contact events (EventBridge), the disconnect flow, and the scheduled sweep.

For EventBridge a failure raises, so the rule's retry policy and dead-letter queue take over; for the
disconnect flow it answers a STRING_MAP like every flow-invoked function.
"""

from __future__ import annotations

from typing import Any

from idbellen import cleanup, contact_flow_event, processing_log
from idbellen.observability import logger, metrics, safe_error, set_tenant
from idbellen.wiring import services

CONTACT_EVENT = "Amazon Connect Contact Event"


def _contact_event(event: dict[str, Any]) -> int:
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return 0
    event_type, contact_id, initial_id, method = cleanup.event_ids(detail)
    expected = services().settings.connect_instance_arn
    instance = next((v for k, v in detail.items() if str(k).lower() == "instancearn"), None)
    if not contact_id or len(contact_id) > 128 or len(initial_id) > 128 or (expected and instance != expected):
        return 0  # Connect's ids are UUIDs; an oversized key would fail at DynamoDB on every retry
    if event_type == "COMPLETED":
        return cleanup.contact_completed(services(), contact_id, initial_id)
    if event_type == "INITIATED" and method in cleanup.TRANSFER_METHODS:
        return cleanup.segment_started(services(), contact_id, initial_id)
    return 0


def _disconnect(event: dict[str, Any]) -> dict[str, str]:
    parsed = contact_flow_event.parse(event)
    if parsed is None:
        return {"result": "INVALID_INPUT", "deleted": "0"}
    try:
        deleted = cleanup.caller_hung_up(services(), parsed.initial_contact_id)
    except Exception as exc:
        logger.error("disconnect cleanup failed", extra=safe_error(exc))
        return {"result": "ERROR", "deleted": "0"}
    return {"result": "OK", "deleted": str(deleted)}


@processing_log.after_response
@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    set_tenant(services().settings.tenant)
    if not isinstance(event, dict):
        return {"result": "INVALID_INPUT", "deleted": "0"}
    if event.get("Name") == "ContactFlowEvent":
        return _disconnect(event)
    try:
        if event.get("detail-type") == CONTACT_EVENT:
            deleted = _contact_event(event)
        elif event.get("idbellen_action") == "sweep" or event.get("detail-type") == "Scheduled Event":
            deleted = cleanup.sweep(services())
        else:
            return {"result": "INVALID_INPUT", "deleted": "0"}
    except Exception as exc:
        logger.error("cleanup failed; the event will be retried", extra=safe_error(exc))
        raise RuntimeError("cleanup failed") from None
    return {"result": "OK", "deleted": str(deleted)}
