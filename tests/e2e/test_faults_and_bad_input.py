"""Bad input gets a clear 4xx and loses nothing; infrastructure faults get a defined outcome and the
caller still reaches an agent."""

from __future__ import annotations

import json

import pytest

from .conftest import WALLET, disclosed_session, read_disclosure, session_status, start_session


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"purpose": "nope"}, "unknown_purpose"),
        ({"purpose": 7}, "unknown_purpose"),
        ({}, "unknown_purpose"),
        ("{not json", "invalid_json"),
        ("[1, 2]", "json_object_required"),
        ('"demo"', "json_object_required"),
        (json.dumps({"purpose": "demo", "pad": "x" * 9000}), "body_too_large"),
    ],
)
def test_bad_session_requests_are_400_and_write_nothing(stack, body, error):
    assert stack.api("POST", "/sessions", body) == (400, {"error": error})
    assert stack.table_items() == []


@pytest.mark.parametrize(
    "path",
    [
        "/sessions/unknown",
        "/sessions/" + "A" * 43,
        "/sessions/%2e%2e%2fetc",
        "/sessions/" + "x" * 5000,
    ],
)
def test_unknown_sessions_are_404(stack, path):
    assert stack.api("GET", path) == (404, {"error": "not_found"})


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "missing_or_invalid_secret"),
        ({"secret": 1, "contact_id": "c"}, "missing_or_invalid_secret"),
        ({"secret": "x" * 43}, "missing_or_invalid_contact_id"),
        ({"secret": "short", "contact_id": "c"}, "invalid_secret"),
        ({"secret": "A" * 43, "contact_id": "bad id with spaces"}, "invalid_contact_id"),
    ],
)
def test_bad_agent_requests_are_400(stack, body, error):
    assert stack.api("POST", "/agent/disclosure", body) == (400, {"error": error})


def test_agent_routes_need_an_authenticated_agent(stack):
    stack.dispatcher.agent_claims = {}
    assert stack.api("POST", "/agent/disclosure", {"secret": "A" * 43, "contact_id": "c"}) == (
        401,
        {"error": "unauthorized"},
    )


def test_unknown_routes_are_404_json(stack):
    assert stack.api("GET", "/nope")[0] == 404
    assert stack.api("DELETE", "/sessions")[0] == 404


@pytest.mark.parametrize("fault", ["500", "garbage", "reset"])
def test_irma_server_faults_on_start_are_503_and_write_nothing(stack, fault):
    stack.irma.fault = fault
    assert stack.api("POST", "/sessions", {"purpose": "demo"}) == (503, {"error": "irma_unavailable"})
    assert stack.table_items() == []


def test_a_slow_irma_server_times_out_cleanly(stack):
    stack.irma.fault = "slow"
    stack.irma.slow_seconds = 3.5  # past the client's 3 s read timeout
    assert stack.api("POST", "/sessions", {"purpose": "demo"}) == (503, {"error": "irma_unavailable"})


def test_an_unreachable_irma_server_is_503(stack):
    stack.irma.stop()
    assert stack.api("POST", "/sessions", {"purpose": "demo"}) == (503, {"error": "irma_unavailable"})


@pytest.mark.parametrize("fault", ["500", "garbage"])
def test_irma_faults_while_pulling_keep_the_session_pending_and_the_caller_queued(stack, fault):
    stack.irma.send_callbacks = False
    session = disclosed_session(stack)
    stack.irma.fault = fault
    assert stack.api("POST", f"/sessions/{session.session_id}/complete") == (503, {"error": "irma_unavailable"})
    assert session_status(stack, session)[1]["status"] == "PENDING"
    call = stack.call(session.digits)
    assert call.queued and call.lambda_result == {"result": "NOT_VERIFIED"}
    stack.irma.fault = None
    assert stack.api("POST", f"/sessions/{session.session_id}/complete") == (200, {"status": "DISCLOSED"})


def test_a_result_the_irma_server_forgot_fails_the_session(stack):
    stack.irma.send_callbacks = False
    session = start_session(stack)
    stack.wallet.disclose(session.body["sessionPtr"], WALLET)
    stack.clock.advance(stack.irma.result_kept_at_most + 1)
    assert stack.api("POST", f"/sessions/{session.session_id}/complete") == (200, {"status": "FAILED"})
    assert session_status(stack, session)[1]["reason"] == "result_expired"


def test_a_dynamodb_outage_on_the_phone_side_is_error_and_queued(stack):
    session = disclosed_session(stack)
    stack.moto.stop()
    call = stack.call(session.digits)
    assert call.queued and call.attributes == {"verified": "false"}
    assert call.lambda_result == {"result": "ERROR"}


def test_an_outage_on_the_agent_side_is_503_without_details(stack):
    call = stack.call(disclosed_session(stack).digits)
    stack.moto.stop()
    status, body = read_disclosure(stack, call.attributes["session_secret"], call.contact_id)
    assert (status, body) == (503, {"error": "unavailable"})
