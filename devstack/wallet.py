"""Demo wallet: completes a session the way the Yivi app would and returns the number it dials.

It reads the session request from `sessionPtr.u`, picks for each disjunction the first conjunction it
holds every attribute of, posts the disclosure, and returns the request's `clientReturnUrl`.
"""

from __future__ import annotations

from typing import Any

import requests


class DemoWallet:
    def disclose(
        self,
        session_ptr: dict[str, Any],
        credentials: dict[str, str],
        proof_status: str = "VALID",
        status: str = "DONE",
    ) -> str | None:
        url = session_ptr["u"]
        response = requests.get(url, timeout=5)
        response.raise_for_status()
        request = response.json()
        if status == "CANCELLED":
            requests.delete(url, timeout=5)
            return None
        disclosed: list[list[dict[str, Any]]] = []
        for discon in request.get("disclose", []):
            chosen = next((con for con in discon if all(a in credentials for a in con)), None)
            if chosen is None:
                disclosed.append([])
                if proof_status == "VALID":
                    proof_status = "MISSING_ATTRIBUTES"
                continue
            disclosed.append(
                [
                    {
                        "id": attr,
                        "rawvalue": credentials[attr],
                        "value": {"": credentials[attr], "en": credentials[attr], "nl": credentials[attr]},
                        "status": "PRESENT",
                        "issuancetime": 1700000000,
                    }
                    for attr in chosen
                ]
            )
        answer = requests.post(
            f"{url}/proofs",
            json={"disclosed": disclosed, "proofStatus": proof_status, "status": status},
            timeout=10,
        )
        answer.raise_for_status()
        return request.get("clientReturnUrl") if status == "DONE" else None
