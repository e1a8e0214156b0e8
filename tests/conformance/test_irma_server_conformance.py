"""The dev stack's IRMA server behaves like irmago, rule by rule.

Each test states one rule; its docstring names where irmago does it (files in
github.com/privacybydesign/irmago, read at commit c8ed840d). Paths are relative to irma/.
The stand-in is driven over HTTP like the real server; a small loopback server plays the requestor's
callback endpoint. Where a test needs the 4.2 s deadline it shortens irmago's `WriteTimeout` (a
switch of the stand-in) instead of waiting: the rule, not a timing, is asserted.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import requests

from devstack.clock import MovableClock
from devstack.irma_server import DemoIrmaServer, IrmaServerConfig
from devstack.wallet import DemoWallet

TOKEN = "requestor-token-for-conformance"
BSN = "pbdf.gemeente.personalData.bsn"
NAME = "pbdf.gemeente.personalData.fullname"
PREFIX = "pbdf.gemeente.personalData.prefix"
MOBILE = "pbdf.sidn-pbdf.mobilenumber.mobilenumber"
WALLET = {BSN: "999990019", NAME: "Demo Burger"}
JSON = {"Authorization": TOKEN, "Content-Type": "application/json"}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """The requestor's callback endpoint on loopback."""

    calls: list[Received] = field(default_factory=list)
    during: Callable[[Received], None] | None = None  # runs before the answer (irmago waits for it)
    status: int = 200
    drop: int = 0  # drop the connection this many times (transport errors)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/irma/callback/cb-id"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            state.calls.append(got)
            if state.drop > 0:
                state.drop -= 1
                self.close_connection = True
                self.connection.close()
                return
            if state.during is not None:
                state.during(got)
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    state.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.server.daemon_threads = True
    threading.Thread(target=state.server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        state.server.shutdown()
        state.server.server_close()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def make_server(clock: MovableClock) -> Iterator[Callable[..., DemoIrmaServer]]:
    started: list[DemoIrmaServer] = []

    def make(**config: Any) -> DemoIrmaServer:
        config.setdefault("background_sweep", False)  # sweeps happen when the tests touch the server
        server = DemoIrmaServer(TOKEN, clock=clock.now, config=IrmaServerConfig(**config)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def request_body(callback: str | None = None, timeout: int = 300, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request": {
            "@context": "https://irma.app/ld/request/disclosure/v2",
            "disclose": [[[{"type": BSN, "notNull": True}]], [[{"type": NAME, "notNull": True}]]],
            "clientReturnUrl": "tel:+31141234567,12345678",
        },
        "timeout": timeout,
        **extra,
    }
    if callback:
        body["callbackUrl"] = callback
    return body


def start(server: DemoIrmaServer, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = requests.post(f"{server.url}/session", data=json.dumps(body or request_body()), headers=JSON, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def get(server: DemoIrmaServer, token: str, what: str) -> requests.Response:
    return requests.get(f"{server.url}/session/{token}/{what}", timeout=10)


def error_of(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]


# -- starting a session --------------------------------------------------------------------------------
def test_token_auth_takes_the_raw_token_and_refuses_a_wrong_one(make_server):
    """requestorserver/auth.go PresharedKeyAuthenticator.AuthenticateSession: the `Authorization`
    header is the token itself (no "Bearer"); an unknown one is 403 UNAUTHORIZED."""
    server = make_server()
    for auth in ("wrong-token", f"Bearer {TOKEN}"):
        answer = requests.post(
            f"{server.url}/session", json=request_body(), headers={"Authorization": auth}, timeout=10
        )
        assert error_of(answer) == (403, "UNAUTHORIZED")
    assert "token" in start(server)


def test_a_missing_authorization_is_400_invalid_request(make_server):
    """requestorserver/server.go checkAuth: no authenticator applies to a request without
    `Authorization` (token auth) that is no JWT either, so it is 400 INVALID_REQUEST, not 401/403."""
    server = make_server()
    answer = requests.post(
        f"{server.url}/session",
        data=json.dumps(request_body()),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert error_of(answer) == (400, "INVALID_REQUEST")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_token_auth_needs_content_type_application_json(make_server, content_type):
    """requestorserver/auth.go PresharedKeyAuthenticator.AuthenticateSession applies only with
    `Content-Type: application/json...`; server.go checkAuth then answers 400 INVALID_REQUEST."""
    server = make_server()
    headers = {"Authorization": TOKEN}
    if content_type:
        headers["Content-Type"] = content_type
    answer = requests.post(f"{server.url}/session", data=json.dumps(request_body()), headers=headers, timeout=10)
    assert error_of(answer) == (400, "INVALID_REQUEST")


def test_a_callback_url_without_a_jwt_key_is_501_unless_unsigned_callbacks_are_allowed(make_server, receiver):
    """requestorserver/server.go createSession: `callbackUrl` with neither `jwt_privkey` nor
    `allow_unsigned_callbacks` is 501 UNSUPPORTED; without a callbackUrl the session starts."""
    keyless = make_server(jwt_privkey=False)
    answer = requests.post(
        f"{keyless.url}/session", data=json.dumps(request_body(receiver.url)), headers=JSON, timeout=10
    )
    assert error_of(answer) == (501, "UNSUPPORTED")
    assert "token" in start(keyless, request_body(None))
    allowing = make_server(jwt_privkey=False, allow_unsigned_callbacks=True)
    assert "token" in start(allowing, request_body(receiver.url))


def test_the_session_package_gives_a_pointer_a_20_character_token_and_the_frontend_request(make_server):
    """server/api.go SessionPackage, irma/messages.go Qr, requests.go FrontendSessionRequest;
    internal/common/common.go NewSessionToken (20 alphanumerics)."""
    server = make_server()
    package = start(server)
    assert set(package) == {"sessionPtr", "token", "frontendRequest"}
    assert package["sessionPtr"]["irmaqr"] == "disclosing" and package["sessionPtr"]["u"].startswith(server.url)
    assert re.fullmatch(r"[A-Za-z0-9]{20}", package["token"])
    assert package["token"] not in package["sessionPtr"]["u"]
    assert {"authorization", "minProtocolVersion", "maxProtocolVersion"} <= set(package["frontendRequest"])


def test_the_session_request_is_logged_at_info_with_the_return_url_and_the_callback_url(
    make_server, receiver, caplog, capfd
):
    """irmaserver/api.go startNextSession logs "Session request (purged of attribute values)" at INFO
    (helpers.go purgeRequest removes only required attribute *values*), so irmago's log holds our
    DTMF code (in `clientReturnUrl`) and the callback URL; at DEBUG it logs the whole request with the
    client token; `quiet` logs nothing. The stand-in keeps this log in memory only: nothing reaches
    stdout, stderr or Python logging."""
    caplog.set_level(logging.DEBUG)
    server = make_server()
    package = start(server, request_body(receiver.url))
    text = server.log_text()
    assert "Session request (purged of attribute values)" in text
    assert "tel:+31141234567,12345678" in text and receiver.url in text and package["token"] in text
    debug = make_server(log_level="debug")
    start(debug)
    client_token = debug.sessions[next(iter(debug.sessions))].client_token
    assert client_token in debug.log_text()
    quiet = make_server(log_level="quiet")
    start(quiet, request_body(receiver.url))
    assert quiet.log == []
    out, err = capfd.readouterr()
    assert "12345678" not in out + err + caplog.text


# -- tokens and the requestor routes -------------------------------------------------------------------
def test_a_malformed_token_is_400_invalid_request_and_an_unknown_one_400_session_unknown(make_server):
    """requestorserver/server.go tokenMiddleware: irma/messages.go ParseRequestorToken matches
    common.SessionTokenRegex `[a-zA-Z0-9]{20}` *unanchored*: no such run is 400 INVALID_REQUEST;
    a well-formed unknown token is 400 SESSION_UNKNOWN (mapToServerError)."""
    server = make_server()
    assert error_of(get(server, "short", "result")) == (400, "INVALID_REQUEST")
    assert error_of(get(server, "0123456789-abcdefghij", "status")) == (400, "INVALID_REQUEST")
    assert error_of(get(server, "A" * 20, "result")) == (400, "SESSION_UNKNOWN")
    assert error_of(get(server, "B" * 25, "result")) == (400, "SESSION_UNKNOWN")  # contains a 20-run
    assert requests.delete(f"{server.url}/session/short", timeout=10).json()["error"] == "INVALID_REQUEST"


def test_status_is_a_json_string_and_result_has_no_empty_fields(make_server):
    """requestorserver/server.go handleStatus writes the status as JSON (a quoted string);
    handleResult writes server.SessionResult, whose proofStatus and disclosed are omitempty."""
    server = make_server()
    token = start(server)["token"]
    assert get(server, token, "status").text == '"INITIALIZED"'
    assert get(server, token, "result").json() == {"token": token, "status": "INITIALIZED", "type": "disclosing"}


def test_without_a_key_result_jwt_is_500_and_publickey_501(make_server):
    """requestorserver/server.go handleJwtResult (ErrorUnknown: 500 EXCEPTION) and handlePublicKey
    (501 UNSUPPORTED) when no `jwt_privkey` is configured."""
    server = make_server(jwt_privkey=False)
    token = start(server)["token"]
    assert error_of(get(server, token, "result-jwt")) == (500, "EXCEPTION")
    assert error_of(requests.get(f"{server.url}/publickey", timeout=10)) == (501, "UNSUPPORTED")
    keyed = make_server()
    assert requests.get(f"{keyed.url}/publickey", timeout=10).text.startswith("-----BEGIN PUBLIC KEY-----")


# -- session life ----------------------------------------------------------------------------------------
def test_timeout_bounds_only_the_wait_for_the_app_then_max_session_lifetime(make_server, clock):
    """irmaserver/helpers.go sessionData.timeout: the request's `timeout` applies while INITIALIZED;
    once the app connected, `max_session_lifetime` (15 min) from the last activity (markAlive)."""
    server = make_server()
    waiting = start(server, request_body(timeout=60))["token"]
    connected = start(server, request_body(timeout=60))
    requests.get(connected["sessionPtr"]["u"], headers={"Authorization": "app"}, timeout=10)
    clock.advance(61)
    assert get(server, waiting, "status").text == '"TIMEOUT"'
    assert get(server, connected["token"], "status").text == '"CONNECTED"'
    clock.advance(900 - 61)
    assert get(server, connected["token"], "status").text == '"TIMEOUT"'


def test_results_live_session_result_lifetime_then_the_sweep_forgets_them(make_server, clock):
    """irmaserver/helpers.go ttl (= timeout + session_result_lifetime, 5 min) and sessions.go
    deleteExpired, scheduled every 10 s in irmaserver/api.go New: a finished session is deleted by
    the first sweep after its lifetime; then SESSION_UNKNOWN."""
    server = make_server()
    package = start(server)
    assert DemoWallet().disclose(package["sessionPtr"], WALLET) is not None
    clock.advance(300 - 1)
    assert get(server, package["token"], "result").json()["status"] == "DONE"
    clock.advance(server.config.sweep_interval + 2)
    assert error_of(get(server, package["token"], "result")) == (400, "SESSION_UNKNOWN")


# -- the callback ----------------------------------------------------------------------------------------
def test_the_callback_is_posted_before_done_is_stored(make_server, receiver):
    """irmaserver/handle.go handleSessionProofs calls setStatus(DONE) on the session copy of
    sessionMiddleware (helpers.go), which runs doResultCallback synchronously; the middleware's
    transaction stores the session only after the handler returns. A pull during the callback reads
    CONNECTED."""
    server = make_server()
    package = start(server, request_body(receiver.url))
    seen: list[str] = []
    receiver.during = lambda _: seen.append(get(server, package["token"], "result").json()["status"])
    assert DemoWallet().disclose(package["sessionPtr"], WALLET) == "tel:+31141234567,12345678"
    assert seen == ["CONNECTED"]
    assert get(server, package["token"], "result").json()["status"] == "DONE"


def test_the_signed_callback_is_an_rs256_jwt_with_the_configured_issuer_and_validity(make_server, receiver):
    """server/api.go DoResultCallback + ResultJwt: with `jwt_privkey` the body is the result JWT
    (text/plain): `iss` = `jwt_issuer`, `sub` = "disclosing_result", `exp` = iat + the request's
    `validity` (requests.go DefaultJwtValidity 120 s when absent), plus the SessionResult."""
    server = make_server(jwt_issuer="yivi.gemeente-voorbeeld.nl")
    for validity in (None, 30):
        extra = {"validity": validity} if validity else {}
        package = start(server, request_body(receiver.url, **extra))
        DemoWallet().disclose(package["sessionPtr"], WALLET)
        call = receiver.calls[-1]
        assert call.headers["content-type"] == "text/plain; charset=UTF-8"
        claims = jwt.decode(
            call.body,
            server.public_key_pem,
            algorithms=["RS256"],
            options={"verify_aud": False},
            issuer="yivi.gemeente-voorbeeld.nl",
        )
        assert claims["sub"] == "disclosing_result" and claims["token"] == package["token"]
        assert claims["exp"] - claims["iat"] == (validity or 120)
        assert claims["status"] == "DONE" and claims["proofStatus"] == "VALID"


def test_without_a_key_the_unsigned_callback_posts_the_plain_result(make_server, receiver):
    """server/api.go DoResultCallback with no private key: the SessionResult as JSON."""
    server = make_server(jwt_privkey=False, allow_unsigned_callbacks=True)
    package = start(server, request_body(receiver.url))
    DemoWallet().disclose(package["sessionPtr"], WALLET)
    call = receiver.calls[-1]
    assert call.headers["content-type"].startswith("application/json")
    body = json.loads(call.body)
    assert body["token"] == package["token"] and body["status"] == "DONE" and body["proofStatus"] == "VALID"


def test_the_callback_goes_to_the_callback_url_with_a_slash_appended(make_server, receiver):
    """irma/transport.go NewHTTPTransport appends "/" to the server URL, and DoResultCallback posts
    to "" under it: the request path is the callbackUrl's path plus "/"."""
    server = make_server()
    DemoWallet().disclose(start(server, request_body(receiver.url))["sessionPtr"], WALLET)
    assert receiver.calls[-1].path == "/irma/callback/cb-id/"
    assert receiver.calls[-1].headers["user-agent"] == "irmago"


def test_the_callback_is_retried_twice_on_transport_errors_only(make_server, receiver):
    """irma/transport.go: retryablehttp with RetryMax 2 and a CheckRetry that retries only when
    the request failed (not on an HTTP error status); DoResultCallback just logs a failure."""
    server = make_server()
    receiver.drop = 5
    DemoWallet().disclose(start(server, request_body(receiver.url))["sessionPtr"], WALLET)
    assert len(receiver.calls) == 3
    receiver.calls.clear()
    receiver.drop, receiver.status = 0, 500
    DemoWallet().disclose(start(server, request_body(receiver.url))["sessionPtr"], WALLET)
    assert len(receiver.calls) == 1


def test_a_slow_callback_fails_the_apps_proofs_with_503_yet_the_session_ends_done(make_server, receiver):
    """server/api.go TimeoutMiddleware (WriteTimeout = 4 s, http.TimeoutHandler 200 ms later),
    used on the client routes by irmaserver/api.go HandlerFunc: the app's POST /proofs gets 503
    after 4.2 s while the callback still runs; the handler goes on and stores DONE when the callback
    returns. The app then shows an error and never opens the tel: link."""
    server = make_server(write_timeout=0.2)
    package = start(server, request_body(receiver.url))
    receiver.during = lambda _: time.sleep(1.5)
    wallet = DemoWallet()
    assert wallet.disclose(package["sessionPtr"], WALLET) is None
    assert wallet.last_error is not None and "503" in wallet.last_error
    deadline = time.monotonic() + 10
    while get(server, package["token"], "status").text != '"DONE"' and time.monotonic() < deadline:
        time.sleep(0.1)
    assert get(server, package["token"], "status").text == '"DONE"'


def test_a_timed_out_session_calls_back_on_every_access_until_the_sweep_deletes_it(make_server, receiver, clock):
    """irmaserver/sessions.go handleTransaction sets TIMEOUT on the *copy* it hands to every
    access (setStatus calls back) and stores it only if the handler updates; read-only accesses and
    the 10-second deleteExpired sweep do not. So every access fires a TIMEOUT callback until the
    sweep deletes the session, at last activity + max(timeout, session_result_lifetime)."""
    server = make_server()
    token = start(server, request_body(receiver.url, timeout=60))["token"]
    clock.advance(61)
    for _ in range(3):
        assert get(server, token, "status").text == '"TIMEOUT"'
    by_access = len(receiver.calls)
    assert by_access >= 3  # one per access, plus one per sweep since the deadline
    assert all(jwt.decode(c.body, options={"verify_signature": False})["status"] == "TIMEOUT" for c in receiver.calls)
    clock.advance(300 - 61 + 15)  # past the session's ttl and the sweep after it
    assert error_of(get(server, token, "status")) == (400, "SESSION_UNKNOWN")
    sweeps = len(receiver.calls) - by_access
    assert 300 // 10 - 8 <= sweeps <= 300 // 10  # a TIMEOUT callback from each sweep until deletion
    with_default = start(server, request_body(receiver.url, timeout=300))["token"]
    before = len(receiver.calls)
    clock.advance(300 + 15)
    assert error_of(get(server, with_default, "status")) == (400, "SESSION_UNKNOWN")
    assert len(receiver.calls) - before == 1  # timeout = result lifetime: gone at the first sweep


def test_an_access_inside_a_timeout_callback_calls_back_again(make_server, receiver, clock):
    """The storm a requestor must not start: a TIMEOUT callback that reads the session (status,
    result) fires the next TIMEOUT callback while the first is still open (sessions.go
    handleTransaction holds no lock during the handler)."""
    server = make_server()
    token = start(server, request_body(receiver.url, timeout=60))["token"]
    depth = {"n": 0}

    def reads_back(_: Received) -> None:
        if depth["n"] < 2:
            depth["n"] += 1
            get(server, token, "result")

    receiver.during = reads_back
    clock.advance(61)
    get(server, token, "status")
    assert server.nested_callbacks >= 2


def test_delete_answers_200_with_an_empty_body_after_the_cancelled_callback(make_server, receiver):
    """requestorserver/server.go handleDelete writes nothing on success (200, empty body);
    irmaserver/api.go CancelSession runs handle.go handleDelete — setStatus(CANCELLED), which calls
    back synchronously — inside the transaction, so the DELETE is answered after the callback. A
    finished session is left alone (200, no callback); an unknown one is 400 SESSION_UNKNOWN."""
    server = make_server()
    token = start(server, request_body(receiver.url))["token"]
    order: list[str] = []
    receiver.during = lambda _: (time.sleep(0.3), order.append("callback"))
    answer = requests.delete(f"{server.url}/session/{token}", timeout=10)
    order.append("answer")
    assert (answer.status_code, answer.content) == (200, b"")
    assert order == ["callback", "answer"]
    assert jwt.decode(receiver.calls[-1].body, options={"verify_signature": False})["status"] == "CANCELLED"
    again = requests.delete(f"{server.url}/session/{token}", timeout=10)
    assert (again.status_code, again.content, len(receiver.calls)) == (200, b"", 1)
    assert error_of(requests.delete(f"{server.url}/session/{'C' * 20}", timeout=10)) == (400, "SESSION_UNKNOWN")


def test_deleting_a_timed_out_session_stores_timeout(make_server, receiver, clock):
    """irmaserver/api.go CancelSession's transaction always updates: the TIMEOUT its timeout check
    set (calling back) is stored, so later accesses no longer call back."""
    server = make_server()
    token = start(server, request_body(receiver.url, timeout=60))["token"]
    clock.advance(61)
    assert requests.delete(f"{server.url}/session/{token}", timeout=10).status_code == 200
    calls = len(receiver.calls)
    assert get(server, token, "status").text == '"TIMEOUT"'
    assert len(receiver.calls) == calls


# -- the app and the result ------------------------------------------------------------------------------
def test_the_app_gets_the_request_once_and_the_session_is_connected(make_server):
    """irmaserver/handle.go handleGetClientRequest: only from INITIALIZED (else 403
    UNEXPECTED_REQUEST), marks the session alive, and sets CONNECTED (PAIRING if pairing is on)."""
    server = make_server()
    package = start(server)
    first = requests.get(package["sessionPtr"]["u"], headers={"Authorization": "app-auth"}, timeout=10)
    assert first.status_code == 200 and first.json()["request"]["clientReturnUrl"].startswith("tel:")
    assert get(server, package["token"], "status").text == '"CONNECTED"'
    again = requests.get(package["sessionPtr"]["u"], headers={"Authorization": "app-auth"}, timeout=10)
    assert error_of(again) == (403, "UNEXPECTED_REQUEST")


def test_disclosed_holds_null_for_unsatisfied_and_empty_for_skipped_optional_disjunctions(make_server):
    """irma/requests.go AttributeConDisCon.Satisfy puts nil for an unsatisfied disjunction (and the
    proof status becomes MISSING_ATTRIBUTES, verify.go VerifyAgainstRequest); AttributeCon.Satisfy
    gives an empty list for a chosen empty alternative."""
    server = make_server()
    body = request_body()
    body["request"]["disclose"].append([[], [MOBILE]])
    package = start(server, body)
    DemoWallet().disclose(package["sessionPtr"], {BSN: "999990019"})
    result = get(server, package["token"], "result").json()
    assert result["proofStatus"] == "MISSING_ATTRIBUTES"
    assert result["disclosed"][1] is None and result["disclosed"][2] == []


def test_attributes_are_present_null_or_extra_in_their_own_last_list(make_server):
    """irma/verify.go parseAttribute: a NULL attribute has status NULL and rawvalue null;
    Disclosure.DisclosedAttributes appends the attributes nobody asked for as one more inner list,
    each with status EXTRA; requests.go AttributeRequest.Satisfy lets NULL satisfy a plain request."""
    server = make_server()
    body = request_body()
    body["request"]["disclose"][1] = [[NAME, PREFIX]]
    package = start(server, body)
    credentials = {BSN: "999990019", NAME: "Demo Burger", PREFIX: None, MOBILE: "0612345678"}
    DemoWallet().disclose(package["sessionPtr"], credentials, extra=[MOBILE])
    result = get(server, package["token"], "result").json()
    assert result["proofStatus"] == "VALID"
    bsn, (name, prefix), extra = result["disclosed"][0], result["disclosed"][1], result["disclosed"][2]
    assert bsn[0]["status"] == "PRESENT" and bsn[0]["rawvalue"] == "999990019"
    assert name["status"] == "PRESENT"
    assert prefix["status"] == "NULL" and prefix["rawvalue"] is None
    assert extra == [{**extra[0], "id": MOBILE, "status": "EXTRA", "rawvalue": "0612345678"}]


def test_not_null_requests_are_not_satisfied_by_a_null_value(make_server):
    """irma/requests.go AttributeRequest.Satisfy: `notNull` refuses a nil value."""
    server = make_server()
    package = start(server)  # both attributes requested with notNull
    requests.get(package["sessionPtr"]["u"], headers={"Authorization": "a"}, timeout=10)
    chosen = [[{"id": BSN, "rawvalue": "999990019"}], [{"id": NAME, "rawvalue": None}]]
    requests.post(
        f"{package['sessionPtr']['u']}/proofs", json={"disclosed": chosen}, headers={"Authorization": "a"}, timeout=10
    )
    result = get(server, package["token"], "result").json()
    assert result["proofStatus"] == "MISSING_ATTRIBUTES" and result["disclosed"][1] is None
