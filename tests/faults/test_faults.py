"""Injected faults in every dependency end in a defined, documented outcome (docs/faults.md): no
partial record, no plaintext, and a caller who still reaches the queue, marked `verified=false`.

AWS faults are injected with botocore hooks on the process's own clients (tests/faults/inject.py);
IRMA faults with the demo server's `fault` switch. Every hook is removed when its test ends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from devstack import DevStack
from tests.faults.consistency import assert_consistent
from tests.faults.inject import aws_fault, throttled
from tests.privacy import canary
from tests.privacy.canary import Collector, scan_items

MESSAGE = f"injected: {canary.FULLNAME} {canary.BSN} {canary.MOBILE}"  # must never surface anywhere


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with DevStack() as stack:
        yield stack


@pytest.fixture(scope="module")
def collector(stack: DevStack) -> Collector:
    return Collector(stack)


@pytest.fixture(autouse=True)
def healthy(stack: DevStack, collector: Collector) -> Iterator[None]:
    """Each test starts and ends with healthy dependencies, a consistent table and no plaintext."""
    stack.irma.fault = None
    stack.irma.send_callbacks = True
    yield
    stack.irma.fault = None
    stack.irma.send_callbacks = True
    stack.irma.requestor_token = stack.requestor_token
    items = stack.table_items()
    assert_consistent(items)
    assert scan_items(items, collector.canaries()) == []


@pytest.fixture
def cold_start() -> Iterator[None]:
    """A fresh execution environment (parameters are cached per process otherwise)."""
    from idbellen import runtime

    runtime.reset()
    yield
    runtime.reset()


def start(stack: DevStack, collector: Collector) -> dict[str, Any]:
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201, body
    collector.session_ids.append(body["session_id"])
    return body


def disclosed(stack: DevStack, collector: Collector) -> tuple[dict[str, Any], str]:
    body = start(stack, collector)
    tel = stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS)
    return body, tel.split(",", 1)[1]


def status_of(stack: DevStack, body: dict[str, Any]) -> Any:
    status, answer = stack.api("GET", f"/sessions/{body['session_id']}")
    return answer["status"] if status == 200 else status


def queued_unverified(call: Any) -> None:
    assert call.queued
    assert call.attributes == {"verified": "false"}


def linked(stack: DevStack, collector: Collector) -> tuple[dict[str, Any], Any]:
    body, code = disclosed(stack, collector)
    call = stack.call(code, caller=canary.MOBILE)
    assert call.lambda_result["result"] == "OK"
    collector.secrets.append(call.attributes["session_secret"])
    return body, call


def read(stack: DevStack, call: Any) -> tuple[int, Any]:
    """The dev agent accepted the call; its panel reads."""
    stack.assign(call.contact_id)
    return stack.api(
        "POST", "/agent/disclosure", {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
    )


def session_items(stack: DevStack, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item that belongs to this session (the session item and its pointers)."""
    pk = "SESSION#" + hashlib.sha256(body["session_id"].encode()).hexdigest()
    return [i for i in stack.table_items() if pk in (i["pk"], i.get("session_pk"))]


def irma_sessions(stack: DevStack) -> dict[str, str]:
    return {token: s.status for token, s in stack.irma.sessions.items()}


# -- starting a session ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("dynamodb", "TransactWriteItems", "InternalServerError"),
        ("dynamodb", "TransactWriteItems", "ProvisionedThroughputExceededException"),
        ("kms", "GenerateDataKey", "AccessDeniedException"),
        ("kms", "GenerateDataKey", "KMSInvalidStateException"),
        ("kms", "GenerateDataKey", "ThrottlingException"),
    ],
)
def test_start_fails_cleanly_when_the_table_or_key_fails(
    stack: DevStack, service: str, operation: str, code: str
) -> None:
    before_items, before_irma = stack.table_items(), irma_sessions(stack)
    with aws_fault(service, operation, code, message=MESSAGE, status=500) as fault:
        answer = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert fault.hits >= 1
    assert answer == (503, {"error": "unavailable"})
    assert stack.table_items() == before_items
    started = {t: s for t, s in irma_sessions(stack).items() if t not in before_irma}
    assert started and set(started.values()) == {"CANCELLED"}  # nothing usable left at the IRMA server


def test_a_throttle_that_clears_is_absorbed_by_the_sdk_retry(stack: DevStack, collector: Collector) -> None:
    with throttled("dynamodb", "TransactWriteItems", mode="send", times=1) as fault:
        body = start(stack, collector)
    assert fault.hits == 1
    assert status_of(stack, body) == "PENDING"


