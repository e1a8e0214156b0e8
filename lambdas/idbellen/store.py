"""The single DynamoDB table: item layout, conditional writes, transactions, strongly consistent reads.

Every read treats an item whose `expires_at` has passed as absent, whatever DynamoDB's TTL sweeper
has done. Multi-item changes are transactions, so a failed step leaves no partial record behind.
Values are marshalled by hand (S, N, SS only) to keep boto3's resource layer off the cold start.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from idbellen import aws, clock
from idbellen.errors import Unavailable

SESSION = "SESSION#"
DTMF = "DTMF#"
SECRET = "SECRET#"
CONTACT = "CONTACT#"
RATE = "RATE#"
CALLBACK = "CALLBACK#"
MEMBER_FIELDS = ("dtmf_pk", "secret_pk", "contact_pk")


def _to_attr(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, set | frozenset):
        return {"SS": sorted(value)}
    return {"S": str(value)}


def _from_attr(attr: dict[str, Any]) -> Any:
    ((kind, value),) = attr.items()
    if kind == "N":
        return int(value) if value.lstrip("-").isdigit() else float(value)
    if kind == "SS":
        return set(value)
    if kind == "BOOL":
        return bool(value)
    return value


def attr(value: Any) -> dict[str, Any]:
    return _to_attr(value)


def marshal(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _to_attr(v) for k, v in item.items() if v is not None}


def unmarshal(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _from_attr(v) for k, v in raw.items()}


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _reasons(exc: Exception) -> list[str]:
    return [r.get("Code", "None") for r in getattr(exc, "response", {}).get("CancellationReasons", [])]


class ConditionFailed(Exception):
    """A conditional write or transaction did not apply; `reasons` per transaction item."""

    def __init__(self, reasons: list[str] | None = None) -> None:
        super().__init__("condition failed")
        self.reasons = reasons or []


@dataclass
class Store:
    """The table as one tenant sees it: an item stored with another tenant (its `tenant` attribute) is
    absent on every read, so no code path can act on another tenant's item, and the answer is exactly
    the one for an unknown item. `scoped=False` only to learn an item's tenant."""

    table: str
    tenant: str
    _client: Any = None
    scoped: bool = True

    @property
    def ddb(self) -> Any:
        if self._client is None:
            self._client = aws.client("dynamodb")
        return self._client

    # -- low level -----------------------------------------------------------------------------
    def _call(self, op: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.ddb, op)(TableName=self.table, **kwargs)
        except Exception as exc:
            code = _code(exc)
            if code == "ConditionalCheckFailedException":
                raise ConditionFailed(["ConditionalCheckFailed"]) from None
            raise Unavailable("table unavailable") from None

    def transact(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            ((_, body),) = item.items()
            body["TableName"] = self.table
        try:
            self.ddb.transact_write_items(TransactItems=items)
        except Exception as exc:
            if _code(exc) == "TransactionCanceledException":
                reasons = _reasons(exc)
                if any(r == "ConditionalCheckFailed" for r in reasons) or all(
                    r in ("None", "ConditionalCheckFailed", "TransactionConflict") for r in reasons
                ):
                    raise ConditionFailed(reasons) from None
            raise Unavailable("table unavailable") from None

    def mine(self, item: dict[str, Any] | None) -> dict[str, Any] | None:
        """Another tenant's item does not exist here."""
        if item is None or not self.scoped:
            return item
        owner = item.get("tenant")
        return item if owner is None or owner == self.tenant else None

    @staticmethod
    def live(item: dict[str, Any] | None, now: int | None = None) -> dict[str, Any] | None:
        """Read-time expiry: an item past `expires_at` does not exist."""
        if item is None:
            return None
        expires = item.get("expires_at")
        if not isinstance(expires, int) or expires <= (clock.now() if now is None else now):
            return None
        return item

    def get(self, pk: str, include_expired: bool = False, fields: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """Strongly consistent read; expired items are absent unless a deleter asks for them.
        `fields` projects the read, so a function that only deletes never receives ciphertexts."""
        kwargs: dict[str, Any] = {"Key": {"pk": {"S": pk}}, "ConsistentRead": True}
        if fields:
            wanted = dict.fromkeys(("pk", "expires_at", "tenant", *fields))
            names = {f"#f{i}": name for i, name in enumerate(wanted)}
            kwargs["ProjectionExpression"] = ", ".join(names)
            kwargs["ExpressionAttributeNames"] = names
        out = self._call("get_item", **kwargs)
        raw = out.get("Item")
        item = self.mine(unmarshal(raw) if raw else None)
        return item if include_expired else self.live(item)

    def get_many(self, pks: list[str]) -> dict[str, dict[str, Any]]:
        """One strongly consistent BatchGetItem; unprocessed keys are fetched again (bounded)."""
        found: dict[str, dict[str, Any]] = {}
        request = {self.table: {"Keys": [{"pk": {"S": pk}} for pk in dict.fromkeys(pks)], "ConsistentRead": True}}
        for _ in range(3):
            try:
                out = self.ddb.batch_get_item(RequestItems=request)
            except Exception:
                raise Unavailable("table unavailable") from None
            for raw in out.get("Responses", {}).get(self.table, []):
                item = self.live(self.mine(unmarshal(raw)))
                if item is not None:
                    found[item["pk"]] = item
            request = out.get("UnprocessedKeys") or {}
            if not request:
                return found
        raise Unavailable("table unavailable")

    def put_new(self, item: dict[str, Any]) -> None:
        self._call("put_item", Item=marshal(item), ConditionExpression="attribute_not_exists(pk)")

    def update(
        self,
        pk: str,
        expression: str,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        returns: str = "ALL_NEW",
    ) -> dict[str, Any]:
        """UpdateItem; by default returns the new item (write and read in one round trip). Callers
        that need nothing back pass `returns="NONE"`, so no item data reaches them."""
        kwargs: dict[str, Any] = {
            "Key": {"pk": {"S": pk}},
            "UpdateExpression": expression,
            "ReturnValues": returns,
        }
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = {k: _to_attr(v) for k, v in values.items()}
        out = self._call("update_item", **kwargs)
        return unmarshal(out.get("Attributes", {}))

    def delete_keys(self, pks: list[str]) -> int:
        """Delete a session's items, pointers first and the session item last, so an interrupted
        delete is finished by the next trigger (event retry, sweep). Returns how many existed."""
        deleted = 0
        for pk in dict.fromkeys(pks):
            if not pk:
                continue
            try:  # the condition tells us whether it existed without handing us its contents
                self._call("delete_item", Key={"pk": {"S": pk}}, ConditionExpression="attribute_exists(pk)")
            except ConditionFailed:
                continue
            deleted += 1
        return deleted

    def scan_expired(self, now: int) -> Iterator[dict[str, Any]]:
        """Items past `expires_at` (the table holds at most an hour of data, so a scan stays small)."""
        kwargs: dict[str, Any] = {
            "FilterExpression": "expires_at <= :now",
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
            "ProjectionExpression": "pk, expires_at, tenant",  # the sweep needs keys, never contents
            "ConsistentRead": True,
        }
        while True:
            out = self._call("scan", **kwargs)
            for raw in out.get("Items", []):
                yield unmarshal(raw)
            if "LastEvaluatedKey" not in out:
                return
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def delete_if_expired(self, pk: str, now: int) -> bool:
        try:
            self._call(
                "delete_item",
                Key={"pk": {"S": pk}},
                ConditionExpression="expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ConditionFailed:
            return False
        return True


def put_op(item: dict[str, Any], condition: str | None = "attribute_not_exists(pk)") -> dict[str, Any]:
    """A Put for `Store.transact`."""
    body: dict[str, Any] = {"Item": marshal(item)}
    if condition:
        body["ConditionExpression"] = condition
    return {"Put": body}


def update_op(
    pk: str,
    expression: str,
    condition: str | None = None,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An Update for `Store.transact`."""
    body: dict[str, Any] = {"Key": {"pk": {"S": pk}}, "UpdateExpression": expression}
    if condition:
        body["ConditionExpression"] = condition
    if names:
        body["ExpressionAttributeNames"] = names
    if values:
        body["ExpressionAttributeValues"] = {k: _to_attr(v) for k, v in values.items()}
    return {"Update": body}


def delete_op(pk: str) -> dict[str, Any]:
    return {"Delete": {"Key": {"pk": {"S": pk}}}}
