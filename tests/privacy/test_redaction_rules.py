"""The redaction rules, unit by unit and fast (part of `make test` and of `make mutate`'s redaction group).

The leak suite (`test_privacy_logs.py`) proves that no flow leaks; these tests prove each rule of the second
line of defence on its own, so that removing or weakening one fails a test even while the first line (no
code path logs a value) still holds: the filter on every logger the functions use (session, agent, cleanup
through `observability`, DTMF and the session entry point through `observability_lite`), on the logger and
on its handlers, what the filter rewrites, what the redactor remembers and forgets, and which dimension
values a metric may carry.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import uuid
import warnings
from contextlib import redirect_stdout
from typing import Any

import pytest
from idbellen import observability, observability_lite, redaction
from idbellen.redaction import REDACTED, RedactionFilter, Redactor, metric_dimensions, safe_error

BSN = "999990019"
PHONE = "+31612345678"
TOKEN = "A" * 31 + "b"  # 32 token characters
SECRET = "s3cr3t-value-only-this-process-saw"


@pytest.fixture(autouse=True)
def _info_level(monkeypatch: pytest.MonkeyPatch) -> None:
    """A LiteLogger takes its level from the environment when it is made; other suites in the same process
    may leave a stricter one (the tests that are about levels set their own)."""
    for name in ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "INFO")


def _fresh(name: str) -> str:
    """A logger name no earlier LiteLogger used: an existing logger keeps its first owner's handler, and
    mutmut runs this module more than once in one process."""
    return f"{name}.{uuid.uuid4().hex}"


def _has_filter(filterer: logging.Filterer) -> bool:
    return any(isinstance(f, RedactionFilter) for f in filterer.filters)


def _own_handlers(log: logging.Logger) -> list[logging.Handler]:
    """The logger's handlers without the ones pytest's logging plugin attaches while it runs."""
    return [h for h in log.handlers if not type(h).__module__.startswith("_pytest")]


# -- the filter sits on every logger the functions use, on the logger and on each of its handlers ----
def test_the_powertools_logger_of_the_session_agent_and_cleanup_functions_carries_the_filter() -> None:
    from idbellen.handlers import _session_routes, agent, cleanup

    for module in (_session_routes, agent, cleanup):
        assert module.logger is observability.logger
    log = observability.logger._logger
    assert _has_filter(log), "the filter is off the logger itself"
    assert _own_handlers(log), "the logger writes nowhere"
    for handler in _own_handlers(log):
        assert _has_filter(handler), f"the filter is off {handler!r}"


def test_the_lite_logger_of_the_dtmf_and_session_functions_carries_the_filter() -> None:
    from idbellen.handlers import dtmf, session

    for module in (dtmf, session):
        assert module.logger is observability_lite.logger
    fresh = observability_lite.LiteLogger(name=_fresh("idbellen.test.fresh-lite"))
    for log in (observability_lite.logger._logger, fresh._logger):
        assert _has_filter(log)
        assert _own_handlers(log)
        assert log.propagate is False, "records would reach the root logger's unfiltered handlers"
        for handler in _own_handlers(log):
            assert _has_filter(handler)


def _records_through(log: logging.Logger, emit: Any) -> str:
    """What the logger's own handlers write, with their streams pointed at a buffer."""
    buffer = io.StringIO()
    saved = [(h, getattr(h, "stream", None)) for h in log.handlers]
    for handler, _ in saved:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = buffer  # not setStream: it flushes the old stream, which may be closed
    try:
        with redirect_stdout(buffer):
            emit()
    finally:
        for handler, stream in saved:
            if isinstance(handler, logging.StreamHandler) and stream is not None:
                handler.stream = stream
    return buffer.getvalue()


