"""The dev stack's EMF → CloudWatch step (devstack/emf_bridge.py) follows the EMF specification and
CloudWatch's time-stamp rule, follows the stack's clock, and forwards nothing but declared metric and
dimension values: a log line — whatever it holds — never reaches CloudWatch."""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from devstack import DevStack
from devstack.emf_bridge import EmfBridge, Invalid, metric_data, parse_emf
from tests.privacy.canary import BSN, FULLNAME, MOBILE, Canaries

NOW = 1_800_000_000.0  # a fixed "now" for the pure checks


def emf(
    metrics: dict[str, Any], dimensions: list[list[str]] | None = None, stamp: float = NOW, **root: Any
) -> dict[str, Any]:
    definitions = [{"Name": name, "Unit": "Count"} for name in metrics]
    return {
        "_aws": {
            "Timestamp": int(stamp * 1000),
            "CloudWatchMetrics": [
                {"Namespace": "idbellen", "Dimensions": dimensions or [["tenant", "service"]], "Metrics": definitions}
            ],
        },
        "tenant": "t1",
        "service": "idbellen",
        **metrics,
        **root,
    }


class Recorder:
    """A CloudWatch client that records what it is asked to store."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def put_metric_data(self, **request: Any) -> None:
        self.requests.append(request)

    def text(self) -> str:
        return json.dumps(self.requests, default=str)


@pytest.fixture
def recorder() -> Iterator[tuple[EmfBridge, Recorder]]:
    sink = Recorder()
    bridge = EmfBridge(lambda: NOW, lambda: sink, wall=lambda: NOW)
    yield bridge, sink
    bridge.close(flush=False)


def test_every_dimension_set_creates_its_own_metric() -> None:
    """EMF spec, DimensionSet: "Every DimensionSet used creates a new metric in CloudWatch"."""
    doc = emf({"SessionsStarted": 1}, [["tenant", "service"], ["tenant", "service", "purpose"]], purpose="demo")
    data = metric_data(doc, 0, NOW)
    assert [sorted(d["Name"] for d in datum["Dimensions"]) for _, datum in data] == [
        ["service", "tenant"],
        ["purpose", "service", "tenant"],
    ]
    assert all(datum["Values"] == [1.0] and ns == "idbellen" for ns, datum in data)


def test_an_array_target_is_one_data_point_per_value_up_to_100() -> None:
    """EMF spec, Target members: "Numeric array metric targets MUST NOT have more than 100 members"."""
    ((_, datum),) = metric_data(emf({"AgentReads": [1, 1, 1]}), 0, NOW)
    assert datum["Values"] == [1.0, 1.0, 1.0]
    with pytest.raises(Invalid, match="1 to 100"):
        metric_data(emf({"AgentReads": [1] * 101}), 0, NOW)


def test_unit_and_storage_resolution_are_carried_with_their_defaults() -> None:
    """EMF spec, MetricDefinition: Unit defaults to None; StorageResolution is 1 or 60 (default 60)."""
    doc = emf({"A": 1, "B": 2})
    doc["_aws"]["CloudWatchMetrics"][0]["Metrics"] = [
        {"Name": "A"},
        {"Name": "B", "Unit": "Seconds", "StorageResolution": 1},
    ]
    (_, a), (_, b) = metric_data(doc, 0, NOW)
    assert (a["Unit"], a["StorageResolution"], b["Unit"], b["StorageResolution"]) == ("None", 60, "Seconds", 1)


def _broken(change: str) -> dict[str, Any]:
    doc = emf({"SessionsStarted": 1})
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    if change == "dimension target missing":
        directive["Dimensions"] = [["tenant", "purpose"]]
    elif change == "dimension value not a string":
        doc["tenant"] = 42
    elif change == "more than 30 dimension keys":
        directive["Dimensions"] = [[f"d{i}" for i in range(31)]]
        doc.update({f"d{i}": "x" for i in range(31)})
    elif change == "more than 100 metric definitions":
        directive["Metrics"] = [{"Name": f"M{i}"} for i in range(101)]
        doc.update({f"M{i}": 1 for i in range(101)})
    elif change == "metric target not a number":
        doc["SessionsStarted"] = "1"
    elif change == "metric target a boolean":
        doc["SessionsStarted"] = True
    elif change == "metric target missing":
        del doc["SessionsStarted"]
    elif change == "unknown unit":
        directive["Metrics"][0]["Unit"] = "Citizens"
    elif change == "storage resolution 5":
        directive["Metrics"][0]["StorageResolution"] = 5
    elif change == "no Timestamp":
        del doc["_aws"]["Timestamp"]
    elif change == "no Namespace":
        del directive["Namespace"]
    elif change == "empty Dimensions":
        directive["Dimensions"] = []
    return doc


@pytest.mark.parametrize(
    "change",
    [
        "dimension target missing",
        "dimension value not a string",
        "more than 30 dimension keys",
        "more than 100 metric definitions",
        "metric target not a number",
        "metric target a boolean",
        "metric target missing",
        "unknown unit",
        "storage resolution 5",
        "no Timestamp",
        "no Namespace",
        "empty Dimensions",
    ],
)
def test_a_document_breaking_the_specification_yields_no_metric(change: str) -> None:
    with pytest.raises(Invalid):
        metric_data(_broken(change), 0, NOW)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-14 * 86400 + 60, True), (-14 * 86400 - 60, False), (2 * 3600 - 60, True), (2 * 3600 + 60, False)],
)
def test_time_stamps_at_most_two_weeks_old_and_two_hours_ahead(offset: int, accepted: bool) -> None:
    """CloudWatch concepts, Time stamps: "up to two weeks in the past and up to two hours into the future"."""
    doc = emf({"SessionsStarted": 1}, stamp=NOW + offset)
    if accepted:
        ((_, datum),) = metric_data(doc, 0, NOW)
        assert datum["Timestamp"] == datetime.fromtimestamp(NOW + offset, UTC)
    else:
        with pytest.raises(Invalid, match="Timestamp"):
            metric_data(doc, 0, NOW)


def test_log_lines_are_never_forwarded(recorder: tuple[EmfBridge, Recorder]) -> None:
    """Whatever a non-EMF line holds, nothing of it reaches CloudWatch; neither does any member of an
    EMF document that is not a declared metric or dimension."""
    bridge, sink = recorder
    secret_line = f'{{"level":"INFO","message":"bsn {BSN} name {FULLNAME}","phone":"{MOBILE}"}}'
    bridge.ingest(secret_line)
    bridge.ingest(f"plain text {BSN} {MOBILE}")
    bridge.ingest(f'{{"_aws": "not an object", "x": "{BSN}"}}')
    bridge.ingest(f'{{"_aws": {{"CloudWatchMetrics": [], "Timestamp": 1}}, "x": "{BSN}"')  # not JSON
    bridge.ingest(json.dumps({"log_type": "processing", "session_ref": "abc", "_aws": {"note": FULLNAME}}))
    assert bridge.flush() == 0
    assert sink.requests == []
    doc = emf({"SessionsStarted": 1}, message=f"{FULLNAME} {BSN}", caller=MOBILE, nested={"bsn": BSN})
    bridge.ingest(json.dumps(doc))
    assert bridge.flush() == 1
    assert Canaries().find(sink.text()) == []
    assert bridge.rejected == {}


def test_declared_dimension_values_are_forwarded_unchanged(recorder: tuple[EmfBridge, Recorder]) -> None:
    """The bridge checks the format, not the content: the functions' closed vocabulary of dimension
    values (tests/metrics) is what keeps personal data out of a dimension."""
    bridge, sink = recorder
    bridge.ingest(json.dumps(emf({"SessionsStarted": 1}, [["tenant", "service", "purpose"]], purpose="demo")))
    bridge.flush()
    assert "demo" in sink.text()


def test_an_invalid_document_is_counted_not_sent(recorder: tuple[EmfBridge, Recorder]) -> None:
    bridge, sink = recorder
    bridge.ingest(json.dumps(_broken("dimension target missing")))
    assert bridge.flush() == 0 and sink.requests == []
    assert sum(bridge.rejected.values()) == 1
    assert all(BSN not in reason for reason in bridge.rejected)


def test_parse_recognises_only_emf_documents() -> None:
    assert parse_emf(json.dumps(emf({"A": 1}))) is not None
    assert parse_emf('{"level": "INFO", "message": "_aws"}') is None
    assert parse_emf("_aws") is None


# -- with the dev stack: the functions' real output, the stack's clock, stdout taken over by others ---
@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with DevStack(settings={"IDBELLEN_TENANT": "bridgetest"}) as running:
        yield running


def _sum(metric: str, start: datetime, end: datetime, **dims: str) -> float:
    client = boto3.client("cloudwatch")
    dimensions = [{"Name": "tenant", "Value": "bridgetest"}, {"Name": "service", "Value": "idbellen"}]
    dimensions += [{"Name": k, "Value": v} for k, v in dims.items()]
    out = client.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {"Namespace": "idbellen", "MetricName": metric, "Dimensions": dimensions},
                    "Period": 3600,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=start,
        EndTime=end,
    )
    return sum(out["MetricDataResults"][0]["Values"])


def test_metrics_land_at_the_stack_clocks_time(stack: DevStack) -> None:
    """The functions run on stack.clock; their metrics land in the simulated hour, not the real one."""
    stack.clock.set(datetime(2026, 3, 3, 10, 30, tzinfo=UTC).timestamp())
    for _ in range(2):
        assert stack.api("POST", "/sessions", {"purpose": "demo"})[0] == 201
    stack.flush_metrics()
    hour = datetime(2026, 3, 3, 10, tzinfo=UTC), datetime(2026, 3, 3, 11, tzinfo=UTC)
    assert _sum("SessionsStarted", *hour) == 2
    assert _sum("SessionsStarted", *hour, purpose="demo") == 2
    real_now = datetime.fromtimestamp(time.time(), UTC)
    assert (
        _sum(
            "SessionsStarted",
            real_now.replace(minute=0, second=0, microsecond=0),
            real_now.replace(year=real_now.year + 1),
        )
        == 0
    )


def test_output_taken_over_by_others_is_still_bridged(stack: DevStack) -> None:
    """redirect_stdout (the demo), pytest's capture between phases: the next invocation tees again,
    and what the function prints still reaches the new stdout unchanged."""
    stack.clock.set(datetime(2026, 3, 4, 9, 10, tzinfo=UTC).timestamp())
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert stack.api("POST", "/sessions", {"purpose": "demo"})[0] == 201
    assert '"SessionsStarted"' in buffer.getvalue()
    stack.flush_metrics()
    assert _sum("SessionsStarted", datetime(2026, 3, 4, 9, tzinfo=UTC), datetime(2026, 3, 4, 10, tzinfo=UTC)) == 1
