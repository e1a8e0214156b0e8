"""Logging and metrics that cannot leak personal data, whatever the log level or environment.

Structural, not lucky:
- the loggers of botocore, boto3, urllib3 and friends are pinned to WARNING (at DEBUG they print
  request URLs — the IRMA session token is in them — KMS plaintext keys and DynamoDB item values);
- Powertools' own package logger is pinned too (POWERTOOLS_DEBUG would otherwise print events);
- handlers never log events or bodies (`log_event=False`, resolvers with `debug=False`);
- a redaction filter scrubs digit runs (BSN, phone numbers, codes), long tokens and every value the
  code registered as sensitive during this process, as a second line of defence.
Metrics carry fixed names and the tenant dimension; `count_by` adds a breakdown (purpose, reason,
trigger, result) from a closed vocabulary of short lowercase tokens — never a value, never an id.
The catalogue is docs/metrics.md.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections import OrderedDict
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "idbellen"
NAMESPACE = "idbellen"
PINNED_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "requests", "aws_lambda_powertools", "jwt")

for _name in PINNED_LOGGERS:
    logging.getLogger(_name).setLevel(logging.WARNING)
# An invocation that counted nothing is normal here (e.g. a status poll).
warnings.filterwarnings("ignore", message="No application metrics to publish")

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


def _make_logger() -> Logger:
    log = Logger(service=SERVICE, log_uncaught_exceptions=False)
    log.addFilter(RedactionFilter())
    for handler in log.handlers:
        handler.addFilter(RedactionFilter())
    return log


logger = _make_logger()
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, value: float = 1, unit: str = "Count") -> None:
    """Add a PII-free metric (fixed name, numeric value)."""
    metrics.add_metric(name=name, unit=MetricUnit(unit), value=value)


BREAKDOWNS = frozenset({"purpose", "reason", "trigger", "result"})
_DIMENSION_VALUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_tenant = {"value": "default"}


def count_by(name: str, value: float = 1, unit: str = "Count", **dimensions: object) -> None:
    """Publish a metric once more under a breakdown dimension set (tenant + the given ones), as its own
    EMF line. Dimension values must be short lowercase tokens (purpose ids, reasons); anything else
    is published as `other`, so an id or a value can never become a dimension."""
    unknown = set(dimensions) - BREAKDOWNS
    if unknown:
        raise ValueError(f"metric dimensions not allowed: {sorted(unknown)}")
    dims = {"tenant": _tenant["value"], "service": SERVICE}
    for key, raw in dimensions.items():
        text = str(raw).lower() if isinstance(raw, str) else ""
        dims[key] = text if _DIMENSION_VALUE.match(text) else "other"
    with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=NAMESPACE, default_dimensions=dims):
        pass


def set_tenant(tenant: str) -> None:
    metrics.set_default_dimensions(tenant=tenant)
    _tenant["value"] = tenant


def safe_error(exc: BaseException) -> dict[str, Any]:
    """What may be logged about an exception: its class and our stable code, never its text."""
    return {"error_type": exc.__class__.__name__, "error_code": getattr(exc, "code", "unexpected")}
