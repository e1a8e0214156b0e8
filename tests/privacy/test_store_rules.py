"""The store's reads and conditions, request by request, against a recording stand-in for the DynamoDB client
(fast; part of `make mutate`'s store group). The integration suite proves the same store against moto; these
tests pin what each method *sends* (consistent reads, the projection that keeps ciphertexts from a deleter,
the conditions) and how it maps each answer and error, which moto cannot show request by request.
"""

from __future__ import annotations

from typing import Any

import pytest
from idbellen import clock, store
from idbellen.errors import Unavailable
from idbellen.store import ConditionFailed, Store

NOW = 1_900_000_000


class ClientError(Exception):
    """botocore's shape: `response["Error"]["Code"]`, and the transaction's `CancellationReasons`."""

    def __init__(self, code: str, reasons: list[dict[str, str]] | None = None) -> None:
        super().__init__(code)
        self.response: dict[str, Any] = {"Error": {"Code": code}}
        if reasons is not None:
            self.response["CancellationReasons"] = reasons


class FakeDdb:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, list[Any]] = {}

    def answer(self, op: str, *answers: Any) -> None:
        self.answers.setdefault(op, []).extend(answers)

    def __getattr__(self, op: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append((op, kwargs))
            queued = self.answers.get(op) or [{}]
            answer = queued.pop(0) if len(queued) > 1 else queued[0]
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


@pytest.fixture
def ddb() -> FakeDdb:
    clock.use(lambda: NOW)
    yield FakeDdb()
    clock.use(None)


def _store(ddb: FakeDdb) -> Store:
    return Store("tbl", "default", ddb)


def _raw(**fields: Any) -> dict[str, Any]:
    return store.marshal(fields)


# -- marshalling ---------------------------------------------------------------------------------------------
def test_values_marshal_to_the_attribute_types_we_use_and_back() -> None:
    item = {"s": "x", "n": 5, "f": 1.5, "neg": -3, "b": True, "ss": {"b", "a"}, "none": None}
    raw = store.marshal(item)
    assert raw == {
        "s": {"S": "x"},
        "n": {"N": "5"},
        "f": {"N": "1.5"},
        "neg": {"N": "-3"},
        "b": {"BOOL": True},
        "ss": {"SS": ["a", "b"]},
    }
    assert store.unmarshal(raw) == {k: v for k, v in item.items() if v is not None}
    assert isinstance(store.unmarshal(raw)["n"], int) and isinstance(store.unmarshal(raw)["neg"], int)
    assert store.unmarshal({"f": {"N": "2.0"}})["f"] == 2.0
    assert store.unmarshal({"b": {"BOOL": False}})["b"] is False
    assert store.attr(frozenset({"z"})) == {"SS": ["z"]}
    assert store.attr(7) == {"N": "7"}


# -- reads ---------------------------------------------------------------------------------------------------
def test_get_is_consistent_and_treats_an_expired_item_as_absent(ddb: FakeDdb) -> None:
    s = _store(ddb)
    ddb.answer("get_item", {"Item": _raw(pk="SESSION#a", expires_at=NOW + 1)})
    assert s.get("SESSION#a") == {"pk": "SESSION#a", "expires_at": NOW + 1}
    assert ddb.calls[-1] == (
        "get_item",
        {"TableName": "tbl", "Key": {"pk": {"S": "SESSION#a"}}, "ConsistentRead": True},
    )
    ddb.answers["get_item"] = [{"Item": _raw(pk="SESSION#a", expires_at=NOW)}]
    assert s.get("SESSION#a") is None
    assert s.get("SESSION#a", include_expired=True) == {"pk": "SESSION#a", "expires_at": NOW}
    ddb.answers["get_item"] = [{}]
    assert s.get("SESSION#a") is None
    assert s.get("SESSION#a", include_expired=True) is None


def test_get_with_fields_projects_the_read_so_a_deleter_never_receives_ciphertexts(ddb: FakeDdb) -> None:
    s = _store(ddb)
    ddb.answer("get_item", {"Item": _raw(pk="CONTACT#c", expires_at=NOW + 5, session_pk="SESSION#s")})
    assert s.get("CONTACT#c", fields=("session_pk", "pk", "dtmf_pk"))["session_pk"] == "SESSION#s"
    assert ddb.calls[-1][1] == {
        "TableName": "tbl",
        "Key": {"pk": {"S": "CONTACT#c"}},
        "ConsistentRead": True,
        "ProjectionExpression": "#f0, #f1, #f2, #f3, #f4",
        "ExpressionAttributeNames": {
            "#f0": "pk",
            "#f1": "expires_at",
            "#f2": "tenant",
            "#f3": "session_pk",
            "#f4": "dtmf_pk",
        },
    }


def test_an_item_without_a_whole_number_expiry_is_absent() -> None:
    assert Store.live({"pk": "x"}, now=NOW) is None
    assert Store.live({"pk": "x", "expires_at": "1900000001"}, now=NOW) is None
    assert Store.live({"pk": "x", "expires_at": NOW + 1}, now=NOW) is not None
    assert Store.live({"pk": "x", "expires_at": NOW}, now=NOW) is None
    assert Store.live(None, now=NOW) is None


def test_get_many_reads_each_key_once_consistently_and_drops_expired_items(ddb: FakeDdb) -> None:
    s = _store(ddb)
    ddb.answer(
        "batch_get_item",
        {
            "Responses": {
                "tbl": [_raw(pk="A", expires_at=NOW + 1), _raw(pk="B", expires_at=NOW)],
                "other": [_raw(pk="C", expires_at=NOW + 9)],
            }
        },
    )
    assert s.get_many(["A", "B", "A", "D"]) == {"A": {"pk": "A", "expires_at": NOW + 1}}
    assert ddb.calls == [
        (
            "batch_get_item",
            {
                "RequestItems": {
                    "tbl": {
                        "Keys": [{"pk": {"S": "A"}}, {"pk": {"S": "B"}}, {"pk": {"S": "D"}}],
                        "ConsistentRead": True,
                    }
                }
            },
        )
    ]


def test_get_many_fetches_unprocessed_keys_again_and_gives_up_after_three_rounds(ddb: FakeDdb) -> None:
    s = _store(ddb)
    rest = {"tbl": {"Keys": [{"pk": {"S": "B"}}], "ConsistentRead": True}}
    ddb.answer(
        "batch_get_item",
        {"Responses": {"tbl": [_raw(pk="A", expires_at=NOW + 1)]}, "UnprocessedKeys": rest},
        {"Responses": {"tbl": [_raw(pk="B", expires_at=NOW + 1)]}, "UnprocessedKeys": {}},
    )
    assert set(s.get_many(["A", "B"])) == {"A", "B"}
    assert [c[1]["RequestItems"] for c in ddb.calls][1] == rest
    stuck = FakeDdb()
    stuck.answer("batch_get_item", {"Responses": {}, "UnprocessedKeys": rest})
    with pytest.raises(Unavailable):
        _store(stuck).get_many(["B"])
    assert len(stuck.calls) == 3
    broken = FakeDdb()
    broken.answer("batch_get_item", ClientError("InternalServerError"))
    with pytest.raises(Unavailable, match=r"^table unavailable$"):
        _store(broken).get_many(["B"])
    with pytest.raises(Unavailable, match=r"^table unavailable$"):
        _store(stuck).get_many(["B"])
    empty = FakeDdb()
    empty.answer("batch_get_item", {})  # no Responses member at all
    assert _store(empty).get_many(["B"]) == {}


def test_scan_expired_asks_for_keys_only_and_follows_every_page(ddb: FakeDdb) -> None:
    s = _store(ddb)
    ddb.answer(
        "scan",
        {"Items": [_raw(pk="A", expires_at=NOW - 1)], "LastEvaluatedKey": {"pk": {"S": "A"}}},
        {"Items": [_raw(pk="B", expires_at=NOW)]},
    )
    assert [i["pk"] for i in s.scan_expired(NOW)] == ["A", "B"]
    first, second = (c[1] for c in ddb.calls)
    assert first == {
        "TableName": "tbl",
        "FilterExpression": "expires_at <= :now",
        "ExpressionAttributeValues": {":now": {"N": str(NOW)}},
        "ProjectionExpression": "pk, expires_at, tenant",
        "ConsistentRead": True,
    }
    assert second == {**first, "ExclusiveStartKey": {"pk": {"S": "A"}}}
    empty = FakeDdb()
    empty.answer("scan", {})  # no Items member
    assert list(_store(empty).scan_expired(NOW)) == []


# -- writes and their conditions -----------------------------------------------------------------------------
def test_put_new_never_overwrites(ddb: FakeDdb) -> None:
    _store(ddb).put_new({"pk": "DTMF#x", "expires_at": NOW + 1, "gone": None})
    assert ddb.calls == [
        (
            "put_item",
            {
                "TableName": "tbl",
                "Item": {"pk": {"S": "DTMF#x"}, "expires_at": {"N": str(NOW + 1)}},
                "ConditionExpression": "attribute_not_exists(pk)",
            },
        )
    ]


def test_update_sends_its_condition_names_and_values_and_returns_the_new_item(ddb: FakeDdb) -> None:
    s = _store(ddb)
    ddb.answer("update_item", {"Attributes": _raw(pk="S", status="DISCLOSED")})
    out = s.update("S", "SET #s = :v", "#s = :p", names={"#s": "status"}, values={":v": "DISCLOSED", ":p": 1})
    assert out == {"pk": "S", "status": "DISCLOSED"}
    assert ddb.calls[-1] == (
        "update_item",
        {
            "TableName": "tbl",
            "Key": {"pk": {"S": "S"}},
            "UpdateExpression": "SET #s = :v",
            "ReturnValues": "ALL_NEW",
            "ConditionExpression": "#s = :p",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":v": {"S": "DISCLOSED"}, ":p": {"N": "1"}},
        },
    )
    ddb.answers["update_item"] = [{}]
    assert s.update("S", "SET a = b", returns="NONE") == {}
    assert ddb.calls[-1][1] == {
        "TableName": "tbl",
        "Key": {"pk": {"S": "S"}},
        "UpdateExpression": "SET a = b",
        "ReturnValues": "NONE",
    }