@pytest.mark.parametrize("which", ["observability", "observability_lite"])
def test_a_value_logged_through_a_function_logger_comes_out_scrubbed(which: str) -> None:
    module = observability if which == "observability" else observability_lite
    module.redactor.register(SECRET)
    log = module.logger._logger

    def emit() -> None:
        module.logger.warning("seen %s and %s", SECRET, BSN, extra={"detail": f"number {PHONE}"})

    text = _records_through(log, emit)
    assert "seen" in text, "nothing was written: the check below would be vacuous"
    for value in (SECRET, BSN, PHONE, "612345678"):
        assert value not in text
    assert REDACTED in text


def test_a_child_logger_propagating_to_the_function_handlers_is_scrubbed_by_the_handler_filter() -> None:
    # A record from a child logger skips the parent's own filters and meets only its handlers' filters.
    log = observability.logger._logger
    child = log.getChild("child-of-the-function-logger")
    child.setLevel(logging.INFO)
    observability.redactor.register(SECRET)
    text = _records_through(log, lambda: child.warning("child saw %s", SECRET))
    assert "child saw" in text
    assert SECRET not in text


# -- what the filter rewrites ---------------------------------------------------------------------------
def _record(msg: str, args: Any = None, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("idbellen.test", logging.WARNING, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_the_filter_formats_then_scrubs_the_message_and_drops_the_arguments() -> None:
    redaction.redactor.register(SECRET)
    record = _record("code %s for %s", (SECRET, BSN))
    assert RedactionFilter().filter(record) is True
    assert record.msg == f"code {REDACTED} for {REDACTED}"
    assert record.args is None
    assert record.getMessage() == record.msg


def test_the_filter_scrubs_every_extra_string_field_and_leaves_standard_fields_alone() -> None:
    redaction.redactor.register(SECRET)
    record = _record("plain", detail=f"x {SECRET} y", number=PHONE, count=12345678, nested={"v": BSN})
    RedactionFilter().filter(record)
    assert record.detail == f"x {REDACTED} y"
    assert record.number == REDACTED
    assert record.count == 12345678  # not text: formatted by the JSON formatter as a number
    assert record.name == "idbellen.test"
    assert record.pathname == __file__
    assert record.levelname == "WARNING"


def test_the_filter_reduces_a_traceback_to_its_exception_type() -> None:
    try:
        raise ValueError(f"bad value {BSN}")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("idbellen.test", logging.ERROR, __file__, 1, "failed", None, exc_info)
    record.exc_text = f"Traceback ... {BSN}"
    record.stack_info = f"Stack ... {BSN}"
    RedactionFilter().filter(record)
    assert record.msg == "failed [exception ValueError]"
    assert record.exc_info is None
    assert record.exc_text is None
    assert record.stack_info is None
    formatted = logging.Formatter().format(record)
    assert BSN not in formatted
    assert formatted == "failed [exception ValueError]"


def test_the_filter_names_an_unknown_exception_type() -> None:
    record = logging.LogRecord("idbellen.test", logging.ERROR, __file__, 1, "failed", None, (None, None, None))
    RedactionFilter().filter(record)
    # exc_info (None, None, None) is truthy (a non-empty tuple): the type is unknown
    assert record.msg == "failed [exception unknown]"


def test_a_record_without_an_exception_keeps_its_message_as_is() -> None:
    record = _record("nothing to hide")
    RedactionFilter().filter(record)
    assert record.msg == "nothing to hide"
    assert record.exc_info is None


# -- the redactor ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        BSN,
        PHONE,
        "0612345678",
        "06 1234 5678",
        "+31 6 1234 5678",
        "123456",  # six digits: a DTMF code
        "bsn=999990019;",
    ],
)
def test_digit_runs_of_six_or_more_are_scrubbed(text: str) -> None:
    scrubbed = Redactor().scrub(text)
    assert REDACTED in scrubbed
    assert not any(run in scrubbed for run in ("999990019", "612345678", "12345678", "123456", "1234 5678"))


@pytest.mark.parametrize("text", ["12345", "v1", "2024", "attempt 3 of 5", "id-123456789", "a123456789", "12345678z"])
def test_short_numbers_and_digits_inside_identifiers_are_kept(text: str) -> None:
    assert Redactor().scrub(text) == text