def test_persistent_throttling_is_retried_then_unavailable(stack: DevStack) -> None:
    before = stack.table_items()
    with throttled("kms", "GenerateDataKey", mode="send", message=MESSAGE) as fault:
        answer = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert fault.hits >= 2  # the client's bounded retries, then a defined answer
    assert answer == (503, {"error": "unavailable"})
    assert stack.table_items() == before


@pytest.mark.usefixtures("cold_start")
@pytest.mark.parametrize("code", ["InternalServerError", "AccessDeniedException", "ParameterNotFound"])
def test_parameter_store_failure_at_cold_start(stack: DevStack, code: str) -> None:
    before_items, before_irma = stack.table_items(), irma_sessions(stack)
    with aws_fault("ssm", "GetParameter", code, message=MESSAGE, status=500):
        answer = stack.api("POST", "/sessions", {"purpose": "demo"})
        call = stack.call("12345678", caller=canary.CALLER_OTHER)
    assert answer == (503, {"error": "unavailable"})
    assert call.lambda_result == {"result": "ERROR"}
    queued_unverified(call)
    assert stack.table_items() == before_items
    assert irma_sessions(stack) == before_irma  # the hash key is read before the IRMA server is asked


@pytest.mark.parametrize("fault", ["500", "garbage", "reset", "slow"])
def test_start_when_the_irma_server_fails(stack: DevStack, fault: str) -> None:
    before = stack.table_items()
    stack.irma.fault = fault
    stack.irma.slow_seconds = 3.5  # beyond the client's 3 s read timeout
    answer = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert answer == (503, {"error": "irma_unavailable"})
    assert stack.table_items() == before


def test_start_when_the_irma_server_refuses_our_credential(stack: DevStack) -> None:
    stack.irma.requestor_token = "rotated-elsewhere"
    assert stack.api("POST", "/sessions", {"purpose": "demo"}) == (503, {"error": "irma_unavailable"})


# -- accepting the result ------------------------------------------------------------------------------
def test_callback_that_cannot_be_stored_leaves_the_session_pending_until_a_pull(
    stack: DevStack, collector: Collector
) -> None:
    body = start(stack, collector)
    with aws_fault("dynamodb", "TransactWriteItems", "InternalServerError", message=MESSAGE, status=500) as fault:
        stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS)  # the callback gets a 503
    assert fault.hits >= 1
    assert status_of(stack, body) == "PENDING"
    assert stack.api("POST", f"/sessions/{body['session_id']}/complete") == (200, {"status": "DISCLOSED"})


@pytest.mark.parametrize(("code", "status"), [("AccessDeniedException", 503), ("InvalidCiphertextException", 404)])
def test_complete_when_the_data_key_cannot_be_opened(
    stack: DevStack, collector: Collector, code: str, status: int
) -> None:
    stack.irma.send_callbacks = False
    body = start(stack, collector)
    stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS)
    with aws_fault("kms", "Decrypt", code, message=MESSAGE):
        answer = stack.api("POST", f"/sessions/{body['session_id']}/complete")
    assert answer[0] == status
    assert status_of(stack, body) == "PENDING"
    assert stack.api("POST", f"/sessions/{body['session_id']}/complete") == (200, {"status": "DISCLOSED"})


@pytest.mark.parametrize("fault", ["500", "garbage", "reset"])
def test_complete_when_the_irma_server_fails(stack: DevStack, collector: Collector, fault: str) -> None:
    stack.irma.send_callbacks = False
    body = start(stack, collector)
    stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS)
    stack.irma.fault = fault
    assert stack.api("POST", f"/sessions/{body['session_id']}/complete") == (503, {"error": "irma_unavailable"})
    stack.irma.fault = None
    assert status_of(stack, body) == "PENDING"
    assert stack.api("POST", f"/sessions/{body['session_id']}/complete") == (200, {"status": "DISCLOSED"})


def test_expired_irma_result_fails_the_session_and_the_caller_is_queued_unverified(
    stack: DevStack, collector: Collector
) -> None:
    stack.irma.send_callbacks = False
    body, code = disclosed(stack, collector)
    stack.clock.advance(stack.irma.result_kept_at_most + 1)
    assert stack.api("POST", f"/sessions/{body['session_id']}/complete") == (200, {"status": "FAILED"})
    assert stack.api("GET", f"/sessions/{body['session_id']}")[1]["reason"] == "result_expired"
    call = stack.call(code)
    assert call.lambda_result == {"result": "NOT_VERIFIED"}
    queued_unverified(call)


