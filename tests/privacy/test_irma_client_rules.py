"""The IRMA requestor client, request by request (part of `make mutate`'s irma group).

`tests/integration/test_irma_client.py` shows the client works against the demo IRMA server; these tests
pin what it sends and how it reads each answer, against a recording HTTP session: the exact method, URL,
headers, body and timeouts of every request, the retry policy of the session it builds itself, which
tokens it hands the redactor, and the exact error for each answer the IRMA server can give. They also pin
the session request `disclosure_request` builds, key by key.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from idbellen import irma
from idbellen.config import Purpose
from idbellen.errors import IrmaError, SessionUnknown
from idbellen.irma import IrmaClient, StartedSession, disclosure_request
from idbellen.redaction import Redactor
from urllib3.util.retry import Retry

BASE = "https://irma.example.test/irma"
REQUESTOR = "requestor-token-rules-0001"
SESSION = "session-token-rules-0001"
POINTER = {"u": "https://irma.example.test/irma/session/abc", "irmaqr": "disclosing"}


def response(status: int = 200, body: Any = None, raw: bytes | None = None) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = raw if raw is not None else json.dumps(body).encode()
    answer.headers["Content-Type"] = "application/json"
    return answer


class Recorder:
    """Stands in for a `requests.Session`: records each request and gives the next prepared answer."""

    def __init__(self, *answers: requests.Response | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls.append((method, url, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(*answers: requests.Response | Exception, base: str = BASE) -> tuple[IrmaClient, Recorder]:
    http = Recorder(*answers)
    return IrmaClient(base, lambda: REQUESTOR, http=http), http  # type: ignore[arg-type]


@pytest.fixture
def redactor(monkeypatch: pytest.MonkeyPatch) -> Redactor:
    """A fresh redactor for the client: the process-wide one may know a token from an earlier test (mutmut
    forks every mutant's run from a process that already ran the whole selection)."""
    fresh = Redactor()
    monkeypatch.setattr(irma, "redactor", fresh)
    return fresh


def started_body(**extra: Any) -> dict[str, Any]:
    return {"token": SESSION, "sessionPtr": POINTER, **extra}


# --- the session the client builds for itself -----------------------------------------------------


def test_the_client_builds_its_own_session_only_when_none_is_given() -> None:
    built = IrmaClient(BASE, lambda: REQUESTOR)
    assert isinstance(built.http, requests.Session)
    given = Recorder()
    assert IrmaClient(BASE, lambda: REQUESTOR, http=given).http is given  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["http://irma.example.test/x", "https://irma.example.test/x"])
def test_both_schemes_retry_reads_and_only_unmade_connections_of_a_post(url: str) -> None:
    retry = irma._session().get_adapter(url).max_retries
    assert isinstance(retry, Retry)
    assert (retry.total, retry.connect, retry.read, retry.status) == (2, 2, 1, 2)
    assert retry.allowed_methods == frozenset({"GET", "DELETE"})
    assert tuple(retry.status_forcelist) == (502, 503, 504)
    assert retry.backoff_factor == 0.1
    assert retry.raise_on_status is False


def test_the_base_url_loses_only_its_trailing_slashes() -> None:
    irma_client, http = client(response(200, {"status": "DONE"}), base=BASE + "/X//")
    assert irma_client.base_url == BASE + "/X"
    irma_client.result(SESSION)
    assert http.calls[0][1] == f"{BASE}/X/session/{SESSION}/result"


# --- start ----------------------------------------------------------------------------------------


def test_start_posts_the_request_as_json_with_the_requestor_token_and_both_timeouts() -> None:
    irma_client, http = client(response(200, started_body(frontendRequest={"authorization": "fe"})))
    request = {"request": {"disclose": [[["a.b.c.d"]]]}, "timeout": 120}
    started = irma_client.start(request)
    assert started == StartedSession(SESSION, POINTER, {"authorization": "fe"})
    assert http.calls == [
        (
            "POST",
            f"{BASE}/session",
            {
                "timeout": (1.0, 3.0),
                "data": json.dumps(request),
                "headers": {"Authorization": REQUESTOR, "Content-Type": "application/json"},
            },
        )
    ]


