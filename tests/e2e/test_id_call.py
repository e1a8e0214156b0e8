"""One ID call end to end through the DevStack: the paths a citizen, a caller and an agent can take."""

from __future__ import annotations

from .conftest import (
    BSN,
    NAME,
    WALLET,
    callback_path,
    disclosed_session,
    read_disclosure,
    session_status,
    start_session,
)


def test_happy_path_from_button_to_deletion(stack):
    session = start_session(stack)
    assert set(session.body) == {"session_id", "sessionPtr", "frontendRequest", "phone_number", "expires_at"}
    assert session_status(stack, session)[1]["status"] == "PENDING"

    session.tel = stack.wallet.disclose(session.body["sessionPtr"], WALLET)
    assert session.tel.startswith("tel:+31141234567,") and len(session.digits) == 8
    status, body = session_status(stack, session)
    assert body["status"] == "DISCLOSED"
    assert body["dtmf"] == session.digits and body["phone_number"] == "+31141234567"

    call = stack.call(session.digits, caller="+31612345678")
    assert call.queued
    assert call.attributes["verified"] == "true" and call.attributes["purpose"] == "demo"
    assert "dtmf" not in call.attributes and session.digits not in call.attributes.values()
    assert session_status(stack, session)[1]["status"] == "CALLED"

    stack.assign(call.contact_id)  # the dev agent accepts the call in Connect
    status, shown = read_disclosure(stack, call.attributes["session_secret"], call.contact_id)
    assert status == 200
    assert shown["purpose"] == "demo"
    assert [(a["id"], a["label"], a["value"]) for a in shown["attributes"]] == [
        (BSN, "BSN", "999990019"),
        (NAME, "Naam", "Demo Burger"),
    ]
    assert shown["expires_at"] > shown["disclosed_at"]
    assert session_status(stack, session)[1]["status"] == "CONNECTED"

    assert stack.contact_event(call.contact_id, "COMPLETED") == {"result": "OK", "deleted": "4"}
    assert stack.table_items() == []
    assert session_status(stack, session) == (404, {"error": "not_found"})
    assert read_disclosure(stack, call.attributes["session_secret"], call.contact_id)[0] == 404


def test_a_wrong_code_still_reaches_the_queue_unverified(stack):
    disclosed_session(stack)
    call = stack.call("00000000")
    assert call.queued and call.attributes == {"verified": "false"}
    assert call.lambda_result == {"result": "NOT_FOUND"}


def test_no_input_and_short_input_are_invalid_input(stack):
    for digits in ("", "123"):
        call = stack.call(digits)
        assert call.queued and call.attributes["verified"] == "false"
        assert call.lambda_result == {"result": "INVALID_INPUT"}


def test_extra_digits_are_cut_off_at_the_code_length_by_the_flow(stack):
    call = stack.call("123456789")
    assert call.queued and call.lambda_result == {"result": "NOT_FOUND"}


def test_a_code_works_once(stack):
    session = disclosed_session(stack)
    first = stack.call(session.digits)
    second = stack.call(session.digits)
    assert first.attributes["verified"] == "true"
    assert second.lambda_result == {"result": "NOT_FOUND"} and second.attributes["verified"] == "false"
    stack.assign(first.contact_id)
    assert read_disclosure(stack, first.attributes["session_secret"], first.contact_id)[0] == 200


def test_an_invalid_proof_is_not_verified(stack):
    session = disclosed_session(stack, proof_status="INVALID")
    assert session_status(stack, session)[1] == {
        "status": "FAILED",
        "reason": "invalid_proof",
        "purpose": "demo",
        "expires_at": session.body["expires_at"],
    }
    assert stack.call(session.digits).lambda_result == {"result": "NOT_VERIFIED"}
    assert not any("disclosure" in item for item in stack.table_items())


def test_cancelled_and_timed_out_sessions_fail(stack):
    cancelled = start_session(stack)
    assert stack.wallet.disclose(cancelled.body["sessionPtr"], WALLET, status="CANCELLED") is None
    assert session_status(stack, cancelled)[1]["reason"] == "cancelled"

    timed_out = start_session(stack)
    stack.clock.advance(301)  # the IRMA session timeout
    assert stack.api("POST", f"/sessions/{timed_out.session_id}/complete") == (200, {"status": "FAILED"})
    assert session_status(stack, timed_out)[1]["reason"] == "timeout"


def test_the_signed_callback_stores_the_result(stack):
    session = disclosed_session(stack)
    assert stack.irma.callbacks_sent == 1
    assert session_status(stack, session)[1]["status"] == "DISCLOSED"


