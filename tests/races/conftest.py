"""moto's DynamoDB is not thread-safe: a transaction deep-copies the tables to roll back and restores
that copy on failure, clobbering what concurrent requests wrote meanwhile. Real DynamoDB makes every
request atomic (transactions serializable), so for the race tests each DynamoDB request in the embedded
server is made atomic with one lock. The interleaving *between* requests — what our conditional writes
and transactions must survive — stays real."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.responses import DynamoHandler

_lock = threading.RLock()


@pytest.fixture(scope="package", autouse=True)
def atomic_dynamodb_requests() -> Iterator[None]:
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.call_action = original  # type: ignore[method-assign]