def test_start_registers_the_requestor_token_and_the_session_token_with_the_redactor(redactor: Redactor) -> None:
    requestor, session = "requestor-token-rules-redact", "session-token-rules-redact"
    http = Recorder(response(200, {"token": session, "sessionPtr": POINTER}))
    IrmaClient(BASE, lambda: requestor, http=http).start({})  # type: ignore[arg-type]
    assert requestor not in redactor.scrub(f"x {requestor} y")
    assert session not in redactor.scrub(f"x {session} y")


def test_start_without_a_frontend_request_gives_an_empty_one() -> None:
    started = client(response(200, started_body()))[0].start({})
    assert started == StartedSession(SESSION, POINTER, {})
    assert client(response(200, started_body(frontendRequest=None)))[0].start({}).frontend_request == {}


def test_start_gives_the_token_as_a_string() -> None:
    assert client(response(200, {"token": 1234567, "sessionPtr": POINTER}))[0].start({}).token == "1234567"


@pytest.mark.parametrize(
    "body",
    [
        {"sessionPtr": POINTER},  # no token: KeyError
        {"token": SESSION},  # no pointer: KeyError
        {"token": SESSION, "sessionPtr": 5},  # TypeError
        {"token": SESSION, "sessionPtr": "ab"},  # ValueError
        {"token": SESSION, "sessionPtr": POINTER, "frontendRequest": 5},  # TypeError
        {"token": "", "sessionPtr": POINTER},  # empty token
        {"token": SESSION, "sessionPtr": {"irmaqr": "disclosing"}},  # no URL
        {"token": SESSION, "sessionPtr": {"u": 5}},  # a URL that is not a string
        [SESSION],  # TypeError
    ],
)
def test_start_refuses_an_unexpected_session(body: Any) -> None:
    with pytest.raises(IrmaError) as raised:
        client(response(200, body))[0].start({})
    assert str(raised.value) == "IRMA server sent an unexpected session"
    assert raised.value.__cause__ is None


def test_start_refuses_malformed_json() -> None:
    with pytest.raises(IrmaError) as raised:
        client(response(200, raw=b"{not json"))[0].start({})
    assert str(raised.value) == "IRMA server sent malformed JSON"
    assert raised.value.__suppress_context__


# --- result and cancel ----------------------------------------------------------------------------


def test_result_gets_the_sessions_result_and_registers_its_token(redactor: Redactor) -> None:
    token = "session-token-rules-result"
    irma_client, http = client(response(200, {"status": "DONE"}))
    assert irma_client.result(token) == {"status": "DONE"}
    assert http.calls == [("GET", f"{BASE}/session/{token}/result", {"timeout": (1.0, 3.0)})]
    assert token not in redactor.scrub(f"x {token} y")


@pytest.mark.parametrize("body", [[], "DONE", None, 5])
def test_result_refuses_anything_but_an_object(body: Any) -> None:
    with pytest.raises(IrmaError) as raised:
        client(response(200, body))[0].result(SESSION)
    assert str(raised.value) == "IRMA server sent an unexpected result"


def test_cancel_deletes_the_session() -> None:
    irma_client, http = client(response(204, raw=b""))
    assert irma_client.cancel(SESSION) is None
    assert http.calls == [("DELETE", f"{BASE}/session/{SESSION}", {"timeout": (1.0, 3.0)})]


def test_cancel_is_best_effort_when_the_server_is_unreachable() -> None:
    irma_client, http = client(requests.ConnectionError("refused"))
    irma_client.cancel(SESSION)
    assert len(http.calls) == 1


