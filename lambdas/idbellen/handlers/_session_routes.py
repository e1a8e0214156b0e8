"""The session function's citizen routes, through Powertools' HTTP resolver.

Imported by `handlers.session` on the first citizen request only: the IRMA callback and the DTMF
function's pull, which have a clock running, are answered there without the resolver.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from idbellen import sessions
from idbellen.http_api import json_body, json_response, make_resolver, resolve
from idbellen.observability import logger, metrics, set_tenant
from idbellen.wiring import services

app = make_resolver()


@app.post("/sessions")
def start_session() -> Response[Any]:
    body = json_body(app)
    return json_response(201, sessions.start(services(), body.get("purpose")))


@app.get("/sessions/<session_id>")
def session_status(session_id: str) -> Response[Any]:
    return json_response(200, sessions.status(services(), session_id))


@app.post("/sessions/<session_id>/complete")
def complete_session(session_id: str) -> Response[Any]:
    return json_response(200, sessions.complete(services(), session_id))


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    set_tenant(services().settings.tenant)
    return resolve(app, event, context)