def test_the_browser_trigger_pulls_the_result(stack):
    stack.irma.send_callbacks = False
    session = disclosed_session(stack)
    assert session_status(stack, session)[1]["status"] == "PENDING"
    assert stack.api("POST", f"/sessions/{session.session_id}/complete") == (200, {"status": "DISCLOSED"})
    assert stack.api("POST", f"/sessions/{session.session_id}/complete") == (200, {"status": "DISCLOSED"})


def test_the_phone_side_asks_the_session_function_to_pull(stack):
    stack.irma.send_callbacks = False
    session = disclosed_session(stack)
    call = stack.call(session.digits)
    assert call.attributes["verified"] == "true"
    assert stack.lambdas.invocations == {"idbellen-session": 1}


def test_a_forged_callback_changes_nothing(stack):
    stack.irma.send_callbacks = False
    session = disclosed_session(stack)
    path = callback_path(stack, session)
    status, body = stack.api("POST", path, "eyJhbGciOiJub25lIn0.e30.")
    assert (status, body) == (400, {"error": "invalid_result_jwt"})
    assert session_status(stack, session)[1]["status"] == "PENDING"
    # a genuine JWT of another session is refused too: it is bound to its own session token
    other = disclosed_session(stack)
    forged = stack.irma.result_jwt(stack.irma.session_for(other.body["sessionPtr"]))
    assert stack.api("POST", path, forged)[0] == 400
    assert session_status(stack, session)[1]["status"] == "PENDING"
    # the session_id is no callback id: the callback route does not know it
    assert stack.api("POST", f"/irma/callback/{session.session_id}", forged) == (404, {"error": "not_found"})


def test_a_connect_retry_leaves_exactly_one_working_secret(stack):
    session = disclosed_session(stack)
    first = stack.call(session.digits, contact_id="c-retry-1")
    retry = stack.call(session.digits, contact_id="c-retry-1")
    assert first.attributes["verified"] == retry.attributes["verified"] == "true"
    assert first.attributes["session_secret"] != retry.attributes["session_secret"]
    stack.assign("c-retry-1")
    assert read_disclosure(stack, first.attributes["session_secret"], "c-retry-1")[0] == 404
    assert read_disclosure(stack, retry.attributes["session_secret"], "c-retry-1")[0] == 200
    assert sum(1 for item in stack.table_items() if item["pk"].startswith("SECRET#")) == 1


def test_a_transferred_call_keeps_its_data_until_the_last_segment_completes(stack):
    session = disclosed_session(stack)
    call = stack.call(session.digits)
    secret = call.attributes["session_secret"]
    stack.assign(call.contact_id)
    assert read_disclosure(stack, secret, call.contact_id)[0] == 200
    second = stack.transfer(call.contact_id)
    stack.assign(second, "tweede.medewerker@gemeente.example")
    assert read_disclosure(stack, secret, second, "tweede.medewerker@gemeente.example")[0] == 200
    assert read_disclosure(stack, secret, call.initial_contact_id)[0] == 200  # the first segment still lives
    assert stack.contact_event(call.contact_id, "COMPLETED")["deleted"] == "0"
    assert read_disclosure(stack, secret, second, "tweede.medewerker@gemeente.example")[0] == 200
    assert read_disclosure(stack, secret, call.initial_contact_id)[0] == 404  # its segment completed
    assert stack.contact_event(second, "COMPLETED")["deleted"] == "4"
    assert stack.table_items() == []


def test_the_agent_clears_the_contact(stack):
    session = disclosed_session(stack)
    call = stack.call(session.digits)
    secret = call.attributes["session_secret"]
    stack.assign(call.contact_id)
    assert read_disclosure(stack, secret, call.contact_id)[0] == 200
    clear = {"secret": secret, "contact_id": call.contact_id}
    assert stack.api("POST", "/agent/clear", clear) == (204, None)
    assert stack.table_items() == []
    assert read_disclosure(stack, secret, call.contact_id)[0] == 404
    assert stack.api("POST", "/agent/clear", clear) == (204, None)


def test_completed_without_an_agent_deletes_too(stack):
    session = disclosed_session(stack)
    call = stack.call(session.digits)
    stack.contact_event(call.contact_id, "DISCONNECTED")
    assert len(stack.table_items()) == 4
    assert stack.contact_event(call.contact_id, "COMPLETED")["deleted"] == "4"
    assert stack.table_items() == []


def test_the_disconnect_flow_deletes_only_contacts_that_never_reached_an_agent(stack):
    def hang_up(call):
        event = stack.contact_flow_event(call.contact_id, call.initial_contact_id, {"reason": "disconnect"})
        return stack.invoke("cleanup", event)

    shown = stack.call(disclosed_session(stack).digits)
    stack.assign(shown.contact_id)
    read_disclosure(stack, shown.attributes["session_secret"], shown.contact_id)
    assert hang_up(shown) == {"result": "OK", "deleted": "0"}

    waiting = stack.call(disclosed_session(stack).digits)
    assert hang_up(waiting) == {"result": "OK", "deleted": "4"}
    assert read_disclosure(stack, waiting.attributes["session_secret"], waiting.contact_id)[0] == 404
    assert read_disclosure(stack, shown.attributes["session_secret"], shown.contact_id)[0] == 200


