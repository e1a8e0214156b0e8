"""Where moto's DynamoDB differs from DynamoDB in ways our conditional writes rely on, the dev stack
makes it behave like DynamoDB:

- Every request is atomic. moto's DynamoDB is not thread-safe: a transaction deep-copies the tables
  it touches to roll back and restores that copy on failure, clobbering what concurrent requests
  wrote meanwhile, and the copy can fail outright ("dictionary changed size during iteration", a
  500). One lock around each request restores the guarantee; the interleaving *between* requests —
  what races must survive — stays real.
- `TransactWriteItems` is idempotent per `ClientRequestToken`. botocore gives every transaction a
  token and re-sends it when it retries (e.g. after a read timeout on a loaded machine); DynamoDB then
  answers success without applying it twice, moto applies it again and its conditions fail, so a
  redemption that succeeded would be reported as failed.
- A transaction leaves no copy behind. moto's rollback copy is a `copy.deepcopy` of every table the
  transaction touches, and moto's `BaseModel` records every instance it ever creates in a class-level
  list (`instances_tracked`), so each copy — the whole table, every item — would stay in memory for
  good (hundreds of MB after a few hundred transactions on a table of a thousand sessions). The
  entries a transaction adds to those lists are dropped when it ends; nothing in moto's DynamoDB
  reads them.

Dev stack only: a real table needs none of this.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from devstack.moto_patch import patched

_lock = threading.RLock()
_users = {"n": 0}  # the tokens' answers are forgotten when the last user leaves
_answered: dict[str, Any] = {}
replayed = {"transactions": 0}  # how many retried transactions were answered from their token


def _tracked_models() -> list[Any]:
    """moto's DynamoDB model classes that record their instances (`BaseModel.instances_tracked`)."""
    from moto.core.model_instances import model_data

    return [
        cls
        for cls in model_data.get("dynamodb", {}).values()
        if isinstance(getattr(cls, "instances_tracked", None), list)
    ]


@contextlib.contextmanager
def atomic_dynamodb_requests() -> Iterator[None]:
    """Re-entrant: nested stacks and fixtures share one patch and one lock."""
    from moto.dynamodb.responses import DynamoHandler

    def build(original: dict[str, Any]) -> dict[str, Any]:
        original_call, original_txn = original["call_action"], original["transact_write_items"]

        def call_action(self: Any) -> Any:
            with _lock:
                return original_call(self)

        def transact_write_items(self: Any) -> Any:
            token = (getattr(self, "body", None) or {}).get("ClientRequestToken")
            if token and token in _answered:
                replayed["transactions"] += 1
                return _answered[token]
            marks = [(cls, len(cls.instances_tracked)) for cls in _tracked_models()]
            try:
                result = original_txn(self)
            finally:
                for cls, n in marks:
                    del cls.instances_tracked[n:]
            if token:
                _answered[token] = result
            return result

        return {"call_action": call_action, "transact_write_items": transact_write_items}

    with _lock:
        _users["n"] += 1
    with patched(DynamoHandler, ("call_action", "transact_write_items"), build):
        try:
            yield
        finally:
            with _lock:
                _users["n"] -= 1
                if _users["n"] == 0:
                    _answered.clear()
