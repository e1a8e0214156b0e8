"""Promise 4/5 and the contracts under hostile input: every handler, fed malformed, oversized, wrongly
typed, unicode and injection-shaped events, answers in its defined shape and changes nothing.

- HTTP routes (through `stack.api`, raw paths and bodies, and raw events into the handlers): never an
  unhandled exception, never 5xx, an error is `{"error": <stable code>}` only and never echoes input.
- DTMF function: always a flat STRING_MAP of `[A-Za-z0-9_-]` values with a defined `result`.
- Cleanup function: always its `{"result", "deleted"}` map; never raises for bad input.
- The table: a live, linked session stays byte-for-byte intact; nothing is written, except the
  DTMF function's rate counters for well-formed wrong codes (keyed hashes and a count, by design).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devstack import DevStack
from devstack.stack import INSTANCE_ARN
from tests.fuzz.conftest import profile
from tests.privacy import canary

PROFILE = profile()
ERROR = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
STRING_MAP_VALUE = re.compile(r"^[A-Za-z0-9_-]*$")
DTMF_RESULTS = {"OK", "NOT_FOUND", "NOT_VERIFIED", "INVALID_INPUT", "RATE_LIMITED", "ERROR"}
# Words the system itself may answer with; an input equal to (part of) one is not an "echo".
VOCABULARY = " ".join(
    [
        *DTMF_RESULTS,
        "not_found bad_request invalid_json json_object_required body_too_large invalid_body unknown_purpose",
        "missing_or_invalid_secret missing_or_invalid_contact_id invalid_secret invalid_contact_id",
        "result_jwt_required invalid_result_jwt unauthorized error result deleted status UNKNOWN PENDING",
        "session_secret purpose caller_match true false",
    ]
)

INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE idbellen--",
    "${jndi:ldap://127.0.0.1/a}",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "%2e%2e%2f%2e%2e%2f",
    "\x00",
    "\r\nSet-Cookie: a=b",
    "attribute_not_exists(pk)",
    "SESSION#0000",
    "DTMF#",
    "#status = :x",
    "__proto__",
    "constructor",
    "1e309",
    "-0",
    "NaN",
    "٠١٢٣٤٥٦٧",  # Arabic-Indic digits: isdigit() but not ASCII
    "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",  # full-width digits
    "12345678\u200b",
    canary.BSN,
    canary.FULLNAME,
    canary.MOBILE,
    "A" * 5000,
    "9" * 64,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(INJECTIONS),
    st.from_regex(r"\A[0-9]{1,14}\Z"),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
texts = st.one_of(st.text(max_size=60), st.sampled_from(INJECTIONS), st.from_regex(r"\A[A-Za-z0-9_-]{40,46}\Z"))


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with DevStack() as stack:
        yield stack


@pytest.fixture(scope="module")
def live(stack: DevStack) -> dict[str, Any]:
    """A disclosed, called session every example must leave exactly as it is."""
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201
    tel = stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS)
    call = stack.call(tel.split(",", 1)[1], caller=canary.MOBILE)
    assert call.lambda_result["result"] == "OK"
    return {"call": call, "snapshot": _snapshot(stack)}


def _snapshot(stack: DevStack) -> list[str]:
    snapshot = []
    for item in stack.table_items():
        if item["kind"] == "rate":
            assert item["pk"].startswith("RATE#") and set(item) == {"pk", "kind", "tenant", "expires_at", "failures"}
            continue
        snapshot.append(json.dumps(item, sort_keys=True, default=sorted))
    return sorted(snapshot)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace")]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _assert_no_echo(answer: str, given_input: Any) -> None:
    for raw in _strings(given_input):
        text = raw.strip()
        if len(text) >= 6 and text not in VOCABULARY and not ERROR.match(text):
            assert text not in answer, "the answer echoes input"


def _assert_http(status: int, body: Any, given_input: Any) -> None:
    assert 200 <= status < 500, (status, body)
    if status >= 400:
        assert isinstance(body, dict) and set(body) == {"error"}, body
        assert ERROR.match(body["error"]), body
    _assert_no_echo(json.dumps(body, ensure_ascii=False), given_input)


def _assert_unchanged(stack: DevStack, live: dict[str, Any]) -> None:
    """The live session's items are intact and nothing else exists except rate counters (keyed hashes)."""
    assert _snapshot(stack) == live["snapshot"]