def test_a_code_is_not_verified_after_the_call_window(stack):
    session = disclosed_session(stack)
    stack.clock.advance(901)
    call = stack.call(session.digits)
    assert call.lambda_result == {"result": "NOT_VERIFIED"} and call.queued


def test_expiry_holds_at_read_time_whatever_the_ttl_sweeper_did(stack):
    session = disclosed_session(stack)
    call = stack.call(session.digits)
    stack.assign(call.contact_id)
    stack.clock.advance(3601)
    assert len(stack.table_items()) == 4  # moto's TTL never expires items, like a late sweeper
    assert session_status(stack, session)[0] == 404
    assert read_disclosure(stack, call.attributes["session_secret"], call.contact_id)[0] == 404
    assert stack.api("POST", f"/sessions/{session.session_id}/complete")[0] == 404
    assert stack.sweep() == {"result": "OK", "deleted": "4"}
    assert stack.table_items() == []


def test_a_secret_with_another_contact_id_is_not_found(stack):
    call = stack.call(disclosed_session(stack).digits)
    stack.assign(call.contact_id)
    stack.assign("someone-elses-contact")  # the agent's own other call
    status, body = read_disclosure(stack, call.attributes["session_secret"], "someone-elses-contact")
    assert (status, body) == (404, {"error": "not_found"})


def _session_item(stack, pk_prefix="SESSION#"):
    return [i for i in stack.table_items() if i["pk"].startswith(pk_prefix)]


def _put_field(stack, pk, field, value):
    stack.session.client("dynamodb").update_item(
        TableName=stack.resources.table,
        Key={"pk": {"S": pk}},
        UpdateExpression="SET #f = :v",
        ExpressionAttributeNames={"#f": field},
        ExpressionAttributeValues={":v": {"S": value}},
    )


def test_a_tampered_ciphertext_fails_closed(stack):
    call = stack.call(disclosed_session(stack).digits)
    stack.assign(call.contact_id)
    (item,) = _session_item(stack)
    version, nonce, ct = item["disclosure"].split(".")
    flipped = ct[:10] + ("A" if ct[10] != "A" else "B") + ct[11:]
    _put_field(stack, item["pk"], "disclosure", f"{version}.{nonce}.{flipped}")
    assert read_disclosure(stack, call.attributes["session_secret"], call.contact_id) == (404, {"error": "not_found"})


def test_swapped_ciphertexts_fail_closed(stack):
    a = stack.call(disclosed_session(stack).digits)
    b = stack.call(disclosed_session(stack).digits)
    stack.assign(a.contact_id)
    stack.assign(b.contact_id)
    item_a, item_b = _session_item(stack)
    _put_field(stack, item_a["pk"], "disclosure", item_b["disclosure"])
    _put_field(stack, item_a["pk"], "data_key", item_b["data_key"])
    results = {
        read_disclosure(stack, a.attributes["session_secret"], a.contact_id)[0],
        read_disclosure(stack, b.attributes["session_secret"], b.contact_id)[0],
    }
    assert results == {404, 200}  # the swapped record fails; the untouched one still reads


def test_the_caller_number_is_matched_against_a_disclosed_mobile_number(stack):
    session = disclosed_session(stack, purpose="belastingen")
    same = stack.call(session.digits, caller="+31612345678")
    stack.assign(same.contact_id)
    assert same.lambda_result["caller_match"] == "true"
    assert read_disclosure(stack, same.attributes["session_secret"], same.contact_id)[1]["caller_match"] == "true"
    other = stack.call(disclosed_session(stack, purpose="belastingen").digits, caller="+31699999999")
    stack.assign(other.contact_id)
    assert other.lambda_result["caller_match"] == "false"
    assert read_disclosure(stack, other.attributes["session_secret"], other.contact_id)[1]["caller_match"] == "false"
    plain = stack.call(disclosed_session(stack).digits, caller="+31612345678")
    stack.assign(plain.contact_id)
    assert "caller_match" not in plain.lambda_result
    assert read_disclosure(stack, plain.attributes["session_secret"], plain.contact_id)[1]["caller_match"] == "unknown"


def test_calling_outside_opening_hours_marks_the_session_closed(stack):
    session = disclosed_session(stack)
    event = stack.contact_flow_event("c-closed", "c-closed", {"dtmf": session.digits, "action": "mark_closed"})
    assert stack.invoke("dtmf", event) == {"result": "OK"}
    assert session_status(stack, session)[1]["status"] == "CLOSED"
    assert stack.call(session.digits).attributes["verified"] == "true"  # may still call within the window
