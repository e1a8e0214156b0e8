"""A verified call with every real IRMA server configuration, and the sessions that go wrong.

The dev stack's IRMA server behaves like irmago (tests/conformance): it calls back before it stores
DONE, refuses a callbackUrl without a JWT key (501) unless unsigned callbacks are allowed, signs with
its configured issuer, and calls back with TIMEOUT on every access of a timed-out session.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devstack import DevStack, IrmaSetup

from .conftest import (
    NAME,
    WALLET,
    Session,
    callback_path,
    disclosed_session,
    read_disclosure,
    session_status,
    start_session,
)


def verified_call(stack: DevStack, session: Session) -> dict[str, Any]:
    """Call with the session's code; the agent reads the disclosure; the contact completes."""
    call = stack.call(session.digits, caller="+31612345678")
    assert call.attributes["verified"] == "true", call.lambda_result
    stack.assign(call.contact_id)  # the dev agent accepts the call
    status, shown = read_disclosure(stack, call.attributes["session_secret"], call.contact_id)
    assert status == 200
    assert stack.contact_event(call.contact_id, "COMPLETED")["result"] == "OK"
    # nothing of the call is left; a phone-side pull leaves only its (refunded) rate-limit bucket
    assert [i for i in stack.table_items() if i["kind"] != "rate"] == []
    return dict(shown)


def irma_session(stack: DevStack, session: Session) -> Any:
    return stack.irma.session_for(session.body["sessionPtr"])


def test_a_key_and_a_custom_issuer_the_signed_callback_stores_the_result():
    with DevStack(irma=IrmaSetup(jwt_issuer="yivi.gemeente-voorbeeld.nl")) as stack:
        session = disclosed_session(stack)
        callbacks = stack.irma.callbacks_for(irma_session(stack, session).token)
        assert [(c.status, c.signed, c.answer) for c in callbacks] == [("DONE", True, 200)]
        # stored by the callback itself: no pull was needed, the status poll finds it
        assert session_status(stack, session)[1]["status"] == "DISCLOSED"
        assert [a["value"] for a in verified_call(stack, session)["attributes"]] == ["999990019", "Demo Burger"]


def test_an_issuer_we_were_not_told_is_refused_and_the_pulls_still_deliver():
    setup = IrmaSetup(jwt_issuer="yivi.gemeente-voorbeeld.nl")
    with DevStack(irma=setup, settings={"IDBELLEN_IRMA_JWT_ISSUER": "irmaserver"}) as stack:
        session = disclosed_session(stack)
        assert [c.answer for c in stack.irma.callbacks_for(irma_session(stack, session).token)] == [400]
        assert session_status(stack, session)[1]["status"] == "PENDING"
        verified_call(stack, session)  # the phone side's pull


def test_two_keys_the_second_signing():
    with DevStack(irma=IrmaSetup(rotation=True)) as stack:
        assert os.environ["IDBELLEN_IRMA_JWT_PUBLIC_KEY"].count("BEGIN PUBLIC KEY") == 2
        session = disclosed_session(stack)
        assert [c.answer for c in stack.irma.callbacks_for(irma_session(stack, session).token)] == [200]
        assert session_status(stack, session)[1]["status"] == "DISCLOSED"
        verified_call(stack, session)


def test_a_rotation_done_in_the_wrong_order_only_costs_the_callbacks():
    """The IRMA server switched keys before idbellen trusted the new one: callbacks are refused
    (400, irmago logs and goes on), results still arrive by the browser's complete and the phone."""
    with DevStack() as stack:
        stack.irma.rotate_jwt_key()
        session = disclosed_session(stack)
        assert [c.answer for c in stack.irma.callbacks_for(irma_session(stack, session).token)] == [400]
        assert stack.api("POST", f"/sessions/{session.session_id}/complete") == (200, {"status": "DISCLOSED"})
        verified_call(stack, session)


def test_no_key_no_callback_url_and_results_by_the_browser_and_the_phone():
    with DevStack(irma=IrmaSetup(jwt_key=False)) as stack:
        by_browser = disclosed_session(stack)
        assert irma_session(stack, by_browser).callback_url is None  # irmago would answer 501
        assert stack.irma.callbacks == []
        assert session_status(stack, by_browser)[1]["status"] == "PENDING"
        assert stack.api("POST", f"/sessions/{by_browser.session_id}/complete") == (200, {"status": "DISCLOSED"})
        verified_call(stack, by_browser)
        by_phone = disclosed_session(stack)
        verified_call(stack, by_phone)
        assert stack.lambdas.invocations == {"idbellen-session": 1}


def test_no_key_but_unsigned_callbacks_configured_without_the_server_allowing_them_fails_loudly():
    """irmago answers 501 to a callbackUrl it may not call: every start fails (503 for the page)
    until the settings agree; a setup error, visible at once."""
    with DevStack(irma=IrmaSetup(jwt_key=False, unsigned_callbacks=True)) as stack:
        assert stack.api("POST", "/sessions", {"purpose": "demo"}) == (503, {"error": "irma_unavailable"})


