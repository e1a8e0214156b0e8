"""Cleanup function: contact events (EventBridge), the disconnect flow, and the scheduled sweep.

For EventBridge a failure raises, so the rule's retry policy and dead-letter queue take over; for the
disconnect flow it answers a STRING_MAP like every flow-invoked function.
"""

from __future__ import annotations

from typing import Any

from idbellen import cleanup, clock, config, contact_flow_event, processing_log, tenants, wiring
from idbellen.observability import logger, metrics, safe_error, set_tenant
from idbellen.wiring import Services, services

CONTACT_EVENT = "Amazon Connect Contact Event"


def _contact_event(event: dict[str, Any]) -> int:
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return 0
    event_type, contact_id, initial_id, method = cleanup.event_ids(detail)
    instance = next((v for k, v in detail.items() if str(k).lower() == "instancearn"), None)
    if not contact_id or len(contact_id) > 128 or len(initial_id) > 128:
        return 0  # Connect's ids are UUIDs; an oversized key would fail at DynamoDB on every retry
    if event_type != "COMPLETED" and not (event_type == "INITIATED" and method in cleanup.TRANSFER_METHODS):
        return 0
    deleted = 0
    # Each candidate tenant's store sees only that tenant's items: an event from the wrong instance
    # finds nothing to act on (several candidates only when tenants share an instance).
    for svc in _instance_services(instance):
        set_tenant(svc.settings.tenant)
        if event_type == "COMPLETED":
            deleted += cleanup.contact_completed(svc, contact_id, initial_id)
        else:
            deleted += cleanup.segment_started(svc, contact_id, initial_id)
    return deleted


def _instance_services(instance: object) -> list[Services]:
    """The tenants whose calls arrive on this Connect instance (disabled ones too: deletion never stops)."""
    registry = tenants.registry()
    if registry is None:
        expected = services().settings.connect_instance_arn
        return [services()] if not expected or instance == expected else []
    return [services(t.id) for t in registry.for_instance(instance)]


def _sweep() -> int:
    """Everything past its expiry, tenant by tenant (each tenant's deletions under its own settings,
    processing-log group and metrics dimension)."""
    registry = tenants.registry()
    if registry is None:
        return cleanup.sweep(services())
    by_tenant: dict[str, list[dict[str, Any]]] = {}
    for item in list(services().any_tenant_store.scan_expired(clock.now())):
        by_tenant.setdefault(str(item.get("tenant") or ""), []).append(item)
    deleted = 0
    for tenant, items in sorted(by_tenant.items()):
        svc = wiring.for_stored(tenant)
        metrics.flush_metrics()  # one tenant's counts per metrics blob
        set_tenant(svc.settings.tenant)
        deleted += cleanup.sweep_items(svc, items)
    return deleted


def _disconnect(event: dict[str, Any]) -> dict[str, str]:
    parsed = contact_flow_event.parse(event)
    if parsed is None:
        return {"result": "INVALID_INPUT", "deleted": "0"}
    try:
        registry = tenants.registry()
        svc = services()
        if registry is not None:
            tenant = registry.for_call(parsed.instance_arn, parsed.dialled, include_disabled=True)
            if tenant is None:
                return {"result": "OK", "deleted": "0"}  # no tenant of ours: nothing of ours to delete
            svc = services(tenant.id)
            set_tenant(svc.settings.tenant)
        deleted = cleanup.caller_hung_up(svc, parsed.initial_contact_id)
    except Exception as exc:
        logger.error("disconnect cleanup failed", extra=safe_error(exc))
        return {"result": "ERROR", "deleted": "0"}
    return {"result": "OK", "deleted": str(deleted)}


@processing_log.after_response
@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    set_tenant(config.settings().tenant)  # the default tenant until the request names its own
    if not isinstance(event, dict):
        return {"result": "INVALID_INPUT", "deleted": "0"}
    if event.get("Name") == "ContactFlowEvent":
        return _disconnect(event)
    try:
        if event.get("detail-type") == CONTACT_EVENT:
            deleted = _contact_event(event)
        elif event.get("idbellen_action") == "sweep" or event.get("detail-type") == "Scheduled Event":
            deleted = _sweep()
        else:
            return {"result": "INVALID_INPUT", "deleted": "0"}
    except Exception as exc:
        logger.error("cleanup failed; the event will be retried", extra=safe_error(exc))
        raise RuntimeError("cleanup failed") from None
    return {"result": "OK", "deleted": str(deleted)}
