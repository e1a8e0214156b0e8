"""The IRMA requestor client against the demo IRMA server over HTTP."""

from __future__ import annotations

import pytest
import requests
from idbellen.config import parse_purposes
from idbellen.errors import IrmaError, SessionUnknown
from idbellen.irma import IrmaClient, disclosure_request, evaluate

from devstack.wallet import DemoWallet

PURPOSE = parse_purposes('{"demo": {"disclose": [[["pbdf.gemeente.personalData.bsn"]]]}}')["demo"]
WALLET = {"pbdf.gemeente.personalData.bsn": "999990019"}


def client(server, token="requestor-token-for-tests"):
    return IrmaClient(server.url, lambda: token)


def start(irma):
    return irma.start(disclosure_request(PURPOSE, "+31141234567", "12345678", "http://127.0.0.1:9/cb", 120))


def test_start_gives_a_pointer_for_the_browser_and_a_token_for_us(irma_server):
    started = start(client(irma_server))
    assert started.session_ptr["irmaqr"] == "disclosing"
    assert started.session_ptr["u"].startswith(irma_server.url)
    assert started.token not in started.session_ptr["u"]
    assert "authorization" in started.frontend_request


def test_the_requestor_token_is_checked(irma_server):
    with pytest.raises(IrmaError, match="403"):
        start(client(irma_server, token="wrong"))


def test_result_after_disclosure(irma_server):
    irma = client(irma_server)
    started = start(irma)
    assert irma.result(started.token)["status"] == "INITIALIZED"
    tel = DemoWallet().disclose(started.session_ptr, WALLET)
    assert tel == "tel:+31141234567,12345678"
    result = irma.result(started.token)
    assert evaluate(result, PURPOSE).attributes == [("pbdf.gemeente.personalData.bsn", "999990019")]
    status = requests.get(f"{irma_server.url}/session/{started.token}/status", timeout=5).text
    assert status == '"DONE"'


def test_results_expire_with_session_unknown(irma_server):
    now = [1_900_000_000.0]
    irma_server.clock = lambda: now[0]
    irma = client(irma_server)
    started = start(irma)
    DemoWallet().disclose(started.session_ptr, WALLET)
    now[0] += irma_server.result_kept_at_most + 1
    with pytest.raises(SessionUnknown):
        irma.result(started.token)


def test_unknown_tokens_are_session_unknown(irma_server):
    with pytest.raises(SessionUnknown):
        client(irma_server).result("nosuchtokenxxxxxxxxx")  # 20 alphanumerics: well formed, unknown
    with pytest.raises(IrmaError, match="INVALID_REQUEST"):
        client(irma_server).result("nosuchtoken")  # irmago: 400 INVALID_REQUEST for a malformed token


@pytest.mark.parametrize("fault", ["500", "garbage", "reset"])
def test_server_faults_become_irma_errors(irma_server, fault):
    irma = client(irma_server)
    started = start(irma)
    irma_server.fault = fault
    with pytest.raises(IrmaError):
        irma.result(started.token)
    with pytest.raises(IrmaError):
        start(irma)


def test_an_unreachable_server_is_an_irma_error():
    with pytest.raises(IrmaError, match="unreachable"):
        IrmaClient("http://127.0.0.1:9", lambda: "t").result("x")