# -- HTTP routes through the API adapter (raw paths, raw bodies) ------------------------------------
segments = st.one_of(
    texts.map(lambda t: quote(t, safe="")),
    st.text(alphabet=st.characters(blacklist_characters="/?#"), min_size=1, max_size=80),
    st.from_regex(r"\A[A-Za-z0-9_-]{43}\Z"),
).filter(lambda s: s not in ("", ".", ".."))
bodies = st.one_of(
    st.none(),
    json_values,
    texts,
    st.binary(max_size=200),
    st.integers(min_value=8000, max_value=40000).map(lambda n: json.dumps({"purpose": "x" * n})),
    st.builds(lambda s, c: {"secret": s, "contact_id": c}, json_values, json_values),
    st.builds(lambda p: {"purpose": p}, json_values),
)


def _routes(segment: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/sessions"),
        ("GET", f"/sessions/{segment}"),
        ("POST", f"/sessions/{segment}/complete"),
        ("POST", f"/irma/callback/{segment}"),
        ("POST", "/agent/disclosure"),
        ("POST", "/agent/clear"),
    ]


@PROFILE
@given(route=st.integers(0, 5), segment=segments, body=bodies, query=st.one_of(st.just(""), texts))
def test_fuzz_http_routes(
    stack: DevStack, live: dict[str, Any], route: int, segment: str, body: Any, query: str
) -> None:
    if isinstance(body, dict) and isinstance(body.get("purpose"), str) and body["purpose"] in stack.purposes:
        body = {"purpose": f"{body['purpose']}-unknown"}
    method, path = _routes(segment)[route]
    if query:
        path += "?" + quote(query, safe="=&")
    status, answer = stack.api(method, path, body)
    _assert_http(status, answer, [segment, body, query])
    _assert_unchanged(stack, live)


@PROFILE
@given(
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", "", "json"]),
    body=st.one_of(texts, st.binary(max_size=300), st.integers(min_value=8100, max_value=70000).map(lambda n: "[" * n)),
    route=st.sampled_from(["/sessions", "/agent/disclosure", "/agent/clear"]),
)
def test_fuzz_http_bodies_raw(stack: DevStack, live: dict[str, Any], content_type: str, body: Any, route: str) -> None:
    status, answer = stack.api("POST", route, body, headers={"content-type": content_type})
    _assert_http(status, answer, body)
    _assert_unchanged(stack, live)


# -- raw events straight into the HTTP handlers ------------------------------------------------------
def _http_event(method: Any, path: Any, body: Any, b64: Any, context: Any, headers: Any) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": context
        if context is not None
        else {
            "http": {"method": method, "path": path, "sourceIp": "127.0.0.1"},
            "stage": "$default",
            "requestId": "fuzz",
            "authorizer": {"jwt": {"claims": {"sub": "fuzz-agent"}}},
        },
        "body": body,
        "isBase64Encoded": b64,
    }


http_events = st.one_of(
    json_values,
    st.builds(
        _http_event,
        method=st.one_of(st.sampled_from(["GET", "POST", "DELETE", "OPTIONS", "get"]), json_values),
        path=st.one_of(
            st.sampled_from(["/sessions", "/agent/disclosure", "/agent/clear", "/sessions/x/complete"]), texts
        ),
        body=st.one_of(st.none(), texts, json_values),
        b64=st.one_of(st.booleans(), json_values),
        context=st.one_of(st.none(), json_values),
        headers=st.one_of(st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=3), json_values),
    ),
)


@PROFILE
@given(function=st.sampled_from(["session", "agent"]), event=http_events)
def test_fuzz_http_handlers_with_raw_events(stack: DevStack, live: dict[str, Any], function: str, event: Any) -> None:
    result = stack.invoke(function, event)
    assert isinstance(result, dict)
    if "idbellen_action" in (event if isinstance(event, dict) else {}):
        return  # the session function's internal pull answers {"status"} (see the pull test)
    status = int(result["statusCode"])
    body = json.loads(result["body"]) if result.get("body") else None
    _assert_http(status, body, event)
    _assert_unchanged(stack, live)


@PROFILE
@given(pk=json_values)
def test_fuzz_session_pull_action(stack: DevStack, live: dict[str, Any], pk: Any) -> None:
    result = stack.invoke("session", {"idbellen_action": "pull", "session_pk": pk})
    assert result == {"status": "UNKNOWN"}
    _assert_unchanged(stack, live)