def test_no_key_unsigned_callbacks_allowed_the_body_is_never_trusted():
    with DevStack(irma=IrmaSetup(jwt_key=False, allow_unsigned_callbacks=True)) as stack:
        session = disclosed_session(stack)
        callbacks = stack.irma.callbacks_for(irma_session(stack, session).token)
        assert [(c.status, c.signed, c.answer) for c in callbacks] == [("DONE", False, 200)]
        # the callback stored nothing but a hint; the next status poll pulls the real result
        assert "disclosure" not in next(i for i in stack.table_items() if i["kind"] == "session")
        assert session_status(stack, session)[1]["status"] == "DISCLOSED"
        verified_call(stack, session)


def test_a_forged_unsigned_result_changes_nothing():
    with DevStack(irma=IrmaSetup(jwt_key=False, allow_unsigned_callbacks=True)) as stack:
        session = start_session(stack)
        token = irma_session(stack, session).token
        forged = {
            "token": token,
            "status": "DONE",
            "type": "disclosing",
            "proofStatus": "VALID",
            "disclosed": [
                [{"id": "pbdf.gemeente.personalData.bsn", "rawvalue": "111222333", "status": "PRESENT"}],
                [{"id": "pbdf.gemeente.personalData.fullname", "rawvalue": "Forged Name", "status": "PRESENT"}],
            ],
        }
        path = callback_path(stack, session)
        assert stack.api("POST", path + "/", json.dumps(forged)) == (200, {"status": "PENDING"})
        assert stack.api("POST", path, json.dumps(forged)) == (200, {"status": "PENDING"})
        assert session_status(stack, session)[1]["status"] == "PENDING"  # the pull read INITIALIZED
        session.tel = stack.wallet.disclose(session.body["sessionPtr"], WALLET)
        assert session_status(stack, session)[1]["status"] == "DISCLOSED"
        shown = verified_call(stack, session)
        assert [a["value"] for a in shown["attributes"]] == ["999990019", "Demo Burger"]


@pytest.fixture(params=["key", "unsigned"])
def quiet_stack(request: pytest.FixtureRequest) -> Iterator[DevStack]:
    """A stack whose IRMA server sweeps only when touched, so every callback is counted here."""
    unsigned = request.param == "unsigned"
    setup = IrmaSetup(jwt_key=not unsigned, allow_unsigned_callbacks=unsigned, background_sweep=False)
    with DevStack(irma=setup) as stack:
        yield stack


def test_an_abandoned_session_fails_with_bounded_callbacks_and_none_nested(quiet_stack):
    stack = quiet_stack
    session = start_session(stack)
    token = irma_session(stack, session).token
    stack.clock.advance(301)  # the IRMA session's timeout
    for _ in range(3):  # the citizen's page keeps polling
        session_status(stack, session)
    assert stack.api("POST", f"/sessions/{session.session_id}/complete") == (200, {"status": "FAILED"})
    assert session_status(stack, session)[1] == {
        "status": "FAILED",
        "reason": "timeout",
        "purpose": "demo",
        "expires_at": session.body["expires_at"],
    }
    stack.clock.advance(20)  # the sweep after the deadline deletes the IRMA session
    stack.irma.catch_up()
    assert token not in stack.irma.sessions
    callbacks = stack.irma.callbacks_for(token)
    assert {c.status for c in callbacks} == {"TIMEOUT"} and 1 <= len(callbacks) <= 6
    # the first is answered; once the result is final the pointer is gone: later ones are 404 at once
    assert callbacks[0].answer == 200 and {c.answer for c in callbacks[1:]} <= {404}
    assert stack.irma.nested_callbacks == 0


def test_a_short_timeout_means_a_timeout_callback_every_sweep_each_answered_without_a_pull():
    """IDBELLEN_IRMA_SESSION_TIMEOUT below irmago's session_result_lifetime: the timed-out session
    lives on until last activity + 5 min and every 10-second sweep calls back (docs/deploy.md)."""
    setup = IrmaSetup(background_sweep=False)
    with DevStack(irma=setup, settings={"IDBELLEN_IRMA_SESSION_TIMEOUT": "60"}) as stack:
        session = start_session(stack)
        token = irma_session(stack, session).token
        stack.clock.advance(320)
        stack.irma.catch_up()
        callbacks = stack.irma.callbacks_for(token)
        assert 20 <= len(callbacks) <= 26
        assert callbacks[0].answer == 200 and {c.answer for c in callbacks[1:]} == {404}
        assert stack.irma.nested_callbacks == 0
        assert session_status(stack, session)[1]["reason"] == "timeout"


def test_a_session_cancelled_in_the_app_fails(stack):
    session = start_session(stack)
    assert stack.wallet.disclose(session.body["sessionPtr"], WALLET, status="CANCELLED") is None
    token = irma_session(stack, session).token
    assert [(c.status, c.answer) for c in stack.irma.callbacks_for(token)] == [("CANCELLED", 200)]
    assert session_status(stack, session)[1]["reason"] == "cancelled"
    assert stack.irma.nested_callbacks == 0


