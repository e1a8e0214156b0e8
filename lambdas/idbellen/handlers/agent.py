"""Agent function: the widget's routes, behind the API's JWT authorizer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from idbellen import agents, disclosure, processing_log
from idbellen.http_api import authorizer_claims, error, json_body, json_response, make_resolver, resolve
from idbellen.observability import logger, metrics, set_tenant
from idbellen.wiring import services

app = make_resolver()


def _agent() -> agents.Agent | None:
    """The authenticated agent (401 without claims, 403 for a user who is not an agent)."""
    claims, scopes = authorizer_claims(app)
    return agents.authorize(services().settings, claims, scopes)


@app.exception_handler(PermissionError)
def _unauthorized(exc: PermissionError) -> Response[Any]:
    return error(401, "unauthorized")


@app.post("/agent/disclosure")
def read_disclosure() -> Response[Any]:
    agent = _agent()
    body = json_body(app, required=("secret", "contact_id"))
    return json_response(200, disclosure.read(services(), body["secret"], body["contact_id"], agent))


@app.post("/agent/clear")
def clear_disclosure() -> Response[Any]:
    agent = _agent()
    body = json_body(app, required=("secret", "contact_id"))
    disclosure.clear(services(), body["secret"], body["contact_id"], agent)
    return Response(status_code=204, body="", headers={"Cache-Control": "no-store"})


@processing_log.after_response
@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    set_tenant(services().settings.tenant)
    return resolve(app, event, context)
