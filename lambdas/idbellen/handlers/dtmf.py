"""DTMF function, invoked from the Amazon Connect contact flow.

Always answers a flat string map (Connect's STRING_MAP): a bad event, a fault or a bug ends in
`INVALID_INPUT` or `ERROR`, and the flow still queues the caller as unverified. The one exception: an
attempt that ran out of time before linking (`redemption.TooLate`) fails as a function error, so
Connect retries it — it wrote nothing. No HTTP resolver, no
Tracer, no KMS client, no Powertools and no `cryptography`/`requests` import on this path: it is the
one a caller waits on in silence, and its cold start hits the first caller of every quiet period
(`make bench` measures it: `import_ratio.dtmf`). Logging and metrics come from `observability_lite`,
with the same hardening as `observability`.
"""

from __future__ import annotations

from typing import Any

from idbellen import clock, config, contact_flow_event, processing_log, redemption, tenants
from idbellen.observability_lite import logger, metrics, safe_error, set_tenant
from idbellen.wiring import Services, services

# The link transaction and the answer must fit in the last half second Lambda allows this attempt
# (the function's timeout is shorter than the flow's InvocationTimeLimitSeconds: docs/security.md).
COMMIT_RESERVE_SECONDS = 0.5


def _deadline(started: float, context: Any) -> float | None:
    """The last moment to start linking: Lambda's remaining time for this attempt, minus the reserve."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    return started + float(remaining()) / 1000 - COMMIT_RESERVE_SECONDS


@processing_log.after_response
@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    started = clock.now_precise()
    try:
        parsed = contact_flow_event.parse(event)
        if parsed is None:
            set_tenant(config.settings().tenant)  # the default tenant until the request names its own
            return {"result": redemption.INVALID_INPUT}
        svc = _tenant_services(parsed)
        if svc is None:
            return _unknown_tenant()
        set_tenant(svc.settings.tenant)
        params = parsed.parameters
        call = redemption.Call(
            digits=params.get("dtmf"),
            contact_id=parsed.contact_id,
            initial_contact_id=parsed.initial_contact_id,
            caller=parsed.caller,
            attempt_at=started,
            deadline=_deadline(started, context),
        )
        expected = svc.settings.connect_instance_arn
        if expected and parsed.instance_arn != expected:
            logger.warning("contact flow event from an unexpected Connect instance")
            return {"result": redemption.ERROR}
        if params.get("action") == "mark_closed":
            return redemption.mark_closed(svc, call)
        return redemption.redeem(svc, call)
    except redemption.TooLate:
        raise  # a function error: Connect retries the attempt (nothing was linked)
    except Exception as exc:
        logger.error("dtmf redemption failed", extra=safe_error(exc))
        metrics.add_metric(name="DtmfErrors", unit="Count", value=1)
        return {"result": redemption.ERROR}


def _tenant_services(parsed: contact_flow_event.FlowEvent) -> Services | None:
    """The tenant of the call, from what Connect says: the instance and the dialled number (cached
    registry, no AWS call warm). None: no enabled tenant of this deployment takes this call."""
    registry = tenants.registry()
    if registry is None:
        return services()
    tenant = registry.for_call(parsed.instance_arn, parsed.dialled)
    return services(tenant.id) if tenant is not None else None


def _unknown_tenant() -> dict[str, str]:
    """No (enabled) tenant for this instance and number: the flow's unverified outcome, no lookup. The
    caller still reaches the queue; the answer is the one for an unknown code."""
    set_tenant("unknown")
    metrics.add_metric(name="DtmfUnknownTenant", unit="Count", value=1)
    return {"result": redemption.NOT_FOUND}
