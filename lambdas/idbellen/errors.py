"""Domain exceptions. Each maps to exactly one outcome at the edge (HTTP status or DTMF result).

Messages are fixed strings chosen here, never built from input: an exception text can reach a log line.
"""

from __future__ import annotations


class IdbellenError(Exception):
    """Base class; `code` is the stable, PII-free identifier sent to clients and metrics."""

    code = "error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.code)


class ConfigError(IdbellenError):
    code = "config_error"


class BadRequest(IdbellenError):
    code = "bad_request"


class NotFound(IdbellenError):
    code = "not_found"


class Forbidden(IdbellenError):
    """Authenticated, but not allowed here (e.g. a user outside the agents group): HTTP 403."""

    code = "forbidden"


class Unavailable(IdbellenError):
    """A dependency (DynamoDB, KMS, SSM, IRMA server) failed; retrying later may work."""

    code = "unavailable"


class IrmaError(Unavailable):
    code = "irma_unavailable"


class SessionUnknown(IdbellenError):
    """The IRMA server no longer knows the session (result expired or never existed)."""

    code = "irma_session_unknown"


class IntegrityError(IdbellenError):
    """A ciphertext or signed result failed verification: fail closed."""

    code = "integrity"


class UnknownTenant(IdbellenError):
    """A tenant this deployment does not serve (unknown or disabled): fail closed for that tenant only."""

    code = "unknown_tenant"
