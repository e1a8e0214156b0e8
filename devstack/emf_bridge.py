"""The dev stack's CloudWatch Logs → CloudWatch metrics step: what CloudWatch does in production with
the embedded-metric-format (EMF) lines the functions print, done here with `PutMetricData` on moto,
so the evaluation report (idbellen_report) reads the same metrics from the same API locally.

What it sees: every line a function writes to stdout during an invocation (a pass-through tee,
installed around each handler call the way Lambda captures an invocation's output). What it
forwards: only the metric values and the dimension values an EMF document declares, for documents
that are valid EMF. A line that is not an EMF document — a log record, a processing-log record, any
text — is never forwarded, and neither is any member of an EMF document that its directives do not
name as a dimension or a metric. The functions' lines are PII-free (tests/metrics, tests/privacy);
this keeps it that way even for a line that would not be.

The rules, from the EMF specification ("Specification: Embedded metric format", CloudWatch User
Guide) and the CloudWatch concepts page, each tested in tests/report/test_emf_bridge.py:
- the message is one JSON object with `_aws` = {`Timestamp`: epoch milliseconds, `CloudWatchMetrics`:
  [MetricDirective]}; a directive has `Namespace` (1-255 characters), `Dimensions` (a non-empty array
  of DimensionSets) and `Metrics` (at most 100 MetricDefinitions: `Name`, optional `Unit` — default
  `None` — and optional `StorageResolution` 1 or 60);
- a DimensionSet is an array of at most 30 dimension keys, each a root member with a string value;
  **every DimensionSet creates its own metric** (the functions publish a total and a breakdown);
- a metric target is a number or an array of at most 100 numbers, each one a data point;
- a document that breaks a rule yields no metric at all (CloudWatch counts it as an EMF validation
  error); a data point's time stamp may be at most two weeks old and two hours ahead ("Time stamps",
  Concepts) — Powertools checks the same window for its own `set_timestamp`.

Time: the functions' clock in the dev stack is `stack.clock` (a MovableClock), but Powertools and
observability_lite stamp EMF lines with the process's wall clock. The bridge applies the stack
clock's offset to that stamp, as if the process clock were the stack clock, so traffic simulated
for a past month lands in that month, and the two-weeks/two-hours window is judged against the
stack's "now".
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

MAX_DIMENSION_KEYS = 30
MAX_METRIC_DEFINITIONS = 100
MAX_VALUES = 100
MAX_PAST_SECONDS = 14 * 24 * 3600
MAX_FUTURE_SECONDS = 2 * 3600
MAX_DATUMS_PER_REQUEST = 1000  # PutMetricData: up to 1000 metrics per request
FLUSH_AT = 1000
VALUE_LIMIT = 2.0**360  # CloudWatch rejects values outside +-2^360
_SIZES = tuple(
    (f"{p}{u}" if p else u.capitalize()) for p in ("", "Kilo", "Mega", "Giga", "Tera") for u in ("bytes", "bits")
)
UNITS = frozenset(("Seconds", "Microseconds", "Milliseconds", "Percent", "Count", "Count/Second", "None", *_SIZES)) | {
    f"{size}/Second" for size in _SIZES
}


class Invalid(ValueError):
    """Why an EMF document yields no metrics (a fixed reason, never a value from the line)."""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_emf(line: str) -> dict[str, Any] | None:
    """The JSON object of an EMF document, or None when the line is not one (a plain log line)."""
    text = line.strip()
    if not text.startswith("{") or '"_aws"' not in text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("_aws"), dict):
        return None
    if "CloudWatchMetrics" not in document["_aws"]:
        return None
    return document


def metric_data(document: dict[str, Any], shift_seconds: float, now: float) -> list[tuple[str, dict[str, Any]]]:
    """(namespace, PutMetricData datum) for every metric of a valid EMF document; raises Invalid."""
    meta = document["_aws"]
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        raise Invalid("CloudWatchMetrics is not an array")
    stamp = meta.get("Timestamp")
    if not _is_number(stamp) or not math.isfinite(stamp):
        raise Invalid("Timestamp missing or not a number")
    at = stamp / 1000 + shift_seconds
    if at < now - MAX_PAST_SECONDS:
        raise Invalid("Timestamp more than two weeks in the past")
    if at > now + MAX_FUTURE_SECONDS:
        raise Invalid("Timestamp more than two hours in the future")
    timestamp = datetime.fromtimestamp(at, UTC)
    out: list[tuple[str, dict[str, Any]]] = []
    for directive in directives:
        if not isinstance(directive, dict):
            raise Invalid("MetricDirective is not an object")
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not 1 <= len(namespace) <= 255:
            raise Invalid("Namespace missing or invalid")
        dimension_sets = directive.get("Dimensions")
        if not isinstance(dimension_sets, list) or not dimension_sets:
            raise Invalid("Dimensions is not a non-empty array of DimensionSets")
        definitions = directive.get("Metrics")
        if not isinstance(definitions, list) or len(definitions) > MAX_METRIC_DEFINITIONS:
            raise Invalid("Metrics is not an array of at most 100 MetricDefinitions")
        resolved_sets = []
        for dimension_set in dimension_sets:
            if not isinstance(dimension_set, list) or len(dimension_set) > MAX_DIMENSION_KEYS:
                raise Invalid("DimensionSet is not an array of at most 30 keys")
            dims = []
            for key in dimension_set:
                if not isinstance(key, str) or not 1 <= len(key) <= 255:
                    raise Invalid("dimension key invalid")
                value = document.get(key)
                if not isinstance(value, str) or not 1 <= len(value) <= 1024:
                    raise Invalid("dimension target missing or not a string")
                dims.append({"Name": key, "Value": value})
            resolved_sets.append(dims)
        for definition in definitions:
            if not isinstance(definition, dict) or not isinstance(definition.get("Name"), str):
                raise Invalid("MetricDefinition without a Name")
            name = definition["Name"]
            unit = definition.get("Unit", "None")
            if unit not in UNITS:
                raise Invalid("Unit is not a CloudWatch unit")
            resolution = definition.get("StorageResolution", 60)
            if resolution not in (1, 60) or isinstance(resolution, bool):
                raise Invalid("StorageResolution is not 1 or 60")
            target = document.get(name)
            values = target if isinstance(target, list) else [target]
            if not values or len(values) > MAX_VALUES:
                raise Invalid("metric target is not a number or an array of 1 to 100 numbers")
            for value in values:
                if not _is_number(value) or not math.isfinite(value) or abs(value) > VALUE_LIMIT:
                    raise Invalid("metric value is not a valid number")
            for dims in resolved_sets:
                out.append(
                    (
                        namespace,
                        {
                            "MetricName": name,
                            "Dimensions": dims,
                            "Timestamp": timestamp,
                            "Unit": unit,
                            "StorageResolution": resolution,
                            "Values": [float(v) for v in values],
                        },
                    )
                )
    return out


class _Tee:
    """sys.stdout as the function sees it: every write goes through unchanged; complete lines are
    offered to the bridge. Lines are assembled per thread (print() writes text and newline apart)."""

    def __init__(self, downstream: TextIO, bridge: EmfBridge) -> None:
        self.downstream = downstream
        self.bridge: EmfBridge | None = bridge
        self._local = threading.local()

    def write(self, text: str) -> int:
        written = self.downstream.write(text)
        bridge = self.bridge
        if bridge is not None and text:
            pending = getattr(self._local, "pending", "") + text
            *lines, rest = pending.split("\n")
            self._local.pending = rest
            for line in lines:
                bridge.ingest(line)
        return written

    def writelines(self, lines: Any) -> None:
        for text in lines:
            self.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.downstream, name)


class EmfBridge:
    """EMF lines → PutMetricData. `clock` is the dev stack's clock; `client_factory` builds the
    CloudWatch client (the stack's moto, or a shared store)."""

    def __init__(
        self,
        clock: Callable[[], float],
        client_factory: Callable[[], Any],
        flush_on_stop: bool = True,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock  # the dev stack's clock: the functions' "now"
        self.wall = wall  # the process clock the EMF writers stamp their lines with
        self.client_factory = client_factory
        self.flush_on_stop = flush_on_stop
        self.rejected: Counter[str] = Counter()
        self.documents = 0
        self.datums_sent = 0
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._client: Any = None
        self._tees: weakref.WeakSet[_Tee] = weakref.WeakSet()
        self._closed = False
        self._wake = threading.Event()
        self._worker = threading.Thread(target=self._run, name="emf-bridge", daemon=True)
        self._worker.start()

    # -- capture -------------------------------------------------------------------------------
    def wrap(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """The handler with its stdout going through the bridge, like a Lambda invocation's."""

        @functools.wraps(handler)
        def invoke(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            self.capture_stdout()
            return handler(event, context, *args, **kwargs)

        return invoke

    def capture_stdout(self) -> None:
        """Tee sys.stdout unless it already is one of ours. Whoever replaces sys.stdout later (pytest
        between test phases, redirect_stdout) drops the tee; the next invocation puts it back."""
        current = sys.stdout
        if isinstance(current, _Tee) and current.bridge is self:
            return
        tee = _Tee(current, self)
        self._tees.add(tee)
        sys.stdout = tee

    def release_stdout(self) -> None:
        """Give stdout back; a tee someone else still holds becomes a plain pass-through."""
        current = sys.stdout
        if isinstance(current, _Tee) and current.bridge is self:
            sys.stdout = current.downstream
        for tee in list(self._tees):
            tee.bridge = None
        self._tees.clear()

    @contextlib.contextmanager
    def capturing(self) -> Iterator[None]:
        self.capture_stdout()
        try:
            yield
        finally:
            self.release_stdout()

    # -- conversion ----------------------------------------------------------------------------
    def ingest(self, line: str) -> None:
        """One line of function output. Non-EMF lines are ignored: never parsed further, never sent."""
        if self._closed:
            return
        document = parse_emf(line)
        if document is None:
            return
        now = self.clock()
        try:
            data = metric_data(document, now - self.wall(), now)
        except Invalid as exc:
            with self._lock:
                self.rejected[str(exc)] += 1
            return
        with self._lock:
            self.documents += 1
            self._pending += data
            due = len(self._pending) >= FLUSH_AT
        if due:
            self._wake.set()

    # -- delivery ------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            with contextlib.suppress(Exception):
                if len(self._pending) >= FLUSH_AT:
                    self.flush()

    def flush(self) -> int:
        """Send everything pending now (CloudWatch itself is asynchronous; tests and the report flush
        before reading). Returns how many metric data were sent."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, []
            if not pending:
                return 0
            if self._client is None:
                self._client = self.client_factory()
            by_namespace: dict[str, list[dict[str, Any]]] = {}
            for namespace, datum in pending:
                by_namespace.setdefault(namespace, []).append(datum)
            for namespace, data in by_namespace.items():
                for start in range(0, len(data), MAX_DATUMS_PER_REQUEST):
                    self._client.put_metric_data(
                        Namespace=namespace, MetricData=data[start : start + MAX_DATUMS_PER_REQUEST]
                    )
            self.datums_sent += len(pending)
            return len(pending)

    def stop(self) -> None:
        """As a dev stack component: flush only into a store that outlives the stack."""
        self.close(flush=self.flush_on_stop)

    def close(self, flush: bool = True) -> None:
        self.release_stdout()
        try:
            if flush:
                self.flush()
        finally:
            self._closed = True
            self._wake.set()
