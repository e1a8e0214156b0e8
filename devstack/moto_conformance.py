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

Unused expression attribute names and values are refused like DynamoDB refuses them. DynamoDB answers a
request whose `ExpressionAttributeValues` or `ExpressionAttributeNames` hold a key that none of the
request's expressions uses with a `ValidationException` ("Value provided in ExpressionAttributeValues
unused in expressions: keys: {:x}", "Value provided in ExpressionAttributeNames unused in expressions:
keys: {#x}"); the Developer Guide's "Using expression attribute values in DynamoDB" (Expressions.
ExpressionAttributeValues) says a defined value must be used consistently throughout the expression. moto 5
accepts such a request silently, so a condition whose value we pass but whose text dropped it (a dead
condition) would pass on the dev stack and fail in production. `unused_placeholders` does the check for
every single-item request and every item of a transaction.

Dev stack only: a real table needs none of this.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from devstack.moto_patch import patched


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


EXPRESSION_FIELDS = (
    "UpdateExpression",
    "ConditionExpression",
    "ProjectionExpression",
    "FilterExpression",
    "KeyConditionExpression",
)
_NAME = re.compile(r"#[A-Za-z0-9_]+")
_VALUE = re.compile(r":[A-Za-z0-9_]+")


def unused_placeholders(request: dict[str, Any]) -> str | None:
    """DynamoDB's message for the first kind of unused placeholder in one request (or one transaction
    item), or None when every name and value key appears in one of its expressions."""
    text = " ".join(str(request.get(f) or "") for f in EXPRESSION_FIELDS)
    for kind, field_name, pattern in (
        ("Values", "ExpressionAttributeValues", _VALUE),
        ("Names", "ExpressionAttributeNames", _NAME),
    ):
        unused = sorted(set(request.get(field_name) or {}) - set(pattern.findall(text)))
        if unused:
            return f"Value provided in ExpressionAttribute{kind} unused in expressions: keys: {{{', '.join(unused)}}}"
    return None


_CHECKED_ACTIONS = ("put_item", "get_item", "delete_item", "update_item", "query", "scan", "transact_write_items")


@contextlib.contextmanager
def unused_placeholders_refused() -> Iterator[None]:
    """Re-entrant: nested stacks share one patch."""
    from moto.dynamodb.exceptions import MockValidationException
    from moto.dynamodb.responses import DynamoHandler

    def check(action: str, original: Any) -> Any:
        def checked(self: Any) -> Any:
            body = getattr(self, "body", None) or {}
            requests = (
                [next(iter(t.values())) for t in body.get("TransactItems", [])]
                if action == "transact_write_items"
                else [body]
            )
            for request in requests:
                message = unused_placeholders(request)
                if message:
                    raise MockValidationException(message)
            return original(self)

        return checked

    with patched(DynamoHandler, _CHECKED_ACTIONS, lambda original: {a: check(a, f) for a, f in original.items()}):
        yield


@contextlib.contextmanager
def updated_new_like_dynamodb() -> Iterator[None]:
    """Re-entrant, like devstack.moto_atomic: nested stacks share one patch."""
    from moto.dynamodb.responses import DynamoHandler

    def build(original: dict[str, Any]) -> dict[str, Any]:
        moto_build = original["_build_updated_new_attributes"]

        def updated_new(self: Any, before: Any, after: Any) -> Any:
            body = getattr(self, "body", None) or {}
            expression = body.get("UpdateExpression")
            if not expression or not isinstance(after, dict):
                return moto_build(self, before, after)
            targets = updated_attribute_names(expression, body.get("ExpressionAttributeNames") or {})
            return {name: value for name, value in after.items() if name in targets}

        return {"_build_updated_new_attributes": updated_new}

    with patched(DynamoHandler, ("_build_updated_new_attributes",), build):
        yield


# -- KMS: a disabled key cannot be used ----------------------------------------------------------------
# AWS KMS refuses Encrypt/Decrypt/GenerateDataKey with a key that is not enabled (`DisabledException`
# for a disabled key, `KMSInvalidStateException` while pending deletion): that is what makes disabling a
# tenant's key crypto-shred that tenant. moto 5 encrypts and decrypts with a disabled key as usual, so
# the dev stack makes it refuse, as KMS does (tests/tenancy: a disabled tenant key fails closed).


def _usable(backend: Any, key_id: str) -> None:
    from moto.core.exceptions import JsonRESTError

    key = backend.keys.get(backend.any_id_to_key_id(key_id)) if key_id else None
    if key is None:
        return
    if key.key_state == "Disabled":
        raise JsonRESTError("DisabledException", f"{key.arn} is disabled.")
    if key.key_state != "Enabled":
        raise JsonRESTError("KMSInvalidStateException", f"{key.arn} is {key.key_state}.")


@contextlib.contextmanager
def kms_key_state_like_aws() -> Iterator[None]:
    """Re-entrant: nested stacks share one patch."""
    from moto.kms.models import KmsBackend
    from moto.kms.utils import decrypt as decrypt_blob

    def build(original: dict[str, Any]) -> dict[str, Any]:
        encrypt_original, decrypt_original = original["encrypt"], original["decrypt"]

        def encrypt(self: Any, key_id: str, *args: Any, **kwargs: Any) -> Any:
            _usable(self, key_id)
            return encrypt_original(self, key_id, *args, **kwargs)

        def decrypt(self: Any, ciphertext_blob: bytes, encryption_context: Any, key_id: Any = None) -> Any:
            _, actual = decrypt_blob(
                master_keys=self.keys, ciphertext_blob=ciphertext_blob, encryption_context=encryption_context
            )
            _usable(self, actual)
            return decrypt_original(self, ciphertext_blob, encryption_context, key_id)

        return {"encrypt": encrypt, "decrypt": decrypt}

    with patched(KmsBackend, ("encrypt", "decrypt"), build):
        yield
