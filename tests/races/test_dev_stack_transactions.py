"""The dev stack's DynamoDB keeps no copy of a table behind after a transaction (devstack/moto_atomic.py):
every counted lookup is a transaction now, and moto would otherwise keep each transaction's rollback
copy of the whole table for good (the full-size hit-rate run grew past 20 GB before this)."""

from __future__ import annotations

import secrets
import uuid

from moto.dynamodb.models.table import Item, Table

from devstack import DevStack


def test_counted_lookups_leave_no_table_copies(stack: DevStack) -> None:
    for _ in range(3):
        stack.api("POST", "/sessions", {"purpose": "demo"})
    tables, items = len(Table.instances_tracked), len(Item.instances_tracked)

    def guess() -> str:
        contact = str(uuid.uuid4())
        event = stack.contact_flow_event(contact, contact, {"dtmf": f"{secrets.randbelow(10**8):08d}"}, caller=None)
        return str(stack.invoke("dtmf", event)["result"])

    assert [guess() for _ in range(20)] == ["NOT_FOUND"] * 20  # 20 transactions, each copying the table
    assert len(Table.instances_tracked) == tables
    assert len(Item.instances_tracked) <= items + 20  # at most the items the transactions wrote