def test_a_failed_condition_is_condition_failed_and_anything_else_unavailable(ddb: FakeDdb) -> None:
    s = _store(ddb)
    ddb.answer("update_item", ClientError("ConditionalCheckFailedException"))
    with pytest.raises(ConditionFailed) as caught:
        s.update("S", "SET a = :a", values={":a": 1})
    assert caught.value.reasons == ["ConditionalCheckFailed"]
    assert str(caught.value) == "condition failed"
    for code in ("ValidationException", "ProvisionedThroughputExceededException", ""):
        ddb.answers["update_item"] = [ClientError(code)]
        with pytest.raises(Unavailable, match=r"^table unavailable$"):
            s.update("S", "SET a = :a", values={":a": 1})
    ddb.answers["update_item"] = [RuntimeError("no response attribute")]
    with pytest.raises(Unavailable):
        s.update("S", "SET a = :a", values={":a": 1})
    assert ConditionFailed().reasons == []


def test_delete_keys_deletes_each_existing_key_once_in_order_and_counts_them(ddb: FakeDdb) -> None:
    s = _store(ddb)
    ddb.answer("delete_item", {}, ClientError("ConditionalCheckFailedException"), {})
    assert s.delete_keys(["SECRET#a", "", "DTMF#b", "SECRET#a", "SESSION#c"]) == 2
    assert [c[1]["Key"]["pk"]["S"] for c in ddb.calls] == ["SECRET#a", "DTMF#b", "SESSION#c"]
    assert all(c[1]["ConditionExpression"] == "attribute_exists(pk)" for c in ddb.calls)
    broken = FakeDdb()
    broken.answer("delete_item", ClientError("InternalServerError"))
    with pytest.raises(Unavailable):
        _store(broken).delete_keys(["SESSION#c"])


