"""Logger and metrics for the DTMF function, in the standard library only.

The DTMF function is the one a caller waits on in silence, and its cold start hits the first caller
of every quiet period; Powertools' Logger + Metrics cost it ~20-60 ms of import for two things a
few dozen lines do. This module offers the part of their API the DTMF path uses, with the same
output (JSON log lines with Powertools' keys, CloudWatch EMF metric lines), and the same hardening
as `observability`, structurally:

- the library loggers are pinned and the one process-wide `redactor` + `RedactionFilter` scrub every
  record (both from `idbellen.redaction`, shared with `observability`);
- there is no event logging at all: `inject_lambda_context` takes no event into the log, whatever
  `POWERTOOLS_LOGGER_LOG_EVENT` says; tracebacks are reduced to their exception type by the filter;
- the logger does not propagate to the root logger (the Lambda runtime's handler), like Powertools';
- metrics carry fixed names, the tenant and service dimensions, and `count_by` breakdowns from the
  same closed vocabulary as `observability.count_by` (short lowercase tokens, anything else `other`).

The HTTP functions and cleanup keep Powertools (`observability`): they load it for the resolver anyway.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from idbellen.redaction import _STANDARD_FIELDS, RedactionFilter, metric_dimensions, redactor, safe_error

__all__ = ["count", "count_by", "logger", "metrics", "redactor", "safe_error", "set_tenant"]

SERVICE = "idbellen"
NAMESPACE = "idbellen"
MAX_METRICS_PER_LINE = 100  # CloudWatch EMF limit per document
# Keep in step with observability.count_by (tests/bench checks both emit the same shape).
_TRUE = ("1", "true", "yes", "on")


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _write(line: str) -> None:
    """To whatever sys.stdout is now (Lambda's, or a test's capture)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# -- logger ------------------------------------------------------------------------------------------
def _log_level() -> int:
    for name in ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"):
        value = os.environ.get(name, "").strip().upper()
        if value:
            level = logging.getLevelName(value)
            return level if isinstance(level, int) else logging.INFO
    return logging.INFO


class _StdoutHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            _write(self.format(record))
        except Exception:
            self.handleError(record)


class _JsonFormatter(logging.Formatter):
    """Powertools' structured log keys, so dashboards and queries work for every function alike."""

    def __init__(self, owner: LiteLogger) -> None:
        super().__init__()
        self.owner = owner

    def format(self, record: logging.LogRecord) -> str:
        seconds = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created))
        entry: dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": f"{seconds},{int(record.msecs):03d}+0000",
            "service": self.owner.service,
            **self.owner.context(),
        }
        trace = os.environ.get("_X_AMZN_TRACE_ID", "")
        if trace.startswith("Root="):
            entry["xray_trace_id"] = trace.split(";", 1)[0][5:]
        for key, value in vars(record).items():
            if key not in _STANDARD_FIELDS and key not in entry:
                entry[key] = value
        return json.dumps(entry, default=str, separators=(",", ":"))