def test_irma_session_timeout_fails_the_session(stack: DevStack, collector: Collector) -> None:
    stack.irma.send_callbacks = False
    body = start(stack, collector)
    stack.clock.advance(301)
    assert stack.api("POST", f"/sessions/{body['session_id']}/complete") == (200, {"status": "FAILED"})
    assert stack.api("GET", f"/sessions/{body['session_id']}")[1]["reason"] == "timeout"


# -- the phone side ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("operation", "code", "reasons"),
    [
        ("BatchGetItem", "ProvisionedThroughputExceededException", None),
        ("BatchGetItem", "InternalServerError", None),
        ("TransactWriteItems", "TransactionCanceledException", ["None", "ThrottlingError", "None", "None"]),
        ("TransactWriteItems", "TransactionCanceledException", ["TransactionConflict"] * 4),
        ("TransactWriteItems", "TransactionCanceledException", ["ConditionalCheckFailed", "None", "None", "None"]),
        ("TransactWriteItems", "InternalServerError", None),
    ],
)
def test_redemption_fault_queues_the_caller_unverified_and_keeps_the_code_usable(
    stack: DevStack, collector: Collector, operation: str, code: str, reasons: list[str] | None
) -> None:
    body, digits = disclosed(stack, collector)
    with aws_fault("dynamodb", operation, code, message=MESSAGE, reasons=reasons, status=500) as fault:
        call = stack.call(digits, caller=canary.MOBILE)
    assert fault.hits >= 1
    assert call.lambda_result == {"result": "ERROR"}
    queued_unverified(call)
    assert status_of(stack, body) == "DISCLOSED"
    assert not [i for i in stack.table_items() if i["kind"] in ("secret", "contact")]
    retry = stack.call(digits, caller=canary.MOBILE, contact_id=call.contact_id)  # Connect's retry
    assert retry.lambda_result["result"] == "OK"
    collector.secrets.append(retry.attributes["session_secret"])
    stack.contact_event(call.contact_id, "COMPLETED")


def test_one_lost_race_in_the_link_transaction_is_retried_with_a_fresh_secret(
    stack: DevStack, collector: Collector
) -> None:
    body, digits = disclosed(stack, collector)
    reasons = ["ConditionalCheckFailed", "None", "None", "None"]
    with aws_fault("dynamodb", "TransactWriteItems", "TransactionCanceledException", reasons=reasons, times=1):
        call = stack.call(digits, caller=canary.MOBILE)
    assert call.lambda_result["result"] == "OK"
    collector.secrets.append(call.attributes["session_secret"])
    assert read(stack, call)[0] == 200
    assert status_of(stack, body) == "CONNECTED"
    stack.contact_event(call.contact_id, "COMPLETED")


def test_rate_counter_write_failure_still_answers(stack: DevStack) -> None:
    """A wrong code is answered only once its lookup is counted; if the count cannot be written, the
    answer is ERROR (never NOT_FOUND uncounted), and the caller is still queued."""
    with aws_fault("dynamodb", "TransactWriteItems", "InternalServerError", message=MESSAGE, status=500):
        call = stack.call("00000001", caller=canary.CALLER_OTHER)
    assert call.lambda_result == {"result": "ERROR"}
    queued_unverified(call)


@pytest.mark.parametrize("how", ["lambda-invoke", "irma-down"])
def test_phone_side_pull_failure_means_not_verified(stack: DevStack, collector: Collector, how: str) -> None:
    stack.irma.send_callbacks = False
    body, digits = disclosed(stack, collector)
    if how == "irma-down":
        stack.irma.fault = "500"
        call = stack.call(digits)
    else:
        with aws_fault("lambda", "Invoke", "ServiceException", message=MESSAGE, status=500):
            call = stack.call(digits)
    assert call.lambda_result == {"result": "NOT_VERIFIED"}
    queued_unverified(call)
    assert status_of(stack, body) == "PENDING"


# -- the agent side ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("service", "operation", "code", "answer"),
    [
        ("kms", "Decrypt", "AccessDeniedException", (503, {"error": "unavailable"})),
        ("kms", "Decrypt", "ThrottlingException", (503, {"error": "unavailable"})),
        ("kms", "Decrypt", "DisabledException", (503, {"error": "unavailable"})),
        ("kms", "Decrypt", "InvalidCiphertextException", (404, {"error": "not_found"})),
        ("kms", "Decrypt", "IncorrectKeyException", (404, {"error": "not_found"})),
        ("dynamodb", "GetItem", "ProvisionedThroughputExceededException", (503, {"error": "unavailable"})),
        ("dynamodb", "UpdateItem", "ConditionalCheckFailedException", (404, {"error": "not_found"})),
        ("dynamodb", "UpdateItem", "InternalServerError", (503, {"error": "unavailable"})),
    ],
)
def test_agent_read_faults(
    stack: DevStack, collector: Collector, service: str, operation: str, code: str, answer: tuple[int, Any]
) -> None:
    _, call = linked(stack, collector)
    with aws_fault(service, operation, code, message=MESSAGE, status=500):
        assert read(stack, call) == answer
    status, body = read(stack, call)  # the record is intact once the dependency is back
    assert status == 200 and {a["value"] for a in body["attributes"]} == {canary.BSN, canary.FULLNAME}
    stack.contact_event(call.contact_id, "COMPLETED")


