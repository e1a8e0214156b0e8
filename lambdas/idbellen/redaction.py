"""The privacy hardening every logger here shares, in the standard library only.

Importing this module pins the loggers of botocore, boto3 and friends to ERROR and silences urllib3 (at DEBUG
they print request URLs — the IRMA session token is in them — KMS plaintext keys and DynamoDB item
values), and Powertools' own package logger too (POWERTOOLS_DEBUG would otherwise print events).
`RedactionFilter` scrubs digit runs (BSN, phone numbers, codes), long tokens and every value the code
registered as sensitive during this process, as a second line of defence, and drops tracebacks to
their exception type. There is one `redactor` per process, shared by `observability` (Powertools,
the HTTP functions and cleanup) and `observability_lite` (the DTMF function), so a value registered
on either path is scrubbed from both.

No third-party import here: the DTMF function's cold start pays for this module.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Any

PINNED_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "requests", "aws_lambda_powertools", "jwt")
# urllib3 prints request URLs even at WARNING ("Retrying ... /session/<token>/result"): it is silenced
# entirely; the others keep their ERROR lines, which carry no request data.
_SILENCED = ("urllib3", "requests")

for _name in PINNED_LOGGERS:
    logging.getLogger(_name).setLevel(logging.CRITICAL + 1 if _name in _SILENCED else logging.ERROR)

_DIGITS = re.compile(r"(?<![0-9A-Za-z-])\+?\d[\d ]{4,}\d(?![0-9A-Za-z-])")
_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
REDACTED = "[redacted]"
_STANDARD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()) | {"message"}


class Redactor:
    """Remembers sensitive values seen by this process (bounded) and scrubs them from text."""

    def __init__(self, capacity: int = 2048) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def register(self, *values: object) -> None:
        with self._lock:
            for value in values:
                if isinstance(value, str) and len(value) >= 4:
                    self._values[value] = None
                    self._values.move_to_end(value)
                    while len(self._values) > self._capacity:
                        self._values.popitem(last=False)

    def scrub(self, text: str) -> str:
        with self._lock:
            known = list(self._values)
        for value in known:
            if value in text:
                text = text.replace(value, REDACTED)
        text = _DIGITS.sub(REDACTED, text)
        return _TOKEN.sub(REDACTED, text)


redactor = Redactor()


class RedactionFilter(logging.Filter):
    """Rewrites a record before any handler formats it; drops tracebacks to their exception type."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redactor.scrub(record.getMessage())
        record.args = None
        if record.exc_info:
            exc_type = record.exc_info[0]
            record.msg = f"{record.msg} [exception {exc_type.__name__ if exc_type else 'unknown'}]"
            record.exc_info = None
            record.exc_text = None
        record.stack_info = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_FIELDS and isinstance(value, str):
                setattr(record, key, redactor.scrub(value))
        return True


def safe_error(exc: BaseException) -> dict[str, Any]:
    """What may be logged about an exception: its class and our stable code, never its text."""
    return {"error_type": exc.__class__.__name__, "error_code": getattr(exc, "code", "unexpected")}


METRIC_BREAKDOWNS = frozenset({"purpose", "reason", "trigger", "result"})
_DIMENSION_VALUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")


def metric_dimensions(tenant: str, service: str, dimensions: dict[str, object]) -> dict[str, str]:
    """The dimension set of a breakdown metric. Only known breakdowns, and values must be short
    lowercase tokens (purpose ids, reasons); anything else is published as `other`, so an id or a
    value can never become a dimension."""
    unknown = set(dimensions) - METRIC_BREAKDOWNS
    if unknown:
        raise ValueError(f"metric dimensions not allowed: {sorted(unknown)}")
    dims = {"tenant": tenant, "service": service}
    for key, raw in dimensions.items():
        text = raw.lower() if isinstance(raw, str) else ""
        dims[key] = text if _DIMENSION_VALUE.match(text) else "other"
    return dims