def test_delete_if_expired_deletes_only_an_expired_item(ddb: FakeDdb) -> None:
    s = _store(ddb)
    assert s.delete_if_expired("RATE#x", NOW) is True
    assert ddb.calls[-1][1] == {
        "TableName": "tbl",
        "Key": {"pk": {"S": "RATE#x"}},
        "ConditionExpression": "expires_at <= :now",
        "ExpressionAttributeValues": {":now": {"N": str(NOW)}},
    }
    ddb.answers["delete_item"] = [ClientError("ConditionalCheckFailedException")]
    assert s.delete_if_expired("RATE#x", NOW) is False


# -- transactions --------------------------------------------------------------------------------------------
def test_transaction_items_name_the_table_and_carry_their_conditions(ddb: FakeDdb) -> None:
    ops = [
        store.put_op({"pk": "A", "n": 1}),
        store.put_op({"pk": "B"}, condition=None),
        store.update_op("C", "SET #s = :v", "#s = :p", {"#s": "status"}, {":v": "X", ":p": "P"}),
        store.update_op("D", "REMOVE x"),
        store.delete_op("E"),
    ]
    _store(ddb).transact(ops)
    assert ddb.calls == [
        (
            "transact_write_items",
            {
                "TransactItems": [
                    {
                        "Put": {
                            "Item": {"pk": {"S": "A"}, "n": {"N": "1"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "TableName": "tbl",
                        }
                    },
                    {"Put": {"Item": {"pk": {"S": "B"}}, "TableName": "tbl"}},
                    {
                        "Update": {
                            "Key": {"pk": {"S": "C"}},
                            "UpdateExpression": "SET #s = :v",
                            "ConditionExpression": "#s = :p",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": {":v": {"S": "X"}, ":p": {"S": "P"}},
                            "TableName": "tbl",
                        }
                    },
                    {"Update": {"Key": {"pk": {"S": "D"}}, "UpdateExpression": "REMOVE x", "TableName": "tbl"}},
                    {"Delete": {"Key": {"pk": {"S": "E"}}, "TableName": "tbl"}},
                ]
            },
        )
    ]


@pytest.mark.parametrize(
    ("reasons", "outcome"),
    [
        (["None", "ConditionalCheckFailed"], ["None", "ConditionalCheckFailed"]),
        (["ConditionalCheckFailed", "ThrottlingError"], ["ConditionalCheckFailed", "ThrottlingError"]),
        (["TransactionConflict", "None"], ["TransactionConflict", "None"]),
        (["None", "ThrottlingError"], Unavailable),
        (["ValidationError"], Unavailable),
    ],
)
def test_a_cancelled_transaction_is_a_condition_failure_only_for_conflicts_and_conditions(
    ddb: FakeDdb, reasons: list[str], outcome: Any
) -> None:
    error = ClientError("TransactionCanceledException", [{"Code": r} for r in reasons])
    ddb.answer("transact_write_items", error)
    if outcome is Unavailable:
        with pytest.raises(Unavailable, match=r"^table unavailable$"):
            _store(ddb).transact([store.delete_op("A")])
    else:
        with pytest.raises(ConditionFailed) as caught:
            _store(ddb).transact([store.delete_op("A")])
        assert caught.value.reasons == outcome


def test_a_reason_without_a_code_counts_as_none_and_other_transaction_errors_are_unavailable(ddb: FakeDdb) -> None:
    error = ClientError("TransactionCanceledException", [{"Message": "x"}, {"Code": "ConditionalCheckFailed"}])
    ddb.answer("transact_write_items", error)
    with pytest.raises(ConditionFailed) as caught:
        _store(ddb).transact([store.delete_op("A")])
    assert caught.value.reasons == ["None", "ConditionalCheckFailed"]
    for other in (ClientError("InternalServerError"), ClientError("TransactionCanceledException"), ValueError()):
        broken = FakeDdb()
        broken.answer("transact_write_items", other)
        if isinstance(other, ClientError) and other.response["Error"]["Code"] == "TransactionCanceledException":
            with pytest.raises(ConditionFailed) as empty:  # no reasons at all: all() of nothing holds
                _store(broken).transact([store.delete_op("A")])
            assert empty.value.reasons == []
            continue
        with pytest.raises(Unavailable):
            _store(broken).transact([store.delete_op("A")])


def test_the_client_is_built_once_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    fake = FakeDdb()
    monkeypatch.setattr(store.aws, "client", lambda name: built.append(name) or fake)
    s = Store("tbl", "default")
    assert s.ddb is fake and s.ddb is fake
    assert built == ["dynamodb"]


def test_another_tenants_item_does_not_exist_for_a_scoped_store() -> None:
    scoped, unscoped = Store("tbl", "default"), Store("tbl", "default", scoped=False)
    own, other, legacy = {"pk": "a", "tenant": "default"}, {"pk": "b", "tenant": "demodorp"}, {"pk": "c"}
    assert scoped.mine(own) == own
    assert scoped.mine(other) is None
    assert scoped.mine(legacy) == legacy  # stored before tenancy: the default tenant's
    assert scoped.mine(None) is None
    assert unscoped.mine(other) == other
    assert unscoped.mine(None) is None


def test_a_get_of_another_tenants_item_is_absent_even_for_a_deleter(ddb: FakeDdb) -> None:
    ddb.answer("get_item", {"Item": _raw(pk="CONTACT#c", expires_at=NOW + 5, tenant="demodorp")})
    assert _store(ddb).get("CONTACT#c", include_expired=True) is None