def test_agent_clear_fault_is_unavailable_and_a_retry_deletes(stack: DevStack, collector: Collector) -> None:
    body, call = linked(stack, collector)
    stack.assign(call.contact_id)
    secret = {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
    with aws_fault("dynamodb", "DeleteItem", "InternalServerError", message=MESSAGE, status=500):
        assert stack.api("POST", "/agent/clear", secret) == (503, {"error": "unavailable"})
    assert stack.api("POST", "/agent/clear", secret) == (204, None)
    assert read(stack, call) == (404, {"error": "not_found"})
    assert session_items(stack, body) == []


# -- deletion ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("after", [0, 1, 2, 3])
def test_contact_completed_delete_fault_raises_for_retry_and_the_retry_finishes(
    stack: DevStack, collector: Collector, after: int
) -> None:
    """Fails after `after` successful deletes. The secret pointer goes first (the agent's read stops at
    once), the contact pointer — the event's way back in — last, so the event's retry finishes the job."""
    body, call = linked(stack, collector)
    event = {
        "detail-type": "Amazon Connect Contact Event",
        "detail": {"eventType": "COMPLETED", "contactId": call.contact_id, "instanceArn": _arn()},
    }
    fault = aws_fault("dynamodb", "DeleteItem", "InternalServerError", message=MESSAGE, status=500, after=after)
    with fault, pytest.raises(RuntimeError) as raised:
        stack.invoke("cleanup", event)
    assert str(raised.value) == "cleanup failed"
    if after >= 1:
        assert read(stack, call) == (404, {"error": "not_found"})
    assert session_items(stack, body) != []
    assert stack.invoke("cleanup", event)["result"] == "OK"  # EventBridge's retry
    assert session_items(stack, body) == []


def test_sweep_scan_fault_raises_for_the_scheduler_retry(stack: DevStack, collector: Collector) -> None:
    # real expired items (a disclosed session: session, code; a wrong guess: rate buckets), so the retry
    # has something to delete and the first, failed sweep is seen to have deleted nothing
    body, _ = disclosed(stack, collector)
    stack.call("00000000", caller=canary.CALLER_OTHER)
    stack.clock.advance(int(body["expires_at"]) - int(stack.clock.now()) + 1)
    now = int(stack.clock.now())
    expired = sorted(i["pk"] for i in stack.table_items() if i["expires_at"] <= now)
    assert len(expired) >= 3, expired
    with (
        aws_fault("dynamodb", "Scan", "InternalServerError", message=MESSAGE, status=500) as fault,
        pytest.raises(RuntimeError),
    ):
        stack.sweep()
    assert fault.hits >= 1
    assert sorted(i["pk"] for i in stack.table_items() if i["expires_at"] <= now) == expired
    answer = stack.sweep()
    assert answer["result"] == "OK"
    assert int(answer["deleted"]) >= len(expired) - 1  # a session's code goes with its session
    assert [i["pk"] for i in stack.table_items() if i["expires_at"] <= now] == []


def _arn() -> str:
    from devstack.stack import INSTANCE_ARN

    return INSTANCE_ARN


def test_an_oversized_contact_id_is_dropped_before_dynamodb_not_retried_forever(stack: DevStack) -> None:
    """Real DynamoDB refuses keys over 2048 bytes (moto does not): emulate that refusal. An event that
    fails on every delivery would cycle through EventBridge's retries into the DLQ."""
    for contact_id in ("c" * 3000, "a" * 200):
        event = {
            "detail-type": "Amazon Connect Contact Event",
            "detail": {"eventType": "COMPLETED", "contactId": contact_id, "instanceArn": _arn()},
        }
        with aws_fault("dynamodb", "GetItem", "ValidationException", message=MESSAGE) as fault:
            assert stack.invoke("cleanup", event) == {"result": "OK", "deleted": "0"}
        assert fault.hits == 0
