"""`make demo`: whole ID calls for two municipalities on one embedded dev stack, told in plain language.

Prints no attribute value except in the agent's view, on purpose, with clearly fake demo data. The
processing-log lines the handlers write are collected and summarised instead of printed raw.
Exits non-zero when any step does not do what it should.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

from devstack import DevStack
from devstack.stack import SHARED_PROCESSING_LOG_GROUP

DEMO_WALLET = {  # clearly fake: BSN 999990019 is from the test range, the name is invented
    "pbdf.gemeente.personalData.bsn": "999990019",
    "pbdf.gemeente.personalData.fullname": "Demo Burger",
}


class StepFailed(Exception):
    pass


@contextlib.contextmanager
def quiet(captured: list[str]) -> Iterator[None]:
    """Collect what the handlers print (structured logs, EMF metrics, processing log)."""
    buffer = io.StringIO()
    handlers = [
        h
        for name in ("idbellen", "idbellen.processing")
        for h in logging.getLogger(name).handlers
        if isinstance(h, logging.StreamHandler)
    ]
    streams = [h.setStream(buffer) for h in handlers]
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            if stream is not None:
                handler.setStream(stream)
    captured.extend(line for line in buffer.getvalue().splitlines() if line.strip())


def say(step: int, text: str) -> None:
    print(f"{step}. {text}", flush=True)


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise StepFailed(what)


def run() -> int:
    lines: list[str] = []
    print("idbellen demo — identity-verified calls for two municipalities on one embedded dev stack")
    print("(no AWS account; each municipality its own number, agents, key and processing log)\n")
    # as deployed: the shared stack's processing-log group (the hosting municipality's) is set, and each
    # partner's records go to its own group (devstack/stack.py provisions both)
    with DevStack(settings={"IDBELLEN_PROCESSING_LOG_GROUP": SHARED_PROCESSING_LOG_GROUP}) as stack:
        stack.session.client("logs").create_log_group(logGroupName=SHARED_PROCESSING_LOG_GROUP)
        expect(len(stack.tenants) >= 2, "the dev stack serves fewer than two municipalities")
        a, b = stack.tenants[0], stack.tenants[1]
        with quiet(lines):
            status, listed = stack.api("GET", "/tenants")
        expect(status == 200, f"GET /tenants answered {status}")
        names = {t["id"]: t["display_name"] for t in listed}
        expect({a, b} <= set(names), "the public tenant list lacks a municipality")
        say(0, "One deployment, two municipalities (the citizen page's public list, GET /tenants):")
        for tenant in (a, b):
            number = stack.tenant_config[tenant].phone_number
            print(f"   {names[tenant]:<28} calls arrive on {number}")

        sessions: dict[str, dict[str, Any]] = {}
        tels: dict[str, str] = {}
        for tenant in (a, b):
            with quiet(lines):
                status, sessions[tenant] = stack.api("POST", "/sessions", {"purpose": "demo"}, tenant=tenant)
            expect(status == 201, f"POST /sessions for {tenant} answered {status}")
        say(1, "A citizen of each municipality presses 'Bellen met Yivi' (purpose 'demo') on that")
        print("   municipality's page: a disclosure session starts at the shared (demo) IRMA server.")

        for tenant in (a, b):
            with quiet(lines):
                tel = stack.wallet.disclose(sessions[tenant]["sessionPtr"], DEMO_WALLET)
                _, state = stack.api("GET", f"/sessions/{sessions[tenant]['session_id']}", tenant=tenant)
            expect(tel is not None and tel.startswith("tel:"), f"the wallet of {tenant} got no tel: URL")
            expect(state["status"] == "DISCLOSED", f"{tenant}: session status is {state['status']}")
            tels[tenant] = tel
        say(2, "Both disclose BSN and name in the (demo) Yivi app; each result is stored encrypted under")
        print("   its own municipality's KMS key. Both sessions: DISCLOSED.")

        wrong_digits = tels[b].split(",", 1)[1]
        with quiet(lines):
            misdial = stack.call(wrong_digits, caller="+31612345678", tenant=a)
        expect(misdial.attributes.get("verified") != "true", "a code of one municipality worked at the other")
        expect(misdial.queued, "the misdialled caller did not reach an agent")
        say(3, f"The {names[b]} citizen first dials {names[a]}'s number by mistake: the code is")
        print("   unknown there; the call is queued as unverified (the caller still reaches an agent) and")
        print(f"   nothing of {names[b]} is touched.")
        with quiet(lines):
            stack.contact_event(misdial.contact_id, "COMPLETED")

        calls = {}
        for tenant in (a, b):
            digits = tels[tenant].split(",", 1)[1]
            with quiet(lines):
                calls[tenant] = stack.call(digits, caller="+31612345678", tenant=tenant)
            expect(calls[tenant].attributes.get("verified") == "true", f"the call of {tenant} was not verified")
        say(4, "Each citizen dials their own municipality's number with the code: both calls are verified")
        print("   and queued with a one-time secret bound to the contact (the code is now used up).")

        say(5, "Each municipality's agent accepts its own call and the panel shows the verified attributes.")
        for tenant in (a, b):
            call = calls[tenant]
            body = {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
            with quiet(lines):
                stack.assign(call.contact_id)  # that municipality's dev agent accepts the call
                status, shown = stack.api("POST", "/agent/disclosure", body, tenant=tenant)
            expect(status == 200, f"{tenant}'s agent read answered {status}")
            print(f"   {names[tenant]}'s agent sees (fake demo data):")
            for attribute in shown["attributes"]:
                print(f"   | {attribute['label']:<6} {attribute['value']}")

        stolen = {"secret": calls[b].attributes["session_secret"], "contact_id": calls[b].contact_id}
        with quiet(lines):
            status, answer = stack.api("POST", "/agent/disclosure", stolen, tenant=a)
        expect(status == 404, f"{a}'s agent reading {b}'s call answered {status}, not 404")
        say(6, f"{names[a]}'s agent tries {names[b]}'s secret and contact id: answered")
        print(f"   exactly like an unknown secret ({status} {json.dumps(answer)}): it cannot even learn")
        print("   that the call exists.")

        for tenant in (a, b):
            with quiet(lines):
                stack.contact_event(calls[tenant].contact_id, "COMPLETED")
        with quiet(lines):
            left = [item for item in stack.table_items() if item.get("kind") != "rate"]
        expect(left == [], f"{len(left)} items left in the table after the contacts completed")
        say(7, "Both agents finish after-contact work; Connect's COMPLETED events reach the cleanup function.")
        print(f"   Personal data left in the table: {len(left)} items.")

        logs = stack.session.client("logs")
        print("\nProcessing logs (each controller reads only its own group; ids only, no values):")
        for tenant in (a, b):
            group = stack.processing_log_groups[tenant]
            events = logs.filter_log_events(logGroupName=group).get("events", [])
            steps = [json.loads(e["message"]) for e in events]
            expect(
                {s.get("tenant") for s in steps} == {tenant},
                f"{tenant}'s processing log holds another tenant's records",
            )
            print(f"   {names[tenant]} — log group {group}:")
            for entry in sorted(steps, key=lambda e: str(e.get("time", ""))):
                detail = {k: entry[k] for k in ("purpose", "reason", "age_seconds") if k in entry}
                print(
                    f"     - {entry['step']:<16} session {entry['session_ref']} {json.dumps(detail) if detail else ''}"
                )
            expect(
                [e["step"] for e in steps].count("deleted") >= 1 and steps[0]["step"] == "session_started",
                f"{tenant}'s processing log does not cover the whole story",
            )
    print("\nDone: two municipalities, each call shown only to its own agent, every trace of personal data deleted.")
    return 0


def main() -> int:
    try:
        return run()
    except StepFailed as failure:
        print(f"\nDEMO FAILED: {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