def test_a_digit_run_keeps_its_surroundings() -> None:
    assert Redactor().scrub("call 0612345678 now") == f"call {REDACTED} now"
    assert Redactor().scrub("+31612345678") == REDACTED


def test_long_tokens_are_scrubbed_and_shorter_ones_kept() -> None:
    assert Redactor().scrub(f"token {TOKEN} end") == f"token {REDACTED} end"
    assert Redactor().scrub(f"token {TOKEN[1:]} end") == f"token {TOKEN[1:]} end"  # 31 characters
    assert Redactor().scrub(f"x{TOKEN}".replace("x", "/")) == f"/{REDACTED}"
    assert Redactor().scrub(f"{TOKEN}-{TOKEN}") == REDACTED  # one run of token characters


def test_registered_values_are_scrubbed_wherever_they_appear() -> None:
    redactor = Redactor()
    redactor.register("abcd", "Jansen", 12345678, None)
    assert redactor.scrub("xabcdx Jansen") == f"x{REDACTED}x {REDACTED}"


def test_values_shorter_than_four_characters_and_non_strings_are_not_registered() -> None:
    redactor = Redactor()
    redactor.register("abc", 1234, b"bytes-value")
    assert redactor.scrub("abc 1234 bytes-value") == "abc 1234 bytes-value"
    redactor.register("wxyz")
    assert redactor.scrub("wxyz") == REDACTED


def test_the_redactor_forgets_the_least_recently_seen_value_beyond_its_capacity() -> None:
    redactor = Redactor(capacity=2)
    redactor.register("first-value", "second-value")
    redactor.register("first-value")  # seen again: now the most recent
    redactor.register("third-value")  # evicts second-value, the least recently seen
    assert redactor.scrub("first-value") == REDACTED
    assert redactor.scrub("third-value") == REDACTED
    assert redactor.scrub("second-value") == "second-value"


def test_the_default_capacity_holds_a_busy_process_worth_of_values() -> None:
    redactor = Redactor()
    values = [f"value-{i:05d}-x" for i in range(2048)]
    redactor.register(*values)
    assert redactor.scrub(values[0]) == REDACTED
    redactor.register("one-more-value")
    assert redactor.scrub(values[0]) == values[0]


def test_there_is_one_redactor_per_process_shared_by_both_loggers() -> None:
    assert observability.redactor is redaction.redactor is observability_lite.redactor
    observability_lite.redactor.register("shared-between-paths")
    record = _record("saw shared-between-paths")
    RedactionFilter().filter(record)
    assert record.msg == f"saw {REDACTED}"


# -- library loggers, errors and metric dimensions -----------------------------------------------------
def test_library_loggers_are_pinned_and_the_url_printers_silenced() -> None:
    for name in redaction.PINNED_LOGGERS:
        level = logging.getLogger(name).level
        if name in ("urllib3", "requests"):
            assert level > logging.CRITICAL, name
        else:
            assert level == logging.ERROR, name
    assert set(redaction.PINNED_LOGGERS) >= {"botocore", "boto3", "urllib3", "requests", "aws_lambda_powertools"}


def test_safe_error_keeps_the_class_and_code_never_the_text() -> None:
    class Coded(Exception):
        code = "not_found"

    assert safe_error(Coded(f"secret {BSN}")) == {"error_type": "Coded", "error_code": "not_found"}
    assert safe_error(KeyError(BSN)) == {"error_type": "KeyError", "error_code": "unexpected"}


