"""Runs every flow of idbellen — the happy paths and every failure path — with canary data, in a fresh
Python whose environment turns every debug switch on (set by the caller *before* this process starts,
so Powertools sees it at import time). Run by tests/privacy/test_privacy_logs.py:

    python tests/privacy/leak_flows.py OUTDIR

Captured for the test to scan (nothing here decides pass or fail about leaks):
- OUTDIR/records.jsonl: every log record any logger in the process handed to its handlers (message,
  args, extras, formatted traceback) — captured at `Logger.callHandlers`, so non-propagating loggers
  (Powertools', the processing log) are included;
- stdout / stderr of the process (Powertools JSON logs, EMF metrics, the processing log, tracebacks);
- OUTDIR/report.json: the canary values of this run (codes, secrets, tokens, data keys), every HTTP
  error body, every DTMF / cleanup answer, the text of every exception, whether a Tracer or X-Ray
  exists, and outcome mismatches (a flow that did not end where it should, so the scan is not vacuous).
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

# -- capture before anything else is imported ------------------------------------------------------
OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)
_records = (OUT / "records.jsonl").open("w", encoding="utf-8")
_original_call_handlers = logging.Logger.callHandlers


def _capture(self: logging.Logger, record: logging.LogRecord) -> None:
    import json

    try:
        message = record.getMessage()
    except Exception:  # a broken format string is itself worth seeing
        message = f"{record.msg!r} % {record.args!r}"
    entry = {
        "logger": record.name,
        "level": record.levelname,
        "message": message,
        "args": repr(record.args),
        "extra": {k: repr(v) for k, v in vars(record).items() if k not in ("msg", "args", "exc_info")},
        "exc": "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else "",
        "stack": record.stack_info or "",
    }
    _records.write(json.dumps(entry, ensure_ascii=False) + "\n")
    _records.flush()
    _original_call_handlers(self, record)


logging.Logger.callHandlers = _capture  # type: ignore[method-assign]
logging.captureWarnings(True)
_root = logging.getLogger()
_root.setLevel(logging.DEBUG)
_stderr = logging.StreamHandler(sys.stderr)
_stderr.setLevel(logging.DEBUG)
_stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
_root.addHandler(_stderr)

# -- now the code under test -----------------------------------------------------------------------
import base64  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import secrets  # noqa: E402
import uuid  # noqa: E402
from typing import Any  # noqa: E402

from devstack import DevStack  # noqa: E402
from devstack.identity import DEV_AGENT, cognito_access_claims, cognito_id_claims  # noqa: E402
from tests.faults.inject import aws_fault  # noqa: E402
from tests.privacy import canary  # noqa: E402

REPORT: dict[str, Any] = {
    "values": [],
    "error_bodies": [],
    "ok_bodies": [],
    "flow_results": [],
    "exceptions": [],
    "mismatches": [],
    "flows": [],
}
VALUES: dict[str, set[str]] = {}


def value(kind: str, *items: object) -> None:
    """Remember a sensitive value of this run by kind (dtmf, secret, irma_token, ...)."""
    for item in items:
        if isinstance(item, str) and len(item) >= 6:
            VALUES.setdefault(kind, set()).add(item)


def expect(label: str, actual: object, *expected: object) -> None:
    if actual not in expected:
        REPORT["mismatches"].append(f"{label}: got {actual!r}, expected one of {expected!r}")


class Flows:
    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.callers = iter(f"+3161{n:07d}" for n in range(1000, 9999))
        self.codes_by_session: dict[str, str] = {}
        self.codes_by_client: dict[str, str] = {}

    # -- instrumented facade ---------------------------------------------------------------------
    def api(
        self,
        label: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        claims: dict[str, Any] | None = None,
    ):
        try:
            status, data = self.stack.api(method, path, body, headers, claims=claims)
        except Exception as exc:
            REPORT["exceptions"].append(f"{label}: " + "".join(traceback.format_exception(exc)))
            REPORT["mismatches"].append(f"{label}: handler raised {exc.__class__.__name__}")
            return 599, None
        target = "error_bodies" if status >= 400 else "ok_bodies"
        # Success bodies legitimately carry some values (the agent's view, the citizen's own code);
        # they are kept apart and checked per route by the test.
        REPORT[target].append(
            {
                "label": label,
                "route": f"{method} {path.split('/')[1]}",
                # the route with its ids as {id}: POST /sessions (create) apart from POST /sessions/{id}/complete
                "template": f"{method} "
                + "/".join(p if len(p) < 20 else "{id}" for p in path.split("?", maxsplit=1)[0].split("/")),
                "status": status,
                "body": data,
            }
        )
        return status, data

    def invoke(self, label: str, function: str, event: Any) -> Any:
        try:
            result = self.stack.invoke(function, event)
        except Exception as exc:
            REPORT["exceptions"].append(f"{label}: " + "".join(traceback.format_exception(exc)))
            return {"raised": exc.__class__.__name__}
        REPORT["flow_results"].append({"label": label, "function": function, "result": result})
        return result

    def start(self, label: str, purpose: str = "demo") -> tuple[str, dict[str, Any]]:
        status, body = self.api(f"{label}/start", "POST", "/sessions", {"purpose": purpose})
        expect(f"{label}/start", status, 201)
        value("session_id", body["session_id"])
        client_token = str(body["sessionPtr"]["u"]).rstrip("/").rsplit("/", 1)[-1]
        if client_token in self.codes_by_client:
            self.codes_by_session[body["session_id"]] = self.codes_by_client[client_token]
        return body["session_id"], body

    def disclose(self, body: dict[str, Any], credentials: dict[str, str], **kwargs: Any) -> str | None:
        tel = self.stack.wallet.disclose(body["sessionPtr"], credentials, **kwargs)
        return tel.split(",", 1)[1] if tel else None

    def status(self, label: str, session_id: str) -> Any:
        status, body = self.api(label, "GET", f"/sessions/{session_id}")
        return body.get("status") if status == 200 and body else status

    def call(self, label: str, digits: str, caller: str | None = None, contact_id: str | None = None):
        call = self.stack.call(digits, caller=caller or next(self.callers), contact_id=contact_id)
        REPORT["flow_results"].append({"label": label, "function": "dtmf", "result": call.lambda_result})
        value("secret", call.lambda_result.get("session_secret"))
        expect(f"{label}/queued", call.queued, True)
        return call

    def read(self, label: str, secret: str, contact_id: str, agent: str | None = None, accept: bool = True) -> int:
        """`agent` (the dev agent by default) accepted `contact_id` in Connect (unless not `accept`) and reads."""
        name = agent or DEV_AGENT
        if accept:
            self.stack.assign(contact_id, name)
        claims = cognito_access_claims(name)
        body = {"secret": secret, "contact_id": contact_id}
        status, _ = self.api(label, "POST", "/agent/disclosure", body, claims=claims)
        return status

    def clear(self, label: str, secret: str, contact_id: str, agent: str | None = None) -> int:
        claims = cognito_access_claims(agent or DEV_AGENT)
        body = {"secret": secret, "contact_id": contact_id}
        return self.api(label, "POST", "/agent/clear", body, claims=claims)[0]

    def disclosed_code(self, label: str, purpose: str = "demo", credentials: dict[str, str] | None = None):
        session_id, body = self.start(label, purpose)
        code = self.disclose(body, credentials or canary.DEMO_CREDENTIALS)
        expect(f"{label}/disclosed", self.status(f"{label}/status", session_id), "DISCLOSED")
        return session_id, code

    # -- flows -----------------------------------------------------------------------------------
    def happy_path_with_transfer(self) -> None:
        session_id, body = self.start("happy")
        expect("happy/pending", self.status("happy/status0", session_id), "PENDING")
        code = self.disclose(body, canary.DEMO_CREDENTIALS)
        expect("happy/disclosed", self.status("happy/status1", session_id), "DISCLOSED")
        status, _ = self.api("happy/complete", "POST", f"/sessions/{session_id}/complete")
        expect("happy/complete", status, 200)
        call = self.call("happy/call", code, caller=canary.MOBILE)
        expect("happy/call", call.lambda_result.get("result"), "OK")
        secret = call.attributes["session_secret"]
        expect("happy/read", self.read("happy/read", secret, call.contact_id), 200)
        expect("happy/connected", self.status("happy/status2", session_id), "CONNECTED")
        segment = self.stack.transfer(call.contact_id)
        expect("happy/read-transferred", self.read("happy/read2", secret, segment), 200)
        self.stack.contact_event(call.contact_id, "COMPLETED")
        expect("happy/still-there", self.read("happy/read3", secret, segment), 200)
        self.stack.contact_event(segment, "COMPLETED")
        expect("happy/deleted", self.status("happy/status3", session_id), 404)
        expect("happy/code-reuse", self.call("happy/reuse", code).lambda_result.get("result"), "NOT_FOUND")

    def mobile_match_and_clear(self) -> None:
        _, code = self.disclosed_code("mobile", "belastingen", canary.FULL_CREDENTIALS)
        call = self.call("mobile/call", code, caller="0687654321")
        expect("mobile/match", call.lambda_result.get("caller_match"), "true")
        secret = call.attributes["session_secret"]
        expect("mobile/read", self.read("mobile/read", secret, call.contact_id), 200)
        expect("mobile/clear", self.clear("mobile/clear", secret, call.contact_id), 204)
        expect("mobile/clear2", self.clear("mobile/clear2", secret, call.contact_id), 204)
        expect("mobile/read-after-clear", self.read("mobile/read2", secret, call.contact_id), 404)

    def mismatch_and_hang_up(self) -> None:
        _, code = self.disclosed_code("mismatch", "belastingen", canary.FULL_CREDENTIALS)
        call = self.call("mismatch/call", code, caller=canary.CALLER_OTHER)
        expect("mismatch/match", call.lambda_result.get("caller_match"), "false")
        event = self.stack.contact_flow_event(call.contact_id, call.contact_id, {}, caller=canary.CALLER_OTHER)
        result = self.invoke("mismatch/hangup", "cleanup", event)
        expect("mismatch/hangup", result.get("result"), "OK")
        expect("mismatch/deleted", self.read("mismatch/read", call.attributes["session_secret"], call.contact_id), 404)

    def pulls_without_callbacks(self) -> None:
        self.stack.irma.send_callbacks = False
        try:
            session_id, body = self.start("pull-phone")
            code = self.disclose(body, canary.DEMO_CREDENTIALS)
            call = self.call("pull-phone/call", code, caller=canary.MOBILE)
            expect("pull-phone/call", call.lambda_result.get("result"), "OK")
            session_id, body = self.start("pull-browser")
            self.disclose(body, canary.DEMO_CREDENTIALS)
            _, answer = self.api("pull-browser/complete", "POST", f"/sessions/{session_id}/complete")
            expect("pull-browser/complete", (answer or {}).get("status"), "DISCLOSED")
            session_id, body = self.start("expired-result")
            code = self.disclose(body, canary.DEMO_CREDENTIALS)
            self.stack.clock.advance(self.stack.irma.result_kept_at_most + 5)
            _, answer = self.api("expired-result/complete", "POST", f"/sessions/{session_id}/complete")
            expect("expired-result/complete", (answer or {}).get("status"), "FAILED")
            expect("expired-result/call", self.call("expired/call", code).lambda_result.get("result"), "NOT_VERIFIED")
        finally:
            self.stack.irma.send_callbacks = True

    def rejected_disclosures(self) -> None:
        for label, kwargs, creds in (
            ("cancelled", {"status": "CANCELLED"}, canary.DEMO_CREDENTIALS),
            ("invalid-proof", {"proof_status": "INVALID"}, canary.DEMO_CREDENTIALS),
            ("expired-proof", {"proof_status": "EXPIRED"}, canary.DEMO_CREDENTIALS),
            ("missing", {}, {canary.BSN_ATTR: canary.BSN}),
        ):
            session_id, body = self.start(label)
            self.disclose(body, creds, **kwargs)
            expect(f"{label}/status", self.status(f"{label}/status", session_id), "FAILED")
            code = self.codes_by_session.get(session_id)
            if code:
                result = self.call(f"{label}/call", code).lambda_result.get("result")
                expect(f"{label}/call", result, "NOT_VERIFIED")

    def pending_and_window(self) -> None:
        session_id, _ = self.start("pending")
        code = self.codes_by_session[session_id]
        expect("pending/call", self.call("pending/call", code).lambda_result.get("result"), "NOT_VERIFIED")
        _, code = self.disclosed_code("window")
        self.stack.clock.advance(901)
        expect("window/call", self.call("window/call", code).lambda_result.get("result"), "NOT_VERIFIED")

    def closed_hours(self) -> None:
        session_id, code = self.disclosed_code("closed")
        event = self.stack.contact_flow_event(
            str(uuid.uuid4()), str(uuid.uuid4()), {"dtmf": code, "action": "mark_closed"}, caller=canary.MOBILE
        )
        expect("closed/mark", self.invoke("closed/mark", "dtmf", event).get("result"), "OK")
        expect("closed/status", self.status("closed/status", session_id), "CLOSED")

    def wrong_codes_and_rate_limit(self) -> None:
        results = []
        for _ in range(12):
            code = f"{secrets.randbelow(10**8):08d}"
            value("dtmf", code)
            results.append(self.call("brute/call", code, caller=canary.CALLER_OTHER).lambda_result.get("result"))
        expect("brute/limited", results[-1], "RATE_LIMITED")
        for label, digits in (("timeout", ""), ("bsn", canary.BSN), ("name", canary.FULLNAME), ("short", "1234")):
            result = self.call(f"invalid/{label}", digits).lambda_result.get("result")
            # the flow's MaximumLength may cut a long entry to a (wrong) code
            expect(f"invalid/{label}", result, "INVALID_INPUT", "NOT_FOUND")

    def agent_refusals(self) -> None:
        _, code = self.disclosed_code("agent")
        call = self.call("agent/call", code, caller=canary.MOBILE)
        secret = call.attributes["session_secret"]
        expect("agent/wrong-contact", self.read("agent/wrong", secret, str(uuid.uuid4())), 404)
        expect("agent/bad-contact", self.read("agent/bad-contact", secret, canary.FULLNAME), 400)
        expect("agent/bsn-secret", self.read("agent/bsn", canary.BSN, call.contact_id), 400)
        expect("agent/unknown", self.read("agent/unknown", secrets.token_urlsafe(32), call.contact_id), 404)
        no_auth = {
            "version": "2.0",
            "routeKey": "POST /agent/disclosure",
            "rawPath": "/agent/disclosure",
            "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {
                "http": {"method": "POST", "path": "/agent/disclosure"},
                "stage": "$default",
                "requestId": "x",
            },
            "body": json.dumps({"secret": secret, "contact_id": call.contact_id}),
            "isBase64Encoded": False,
        }
        result = self.invoke("agent/no-auth", "agent", no_auth)
        expect("agent/no-auth", result.get("statusCode"), 401)
        REPORT["error_bodies"].append(
            {"label": "agent/no-auth", "route": "agent", "status": 401, "body": result.get("body")}
        )

    def hostile_http_input(self) -> None:
        name_b64 = base64.b64encode(canary.FULLNAME.encode()).decode()
        cases = [
            ("POST", "/sessions", {"purpose": canary.FULLNAME}),
            ("POST", "/sessions", {"purpose": canary.BSN, "bsn": canary.BSN}),
            ("POST", "/sessions", '{"purpose": "' + canary.FULLNAME + '", '),
            ("POST", "/sessions", json.dumps({"purpose": canary.MOBILE * 2000})),
            ("POST", "/sessions", [canary.BSN]),
            ("POST", "/sessions", canary.FULLNAME.encode("latin-1")),
            ("GET", f"/sessions/{canary.BSN}", None),
            ("GET", "/sessions/Canarius%20V%C3%B6gelaar", None),
            ("POST", f"/sessions/{canary.MOBILE}/complete", None),
            ("POST", f"/irma/callback/{canary.BSN}", canary.FULLNAME),
            ("POST", "/agent/disclosure", {"secret": canary.FULLNAME, "contact_id": canary.BSN}),
            ("POST", "/agent/disclosure", {"secret": name_b64, "contact_id": canary.MOBILE}),
            ("POST", "/agent/clear", {"secret": canary.MOBILE, "contact_id": canary.BSN}),
            ("POST", "/agent/clear", {"secret": canary.FULLNAME}),
            ("POST", "/agent/clear", {"secret": [canary.BSN]}),
        ]
        for n, (method, path, body) in enumerate(cases):
            status, _ = self.api(f"hostile/{n}", method, path, body)
            expect(f"hostile/{n}", 400 <= status < 500, True)
        session_id, body = self.start("forged-callback")
        forged = _forged_jwt()
        path = str(self.stack.irma.session_for(body["sessionPtr"]).callback_url).removeprefix(self.stack.http.url)
        status, _ = self.api("forged/callback", "POST", path + "/", forged)
        expect("forged/callback", status, 400)
        status, _ = self.api("forged/callback-by-session-id", "POST", f"/irma/callback/{session_id}", forged)
        expect("forged/callback-by-session-id", status, 404)
        for n, event in enumerate(
            [{}, None, [canary.BSN], {canary.FULLNAME: canary.BSN}, {"requestContext": {"http": canary.MOBILE}}]
        ):
            for function in ("session", "agent"):
                result = self.invoke(f"malformed/{function}/{n}", function, event)
                if isinstance(result, dict) and "statusCode" in result:
                    REPORT["error_bodies"].append(
                        {
                            "label": f"malformed/{n}",
                            "route": function,
                            "status": result["statusCode"],
                            "body": result.get("body"),
                        }
                    )
            self.invoke(f"malformed/dtmf/{n}", "dtmf", event)
            self.invoke(f"malformed/cleanup/{n}", "cleanup", event)
        contact_event = {
            "detail-type": "Amazon Connect Contact Event",
            "detail": {"eventType": "COMPLETED", "contactId": canary.FULLNAME, "instanceArn": canary.BSN},
        }
        self.invoke("malformed/contact-event", "cleanup", contact_event)

    def irma_faults(self) -> None:
        irma = self.stack.irma
        for fault in ("500", "garbage", "reset", "slow"):
            irma.fault = fault
            irma.slow_seconds = 3.5
            try:
                status, _ = self.api(f"irma-{fault}/start", "POST", "/sessions", {"purpose": "demo"})
            finally:
                irma.fault = None
            expect(f"irma-{fault}/start", status, 503)
        irma.send_callbacks = False
        try:
            session_id, body = self.start("irma-down-pull")
            code = self.disclose(body, canary.DEMO_CREDENTIALS)
            irma.fault = "500"
            try:
                status, _ = self.api("irma-down/complete", "POST", f"/sessions/{session_id}/complete")
                expect("irma-down/complete", status, 503)
                result = self.call("irma-down/call", code).lambda_result.get("result")
                expect("irma-down/call", result, "NOT_VERIFIED")
            finally:
                irma.fault = None
        finally:
            irma.send_callbacks = True

    def aws_faults(self) -> None:
        message = f"injected for {canary.FULLNAME} {canary.BSN} {canary.MOBILE}"
        with aws_fault("dynamodb", "TransactWriteItems", "InternalServerError", message=message, status=500):
            status, _ = self.api("ddb-start", "POST", "/sessions", {"purpose": "demo"})
        expect("ddb-start", status, 503)
        with aws_fault("kms", "GenerateDataKey", "AccessDeniedException", message=message):
            status, _ = self.api("kms-start", "POST", "/sessions", {"purpose": "demo"})
        expect("kms-start", status, 503)
        _, code = self.disclosed_code("aws")
        with aws_fault("dynamodb", "BatchGetItem", "ProvisionedThroughputExceededException", message=message):
            result = self.call("ddb-dtmf", code, caller=canary.MOBILE).lambda_result.get("result")
        expect("ddb-dtmf", result, "ERROR")
        with aws_fault(
            "dynamodb",
            "TransactWriteItems",
            "TransactionCanceledException",
            message=message,
            reasons=["None", "ThrottlingError", "None", "None"],
        ):
            result = self.call("ddb-link", code, caller=canary.MOBILE).lambda_result.get("result")
        expect("ddb-link", result, "ERROR")
        call = self.call("aws/call", code, caller=canary.MOBILE)
        expect("aws/call", call.lambda_result.get("result"), "OK")
        secret = call.attributes["session_secret"]
        with aws_fault("kms", "Decrypt", "AccessDeniedException", message=message):
            expect("kms-read", self.read("kms-read", secret, call.contact_id), 503)
        with aws_fault("kms", "Decrypt", "InvalidCiphertextException", message=message):
            expect("kms-invalid", self.read("kms-invalid", secret, call.contact_id), 404)
        with aws_fault("dynamodb", "DeleteItem", "InternalServerError", message=message, status=500):
            event_result = self.invoke("ddb-cleanup", "cleanup", _completed(call.contact_id))
        expect("ddb-cleanup", event_result, {"raised": "RuntimeError"})
        expect(
            "ddb-cleanup/retry",
            self.invoke("ddb-cleanup/retry", "cleanup", _completed(call.contact_id)).get("result"),
            "OK",
        )
        # SSM fails at a cold start (parameters are cached per process otherwise).
        from idbellen import runtime

        runtime.reset()
        _register_key_capture()
        with aws_fault("ssm", "GetParameter", "InternalServerError", message=message, status=500):
            status, _ = self.api("ssm-start", "POST", "/sessions", {"purpose": "demo"})
            result = self.call("ssm-dtmf", f"{secrets.randbelow(10**8):08d}").lambda_result.get("result")
        expect("ssm-start", status, 503)
        expect("ssm-dtmf", result, "ERROR")
        runtime.reset()
        _register_key_capture()
        with aws_fault("lambda", "Invoke", "ServiceException", message=message, status=500):
            self.stack.irma.send_callbacks = False
            try:
                _session_id, body = self.start("lambda-pull")
                code = self.disclose(body, canary.DEMO_CREDENTIALS)
                expect("lambda-pull", self.call("lambda-pull/call", code).lambda_result.get("result"), "NOT_VERIFIED")
            finally:
                self.stack.irma.send_callbacks = True

    def abandoned_sessions(self) -> None:
        """Nobody scans: the IRMA session times out and calls back with TIMEOUT on every access."""
        session_id, _ = self.start("abandoned")
        self.stack.clock.advance(301)
        expect("abandoned/status", self.status("abandoned/status", session_id), "PENDING", "FAILED")
        _, answer = self.api("abandoned/complete", "POST", f"/sessions/{session_id}/complete")
        expect("abandoned/complete", (answer or {}).get("status"), "FAILED")
        expect("abandoned/nested", self.stack.irma.nested_callbacks, 0)

    def unsigned_callbacks(self) -> None:
        """IRMA server without a JWT key, unsigned callbacks allowed: the body is never read; a
        forged one full of canaries changes nothing and is logged nowhere."""
        session_id, body = self.start("unsigned")
        code = self.disclose(body, canary.DEMO_CREDENTIALS)
        expect("unsigned/status", self.status("unsigned/status", session_id), "DISCLOSED")
        expect(
            "unsigned/call", self.call("unsigned/call", code, caller=canary.MOBILE).lambda_result.get("result"), "OK"
        )
        session_id, body = self.start("unsigned-forged")
        session = self.stack.irma.session_for(body["sessionPtr"])
        path = str(session.callback_url).removeprefix(self.stack.http.url)
        forged = {
            "token": session.token,
            "status": "DONE",
            "type": "disclosing",
            "proofStatus": "VALID",
            "disclosed": [
                [{"id": canary.BSN_ATTR, "rawvalue": canary.BSN, "status": "PRESENT"}],
                [{"id": "pbdf.gemeente.personalData.fullname", "rawvalue": canary.FULLNAME, "status": "PRESENT"}],
            ],
        }
        status, _ = self.api("unsigned-forged/callback", "POST", path + "/", json.dumps(forged))
        expect("unsigned-forged/callback", status, 200)
        expect("unsigned-forged/status", self.status("unsigned-forged/status", session_id), "PENDING")
        self.stack.clock.advance(301)
        expect("unsigned-forged/timeout", self.status("unsigned-forged/timeout", session_id), "FAILED")
        expect("unsigned/nested", self.stack.irma.nested_callbacks, 0)

    def lifecycle_segments(self) -> None:
        """The contact lifecycle as Connect produces it (issue 11): an offer that is missed, another
        agent's and a supervisor's reads, a warm transfer, per-segment clears, a second code."""
        second, supervisor = "tweede.agent@gemeente.example", "supervisor@gemeente.example"
        first_id, code = self.disclosed_code("life")
        call = self.call("life/call", code, caller=canary.MOBILE)
        secret = call.attributes["session_secret"]
        self.stack.connect.offer(call.contact_id, DEV_AGENT)  # offered, ringing: no data yet
        expect("life/offer", self.read("life/offer", secret, call.contact_id, accept=False), 404)
        self.stack.connect.withdraw(call.contact_id)  # missed
        expect("life/accept", self.read("life/accept", secret, call.contact_id), 200)
        expect("life/monitor", self.read("life/monitor", secret, call.contact_id, supervisor, accept=False), 404)
        segment = self.stack.transfer(call.contact_id)
        expect("life/other-agent", self.read("life/other", secret, segment, second), 200)
        expect("life/clear-first", self.clear("life/clear-first", secret, call.contact_id), 204)
        expect("life/first-ended", self.read("life/first-ended", secret, call.contact_id), 404)
        expect("life/second-reads", self.read("life/second", secret, segment, second), 200)
        expect("life/clear-foreign", self.clear("life/clear-foreign", secret, segment), 204)  # not this agent's
        expect("life/still-there", self.read("life/still", secret, segment, second), 200)
        # the verify module runs again on the transferred segment with a new code: it replaces the first
        second_id, again = self.disclosed_code("life2")
        replaced = self.call("life2/call", again, caller=canary.MOBILE, contact_id=segment)
        expect("life2/call", replaced.lambda_result.get("result"), "OK")
        expect("life2/old-secret", self.read("life2/old", secret, segment, second), 404)
        new_secret = replaced.attributes["session_secret"]
        expect("life2/new-secret", self.read("life2/new", new_secret, segment, second), 200)
        expect("life2/clear", self.clear("life2/clear", new_secret, segment, second), 204)
        from idbellen.sessions import session_pk

        gone = {session_pk(first_id), session_pk(second_id)}
        left = [i for i in self.stack.table_items() if {i.get("pk"), i.get("session_pk")} & gone]
        expect("life2/nothing-left", left, [])

    def agent_identity_refusals(self) -> None:
        """Look-alike usernames, users outside the agents group, ID tokens: refused, nothing echoed."""
        _, code = self.disclosed_code("ident")
        call = self.call("ident/call", code, caller=canary.MOBILE)
        body = {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
        self.stack.assign(call.contact_id, "jan@gemeente.example")
        lookalike = cognito_access_claims("piet_jan@gemeente.example")
        expect(
            "ident/lookalike", self.api("ident/lookalike", "POST", "/agent/disclosure", body, claims=lookalike)[0], 404
        )
        outsider = cognito_access_claims("jan@gemeente.example", groups=("kcc-burgerzaken",))
        expect("ident/outsider", self.api("ident/outsider", "POST", "/agent/disclosure", body, claims=outsider)[0], 403)
        id_token = cognito_id_claims("jan@gemeente.example")
        # no `username`: with several tenants no tenant's agent (403, before any lookup); one tenant: 404
        expected = 403 if len(self.stack.tenants) > 1 else 404
        status = self.api("ident/id-token", "POST", "/agent/disclosure", body, claims=id_token)[0]
        expect("ident/id-token", status, expected)
        right = cognito_access_claims("jan@gemeente.example")
        expect("ident/right", self.api("ident/right", "POST", "/agent/disclosure", body, claims=right)[0], 200)
        self.stack.contact_event(call.contact_id, "COMPLETED")

    def expiry_and_sweep(self) -> None:
        session_id, code = self.disclosed_code("expiry")
        call = self.call("expiry/call", code, caller=canary.MOBILE)
        secret = call.attributes["session_secret"]
        self.stack.clock.advance(3601)
        expect("expiry/status", self.status("expiry/status", session_id), 404)
        expect("expiry/read", self.read("expiry/read", secret, call.contact_id), 404)
        result = self.invoke("expiry/sweep", "cleanup", {"idbellen_action": "sweep"})
        expect("expiry/sweep", result.get("result"), "OK")
        expect("expiry/empty", len(self.stack.table_items()), 0)


def _completed(contact_id: str) -> dict[str, Any]:
    from devstack.stack import INSTANCE_ARN

    return {
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "detail": {
            "eventType": "COMPLETED",
            "contactId": contact_id,
            "initialContactId": contact_id,
            "instanceArn": INSTANCE_ARN,
        },
    }


def _forged_jwt() -> str:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {
        "iss": "irmaserver",
        "sub": "disclosing_result",
        "iat": 1,
        "exp": 4102444800,
        "status": "DONE",
        "proofStatus": "VALID",
        "disclosed": [[{"id": canary.BSN_ATTR, "rawvalue": canary.BSN, "status": "PRESENT"}]],
        "name": canary.FULLNAME,
    }
    token = jwt.encode(claims, key, algorithm="RS256")
    value("jwt", token)
    return token


def _register_key_capture() -> None:
    """Every KMS data-key plaintext of this run becomes a canary (botocore DEBUG would print it)."""
    from idbellen import aws

    def grab(parsed: dict[str, Any], **_: Any) -> None:
        plaintext = parsed.get("Plaintext") if isinstance(parsed, dict) else None
        if isinstance(plaintext, bytes):
            value(
                "data_key",
                base64.b64encode(plaintext).decode(),
                base64.urlsafe_b64encode(plaintext).decode().rstrip("="),
                plaintext.hex(),
            )

    events = aws.client("kms").meta.events
    events.register("after-call.kms.GenerateDataKey", grab)
    events.register("after-call.kms.Decrypt", grab)


def _instrument(stack: DevStack, flows: Flows) -> None:
    value("requestor_token", stack.requestor_token)
    ssm = stack.session.client("ssm")
    value(
        "hash_key",
        ssm.get_parameter(Name=stack.resources.hash_key_param, WithDecryption=True)["Parameter"]["Value"],
    )
    _register_key_capture()
    irma = stack.irma
    original_start, original_jwt = irma.start_session, irma.result_jwt

    def start_session(body: dict[str, Any]) -> Any:
        session = original_start(body)
        value("irma_token", session.token)
        digits = str(session.request.get("clientReturnUrl", "")).split(",", 1)[-1]
        value("dtmf", digits)
        flows.codes_by_client[session.client_token] = digits
        value("callback_url", str(body.get("callbackUrl") or ""))
        return session

    def result_jwt(session: Any) -> str:
        token = original_jwt(session)
        value("jwt", token)
        return token

    irma.start_session = start_session  # type: ignore[method-assign]
    irma.result_jwt = result_jwt  # type: ignore[method-assign]


def _run(flows: Any) -> None:
    for flow in flows:
        try:
            flow()
            REPORT["flows"].append(flow.__name__)
        except Exception as exc:
            REPORT["exceptions"].append(f"{flow.__name__}: " + "".join(traceback.format_exception(exc)))
            REPORT["mismatches"].append(f"{flow.__name__}: aborted with {exc.__class__.__name__}")


def main() -> int:
    from devstack import IrmaSetup

    with DevStack(irma=IrmaSetup(background_sweep=False)) as stack:
        flows = Flows(stack)
        _instrument(stack, flows)
        _run(
            (
                flows.happy_path_with_transfer,
                flows.mobile_match_and_clear,
                flows.mismatch_and_hang_up,
                flows.rejected_disclosures,
                flows.pending_and_window,
                flows.closed_hours,
                flows.wrong_codes_and_rate_limit,
                flows.agent_refusals,
                flows.lifecycle_segments,
                flows.agent_identity_refusals,
                flows.hostile_http_input,
                flows.irma_faults,
                flows.aws_faults,
                flows.pulls_without_callbacks,
                flows.abandoned_sessions,
                flows.expiry_and_sweep,
            )
        )
        REPORT["tracers"] = sum(1 for o in gc.get_objects() if type(o).__name__ == "Tracer")
        REPORT["xray_loaded"] = any(
            m.startswith(("aws_xray_sdk", "aws_lambda_powertools.tracing")) for m in sys.modules
        )
        REPORT["logger_levels"] = {
            name: logging.getLogger(name).getEffectiveLevel()
            for name in ("botocore", "boto3", "urllib3", "requests", "aws_lambda_powertools", "idbellen", "")
        }
    unsigned = IrmaSetup(jwt_key=False, allow_unsigned_callbacks=True, background_sweep=False)
    with DevStack(irma=unsigned) as stack:
        flows = Flows(stack)
        _instrument(stack, flows)
        _run((flows.unsigned_callbacks,))
    REPORT["values"] = {kind: sorted(items) for kind, items in VALUES.items()}
    (OUT / "report.json").write_text(json.dumps(REPORT, ensure_ascii=False, default=repr), encoding="utf-8")
    _records.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
