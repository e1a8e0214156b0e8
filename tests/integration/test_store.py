"""The store against moto's DynamoDB over HTTP: conditional writes, transactions, read-time expiry."""

from __future__ import annotations

import pytest
from idbellen import clock
from idbellen.store import ConditionFailed, Store, put_op, update_op

NOW = 1_900_000_000


@pytest.fixture
def store(aws, clean_table):
    clock.use(lambda: NOW)
    yield Store(aws["resources"].table, "default")
    clock.use(None)


def test_put_new_refuses_to_overwrite(store):
    store.put_new({"pk": "DTMF#a", "expires_at": NOW + 60})
    with pytest.raises(ConditionFailed):
        store.put_new({"pk": "DTMF#a", "expires_at": NOW + 60})


def test_reads_are_consistent_and_expired_items_absent(store):
    store.put_new({"pk": "SESSION#live", "expires_at": NOW + 1})
    store.put_new({"pk": "SESSION#dead", "expires_at": NOW})
    assert store.get("SESSION#live")["pk"] == "SESSION#live"
    assert store.get("SESSION#dead") is None
    assert store.get("SESSION#dead", include_expired=True) is not None
    assert set(store.get_many(["SESSION#live", "SESSION#dead", "SESSION#none"])) == {"SESSION#live"}


def test_a_failed_transaction_writes_nothing(store):
    store.put_new({"pk": "DTMF#taken", "expires_at": NOW + 60})
    with pytest.raises(ConditionFailed) as caught:
        store.transact(
            [
                put_op({"pk": "SESSION#new", "expires_at": NOW + 60}),
                put_op({"pk": "DTMF#taken", "expires_at": NOW + 60}),
            ]
        )
    assert "ConditionalCheckFailed" in caught.value.reasons
    assert store.get("SESSION#new") is None


def test_update_returns_the_new_item_and_honours_conditions(store):
    store.put_new({"pk": "SESSION#s", "status": "PENDING", "expires_at": NOW + 60})
    item = store.update(
        "SESSION#s", "SET #s = :v", "#s = :old", names={"#s": "status"}, values={":v": "DISCLOSED", ":old": "PENDING"}
    )
    assert item["status"] == "DISCLOSED"
    with pytest.raises(ConditionFailed):
        store.update(
            "SESSION#s", "SET #s = :v", "#s = :old", names={"#s": "status"}, values={":v": "X", ":old": "PENDING"}
        )
    store.transact([update_op("SESSION#s", "SET n = :n", "attribute_exists(pk)", values={":n": 1})])
    assert store.get("SESSION#s")["n"] == 1


def test_delete_keys_counts_what_existed_and_is_idempotent(store):
    store.put_new({"pk": "SECRET#a", "expires_at": NOW + 60})
    store.put_new({"pk": "SESSION#a", "expires_at": NOW + 60})
    assert store.delete_keys(["SECRET#a", "SESSION#a", "CONTACT#never"]) == 2
    assert store.delete_keys(["SECRET#a", "SESSION#a"]) == 0


def test_sweep_helpers_find_and_delete_only_expired_items(store):
    store.put_new({"pk": "RATE#old", "expires_at": NOW - 5})
    store.put_new({"pk": "RATE#new", "expires_at": NOW + 5})
    assert [i["pk"] for i in store.scan_expired(NOW)] == ["RATE#old"]
    assert store.delete_if_expired("RATE#new", NOW) is False
    assert store.delete_if_expired("RATE#old", NOW) is True
