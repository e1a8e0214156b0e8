"""`make demo`: one whole ID call on the embedded dev stack, told step by step in plain language.

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

from devstack import DevStack

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
    print("idbellen demo — an identity-verified call on the embedded dev stack (no AWS account)\n")
    with DevStack() as stack:
        with quiet(lines):
            status, session = stack.api("POST", "/sessions", {"purpose": "demo"})
        expect(status == 201, f"POST /sessions answered {status}")
        say(1, "The citizen presses 'Bellen met Yivi' for the purpose 'demo': a disclosure session starts")
        print("   at the (demo) IRMA server; the browser gets a session pointer for the QR code, no token.")

        with quiet(lines):
            tel = stack.wallet.disclose(session["sessionPtr"], DEMO_WALLET)
            _, state = stack.api("GET", f"/sessions/{session['session_id']}")
        expect(tel is not None and tel.startswith("tel:"), "the wallet got no tel: URL to dial")
        expect(state["status"] == "DISCLOSED", f"session status is {state['status']}, not DISCLOSED")
        say(2, "The citizen discloses BSN and name in the (demo) Yivi app. The IRMA server calls back with a")
        print("   signed result; it is stored encrypted (KMS data key + AES-256-GCM). Status: DISCLOSED.")

        digits = tel.split(",", 1)[1]
        with quiet(lines):
            call = stack.call(digits, caller="+31612345678")
        expect(call.attributes.get("verified") == "true", "the call was not verified")
        expect("session_secret" in call.attributes and call.queued, "the call was not linked and queued")
        say(3, f"The app dials {tel.split(',', 1)[0].removeprefix('tel:')} and then its {len(digits)}-digit code.")
        print("   The contact flow swaps the code for a one-time secret bound to the contact and queues the")
        print("   call as verified=true. The code is now used up.")

        with quiet(lines):
            stack.assign(call.contact_id)  # the dev agent accepts the call; Connect now names them on it
            status, shown = stack.api(
                "POST",
                "/agent/disclosure",
                {"secret": call.attributes["session_secret"], "contact_id": call.contact_id},
            )
        expect(status == 200, f"the agent's disclosure read answered {status}")
        say(4, "The agent accepts the call. Connect confirms it is this agent's call; the widget shows the")
        print("   verified attributes (fake demo data):")
        for attribute in shown["attributes"]:
            print(f"   | {attribute['label']:<6} {attribute['value']}")

        with quiet(lines):
            stack.contact_event(call.contact_id, "COMPLETED")
            left = stack.table_items()
            _, after = stack.api("GET", f"/sessions/{session['session_id']}")
        expect(left == [], f"{len(left)} items left in the table after the contact completed")
        say(5, "The agent finishes after-contact work: Connect's COMPLETED event reaches the cleanup function.")
        print(
            f"   Items left in the table: {len(left)}. The citizen's page now reads: "
            f"{'call ended' if after == {'error': 'not_found'} else after}."
        )

    steps = [json.loads(line) for line in lines if line.startswith("{") and '"log_type":"processing"' in line]
    print("\nProcessing log (what a privacy officer can check afterwards; ids only, no values):")
    for entry in steps:
        detail = {k: entry[k] for k in ("purpose", "reason", "age_seconds") if k in entry}
        print(f"   - {entry['step']:<16} session {entry['session_ref']} {json.dumps(detail) if detail else ''}")
    expect(
        [e["step"] for e in steps][:1] == ["session_started"] and steps[-1]["step"] == "deleted",
        "the processing log does not cover the whole story",
    )
    print("\nDone: verified call shown to the agent, and every trace of the personal data deleted.")
    return 0


def main() -> int:
    try:
        return run()
    except StepFailed as failure:
        print(f"\nDEMO FAILED: {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
