"""Structural invariants of the table: no partial record, exactly one working secret per session."""

from __future__ import annotations

from typing import Any

DTMF_STATE = {
    "PENDING": {"pending"},
    "DISCLOSED": {"disclosed"},
    "CLOSED": {"disclosed"},
    "CALLED": {"disclosed"},
    "CONNECTED": {"disclosed"},
    "FAILED": {"failed"},
}


def assert_consistent(items: list[dict[str, Any]]) -> None:
    by_pk = {i["pk"]: i for i in items}
    for item in items:
        kind, pk = item["kind"], item["pk"]
        assert "expires_at" in item and "tenant" in item, pk
        if kind == "session":
            status = item["status"]
            assert status in DTMF_STATE, (pk, status)
            assert ("disclosure" in item) == (status in ("DISCLOSED", "CLOSED", "CALLED", "CONNECTED")), (pk, status)
            dtmf = by_pk.get(item.get("dtmf_pk", ""))
            if dtmf is not None:
                assert dtmf["state"] in DTMF_STATE[status], (pk, status, dtmf["state"])
            if status in ("CALLED", "CONNECTED"):
                secret = by_pk.get(item.get("secret_pk", ""))
                assert secret is not None and secret["session_pk"] == pk, (pk, "secret missing")
                assert item.get("contact_pk") in by_pk, (pk, "contact missing")
        elif kind in ("dtmf", "secret", "contact"):
            session = by_pk.get(item["session_pk"])
            assert session is not None, (pk, "points at a missing session")
            if kind == "secret":
                assert session.get("secret_pk") == pk, (pk, "a second, stale secret exists")
            if kind == "dtmf" and item.get("redeemed_by"):
                assert item.get("secret_pk") == session.get("secret_pk"), (pk, "code and session disagree")
        elif kind == "callback":  # the IRMA callback's pointer lives only while the result is pending
            session = by_pk.get(item["session_pk"])
            assert session is not None and session["status"] == "PENDING", (pk, "stale callback pointer")
            assert session.get("callback_pk") == pk, (pk, "session and callback pointer disagree")
        else:
            assert kind == "rate", (pk, kind)
    secrets_per_session: dict[str, int] = {}
    for item in items:
        if item["kind"] == "secret":
            secrets_per_session[item["session_pk"]] = secrets_per_session.get(item["session_pk"], 0) + 1
    assert all(n == 1 for n in secrets_per_session.values()), secrets_per_session
