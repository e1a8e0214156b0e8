"""Makes each DynamoDB request to the embedded moto server atomic, as real DynamoDB requests are.

moto's DynamoDB is not thread-safe: a transaction deep-copies the tables it touches to roll back and
restores that copy on failure, clobbering what concurrent requests wrote meanwhile, and the copy can
fail outright ("dictionary changed size during iteration", a 500). One lock around each request
restores the guarantee our conditional writes and transactions rely on; the interleaving *between*
requests — what races must survive — stays real. Dev stack only: a real table needs no such thing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_lock = threading.RLock()
_depth = {"n": 0}


@contextlib.contextmanager
def atomic_dynamodb_requests() -> Iterator[None]:
    """Re-entrant: nested stacks and fixtures share one patch and one lock."""
    from moto.dynamodb.responses import DynamoHandler

    with _lock:
        if _depth["n"] == 0:
            original = DynamoHandler.call_action

            def call_action(self: Any) -> Any:
                with _lock:
                    return original(self)

            call_action.original = original  # type: ignore[attr-defined]
            DynamoHandler.call_action = call_action  # type: ignore[method-assign]
        _depth["n"] += 1
    try:
        yield
    finally:
        with _lock:
            _depth["n"] -= 1
            if _depth["n"] == 0:
                DynamoHandler.call_action = DynamoHandler.call_action.original  # type: ignore[attr-defined,method-assign]
