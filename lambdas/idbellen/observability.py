"""Logging and metrics that cannot leak personal data, whatever the log level or environment.

Structural, not lucky:
- the loggers of botocore, boto3 and friends are pinned to ERROR, urllib3 silenced (at DEBUG they print
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

import warnings

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

# The hardening shared with observability_lite (the DTMF function): pinned library loggers, the one
# process-wide redactor and its filter. Importing idbellen.redaction pins the loggers.
from idbellen.redaction import (
    PINNED_LOGGERS,
    REDACTED,
    RedactionFilter,
    Redactor,
    metric_dimensions,
    redactor,
    safe_error,
)

__all__ = [
    "PINNED_LOGGERS",
    "REDACTED",
    "RedactionFilter",
    "Redactor",
    "count",
    "count_by",
    "logger",
    "metrics",
    "redactor",
    "safe_error",
    "set_tenant",
]

SERVICE = "idbellen"
NAMESPACE = "idbellen"
# An invocation that counted nothing is normal here (e.g. a status poll).
warnings.filterwarnings("ignore", message="No application metrics to publish")


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


_tenant = {"value": "default"}


def count_by(name: str, value: float = 1, unit: str = "Count", **dimensions: object) -> None:
    """Publish a metric once more under a breakdown dimension set (tenant + the given ones), as its own
    EMF line. Dimension values must be short lowercase tokens (purpose ids, reasons); anything else
    is published as `other`, so an id or a value can never become a dimension."""
    dims = metric_dimensions(_tenant["value"], SERVICE, dimensions)
    with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=NAMESPACE, default_dimensions=dims):
        pass


def set_tenant(tenant: str) -> None:
    """The tenant dimension of this invocation's metrics, here and in `observability_lite` (domain
    modules on the hot paths count through that one)."""
    from idbellen import observability_lite

    metrics.dimension_set.pop("tenant", None)  # replaced, not added twice (Powertools would warn)
    metrics.set_default_dimensions(tenant=tenant)
    _tenant["value"] = tenant
    observability_lite.set_tenant(tenant)