class LiteLogger:
    """The slice of Powertools' `Logger` the DTMF function uses."""

    def __init__(self, service: str = SERVICE, name: str = "idbellen.dtmf") -> None:
        self.service = service
        self._logger = logging.getLogger(name)
        self._logger.propagate = False
        self._logger.setLevel(_log_level())
        self._logger.addFilter(RedactionFilter())
        if not self._logger.handlers:
            handler = _StdoutHandler()
            handler.setFormatter(_JsonFormatter(self))
            handler.addFilter(RedactionFilter())
            self._logger.addHandler(handler)
        self._local = threading.local()
        self._cold_start = True

    def context(self) -> dict[str, Any]:
        return dict(getattr(self._local, "context", {}))

    def _log(self, level: int, msg: object, args: tuple[Any, ...], extra: dict[str, Any] | None) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(level, msg, *args, extra=extra, stacklevel=3)

    def debug(self, msg: object, *args: Any, extra: dict[str, Any] | None = None) -> None:
        self._log(logging.DEBUG, msg, args, extra)

    def info(self, msg: object, *args: Any, extra: dict[str, Any] | None = None) -> None:
        self._log(logging.INFO, msg, args, extra)

    def warning(self, msg: object, *args: Any, extra: dict[str, Any] | None = None) -> None:
        self._log(logging.WARNING, msg, args, extra)

    def error(self, msg: object, *args: Any, extra: dict[str, Any] | None = None) -> None:
        self._log(logging.ERROR, msg, args, extra)

    def exception(self, msg: object, *args: Any, extra: dict[str, Any] | None = None) -> None:
        self._log(logging.ERROR, msg, args, extra)  # no traceback: the filter would drop it anyway

    def inject_lambda_context(
        self, lambda_handler: Callable[..., Any] | None = None, *, log_event: bool = False, clear_state: bool = True
    ) -> Any:
        """Adds the Lambda context keys to every line of the invocation. `log_event` exists for API
        compatibility only: this logger never logs an event."""
        if lambda_handler is None:
            return functools.partial(self.inject_lambda_context, log_event=log_event, clear_state=clear_state)

        @functools.wraps(lambda_handler)
        def wrapper(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            self._local.context = {
                "cold_start": self._cold_start,
                "function_name": getattr(context, "function_name", None),
                "function_memory_size": getattr(context, "memory_limit_in_mb", None),
                "function_arn": getattr(context, "invoked_function_arn", None),
                "function_request_id": getattr(context, "aws_request_id", None),
            }
            self._cold_start = False
            try:
                return lambda_handler(event, context, *args, **kwargs)
            finally:
                if clear_state:
                    self._local.context = {}

        return wrapper


# -- metrics -----------------------------------------------------------------------------------------
def _unit(unit: object) -> str:
    return str(getattr(unit, "value", unit))


def _metrics_disabled() -> bool:
    """Powertools' rule: POWERTOOLS_METRICS_DISABLED decides; without it, POWERTOOLS_DEV disables."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip():
        return _env_true("POWERTOOLS_METRICS_DISABLED")
    return _env_true("POWERTOOLS_DEV")


def _emf(namespace: str, dimensions: dict[str, str], metrics: dict[str, tuple[str, list[float]]]) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [list(dimensions)],
                        "Metrics": [{"Name": name, "Unit": unit} for name, (unit, _) in metrics.items()],
                    }
                ],
            },
            **dimensions,
            **{name: values for name, (_, values) in metrics.items()},
        },
        separators=(",", ":"),
    )


class LiteMetrics:
    """The slice of Powertools' `Metrics` the DTMF function uses: CloudWatch EMF on stdout, flushed at
    the end of each invocation. Pending metrics are per thread (one invocation per thread)."""

    def __init__(self, namespace: str = NAMESPACE, service: str = SERVICE) -> None:
        self.namespace = namespace
        self.service = service
        self._defaults: dict[str, str] = {}
        self._local = threading.local()

    def _pending(self) -> dict[str, tuple[str, list[float]]]:
        pending: dict[str, tuple[str, list[float]]] | None = getattr(self._local, "pending", None)
        if pending is None:
            pending = self._local.pending = {}
        return pending

    def dimensions(self) -> dict[str, str]:
        return {**self._defaults, "service": self.service}

    def set_default_dimensions(self, **dimensions: str) -> None:
        self._defaults.update({k: str(v) for k, v in dimensions.items()})

    def add_metric(self, name: str, unit: object, value: float) -> None:
        pending = self._pending()
        _, values = pending.setdefault(name, (_unit(unit), []))
        values.append(float(value))

    def emit_single(self, name: str, unit: object, value: float, dimensions: dict[str, str]) -> None:
        if not _metrics_disabled():
            _write(_emf(self.namespace, dimensions, {name: (_unit(unit), [float(value)])}))

    def flush(self) -> None:
        pending = self._pending()
        if not pending:
            return
        items = list(pending.items())
        pending.clear()
        if _metrics_disabled():
            return
        for start in range(0, len(items), MAX_METRICS_PER_LINE):
            _write(_emf(self.namespace, self.dimensions(), dict(items[start : start + MAX_METRICS_PER_LINE])))

    def log_metrics(self, lambda_handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(lambda_handler)
        def wrapper(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            self._pending().clear()
            try:
                return lambda_handler(event, context, *args, **kwargs)
            finally:
                self.flush()

        return wrapper


logger = LiteLogger()
metrics = LiteMetrics()
_tenant = {"value": "default"}


def count(name: str, value: float = 1, unit: str = "Count") -> None:
    """Add a PII-free metric (fixed name, numeric value)."""
    metrics.add_metric(name=name, unit=unit, value=value)


def count_by(name: str, value: float = 1, unit: str = "Count", **dimensions: object) -> None:
    """The metric once more under a breakdown (tenant + the given dimensions), as its own EMF line.
    Dimension values must be short lowercase tokens; anything else is published as `other`."""
    dims = metric_dimensions(_tenant["value"], SERVICE, dimensions)
    metrics.emit_single(name, unit, value, dims)


def set_tenant(tenant: str) -> None:
    metrics.set_default_dimensions(tenant=tenant)
    _tenant["value"] = tenant
