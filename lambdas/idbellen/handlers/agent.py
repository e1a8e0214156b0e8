"""Agent function: the widget's routes, behind the API's JWT authorizer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from idbellen import agents, config, disclosure, processing_log, tenants
from idbellen.errors import ConfigError, Forbidden
from idbellen.http_api import authorizer_claims, error, json_body, json_response, make_resolver, resolve
from idbellen.observability import logger, metrics, set_tenant
from idbellen.wiring import Services, services

app = make_resolver()


def _agent() -> tuple[Services, agents.Agent | None]:
    """The authenticated agent and their tenant (401 without claims, 403 for a user who is not an agent
    of exactly one enabled tenant). The tenant comes from the verified claims only: the tenant whose
    agent rule (group and/or scope) the token meets and — when it names an identity provider — whose
    provider prefixes the username. A session or contact of another tenant is then simply not there."""
    claims, scopes = authorizer_claims(app)
    registry = tenants.registry()
    if registry is None or claims is None:
        svc = services()
        return svc, agents.authorize(svc.settings, claims, scopes)
    matches: list[tuple[Services, agents.Agent | None]] = []
    for tenant in registry.enabled():
        svc = services(tenant.id)
        try:
            agent = agents.authorize(svc.settings, claims, scopes)
        except (Forbidden, ConfigError):
            continue
        if svc.settings.agent_idp and (agent is None or agent.username is None):
            continue  # the tenant's group, but not a user of the tenant's identity provider
        matches.append((svc, agent))
    if len(matches) != 1:
        raise Forbidden("not_an_agent")
    set_tenant(matches[0][0].settings.tenant)
    return matches[0]


@app.exception_handler(PermissionError)
def _unauthorized(exc: PermissionError) -> Response[Any]:
    return error(401, "unauthorized")


@app.post("/agent/disclosure")
def read_disclosure() -> Response[Any]:
    svc, agent = _agent()
    body = json_body(app, required=("secret", "contact_id"))
    return json_response(200, disclosure.read(svc, body["secret"], body["contact_id"], agent))


@app.post("/agent/clear")
def clear_disclosure() -> Response[Any]:
    svc, agent = _agent()
    body = json_body(app, required=("secret", "contact_id"))
    disclosure.clear(svc, body["secret"], body["contact_id"], agent)
    return Response(status_code=204, body="", headers={"Cache-Control": "no-store"})


@processing_log.after_response
@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    set_tenant(config.settings().tenant)  # the default tenant until the request names its own
    return resolve(app, event, context)
