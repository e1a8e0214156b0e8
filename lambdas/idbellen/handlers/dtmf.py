"""DTMF function, invoked from the Amazon Connect contact flow.

Always answers a flat string map (Connect's STRING_MAP): a bad event, a fault or a bug ends in
`INVALID_INPUT` or `ERROR`, and the flow still queues the caller as unverified. No HTTP resolver, no
Tracer, no KMS client, no Powertools and no `cryptography`/`requests` import on this path: it is the
one a caller waits on in silence, and its cold start hits the first caller of every quiet period
(`make bench` measures it: `import_ratio.dtmf`). Logging and metrics come from `observability_lite`,
with the same hardening as `observability`.
"""

from __future__ import annotations

from typing import Any

from idbellen import clock, redemption
from idbellen.observability_lite import logger, metrics, safe_error, set_tenant
from idbellen.wiring import services


def _text(value: object, limit: int = 256) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _call(event: object) -> tuple[redemption.Call, dict[str, Any], str | None] | None:
    """The parts of a ContactFlowEvent we use, read defensively (ContactData fields can be null)."""
    if not isinstance(event, dict):
        return None
    details = event.get("Details")
    if not isinstance(details, dict):
        return None
    data = details.get("ContactData") if isinstance(details.get("ContactData"), dict) else {}
    params = details.get("Parameters") if isinstance(details.get("Parameters"), dict) else {}
    contact_id = _text(data.get("ContactId"), 128)
    if contact_id is None:
        return None
    endpoint = data.get("CustomerEndpoint") if isinstance(data.get("CustomerEndpoint"), dict) else {}
    call = redemption.Call(
        digits=params.get("dtmf"),
        contact_id=contact_id,
        initial_contact_id=_text(data.get("InitialContactId"), 128) or contact_id,
        caller=_text(endpoint.get("Address"), 32),
        attempt_at=clock.now_precise(),
    )
    return call, params, _text(data.get("InstanceARN"), 256)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    try:
        svc = services()
        set_tenant(svc.settings.tenant)
        parsed = _call(event)
        if parsed is None:
            return {"result": redemption.INVALID_INPUT}
        call, params, instance_arn = parsed
        expected = svc.settings.connect_instance_arn
        if expected and instance_arn != expected:
            logger.warning("contact flow event from an unexpected Connect instance")
            return {"result": redemption.ERROR}
        if params.get("action") == "mark_closed":
            return redemption.mark_closed(svc, call.digits)
        return redemption.redeem(svc, call)
    except Exception as exc:
        logger.error("dtmf redemption failed", extra=safe_error(exc))
        metrics.add_metric(name="DtmfErrors", unit="Count", value=1)
        return {"result": redemption.ERROR}