def test_metric_dimensions_allow_known_breakdowns_with_short_lowercase_tokens_only() -> None:
    assert metric_dimensions("gemeente-a", "idbellen", {"purpose": "Belastingen", "reason": "not_found"}) == {
        "tenant": "gemeente-a",
        "service": "idbellen",
        "purpose": "belastingen",
        "reason": "not_found",
    }
    odd = metric_dimensions("t", "s", {"purpose": BSN + "x" * 40, "reason": 7, "trigger": "a b", "result": "-x"})
    assert odd == {
        "tenant": "t",
        "service": "s",
        "purpose": "other",
        "reason": "other",
        "trigger": "other",
        "result": "other",
    }
    assert metric_dimensions("t", "s", {"result": "a" * 40})["result"] == "a" * 40
    assert metric_dimensions("t", "s", {"result": "a" * 41})["result"] == "other"
    assert metric_dimensions("t", "s", {"result": "9x"})["result"] == "9x"
    with pytest.raises(ValueError, match="contact_id"):
        metric_dimensions("t", "s", {"contact_id": "abc"})


def test_lite_logger_lines_are_json_with_scrubbed_extras() -> None:
    log = observability_lite.LiteLogger(name=_fresh("idbellen.test.json-lines"))
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        log.warning("number %s", PHONE, extra={"detail": BSN})
    # stdout is process-wide: another suite's background thread may write a line meanwhile
    (line,) = [
        d for d in map(json.loads, buffer.getvalue().splitlines()) if str(d.get("message", "")).startswith("number")
    ]
    assert line["message"] == f"number {REDACTED}"
    assert line["detail"] == REDACTED
    assert line["level"] == "WARNING"


# -- the DTMF function's stdlib logger and metrics (observability_lite), line by line ------------------
class _Context:
    function_name = "idbellen-dtmf"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:idbellen-dtmf"
    aws_request_id = "req-1"


def _lines(emit: Any) -> list[dict[str, Any]]:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        emit()
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_a_lite_log_line_has_exactly_the_powertools_keys_and_the_invocation_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-abc-def;Parent=xyz;Sampled=0")
    log = observability_lite.LiteLogger(service="svc", name=_fresh("idbellen.test.lines"))

    @log.inject_lambda_context
    def handler(event: Any, context: Any) -> None:
        log.info("hello", extra={"error_code": "x"})

    lines = _lines(lambda: handler({}, _Context()))
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == {
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "xray_trace_id",
        "error_code",
    }
    assert line["level"] == "INFO"
    assert line["message"] == "hello"
    assert line["service"] == "svc"
    assert line["location"].rsplit(":", 1)[1].isdigit()
    assert line["xray_trace_id"] == "1-abc-def"
    assert line["error_code"] == "x"
    assert line["cold_start"] is True
    assert line["function_name"] == "idbellen-dtmf"
    assert line["function_memory_size"] == 256
    assert line["function_arn"] == _Context.invoked_function_arn
    assert line["function_request_id"] == "req-1"
    import re

    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\+0000", line["timestamp"])
    # the second invocation is warm, and the context is cleared after each one
    second = _lines(lambda: handler({}, _Context()))[0]
    assert second["cold_start"] is False
    after = _lines(lambda: log.info("outside"))[0]
    assert "function_request_id" not in after
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "no-root")
    assert "xray_trace_id" not in _lines(lambda: log.info("x"))[0]


def test_lite_logger_levels_come_from_the_lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    assert observability_lite._log_level() == logging.INFO
    monkeypatch.setenv("LOG_LEVEL", " debug ")
    assert observability_lite._log_level() == logging.DEBUG
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "error")
    assert observability_lite._log_level() == logging.ERROR
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "WARNING")
    assert observability_lite._log_level() == logging.WARNING
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "NOISY")
    assert observability_lite._log_level() == logging.INFO
    log = observability_lite.LiteLogger(name=_fresh("idbellen.test.levels"))
    assert log._logger.level == logging.INFO
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "ERROR")
    log = observability_lite.LiteLogger(name=_fresh("idbellen.test.levels2"))
    assert log._logger.level == logging.ERROR
    assert _lines(lambda: (log.debug("d"), log.info("i"), log.warning("w"))) == []
    errors = _lines(lambda: (log.error("e"), log.exception("x")))
    assert [line["message"] for line in errors] == ["e", "x"]
    assert all(line["level"] == "ERROR" for line in errors)