def test_a_callback_too_slow_for_the_app_loses_the_tel_link_but_the_page_still_shows_the_number(monkeypatch):
    """irmago answers the app's POST /proofs with 503 after 4.2 s (shortened here); the citizen sees
    an error in the app. The session still ends DONE, so the page's `complete` stores it and shows
    the number and code to dial by hand."""
    from idbellen import sessions

    with DevStack(irma=IrmaSetup(write_timeout=0.2)) as stack:
        original = sessions.callback

        def slow(*args: Any, **kwargs: Any) -> Any:
            time.sleep(1.0)  # stands in for a cold start: the answer comes after irmago's deadline
            return original(*args, **kwargs)

        monkeypatch.setattr(sessions, "callback", slow)
        session = start_session(stack)
        assert stack.wallet.disclose(session.body["sessionPtr"], WALLET) is None
        assert "503" in (stack.wallet.last_error or "")
        # the page learns DONE from the IRMA server (yivi-frontend), then asks us to complete
        token = irma_session(stack, session).token
        for _ in range(100):
            if stack.irma.sessions[token].status == "DONE":
                break
            time.sleep(0.05)
        assert stack.api("POST", f"/sessions/{session.session_id}/complete") == (200, {"status": "DISCLOSED"})
        shown = session_status(stack, session)[1]
        assert shown["phone_number"] == "+31141234567" and len(shown["dtmf"]) == 8


def test_the_callback_url_names_no_session():
    with DevStack() as stack:
        one, two = start_session(stack), start_session(stack)
        urls = [irma_session(stack, s).callback_url or "" for s in (one, two)]
        assert urls[0] != urls[1]
        for session, url in zip((one, two), urls, strict=True):
            assert session.session_id not in url
            assert session.session_id not in stack.irma.log_text()
        # irmago's INFO log holds the request: the DTMF code and the callback URL, as docs/deploy.md says
        assert "tel:+31141234567," in stack.irma.log_text() and urls[0] in stack.irma.log_text()


@pytest.mark.parametrize("unsigned", [False, True], ids=["key", "unsigned"])
def test_no_callback_ever_calls_the_irma_server(monkeypatch, unsigned):
    """Not for a result (irmago stores DONE only after the callback), and never for a timed-out
    session (each access would fire the next TIMEOUT callback while this one is open)."""
    import threading

    from idbellen import irma, sessions

    inside = threading.local()
    calls_inside: list[str] = []
    original_request, original_callback = irma.IrmaClient._request, sessions.callback

    def request(self: Any, method: str, path: str, **kwargs: Any) -> Any:
        if getattr(inside, "callback", False):
            calls_inside.append(method)
        return original_request(self, method, path, **kwargs)

    def callback(*args: Any, **kwargs: Any) -> Any:
        inside.callback = True
        try:
            return original_callback(*args, **kwargs)
        finally:
            inside.callback = False

    monkeypatch.setattr(irma.IrmaClient, "_request", request)
    monkeypatch.setattr(sessions, "callback", callback)
    setup = IrmaSetup(jwt_key=not unsigned, allow_unsigned_callbacks=unsigned, background_sweep=False)
    with DevStack(irma=setup) as stack:
        done = disclosed_session(stack)
        cancelled = start_session(stack)
        stack.wallet.disclose(cancelled.body["sessionPtr"], WALLET, status="CANCELLED")
        abandoned = start_session(stack)
        stack.clock.advance(301)
        for session in (done, cancelled, abandoned):
            session_status(stack, session)
            stack.api("POST", f"/sessions/{session.session_id}/complete")
        stack.clock.advance(30)
        stack.irma.catch_up()
        delivered = [c for c in stack.irma.callbacks if c.answer is not None]
        assert {c.status for c in delivered} == {"DONE", "CANCELLED", "TIMEOUT"}
        assert calls_inside == [] and stack.irma.nested_callbacks == 0


def test_a_result_far_larger_than_a_json_body_limit_is_accepted_whole():
    """The callback body limit is the largest result the purpose can produce (EXTRA attributes
    included), not the 8 KB of the JSON routes."""
    with DevStack() as stack:
        session = start_session(stack)
        extra = {f"pbdf.gemeente.personalData.extra{n}": "x" * 200 for n in range(60)}
        session.tel = stack.wallet.disclose(session.body["sessionPtr"], {**WALLET, **extra}, extra=list(extra))
        token = irma_session(stack, session).token
        assert len(stack.irma.result_jwt(stack.irma.sessions[token])) > 16 * 1024
        assert [c.answer for c in stack.irma.callbacks_for(token)] == [200]
        assert session_status(stack, session)[1]["status"] == "DISCLOSED"
        shown = verified_call(stack, session)
        assert [a["id"] for a in shown["attributes"]] == ["pbdf.gemeente.personalData.bsn", NAME]
