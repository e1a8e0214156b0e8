"""The hand-written DynamoDB marshalling and read-time expiry."""

from __future__ import annotations

from idbellen import clock
from idbellen.store import Store, marshal, unmarshal


def test_marshal_roundtrip():
    item = {"pk": "SESSION#x", "n": 3, "segments": {"b", "a"}, "flag": True, "none": None}
    raw = marshal(item)
    assert raw["segments"] == {"SS": ["a", "b"]}
    assert "none" not in raw
    assert unmarshal(raw) == {"pk": "SESSION#x", "n": 3, "segments": {"a", "b"}, "flag": True}


def test_expired_items_are_absent_the_second_they_expire():
    now = 1_800_000_000
    clock.use(lambda: now)
    try:
        assert Store.live({"expires_at": now + 1}) is not None
        assert Store.live({"expires_at": now}) is None
        assert Store.live({"expires_at": now - 1}) is None
        assert Store.live({}) is None
        assert Store.live(None) is None
    finally:
        clock.use(None)
