"""`ReturnValues=UPDATED_NEW` in the dev stack answers like DynamoDB.

DynamoDB's UpdateItem reference: "UPDATED_NEW - Returns only the updated attributes, as they appear
after the UpdateItem operation." The updated attributes are the ones the update expression acts on
(SET, REMOVE, ADD, DELETE), whether or not their value changed: a `DELETE` from a set that removes
nothing still returns the (unchanged) remaining set. moto 5 instead diffs the item before and after
(`DynamoHandler._build_updated_new_attributes` in moto/dynamodb/responses.py) and leaves out every
attribute whose value did not change, answering `{}` there.

Our segment accounting does not depend on either answer (it only reads UPDATED_NEW after a DELETE whose
condition guarantees it removed an element: idbellen.cleanup.end_segment), but code that would must not
pass on moto and fail on DynamoDB — so the dev stack makes moto follow the documented rule.
tests/integration/test_dynamodb_conformance.py checks this against moto with and without the patch.

Dev stack only: a real table needs none of this.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_lock = threading.Lock()
_depth = {"n": 0}


def updated_attribute_names(expression: str, names: dict[str, str]) -> set[str]:
    """The top-level attributes an update expression acts on (placeholders resolved)."""
    from moto.dynamodb.parsing.ast_nodes import (
        ExpressionAttribute,
        ExpressionAttributeName,
        UpdateExpressionAddAction,
        UpdateExpressionDeleteAction,
        UpdateExpressionRemoveAction,
        UpdateExpressionSetAction,
    )
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    tree = UpdateExpressionParser.make(expression)
    actions = tree.find_clauses(
        [
            UpdateExpressionSetAction,
            UpdateExpressionAddAction,
            UpdateExpressionDeleteAction,
            UpdateExpressionRemoveAction,
        ]
    )
    found: set[str] = set()
    for action in actions:
        first = action.children[0].children[0]
        if isinstance(first, ExpressionAttributeName):
            found.add(names.get(first.get_attribute_name_placeholder(), ""))
        elif isinstance(first, ExpressionAttribute):
            found.add(first.get_attribute_name())
    return found


@contextlib.contextmanager
def updated_new_like_dynamodb() -> Iterator[None]:
    """Re-entrant, like devstack.moto_atomic: nested stacks share one patch."""
    from moto.dynamodb.responses import DynamoHandler

    with _lock:
        if _depth["n"] == 0:
            original = DynamoHandler._build_updated_new_attributes

            def build(self: Any, before: Any, after: Any) -> Any:
                body = getattr(self, "body", None) or {}
                expression = body.get("UpdateExpression")
                if not expression or not isinstance(after, dict):
                    return original(self, before, after)
                targets = updated_attribute_names(expression, body.get("ExpressionAttributeNames") or {})
                return {name: value for name, value in after.items() if name in targets}

            build.original = original  # type: ignore[attr-defined]
            DynamoHandler._build_updated_new_attributes = build  # type: ignore[method-assign]
        _depth["n"] += 1
    try:
        yield
    finally:
        with _lock:
            _depth["n"] -= 1
            if _depth["n"] == 0:
                DynamoHandler._build_updated_new_attributes = DynamoHandler._build_updated_new_attributes.original  # type: ignore[attr-defined,method-assign]
