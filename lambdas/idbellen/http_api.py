"""What the two HTTP-facing functions share: a resolver that cannot leak, body parsing with limits,
the agent's identity from the JWT authorizer, and one mapping from domain errors to responses.

Error bodies are `{"error": <stable code>}` only: never input, never internals.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from idbellen.errors import BadRequest, Forbidden, IdbellenError, IntegrityError, NotFound, Unavailable
from idbellen.observability import count, logger, safe_error

MAX_BODY_BYTES = 8 * 1024
JSON = "application/json"


def json_response(status: int, body: dict[str, Any] | list[Any] | None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body) if body is not None else "",
        headers={"Cache-Control": "no-store"},
    )


def error(status: int, code: str) -> Response[Any]:
    return json_response(status, {"error": code})


def make_resolver() -> APIGatewayHttpResolver:
    """debug=False always: POWERTOOLS_DEV would otherwise print events and return tracebacks."""
    app = APIGatewayHttpResolver(debug=False)

    @app.exception_handler(BadRequest)
    def _bad_request(exc: BadRequest) -> Response[Any]:
        return error(400, str(exc))

    @app.exception_handler(NotFound)
    def _not_found(exc: NotFound) -> Response[Any]:
        return error(404, "not_found")

    @app.exception_handler(Forbidden)
    def _forbidden(exc: Forbidden) -> Response[Any]:
        count("AgentForbidden")
        return error(403, "forbidden")

    @app.exception_handler(IntegrityError)
    def _integrity(exc: IntegrityError) -> Response[Any]:
        return error(404, "not_found")

    @app.exception_handler(Unavailable)
    def _unavailable(exc: Unavailable) -> Response[Any]:
        logger.warning("dependency unavailable", extra=safe_error(exc))
        count("DependencyErrors")
        return error(503, exc.code)

    @app.exception_handler(IdbellenError)
    def _domain(exc: IdbellenError) -> Response[Any]:
        logger.error("request failed", extra=safe_error(exc))
        return error(500, exc.code)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[Any]:
        logger.error("unexpected error", extra=safe_error(exc))
        count("UnexpectedErrors")
        return error(500, "internal_error")

    @app.not_found
    def _no_route(exc: Exception) -> Response[Any]:
        return error(404, "not_found")

    return app


def resolve(app: APIGatewayHttpResolver, event: Any, context: Any) -> dict[str, Any]:
    """Route an HTTP API event. API Gateway only sends well-formed events; anything else (a test, a
    misconfigured integration) is answered 400 `bad_request` instead of raising out of the handler —
    route errors never get here, the resolver's exception handlers map them."""
    try:
        return app.resolve(event, context)
    except Exception as exc:
        logger.warning("malformed HTTP API event", extra=safe_error(exc))
        return {
            "statusCode": 400,
            "headers": {"Content-Type": JSON, "Cache-Control": "no-store"},
            "body": json.dumps({"error": "bad_request"}),
            "isBase64Encoded": False,
        }


def raw_body(app: APIGatewayHttpResolver) -> str:
    event = app.current_event
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise BadRequest("invalid_body")
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise BadRequest("invalid_body") from None
    if len(body.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        raise BadRequest("body_too_large")
    return body


def json_body(app: APIGatewayHttpResolver, required: tuple[str, ...] = ()) -> dict[str, Any]:
    body = raw_body(app)
    try:
        data = json.loads(body) if body else None
    except (ValueError, RecursionError):
        raise BadRequest("invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest("json_object_required")
    for name in required:
        if not isinstance(data.get(name), str):
            raise BadRequest(f"missing_or_invalid_{name}")
    return data


def authorizer_claims(app: APIGatewayHttpResolver) -> tuple[dict[str, Any] | None, Any]:
    """The claims (and scopes) API Gateway's JWT authorizer verified, or (None, None) without any."""
    context = app.current_event.get("requestContext") or {}
    authorizer = context.get("authorizer") if isinstance(context, dict) else None
    jwt = authorizer.get("jwt") if isinstance(authorizer, dict) else None
    claims = jwt.get("claims") if isinstance(jwt, dict) else None
    if not isinstance(claims, dict):
        return None, None
    return claims, jwt.get("scopes") if isinstance(jwt, dict) else None
