"""Where our code relies on a DynamoDB rule, moto over HTTP must follow it (or the dev stack makes it).

The rules, from the DynamoDB API reference (UpdateItem) and developer guide (update expressions):
- UPDATED_NEW: "Returns only the updated attributes, as they appear after the UpdateItem operation."
  The updated attributes are the ones the expression acts on: a `DELETE` that removes nothing from a
  set still returns the remaining set. moto 5 diffs before/after instead and answers `{}` there
  (moto/dynamodb/responses.py `_build_updated_new_attributes`); devstack.moto_conformance fixes that.
- DELETE from a set: "removes the specified elements"; DynamoDB has no empty sets, so removing the last
  element removes the attribute — UPDATED_NEW then has nothing to return for it, on both.
- `contains(path, operand)` on a string set is true when the set holds the operand, false (not an
  error) when the attribute does not exist.

Segment accounting (idbellen.cleanup.end_segment) only reads UPDATED_NEW after a DELETE whose condition
guarantees it removed an element, so it answers the same with and without the patch: the last block
proves that by running it on plain moto and on the dev stack's moto.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from idbellen import clock
from idbellen.cleanup import end_segment, start_segment
from idbellen.config import Settings
from idbellen.store import Store
from idbellen.wiring import Services

from devstack.moto_conformance import (
    unused_placeholders,
    unused_placeholders_refused,
    updated_attribute_names,
    updated_new_like_dynamodb,
)

NOW = 1_900_000_000


@pytest.fixture(params=["moto", "dev stack"])
def mode(request: pytest.FixtureRequest, aws: dict[str, Any], clean_table: None) -> Iterator[str]:
    clock.use(lambda: NOW)
    if request.param == "dev stack":
        with updated_new_like_dynamodb(), unused_placeholders_refused():
            yield request.param
    else:
        yield request.param
    clock.use(None)


@pytest.fixture
def ddb(aws: dict[str, Any]) -> Any:
    return aws["session"].client("dynamodb")


@pytest.fixture
def table(aws: dict[str, Any]) -> str:
    return str(aws["resources"].table)


def _put(ddb: Any, table: str, pk: str, members: list[str]) -> None:
    item: dict[str, Any] = {"pk": {"S": pk}, "expires_at": {"N": str(NOW + 600)}}
    if members:
        item["segments"] = {"SS": members}
    ddb.put_item(TableName=table, Item=item)


def _delete(ddb: Any, table: str, pk: str, member: str) -> dict[str, Any]:
    out = ddb.update_item(
        TableName=table,
        Key={"pk": {"S": pk}},
        UpdateExpression="DELETE #s :m",
        ExpressionAttributeNames={"#s": "segments"},
        ExpressionAttributeValues={":m": {"SS": [member]}},
        ReturnValues="UPDATED_NEW",
    )
    return dict(out.get("Attributes", {}))


def test_updated_new_after_a_delete_that_removes_nothing(mode: str, ddb: Any, table: str) -> None:
    """DynamoDB returns the remaining set; plain moto answers {} (the difference issue 11 found)."""
    _put(ddb, table, "SESSION#a", ["x", "y"])
    answer = _delete(ddb, table, "SESSION#a", "z")
    if mode == "dev stack":
        assert answer == {"segments": {"SS": ["x", "y"]}}
    else:
        assert answer == {}, "moto changed: devstack.moto_conformance may no longer be needed"


def test_updated_new_after_a_delete_that_removes_an_element(mode: str, ddb: Any, table: str) -> None:
    _put(ddb, table, "SESSION#b", ["x", "y"])
    assert _delete(ddb, table, "SESSION#b", "x") == {"segments": {"SS": ["y"]}}


def test_deleting_the_last_element_removes_the_attribute(mode: str, ddb: Any, table: str) -> None:
    _put(ddb, table, "SESSION#c", ["x"])
    assert _delete(ddb, table, "SESSION#c", "x") == {}
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "SESSION#c"}}, ConsistentRead=True)["Item"]
    assert "segments" not in item


def test_updated_new_returns_only_the_named_attributes(mode: str, ddb: Any, table: str) -> None:
    _put(ddb, table, "SESSION#d", ["x"])
    out = ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "SESSION#d"}},
        UpdateExpression="SET #st = :v ADD #e :m",
        ExpressionAttributeNames={"#st": "status", "#e": "ended"},
        ExpressionAttributeValues={":v": {"S": "CONNECTED"}, ":m": {"SS": ["w"]}},
        ReturnValues="UPDATED_NEW",
    )
    assert out["Attributes"] == {"status": {"S": "CONNECTED"}, "ended": {"SS": ["w"]}}


def test_contains_on_a_missing_set_is_false_not_an_error(mode: str, ddb: Any, table: str) -> None:
    _put(ddb, table, "SESSION#e", [])
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "SESSION#e"}},
        UpdateExpression="ADD #s :m",
        ConditionExpression="NOT contains(#e, :id)",
        ExpressionAttributeNames={"#s": "segments", "#e": "ended"},
        ExpressionAttributeValues={":m": {"SS": ["x"]}, ":id": {"S": "x"}},
    )
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.update_item(
            TableName=table,
            Key={"pk": {"S": "SESSION#e"}},
            UpdateExpression="DELETE #s :m",
            ConditionExpression="contains(#e, :id)",
            ExpressionAttributeNames={"#s": "segments", "#e": "ended"},
            ExpressionAttributeValues={":m": {"SS": ["x"]}, ":id": {"S": "x"}},
        )


def test_updated_attribute_names_resolve_placeholders() -> None:
    expression = "SET #st = :v, agent_seen_at = if_not_exists(agent_seen_at, :n) ADD #s :c DELETE #e :d REMOVE x"
    names = {"#st": "status", "#s": "segments", "#e": "ended"}
    assert updated_attribute_names(expression, names) == {"status", "agent_seen_at", "segments", "ended", "x"}


# -- segment accounting answers the same on both --------------------------------------------------------
def _services(aws: dict[str, Any]) -> Services:
    settings = Settings(tenant="default", table=aws["resources"].table, hash_key_param="/x")
    svc = Services(settings)
    svc.__dict__["store"] = Store(settings.table, settings.tenant)
    return svc


def test_segment_accounting_is_the_same_on_moto_and_dynamodb_rules(mode: str, aws: dict[str, Any]) -> None:
    svc = _services(aws)
    _put(aws["session"].client("dynamodb"), aws["resources"].table, "SESSION#seg", ["first"])
    assert start_segment(svc, "SESSION#seg", "second") is True
    assert end_segment(svc, "SESSION#seg", "first") == {"second"}
    # a repeated end (events repeat) is not a live segment: nothing changes, whatever UPDATED_NEW says
    assert end_segment(svc, "SESSION#seg", "first") is None
    assert start_segment(svc, "SESSION#seg", "first") is False  # an ended segment never comes back
    assert end_segment(svc, "SESSION#seg", "unknown") is None
    assert end_segment(svc, "SESSION#seg", "second") == set()  # the last one: nothing left
    assert end_segment(svc, "SESSION#gone", "second") is None


# -- unused expression attribute names and values --------------------------------------------------------
# DynamoDB refuses a request whose ExpressionAttributeValues or ExpressionAttributeNames hold a key that no
# expression of the request uses: ValidationException "Value provided in ExpressionAttributeValues unused in
# expressions: keys: {:x}" (the Developer Guide, "Using expression attribute values in DynamoDB": a defined
# value must be used consistently throughout the expression). moto accepts it; the dev stack refuses it.
def _unused_value_requests(table: str) -> dict[str, Any]:
    """Requests moto 5.2 accepts although one of their expression attribute values is unused (moto itself
    checks UpdateItem and GetItem, not conditional puts, deletes or transaction items)."""
    values = {":n": {"N": "1"}, ":dead": {"S": "x"}}
    return {
        "put": lambda ddb: ddb.put_item(
            TableName=table,
            Item={"pk": {"S": "SESSION#new"}, "n": {"N": "1"}},
            ConditionExpression="attribute_not_exists(pk) OR n = :n",
            ExpressionAttributeValues=values,
        ),
        "transaction update": lambda ddb: ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "SESSION#u"}},
                        "UpdateExpression": "SET n = :n",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": values,
                    }
                }
            ]
        ),
        "transaction condition check": lambda ddb: ddb.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "SESSION#u"}},
                        "ConditionExpression": "attribute_exists(pk) AND n <> :n",
                        "ExpressionAttributeValues": values,
                    }
                }
            ]
        ),
    }


@pytest.mark.parametrize("which", ["put", "transaction update", "transaction condition check"])
def test_an_unused_expression_attribute_value_is_refused_like_dynamodb(
    mode: str, ddb: Any, table: str, which: str
) -> None:
    _put(ddb, table, "SESSION#u", ["a"])
    send = _unused_value_requests(table)[which]
    if mode == "moto":
        send(ddb)  # if moto starts refusing this, the dev stack's patch is redundant for it
        return
    with pytest.raises(ClientError) as caught:
        send(ddb)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].endswith("Value provided in ExpressionAttributeValues unused in expressions: keys: {:dead}")
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "SESSION#new"}}).get("Item") is None
    assert "n" not in ddb.get_item(TableName=table, Key={"pk": {"S": "SESSION#u"}})["Item"]


def test_a_used_value_passes_the_dev_stack_check(mode: str, ddb: Any, table: str) -> None:
    _put(ddb, table, "SESSION#u", ["a"])
    ddb.put_item(
        TableName=table,
        Item={"pk": {"S": "SESSION#new"}},
        ConditionExpression="attribute_not_exists(pk) OR n = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "SESSION#new"}})["Item"]


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ({"ConditionExpression": "a = :a", "ExpressionAttributeValues": {":a": 1}}, None),
        (
            {"ConditionExpression": "a = :a", "ExpressionAttributeValues": {":a": 1, ":ab": 2}},
            "Values unused: keys: {:ab}",
        ),
        (
            {"ConditionExpression": "a = :ab", "ExpressionAttributeValues": {":a": 1, ":ab": 2}},
            "Values unused: keys: {:a}",
        ),
        ({"ProjectionExpression": "#f0, #f1", "ExpressionAttributeNames": {"#f0": "pk", "#f1": "x"}}, None),
        (
            {
                "UpdateExpression": "SET x = :v",
                "ConditionExpression": "#s = :p",
                "ExpressionAttributeNames": {"#s": "s"},
                "ExpressionAttributeValues": {":v": 1, ":p": 2},
            },
            None,
        ),
        ({"ExpressionAttributeNames": {"#s": "s"}}, "Names unused: keys: {#s}"),
    ],
)
def test_unused_placeholders_matches_whole_tokens(request_: dict[str, Any], expected: str | None) -> None:
    message = unused_placeholders(request_)
    if expected is None:
        assert message is None
    else:
        kind, _, keys = expected.partition(" unused: ")
        assert message == f"Value provided in ExpressionAttribute{kind} unused in expressions: {keys}"
