"""Session function: citizen routes, the IRMA callback, and pulls asked for by the DTMF function.

Two of its jobs have a clock running. The IRMA callback is POSTed inside the Yivi app's final
request, which gives up after 4.2 s (the citizen then never gets the `tel:` link); the DTMF
function's pull runs while a caller waits in silence. Both are answered here, with the
standard-library logger and metrics (`observability_lite`) and without Powertools' HTTP resolver,
so a cold start for them imports no Powertools (`make bench`: `cold_callback_ms`). The citizen
routes go through the resolver in `_session_routes`, imported on their first use.

irmago POSTs the callback to `callbackUrl` + "/" (irma/transport.go appends the slash): the
callback id is taken with or without it.
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import cache
from typing import Any

from idbellen import codes, config, processing_log, sessions, tenants, wiring
from idbellen.errors import BadRequest, IdbellenError, IntegrityError, NotFound, Unavailable
from idbellen.observability_lite import count, logger, metrics, safe_error, set_tenant
from idbellen.store import CALLBACK, SESSION
from idbellen.wiring import Services, services

CALLBACK_PREFIX = "/irma/callback/"


@processing_log.after_response
@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    set_tenant(config.settings().tenant)  # the default tenant until the request names its own
    if isinstance(event, dict) and event.get("idbellen_action") == "pull":
        try:
            pk = event.get("session_pk")
            svc = for_item(pk) if isinstance(pk, str) and pk.startswith(SESSION) and len(pk) <= 100 else services()
            return sessions.pull_by_pk(svc, pk)
        except Exception as exc:
            logger.warning("pull for the phone side failed", extra=safe_error(exc))
            return {"status": "UNKNOWN"}
    callback_id = _callback_id(event)
    if callback_id is not None:
        return _callback(event, callback_id)
    routes: dict[str, Any] = _routes()(event, context)
    return routes


def for_item(pk: str) -> Services:
    """The services of the tenant a stored item (session, callback pointer) belongs to: with a registry,
    one projected read of the item's tenant; an unknown item gets the default tenant's (and is then
    not found by the domain code, as before)."""
    if tenants.registry() is None:
        return services()
    tenant = wiring.stored_tenant(pk)
    if tenant is None:
        return services()
    svc = wiring.for_stored(tenant)
    set_tenant(svc.settings.tenant)
    return svc


@cache
def _routes() -> Any:
    from idbellen.handlers import _session_routes

    return _session_routes.handler


def _callback_id(event: object) -> str | None:
    """The callback id of a `POST /irma/callback/{callback_id}` event (trailing slash allowed)."""
    if not isinstance(event, dict):
        return None
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    method = http.get("method") if isinstance(http, dict) else None
    path = event.get("rawPath")
    if method != "POST" or not isinstance(path, str) or not path.startswith(CALLBACK_PREFIX):
        return None
    rest = path[len(CALLBACK_PREFIX) :]
    return rest[:-1] if rest.endswith("/") else rest


def _callback(event: dict[str, Any], callback_id: str) -> dict[str, Any]:
    try:
        svc = services()
        if tenants.registry() is not None and codes.SECRET_PATTERN.match(callback_id):
            svc = for_item(CALLBACK + codes.sha256_ref(callback_id))
        body = _body(event, svc.settings.callback_body_limit)
        return _response(200, sessions.callback(svc, callback_id, body))
    except BadRequest as exc:
        return _response(400, {"error": str(exc)})
    except (NotFound, IntegrityError):
        return _response(404, {"error": "not_found"})
    except Unavailable as exc:
        logger.warning("dependency unavailable", extra=safe_error(exc))
        count("DependencyErrors")
        return _response(503, {"error": exc.code})
    except IdbellenError as exc:
        logger.error("request failed", extra=safe_error(exc))
        return _response(500, {"error": exc.code})
    except Exception as exc:
        logger.error("unexpected error", extra=safe_error(exc))
        count("UnexpectedErrors")
        return _response(500, {"error": "internal_error"})


def _body(event: dict[str, Any], limit: int) -> str:
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise BadRequest("invalid_body")
    if event.get("isBase64Encoded"):
        if len(body) > limit * 4 // 3 + 4:
            raise BadRequest("body_too_large")
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise BadRequest("invalid_body") from None
    if len(body.encode("utf-8", "surrogatepass")) > limit:
        raise BadRequest("body_too_large")
    return body


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
