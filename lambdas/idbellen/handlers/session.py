"""Session function: citizen routes, the IRMA callback, and pulls asked for by the DTMF function."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from idbellen import processing_log, sessions
from idbellen.http_api import json_body, json_response, make_resolver, raw_body, resolve
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


@app.post("/irma/callback/<session_id>")
def irma_callback(session_id: str) -> Response[Any]:
    return json_response(200, sessions.callback(services(), session_id, raw_body(app)))


@processing_log.after_response
@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    set_tenant(services().settings.tenant)
    if isinstance(event, dict) and event.get("idbellen_action") == "pull":
        try:
            return sessions.pull_by_pk(services(), event.get("session_pk"))
        except Exception:
            logger.warning("pull for the phone side failed")
            return {"status": "UNKNOWN"}
    return resolve(app, event, context)
