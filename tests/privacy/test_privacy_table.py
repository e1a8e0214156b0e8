"""Promise 1, 3 and 5 on the table itself: after every step of every flow, a raw scan of every item
(every attribute, set members included) finds no personal data in plaintext, no raw secret, DTMF code,
IRMA token or session id, and no unkeyed hash of a guessable value; every item expires within the hour.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from devstack import DevStack
from tests.privacy import canary
from tests.privacy.canary import Collector, scan_items

HOUR = 3600
# Every key the table ever held during this module (recorded where moto stores an item, whichever API call
# wrote it) and every key a step's scan saw: the last test compares them.
WRITTEN: set[str] = set()
SCANNED: set[str] = set()


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    from moto.dynamodb.models.table import Table

    original = Table.put_item

    def recording(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        key = item_attrs.get("pk", {})
        if isinstance(key, dict) and "S" in key:
            WRITTEN.add(key["S"])
        return original(self, item_attrs, *args, **kwargs)

    Table.put_item = recording  # type: ignore[method-assign]
    try:
        with DevStack() as stack:
            yield stack
    finally:
        Table.put_item = original  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def collector(stack: DevStack) -> Collector:
    return Collector(stack)


class Steps:
    """Runs flow steps and scans the raw table after each one."""

    def __init__(self, stack: DevStack, collector: Collector) -> None:
        self.stack = stack
        self.collector = collector
        self.scans = 0

    def scan(self, step: str) -> list[dict[str, Any]]:
        items = self.stack.table_items()
        SCANNED.update(str(i["pk"]) for i in items)
        canaries = self.collector.canaries()
        assert scan_items(items, canaries) == [], f"plaintext in the table after {step}"
        now = self.stack.clock.now()
        for item in items:
            assert {"pk", "tenant", "kind", "expires_at"} <= set(item), (step, item.get("pk"))
            assert isinstance(item["expires_at"], int), (step, item["pk"])
            assert item["expires_at"] <= now + HOUR + 1, (step, item["pk"])
        self.scans += 1
        return items

    def start(self, purpose: str = "demo") -> tuple[str, dict[str, Any]]:
        status, body = self.stack.api("POST", "/sessions", {"purpose": purpose})
        assert status == 201
        self.collector.session_ids.append(body["session_id"])
        self.collector.link(body["session_id"], body["sessionPtr"])
        self.scan("start")
        return body["session_id"], body

    def disclose(self, body: dict[str, Any], credentials: dict[str, str], **kwargs: Any) -> str | None:
        tel = self.stack.wallet.disclose(body["sessionPtr"], credentials, **kwargs)
        self.scan("disclose")
        return tel.split(",", 1)[1] if tel else None

    def call(self, code: str, caller: str = canary.MOBILE) -> Any:
        call = self.stack.call(code, caller=caller)
        if call.lambda_result.get("session_secret"):
            self.collector.secrets.append(call.lambda_result["session_secret"])
        self.scan("call")
        return call

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        out = self.stack.api(method, path, body)
        self.scan(f"{method} {path.split('/')[1]}")
        return out


@pytest.fixture
def steps(stack: DevStack, collector: Collector) -> Steps:
    return Steps(stack, collector)


def test_scanner_finds_a_canary_hidden_in_a_string_set(stack: DevStack, collector: Collector) -> None:
    """Control: the scan is not blind (a name inside a set, a code inside a longer string)."""
    ddb = stack.session.client("dynamodb")
    table = stack.resources.table
    code = "48151623"
    collector.codes_by_session["control"] = code
    for pk, attr in (
        ("CONTROL#1", {"SS": ["x", canary.FULLNAME]}),
        ("CONTROL#2", {"S": f"prefix-{code}-suffix"}),
        ("CONTROL#3", {"M": {"inner": {"L": [{"S": canary.BSN}]}}}),
    ):
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "v": attr})
        try:
            assert scan_items(stack.table_items(), collector.canaries()), pk
        finally:
            ddb.delete_item(TableName=table, Key={"pk": {"S": pk}})
    del collector.codes_by_session["control"]


def test_happy_path_with_transfer_leaves_no_plaintext_and_nothing_after_completion(steps: Steps) -> None:
    stack = steps.stack
    session_id, body = steps.start()
    code = steps.disclose(body, canary.DEMO_CREDENTIALS)
    assert steps.api("GET", f"/sessions/{session_id}")[1]["status"] == "DISCLOSED"
    steps.api("POST", f"/sessions/{session_id}/complete")
    call = steps.call(code)
    assert call.lambda_result["result"] == "OK"
    secret = call.attributes["session_secret"]
    stack.assign(call.contact_id)
    assert steps.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": call.contact_id})[0] == 200
    segment = stack.transfer(call.contact_id)
    steps.scan("transfer")
    stack.assign(segment)
    assert steps.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": segment})[0] == 200
    stack.contact_event(call.contact_id, "COMPLETED")
    steps.scan("first segment completed")
    stack.contact_event(segment, "COMPLETED")
    items = steps.scan("last segment completed")
    assert [i for i in items if i["kind"] != "rate"] == []


def test_mobile_number_is_stored_only_encrypted_and_as_keyed_hash(steps: Steps) -> None:
    _, body = steps.start("belastingen")
    code = steps.disclose(body, canary.FULL_CREDENTIALS)
    dtmf_items = [i for i in steps.scan("disclosed") if i["kind"] == "dtmf" and i.get("mobile_hash")]
    assert dtmf_items, "the disclosed mobile number should be kept as a keyed hash for caller_match"
    call = steps.call(code, caller="06 87 65 43 21")
    assert call.lambda_result["caller_match"] == "true"
    steps.stack.assign(call.contact_id)
    request = {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
    assert steps.api("POST", "/agent/disclosure", request)[0] == 200
    assert steps.api("POST", "/agent/clear", request)[0] == 204
    assert [i for i in steps.scan("cleared") if i["kind"] != "rate"] == []


def test_failed_disclosures_and_wrong_codes_leave_only_hashes(steps: Steps) -> None:
    for kwargs, creds in (
        ({"status": "CANCELLED"}, canary.DEMO_CREDENTIALS),
        ({"proof_status": "INVALID"}, canary.DEMO_CREDENTIALS),
        ({}, {canary.BSN_ATTR: canary.BSN}),
    ):
        session_id, body = steps.start()
        steps.disclose(body, creds, **kwargs)
        assert steps.api("GET", f"/sessions/{session_id}")[1]["status"] == "FAILED"
        assert steps.call(steps.collector.codes_by_session[session_id]).lambda_result["result"] == "NOT_VERIFIED"
    for _ in range(11):
        guess = f"{secrets.randbelow(10**8):08d}"
        steps.collector.codes_by_session[f"guess-{guess}"] = guess
        steps.call(guess, caller=canary.CALLER_OTHER)
    rate = [i for i in steps.scan("wrong codes") if i["kind"] == "rate"]
    assert rate and all(i["expires_at"] <= steps.stack.clock.now() + 660 for i in rate)


def test_pull_paths_and_closed_hours_leave_no_plaintext(steps: Steps) -> None:
    stack = steps.stack
    stack.irma.send_callbacks = False
    try:
        _, body = steps.start()
        code = steps.disclose(body, canary.DEMO_CREDENTIALS)
        assert steps.call(code).lambda_result["result"] == "OK"  # the phone side asked for the pull
        session_id, body = steps.start()
        steps.disclose(body, canary.DEMO_CREDENTIALS)
        assert steps.api("POST", f"/sessions/{session_id}/complete")[1]["status"] == "DISCLOSED"
    finally:
        stack.irma.send_callbacks = True
    session_id, body = steps.start()
    code = steps.disclose(body, canary.DEMO_CREDENTIALS)
    event = stack.contact_flow_event("c-closed", "c-closed", {"dtmf": code, "action": "mark_closed"})
    assert stack.invoke("dtmf", event)["result"] == "OK"
    steps.scan("closed")
    assert steps.api("GET", f"/sessions/{session_id}")[1]["status"] == "CLOSED"


def test_caller_mismatch_and_hang_up_before_an_agent_leave_nothing(steps: Steps) -> None:
    stack = steps.stack
    stack.clock.advance(601)  # past the rate window of the wrong codes CALLER_OTHER typed above
    session_id, body = steps.start("belastingen")
    code = steps.disclose(body, canary.FULL_CREDENTIALS)
    call = steps.call(code, caller=canary.CALLER_OTHER)
    assert call.lambda_result["caller_match"] == "false"
    event = stack.contact_flow_event(call.contact_id, call.contact_id, {}, caller=canary.CALLER_OTHER)
    assert stack.invoke("cleanup", event)["result"] == "OK"  # the disconnect flow
    pk = "SESSION#" + hashlib.sha256(session_id.encode()).hexdigest()
    assert [i for i in steps.scan("hung up") if pk in (i["pk"], i.get("session_pk"))] == []


def test_every_item_ever_seen_was_scanned(steps: Steps, stack: DevStack) -> None:
    """Every item the flows above ever wrote was in some step's scan (no item came and went between two
    scans unseen), the flows wrote every kind of item, and a final sweep past the hour leaves an empty table.
    Runs last in this module: it needs the flows above (alone, it fails on the kinds)."""
    from idbellen.store import CALLBACK, CONTACT, DTMF, RATE, SECRET, SESSION

    kinds = (SESSION, DTMF, SECRET, CONTACT, RATE, CALLBACK)
    control_keys = {k for k in WRITTEN if "control" in k or not k.startswith(kinds)}
    flow_keys = WRITTEN - control_keys
    prefixes = {k.split("#", 1)[0] + "#" for k in flow_keys}
    assert set(kinds) <= prefixes, prefixes
    assert len(flow_keys) >= 20
    assert sorted(flow_keys - SCANNED) == []
    left = {str(i["pk"]) for i in steps.scan("before the final sweep")}
    stack.clock.advance(HOUR + 1)
    stack.sweep()
    assert stack.table_items() == []
    assert left <= SCANNED