def test_lite_logger_levels_each_write_at_their_own_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
    log = observability_lite.LiteLogger(name=_fresh("idbellen.test.each-level"))
    lines = _lines(lambda: (log.debug("a %s", "1"), log.info("b"), log.warning("c"), log.error("d")))
    assert [(line["level"], line["message"]) for line in lines] == [
        ("DEBUG", "a 1"),
        ("INFO", "b"),
        ("WARNING", "c"),
        ("ERROR", "d"),
    ]


@pytest.mark.parametrize(
    ("disabled", "dev", "expected"),
    [
        ("", "", False),
        ("", "true", True),
        ("false", "true", False),
        (" TRUE ", "", True),
        ("1", "", True),
        ("no", "1", False),
    ],
)
def test_lite_metrics_are_disabled_by_powertools_rules(
    monkeypatch: pytest.MonkeyPatch, disabled: str, dev: str, expected: bool
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", disabled)
    monkeypatch.setenv("POWERTOOLS_DEV", dev)
    assert observability_lite._metrics_disabled() is expected


def test_lite_metrics_write_one_emf_document_per_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    metrics = observability_lite.LiteMetrics(namespace="ns", service="svc")
    metrics.set_default_dimensions(tenant="gemeente-a")

    @metrics.log_metrics
    def handler(event: Any, context: Any) -> None:
        metrics.add_metric("A", "Count", 1)
        metrics.add_metric("A", "Count", 2)
        metrics.add_metric("B", "Seconds", 3)

    (doc,) = _lines(lambda: handler({}, None))
    cw = doc["_aws"]["CloudWatchMetrics"]
    assert cw == [
        {
            "Namespace": "ns",
            "Dimensions": [["tenant", "service"]],
            "Metrics": [{"Name": "A", "Unit": "Count"}, {"Name": "B", "Unit": "Seconds"}],
        }
    ]
    assert isinstance(doc["_aws"]["Timestamp"], int)
    assert doc["tenant"] == "gemeente-a"
    assert doc["service"] == "svc"
    assert doc["A"] == [1.0, 2.0]
    assert doc["B"] == [3.0]
    assert set(doc) == {"_aws", "tenant", "service", "A", "B"}
    assert _lines(lambda: handler({}, None))[0]["A"] == [1.0, 2.0]  # nothing carried over
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    assert _lines(lambda: handler({}, None)) == []
    assert _lines(lambda: metrics.emit_single("C", "Count", 1, {"tenant": "t"})) == []


def test_making_the_function_logger_adds_the_filter_to_the_logger_and_every_handler() -> None:
    def filters(f: logging.Filterer) -> int:
        return sum(isinstance(x, RedactionFilter) for x in f.filters)

    log = observability.logger._logger
    before = (filters(log), [filters(h) for h in _own_handlers(log)])
    made = observability._make_logger()
    assert made.service == "idbellen"
    assert made.log_uncaught_exceptions is False  # True would hand tracebacks to an unfiltered hook
    assert made._logger is log
    assert filters(log) == before[0] + 1
    assert [filters(h) for h in _own_handlers(log)] == [n + 1 for n in before[1]]


@pytest.mark.parametrize("which", ["observability", "observability_lite"])
def test_the_tenant_set_for_an_invocation_is_the_breakdown_metrics_tenant(which: str) -> None:
    module = observability if which == "observability" else observability_lite
    module.set_tenant("gemeente-b")
    warnings.simplefilter("ignore")  # Powertools warns that the tenant dimension is replaced: that is the point
    try:
        docs = _lines(lambda: module.count_by("CallsVerified", purpose="demo"))
    finally:
        module.set_tenant("default")
    (doc,) = [d for d in docs if "_aws" in d]
    assert doc["tenant"] == "gemeente-b"
    assert doc["purpose"] == "demo"


def test_every_lite_log_level_keeps_its_extra_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
    log = observability_lite.LiteLogger(name=_fresh("idbellen.test.extras"))
    lines = _lines(
        lambda: (
            log.debug("d", extra={"error_code": "a"}),
            log.info("i", extra={"error_code": "b"}),
            log.warning("w", extra={"error_code": "c"}),
            log.error("e", extra={"error_code": "d"}),
            log.exception("x", extra={"error_code": "e"}),
        )
    )
    assert [line["error_code"] for line in lines] == ["a", "b", "c", "d", "e"]


def test_lite_metrics_units_lines_and_timestamps(monkeypatch: pytest.MonkeyPatch) -> None:
    import enum
    import time

    class Unit(enum.Enum):
        SECONDS = "Seconds"

    assert observability_lite._unit(Unit.SECONDS) == "Seconds"
    assert observability_lite._unit("Count") == "Count"
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setenv("POWERTOOLS_DEV", "true")
    assert observability_lite._metrics_disabled() is True  # unset (not empty): POWERTOOLS_DEV decides
    monkeypatch.delenv("POWERTOOLS_DEV")
    raw = observability_lite._emf("ns", {"tenant": "t"}, {"A": ("Count", [1.0])})
    assert " " not in raw  # one compact line
    stamp = json.loads(raw)["_aws"]["Timestamp"]
    assert abs(stamp - time.time() * 1000) < 60_000


def test_lite_logger_defaults_and_the_decorator_with_arguments() -> None:
    assert observability_lite.LiteLogger()._logger.name == "idbellen.dtmf"
    log = observability_lite.LiteLogger(name=_fresh("idbellen.test.decorator"))

    @log.inject_lambda_context(log_event=True)  # accepted for compatibility; the event is never logged
    def handler(event: Any, context: Any) -> None:
        log.info("inside")

    lines = _lines(lambda: handler({"secret": SECRET}, _Context()))
    assert [line["message"] for line in lines] == ["inside"]
    assert SECRET not in json.dumps(lines)
    assert log.context() == {}, "clear_state defaults to True"

    @log.inject_lambda_context(clear_state=False)
    def keeping(event: Any, context: Any) -> None:
        pass

    keeping({}, _Context())
    assert log.context()["function_request_id"] == "req-1"


def test_lite_log_lines_are_compact_json_with_the_record_time_and_any_extra() -> None:
    log = observability_lite.LiteLogger(name=_fresh("idbellen.test.format"))
    (handler,) = _own_handlers(log._logger)
    record = logging.LogRecord("x", logging.INFO, __file__, 7, "at epoch", None, None)
    record.created = 0.0
    record.msecs = 0.0
    record.odd = object()  # not JSON: written as its str()
    raw = handler.format(record)
    line = json.loads(raw)
    assert line["timestamp"] == "1970-01-01 00:00:00,000+0000"
    assert line["odd"].startswith("<object object")
    assert ": " not in raw and ", " not in raw


def test_a_line_that_cannot_be_formatted_is_dropped_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    log = observability_lite.LiteLogger(name=_fresh("idbellen.test.broken-format"))
    (handler,) = _own_handlers(log._logger)

    def broken(record: logging.LogRecord) -> str:
        raise ValueError("cannot format")

    monkeypatch.setattr(handler, "format", broken)
    monkeypatch.setattr(logging, "raiseExceptions", False)
    assert _lines(lambda: log.error("x")) == []


def test_setting_the_tenant_replaces_its_dimension_silently_in_both_modules() -> None:
    dims = observability.metrics.dimension_set
    before = dims.get("tenant")
    dims.pop("tenant", None)  # the first invocation of a process: no tenant dimension yet
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Powertools warns when a dimension is added twice
            observability.set_tenant("gemeente-c")
            observability.set_tenant("gemeente-d")
        assert dims["tenant"] == "gemeente-d"
        assert observability_lite._tenant["value"] == "gemeente-d"
    finally:
        observability.set_tenant(before or "default")
