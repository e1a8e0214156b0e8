"""The session function's citizen routes, through Powertools' HTTP resolver.

Imported by `handlers.session` on the first citizen request only: the IRMA callback and the DTMF
function's pull, which have a clock running, are answered there without the resolver.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from idbellen import codes, config, sessions, tenants
from idbellen.errors import BadRequest, UnknownTenant
from idbellen.http_api import json_body, json_response, make_resolver, resolve
from idbellen.observability import logger, metrics, set_tenant
from idbellen.wiring import Services, services

app = make_resolver()


def _chosen(tenant: object) -> Services:
    """The tenant the citizen page names (public: the page is the municipality's own), or the default
    one; an unknown or disabled tenant is a clear 400, never another tenant."""
    if tenant is not None and (not isinstance(tenant, str) or not config.TENANT_ID.match(tenant)):
        raise BadRequest("unknown_tenant")
    try:
        svc = services(tenant, include_disabled=False)
    except UnknownTenant:
        raise BadRequest("unknown_tenant") from None
    set_tenant(svc.settings.tenant)
    return svc


def _of_session(session_id: str) -> Services:
    """The tenant a session was started for (read from its item), so its page polls it where it lives."""
    from idbellen.handlers.session import for_item

    if tenants.registry() is None or not codes.SESSION_ID_PATTERN.match(session_id):
        return services()
    svc = for_item(sessions.session_pk(session_id))
    set_tenant(svc.settings.tenant)
    return svc


@app.post("/sessions")
def start_session() -> Response[Any]:
    body = json_body(app)
    return json_response(201, sessions.start(_chosen(body.get("tenant")), body.get("purpose")))


@app.get("/tenants")
def list_tenants() -> Response[Any]:
    """Public, for the citizen page's and the workspace's municipality picker: ids, names, purposes."""
    registry = tenants.registry()
    if registry is None:
        shared = services().settings
        entries = [
            {
                "id": shared.tenant,
                "display_name": shared.tenant,
                "purposes": [{"id": p.id, "label": p.label} for p in shared.purposes.values()],
            }
        ]
    else:
        default = registry.get(registry.default_id)
        ordered = [default] if default is not None and default.enabled else []
        ordered += [t for t in registry.enabled() if t.id != registry.default_id]
        entries = [t.public() for t in ordered]
    return json_response(200, entries)


@app.get("/sessions/<session_id>")
def session_status(session_id: str) -> Response[Any]:
    return json_response(200, sessions.status(_of_session(session_id), session_id))


@app.post("/sessions/<session_id>/complete")
def complete_session(session_id: str) -> Response[Any]:
    return json_response(200, sessions.complete(_of_session(session_id), session_id))


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    set_tenant(config.settings().tenant)  # the default tenant until the request names its own
    return resolve(app, event, context)
