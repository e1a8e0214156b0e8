"""moto's DynamoDB is not thread-safe (a transaction deep-copies the tables to roll back and restores
that copy, clobbering concurrent writes). Real DynamoDB makes every request atomic, so the race tests
run with each embedded DynamoDB request atomic (`devstack.moto_atomic`, which the DevStack applies
too; re-entrant, so holding it here for the whole package is harmless). The interleaving *between*
requests — what our conditional writes and transactions must survive — stays real."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.moto_atomic import atomic_dynamodb_requests


@pytest.fixture(scope="package", autouse=True)
def atomic_dynamodb() -> Iterator[None]:
    with atomic_dynamodb_requests():
        yield