# -- DTMF function ----------------------------------------------------------------------------------
def _flow_event(
    contact_id: Any, initial: Any, params: Any, endpoint: Any, arn: Any, data_extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Attributes": {},
                "Channel": "VOICE",
                "ContactId": contact_id,
                "InitialContactId": initial,
                "InstanceARN": arn,
                "CustomerEndpoint": endpoint,
                **data_extra,
            },
            "Parameters": params,
        },
    }


digits = st.one_of(st.from_regex(r"\A[0-9]{0,16}\Z"), st.from_regex(r"\A[0-9]{8}\Z"), texts, json_values)
flow_events = st.one_of(
    json_values,
    st.builds(
        _flow_event,
        contact_id=st.one_of(st.uuids().map(str), texts, json_values),
        initial=st.one_of(st.none(), st.uuids().map(str), texts, json_values),
        params=st.one_of(
            st.fixed_dictionaries({"dtmf": digits}),
            st.fixed_dictionaries({"dtmf": digits, "action": st.one_of(st.just("mark_closed"), texts)}),
            json_values,
        ),
        endpoint=st.one_of(
            st.none(),
            st.fixed_dictionaries({"Address": st.one_of(texts, st.from_regex(r"\A\+?[0-9 ]{0,20}\Z"), json_values)}),
            json_values,
        ),
        arn=st.one_of(st.just(INSTANCE_ARN), texts, json_values),
        data_extra=st.dictionaries(st.text(max_size=12), json_values, max_size=3),
    ),
)


@PROFILE
@given(event=flow_events)
def test_fuzz_dtmf_handler(stack: DevStack, live: dict[str, Any], event: Any) -> None:
    result = stack.invoke("dtmf", event)
    assert isinstance(result, dict) and result
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.items()), result
    assert all(STRING_MAP_VALUE.match(v) and len(v) <= 64 for v in result.values()), result
    assert result["result"] in DTMF_RESULTS
    assert ("session_secret" in result) == (result["result"] == "OK")
    assert result["result"] != "OK", "a fuzzed event redeemed a code"
    _assert_no_echo(json.dumps(result), event)
    _assert_unchanged(stack, live)


# -- cleanup function -------------------------------------------------------------------------------
def _contact_event(detail: Any, detail_type: Any) -> dict[str, Any]:
    return {"version": "0", "detail-type": detail_type, "source": "aws.connect", "detail": detail}


cleanup_events = st.one_of(
    json_values,
    st.builds(
        _contact_event,
        detail=st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "eventType": st.one_of(
                        st.sampled_from(["COMPLETED", "INITIATED", "completed", "DISCONNECTED"]), texts
                    ),
                    "contactId": st.one_of(
                        st.uuids().map(str), texts, json_values, st.text(min_size=2000, max_size=3000)
                    ),
                    "initialContactId": st.one_of(st.uuids().map(str), texts, json_values),
                    "instanceArn": st.one_of(st.just(INSTANCE_ARN), texts),
                    "initiationMethod": st.one_of(st.sampled_from(["TRANSFER", "INBOUND"]), texts),
                }
            ),
        ),
        detail_type=st.one_of(st.just("Amazon Connect Contact Event"), st.just("Scheduled Event"), texts),
    ),
    flow_events,
    st.builds(lambda a: {"idbellen_action": a}, st.one_of(st.just("sweep"), texts, json_values)),
)


@PROFILE
@given(event=cleanup_events)
def test_fuzz_cleanup_handler(stack: DevStack, live: dict[str, Any], event: Any) -> None:
    result = stack.invoke("cleanup", event)
    assert isinstance(result, dict) and set(result) == {"result", "deleted"}, result
    assert result["result"] in ("OK", "INVALID_INPUT"), result
    assert result["deleted"].isdigit(), result  # a sweep may remove rate counters whose window ended
    _assert_unchanged(stack, live)


def test_the_live_session_still_works_after_fuzzing(stack: DevStack, live: dict[str, Any]) -> None:
    call = live["call"]
    stack.assign(call.contact_id)  # the dev agent accepts the call: its panel reads
    request = {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
    status, body = stack.api("POST", "/agent/disclosure", request)
    assert status == 200
    assert {a["value"] for a in body["attributes"]} == {canary.BSN, canary.FULLNAME}