# --- error mapping --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure", [requests.ConnectionError("refused"), requests.Timeout("slow"), requests.RequestException("x")]
)
@pytest.mark.parametrize("call", ["start", "result"])
def test_an_unreachable_server_is_an_irma_error_without_the_transport_details(failure: Exception, call: str) -> None:
    irma_client, _ = client(failure)
    with pytest.raises(IrmaError) as raised:
        irma_client.start({}) if call == "start" else irma_client.result(SESSION)
    assert str(raised.value) == "IRMA server unreachable"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (403, {"error": "UNAUTHORIZED", "status": 403}, "IRMA server answered 403 UNAUTHORIZED"),
        (500, {"status": 500}, "IRMA server answered 500"),
        (500, ["SESSION_UNKNOWN"], "IRMA server answered 500"),
        (502, None, "IRMA server answered 502"),
        (503, "x", "IRMA server answered 503"),
        (201, {"token": SESSION, "sessionPtr": POINTER}, "IRMA server answered 201"),
        (400, {"error": "MALFORMED_SESSION_REQUEST"}, "IRMA server answered 400 MALFORMED_SESSION_REQUEST"),
    ],
)
@pytest.mark.parametrize("call", ["start", "result"])
def test_every_answer_but_200_is_an_irma_error_naming_status_and_error(
    status: int, body: Any, message: str, call: str
) -> None:
    irma_client, _ = client(response(status, body))
    with pytest.raises(IrmaError) as raised:
        irma_client.start({}) if call == "start" else irma_client.result(SESSION)
    assert type(raised.value) is IrmaError
    assert str(raised.value) == message


@pytest.mark.parametrize("call", ["start", "result"])
def test_an_error_page_that_is_not_json_is_an_irma_error_naming_the_status(call: str) -> None:
    irma_client, _ = client(response(504, raw=b"<html>Gateway Timeout</html>"))
    with pytest.raises(IrmaError) as raised:
        irma_client.start({}) if call == "start" else irma_client.result(SESSION)
    assert str(raised.value) == "IRMA server answered 504"


@pytest.mark.parametrize("status", [400, 404])
def test_session_unknown_is_its_own_error(status: int) -> None:
    with pytest.raises(SessionUnknown) as raised:
        client(response(status, {"error": "SESSION_UNKNOWN", "status": status}))[0].result(SESSION)
    assert str(raised.value) == "IRMA session unknown"


# --- the session request --------------------------------------------------------------------------

BSN, NAME, PHOTO = "pbdf.gemeente.personalData.bsn", "pbdf.gemeente.personalData.fullname", "x.y.z.photo"
LABEL = {"nl": "Belastingen", "en": "Taxes"}
PURPOSE = Purpose(
    id="taxes",
    label=LABEL,
    disclose=[[[BSN, PHOTO]], [[NAME], []]],
    labels={},
    optional=frozenset({PHOTO}),
)


def test_the_session_request_asks_required_attributes_not_null_and_optional_ones_plainly() -> None:
    assert disclosure_request(PURPOSE, "+31141234567", "12345678", "https://cb.example.test/cb", 120) == {
        "request": {
            "@context": "https://irma.app/ld/request/disclosure/v2",
            "disclose": [[[{"type": BSN, "notNull": True}, PHOTO]], [[{"type": NAME, "notNull": True}], []]],
            "labels": {"0": LABEL, "1": LABEL},
            "clientReturnUrl": "tel:+31141234567,12345678",
        },
        "timeout": 120,
        "callbackUrl": "https://cb.example.test/cb",
    }


def test_the_session_request_has_no_callback_url_without_one() -> None:
    request = disclosure_request(PURPOSE, "+31141234567", "12345678", None, 90)
    assert "callbackUrl" not in request
    assert "augmentReturnUrl" not in request["request"]
    assert request["timeout"] == 90
    assert request["request"]["clientReturnUrl"] == "tel:+31141234567,12345678"
