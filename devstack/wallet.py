"""Demo wallet: completes a session the way the Yivi app would and returns the number it dials.

It fetches the session request from `sessionPtr.u` (with the client authorization the app sends),
picks for each disjunction the first alternative it holds (an attribute requested with `notNull`
needs a value; an optional disjunction's empty alternative only when it holds no other), posts the
disclosure, and returns the request's `clientReturnUrl` — but only when the server answered the proofs with 200. irmago
answers 503 when the request took longer than 4.2 s (a slow callback): the real app then shows an
error and never opens the `tel:` link, and so does this wallet (`last_error` says why).

`credentials` maps attribute ids to raw values; a value of None is an attribute the credential
holds without a value (IRMA's NULL). `extra` discloses attributes nobody asked for (EXTRA).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import requests

APP_TIMEOUT = 30  # the app's own limit (irma/transport.go responseDeadline is 20 s; irmago's 4.2 s comes first)


class DemoWallet:
    def __init__(self, irma: Any = None) -> None:
        self.last_error: str | None = None
        self.irma = irma  # the dev stack's IRMA server, for status="TIMEOUT" (the app walks away)

    def disclose(
        self,
        session_ptr: dict[str, Any],
        credentials: dict[str, str | None],
        proof_status: str = "VALID",
        status: str = "DONE",
        *,
        extra: Sequence[str] = (),
    ) -> str | None:
        self.last_error = None
        url = session_ptr["u"]
        auth = secrets.token_urlsafe(16)
        headers = {"Authorization": auth, "X-IRMA-MinProtocolVersion": "2.8", "X-IRMA-MaxProtocolVersion": "2.8"}
        response = requests.get(url, headers=headers, timeout=APP_TIMEOUT)
        response.raise_for_status()
        request = response.json()["request"]
        if status == "CANCELLED":
            requests.delete(url, timeout=APP_TIMEOUT)
            return None
        if status == "TIMEOUT":
            if self.irma is None:
                raise ValueError("status='TIMEOUT' needs the dev stack's IRMA server (DemoWallet(irma=...))")
            client_token = str(url).rstrip("/").rsplit("/", 1)[-1]
            self.irma.abandon(client_token)
            # the next access (here: the status poll yivi-frontend makes) times the session out
            requests.get(f"{url}/status", timeout=APP_TIMEOUT)
            return None
        disclosed: list[list[dict[str, Any]] | None] = []
        for discon in request.get("disclose", []):
            disclosed.append(self._choose(discon, credentials))
        answer = requests.post(
            f"{url}/proofs",
            json={
                "disclosed": disclosed,
                "extra": [{"id": a, "rawvalue": credentials.get(a)} for a in extra],
                "proofStatus": proof_status,
            },
            headers={"Authorization": auth},
            timeout=APP_TIMEOUT,
        )
        if answer.status_code != 200:
            self.last_error = f"the IRMA server answered the proofs with {answer.status_code}"
            return None
        return_url = request.get("clientReturnUrl")
        return str(return_url) if return_url else None

    @staticmethod
    def _choose(discon: list[list[Any]], credentials: dict[str, str | None]) -> list[dict[str, Any]] | None:
        """The first alternative this wallet can satisfy; None when it can satisfy none (the server
        then reports the disjunction unsatisfied: `null`, MISSING_ATTRIBUTES)."""
        for con in discon:
            if not con:
                continue
            chosen = []
            for entry in con:
                attr_id = entry if isinstance(entry, str) else entry.get("type")
                not_null = isinstance(entry, dict) and bool(entry.get("notNull"))
                if attr_id not in credentials or (not_null and credentials[attr_id] is None):
                    break
                chosen.append({"id": attr_id, "rawvalue": credentials[attr_id]})
            else:
                return chosen
        return [] if any(not con for con in discon) else None
