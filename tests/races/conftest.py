"""moto's DynamoDB is not thread-safe (a transaction deep-copies the tables to roll back and restores
that copy, clobbering concurrent writes). Real DynamoDB makes every request atomic, so the race tests
run with each embedded DynamoDB request atomic (`devstack.moto_atomic`, which the DevStack applies
too; re-entrant, so holding it here for the whole package is harmless). The interleaving *between*
requests — what our conditional writes and transactions must survive — stays real."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack import DevStack
from devstack.moto_atomic import atomic_dynamodb_requests

CALLER_WINDOW = 600  # the per-number rate window (idbellen.limits); a multiple of the 1-minute one


@pytest.fixture(scope="package", autouse=True)
def atomic_dynamodb() -> Iterator[None]:
    with atomic_dynamodb_requests():
        yield


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    """One dev stack per race module (two municipalities, as `DevStack()` gives)."""
    with DevStack() as running:
        yield running


@pytest.fixture
def fresh_window(stack: DevStack) -> None:
    """The test starts one second into a fresh 10-minute (and so also 1-minute) rate window."""
    now = int(stack.clock.now())
    stack.clock.set((now // CALLER_WINDOW + 1) * CALLER_WINDOW + 1)
