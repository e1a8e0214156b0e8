"""Port through which the DTMF function asks the session function to pull a result it still needs.

Production: a real `lambda.invoke` of the session function (bounded to ~1.5 s by the client's
timeouts, no retries: Connect's own clock is running). The dev stack points `AWS_ENDPOINT_URL_LAMBDA`
at a loopback stand-in that runs the real session handler. Only a status comes back, never data.
"""

from __future__ import annotations

import json
from typing import Protocol

from idbellen import aws


class SessionPuller(Protocol):
    def pull(self, session_pk: str) -> str | None: ...


class LambdaSessionPuller:
    def __init__(self, function_name: str) -> None:
        self.function_name = function_name

    def pull(self, session_pk: str) -> str | None:
        """The session's status after a pull, or None when the session function could not answer."""
        try:
            out = aws.client("lambda").invoke(
                FunctionName=self.function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps({"idbellen_action": "pull", "session_pk": session_pk}).encode(),
            )
            if out.get("FunctionError"):
                return None
            body = json.loads(out["Payload"].read() or b"{}")
        except Exception:
            return None
        status = body.get("status") if isinstance(body, dict) else None
        return status if isinstance(status, str) else None
