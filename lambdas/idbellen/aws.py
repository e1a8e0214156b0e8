"""boto3 clients with tight timeouts and bounded retries, created lazily, one per service per process.

Lazy so a function only pays for the clients it uses (the DTMF path never builds a KMS client).
"""

from __future__ import annotations

import threading
from typing import Any

from idbellen import runtime

_clients: dict[str, Any] = {}
_lock = threading.Lock()

# Connect gives the DTMF function at most a few seconds; a hung socket must not eat them.
_TIMEOUTS = {
    "dynamodb": (1.0, 2.0, 3),
    "kms": (1.0, 2.0, 3),
    "ssm": (1.0, 3.0, 3),
    "lambda": (0.5, 1.5, 1),
    "connect": (0.5, 1.0, 2),  # blanking runs after deletion, inside the disconnect flow's 3 s
}


def client(service: str) -> Any:
    existing = _clients.get(service)
    if existing is not None:
        return existing
    with _lock:
        if service not in _clients:
            import boto3
            from botocore.config import Config

            connect, read, attempts = _TIMEOUTS.get(service, (1.0, 3.0, 3))
            session: Any = boto3.session.Session()
            _clients[service] = session.client(
                service,
                config=Config(
                    connect_timeout=connect,
                    read_timeout=read,
                    retries={"max_attempts": attempts, "mode": "standard"},
                    tcp_keepalive=True,
                ),
            )
        return _clients[service]


@runtime.on_reset
def _reset() -> None:
    _clients.clear()
