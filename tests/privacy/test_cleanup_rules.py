"""Deletion, trigger by trigger (the fast tests of `make mutate`'s cleanup group).

`tests/e2e/test_id_call.py` and `test_privacy_expiry.py` prove deletion on the dev stack; these pin, against
a recording store and in milliseconds, which keys each trigger deletes and in which order, the segment
updates, what reaches the processing log and the metrics, the blanking of the contact's secret, the
sweep, and how a contact event's ids are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from idbellen import cleanup
from idbellen.store import ConditionFailed

NOW = 5_000
SESSION = "SESSION#s1"
FULL = {
    "dtmf_pk": "DTMF#d1",
    "secret_pk": "SECRET#x1",
    "contact_pk": "CONTACT#c1",
    "created_at": NOW - 300,
    "purpose": "demo",
}


class Store:
    def __init__(self, items: dict[str, dict[str, Any]] | None = None, existing: int | None = None) -> None:
        self.items = dict(items or {})
        self.existing = existing
        self.gets: list[tuple[str, dict[str, Any]]] = []
        self.deleted: list[list[str]] = []
        self.updates: list[tuple[Any, ...]] = []
        self.update_answer: dict[str, Any] | Exception = {}
        self.expired_deleted: list[tuple[str, int]] = []

    def get(self, pk: str, **kwargs: Any) -> dict[str, Any] | None:
        self.gets.append((pk, kwargs))
        return self.items.get(pk)

    def delete_keys(self, pks: list[str]) -> int:
        self.deleted.append(pks)
        return len(pks) if self.existing is None else self.existing

    def update(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.updates.append((args, kwargs))
        if isinstance(self.update_answer, Exception):
            raise self.update_answer
        return self.update_answer

    def scan_expired(self, now: int) -> list[dict[str, Any]]:
        assert now == NOW
        return [{"pk": pk} for pk in self.items]

    def delete_if_expired(self, pk: str, now: int) -> bool:
        self.expired_deleted.append((pk, now))
        return pk != "RATE#gone"


class Contacts:
    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure
        self.blanked: list[str] = []

    def blank_secret(self, initial_contact_id: str) -> None:
        self.blanked.append(initial_contact_id)
        if self.failure:
            raise self.failure


@dataclass
class Settings:
    tenant: str = "gemeente-a"
    blank_secret: bool = True


@dataclass
class Svc:
    store: Store
    settings: Settings = field(default_factory=Settings)
    contacts: Contacts | None = field(default_factory=Contacts)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"count": [], "count_by": [], "audit": [], "log": []}
    monkeypatch.setattr(cleanup, "count", lambda *a, **k: seen["count"].append(a))
    monkeypatch.setattr(cleanup, "count_by", lambda *a, **k: seen["count_by"].append((a, k)))
    monkeypatch.setattr(cleanup.audit, "record", lambda *a, **k: seen["audit"].append((a, k)))
    monkeypatch.setattr(cleanup.clock, "now", lambda: NOW)

    class Log:
        def warning(self, *a: Any, **k: Any) -> None:
            seen["log"].append((a, k))

    monkeypatch.setattr(cleanup, "logger", Log())
    return seen


# --- delete_session -----------------------------------------------------------------------------------


def test_a_session_goes_secret_first_then_pointers_session_and_entry_last(seen: Any) -> None:
    store = Store({SESSION: {**FULL, "agent_seen_at": NOW - 10}})
    svc = Svc(store)
    assert cleanup.delete_session(svc, SESSION, "completed", ["CONTACT#c1"], "agent-7") == 4
    assert store.gets == [
        (
            SESSION,
            {
                "include_expired": True,
                "fields": ("dtmf_pk", "secret_pk", "contact_pk", "created_at", "purpose", "agent_seen_at"),
            },
        )
    ]
    assert store.deleted == [["SECRET#x1", "DTMF#d1", SESSION, "CONTACT#c1"]]
    assert svc.contacts.blanked == ["c1"]  # type: ignore[union-attr]
    assert seen["audit"] == [
        (
            ("deleted", "gemeente-a", SESSION),
            {"reason": "completed", "items_deleted": 4, "agent_id": "agent-7", "purpose": "demo", "age_seconds": 300},
        )
    ]
    assert seen["count"] == [
        ("SecretsBlanked",),
        ("SessionsDeleted",),
        ("SessionsDeletedCompleted",),
        ("RecordAgeAtDeletion", 300, "Seconds"),
        ("RecordsDeleted", 4),
        ("SessionsShown",),
    ]
    assert seen["count_by"] == [
        (("SessionsDeleted",), {"reason": "completed"}),
        (("RecordAgeAtDeletion", 300, "Seconds"), {"reason": "completed"}),
        (("SessionsShown",), {"purpose": "demo"}),
    ]


def test_a_session_without_pointers_or_times(seen: Any) -> None:
    store = Store({SESSION: {"purpose": "demo", "dtmf_pk": ""}}, existing=0)
    assert cleanup.delete_session(Svc(store), SESSION, "hung_up") == 0
    assert store.deleted == [[SESSION]]
    assert seen["audit"][0][1] == {
        "reason": "hung_up",
        "items_deleted": 0,
        "agent_id": None,
        "purpose": "demo",
        "age_seconds": 0,
    }
    assert seen["count"] == [
        ("SessionsDeleted",),
        ("SessionsDeletedHungUp",),
        ("RecordAgeAtDeletion", 0, "Seconds"),
    ]


def test_a_deletion_already_finished_records_nothing(seen: Any) -> None:
    store = Store(existing=0)
    assert cleanup.delete_session(Svc(store), SESSION, "expired", ["SECRET#x1"]) == 0
    assert store.deleted == [[SESSION, "SECRET#x1"]]
    assert seen["audit"] == [] and seen["count"] == []


def test_an_interrupted_deletion_is_finished_from_its_entry_point(seen: Any) -> None:
    store = Store(existing=1)
    svc = Svc(store)
    assert cleanup.delete_session(svc, SESSION, "completed", ["CONTACT#c9", "SECRET#x1"]) == 1
    assert svc.contacts.blanked == ["c9"]  # type: ignore[union-attr]
    assert seen["audit"] == [
        (
            ("deleted", "gemeente-a", SESSION),
            {"reason": "completed", "items_deleted": 1, "agent_id": None, "outcome": "finished"},
        )
    ]
    assert seen["count"] == [
        ("SecretsBlanked",),
        ("SessionsDeleted",),
        ("SessionsDeletedCompleted",),
        ("RecordsDeleted", 1),
    ]


def test_an_entry_that_is_also_a_member_is_deleted_last_once(seen: Any) -> None:
    store = Store({SESSION: FULL})
    cleanup.delete_session(Svc(store), SESSION, "cleared", ["SECRET#x1"])
    assert store.deleted == [["DTMF#d1", "CONTACT#c1", SESSION, "SECRET#x1"]]


# --- blanking the contact's secret ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("svc_kwargs", "contact"),
    [({"settings": Settings(blank_secret=False)}, "c1"), ({"contacts": None}, "c1"), ({}, "")],
)
def test_nothing_is_blanked_when_it_is_off_without_connect_or_without_a_contact(
    svc_kwargs: dict[str, Any], contact: str, seen: Any
) -> None:
    svc = Svc(Store(), **svc_kwargs)
    cleanup.blank_contact_secret(svc, contact)
    assert seen["count"] == []
    if svc.contacts is not None:
        assert svc.contacts.blanked == []


def test_a_failed_blank_is_counted_and_logged_without_its_text(seen: Any) -> None:
    svc = Svc(Store(), contacts=Contacts(RuntimeError("secret text")))
    cleanup.blank_contact_secret(svc, "c1")
    assert seen["count"] == [("SecretBlankFailures",)]
    assert seen["log"] == [
        (
            ("could not blank the contact's session_secret attribute",),
            {"extra": {"error_type": "RuntimeError", "error_code": "unexpected"}},
        )
    ]


# --- segments ----------------------------------------------------------------------------------------


def test_end_segment_moves_the_contact_to_ended_and_returns_the_rest(seen: Any) -> None:
    store = Store()
    store.update_answer = {"segments": {"c2", "c3"}}
    assert cleanup.end_segment(Svc(store), SESSION, "c1") == {"c2", "c3"}
    assert store.updates == [
        (
            (SESSION, "DELETE #segments :c ADD #ended :c", "attribute_exists(pk) AND contains(#segments, :cid)"),
            {
                "names": {"#segments": "segments", "#ended": "ended"},
                "values": {":c": {"c1"}, ":cid": "c1"},
                "returns": "UPDATED_NEW",
            },
        )
    ]


@pytest.mark.parametrize(("answer", "rest"), [({}, set()), ({"segments": ["c2"]}, set()), ({"segments": set()}, set())])
def test_end_segment_of_the_last_one_returns_an_empty_set(answer: Any, rest: Any, seen: Any) -> None:
    store = Store()
    store.update_answer = answer
    assert cleanup.end_segment(Svc(store), SESSION, "c1") == rest


def test_end_segment_of_a_segment_not_live_returns_none(seen: Any) -> None:
    store = Store()
    store.update_answer = ConditionFailed(["ConditionalCheckFailed"])
    assert cleanup.end_segment(Svc(store), SESSION, "c1") is None


def test_start_segment_adds_a_segment_that_never_ended(seen: Any) -> None:
    store = Store()
    assert cleanup.start_segment(Svc(store), SESSION, "c2") is True
    assert store.updates == [
        (
            (SESSION, "ADD #segments :c", "attribute_exists(pk) AND expires_at > :now AND NOT contains(#ended, :cid)"),
            {
                "names": {"#segments": "segments", "#ended": "ended"},
                "values": {":c": {"c2"}, ":cid": "c2", ":now": NOW},
                "returns": "NONE",
            },
        )
    ]
    store.update_answer = ConditionFailed(["ConditionalCheckFailed"])
    assert cleanup.start_segment(Svc(store), SESSION, "c2") is False


def test_finish_if_ended_deletes_only_when_no_segment_lives(seen: Any) -> None:
    store = Store({SESSION: {"segments": {"c2"}}})
    assert cleanup.finish_if_ended(Svc(store), SESSION, "cleared", ["SECRET#x1"], "a") == 0
    assert store.gets == [(SESSION, {"include_expired": True, "fields": ("segments",)})]
    assert store.deleted == []
    store = Store({SESSION: {"segments": set()}})
    assert cleanup.finish_if_ended(Svc(store), SESSION, "cleared", ["SECRET#x1"], "a") == 2
    assert store.deleted == [[SESSION, "SECRET#x1"]]
    assert seen["audit"][0][1]["agent_id"] == "a" and seen["audit"][0][1]["reason"] == "cleared"
    store = Store(existing=0)
    assert cleanup.finish_if_ended(Svc(store), SESSION, "completed", ["CONTACT#c1"]) == 0
    assert store.deleted == [[SESSION, "CONTACT#c1"]]


def test_record_segment_end(seen: Any) -> None:
    cleanup.record_segment_end(Svc(Store()), SESSION, "c2", "completed", "a")
    assert seen["audit"] == [
        (("segment_ended", "gemeente-a", SESSION), {"contact_id": "c2", "trigger": "completed", "agent_id": "a"})
    ]
    assert seen["count"] == [("SegmentsEnded",)]
    assert seen["count_by"] == [(("SegmentsEnded",), {"trigger": "completed"})]


# --- triggers ------------------------------------------------------------------------------------------


def test_contact_completed_of_the_last_segment_deletes(seen: Any) -> None:
    store = Store({"CONTACT#c1": {"session_pk": SESSION}, SESSION: FULL})
    store.update_answer = {}
    assert cleanup.contact_completed(Svc(store), "c1", "c1") == 4
    assert store.gets[0] == ("CONTACT#c1", {"include_expired": True, "fields": ("session_pk",)})
    assert store.updates[0][0][0] == SESSION
    assert store.updates[0][1]["values"][":cid"] == "c1"
    assert store.deleted == [["SECRET#x1", "DTMF#d1", SESSION, "CONTACT#c1"]]
    assert seen["audit"][-1][1]["reason"] == "completed" and seen["audit"][-1][1]["agent_id"] is None


def test_contact_completed_with_other_segments_records_the_end(seen: Any) -> None:
    store = Store({"CONTACT#c1": {"session_pk": SESSION}})
    store.update_answer = {"segments": {"c3"}}
    assert cleanup.contact_completed(Svc(store), "c2", "c1") == 0
    assert store.deleted == []
    assert seen["audit"] == [
        (("segment_ended", "gemeente-a", SESSION), {"contact_id": "c2", "trigger": "completed", "agent_id": None})
    ]


def test_contact_completed_of_a_segment_not_live_finishes_what_is_left(seen: Any) -> None:
    store = Store({"CONTACT#c1": {"session_pk": SESSION}}, existing=1)
    store.update_answer = ConditionFailed(["ConditionalCheckFailed"])
    assert cleanup.contact_completed(Svc(store), "c2", "c1") == 1
    assert store.deleted == [[SESSION, "CONTACT#c1"]]
    assert seen["audit"][0][1]["reason"] == "completed"


def test_contact_completed_of_an_unknown_contact_does_nothing(seen: Any) -> None:
    store = Store()
    assert cleanup.contact_completed(Svc(store), "c2", "c1") == 0
    assert store.updates == [] and store.deleted == []


def test_segment_started_adds_the_transfer_segment(seen: Any) -> None:
    store = Store({"CONTACT#c1": {"session_pk": SESSION}})
    assert cleanup.segment_started(Svc(store), "c2", "c1") == 0
    assert store.gets == [("CONTACT#c1", {"fields": ("session_pk",)})]
    assert store.updates[0][0][0] == SESSION and store.updates[0][1]["values"][":c"] == {"c2"}
    store = Store()
    assert cleanup.segment_started(Svc(store), "c2", "c1") == 0
    assert store.updates == []


def test_a_hang_up_before_an_agent_deletes(seen: Any) -> None:
    store = Store({"CONTACT#c1": {"session_pk": SESSION}, SESSION: FULL})
    assert cleanup.caller_hung_up(Svc(store), "c1") == 4
    assert store.gets[:2] == [
        ("CONTACT#c1", {"include_expired": True}),
        (SESSION, {"include_expired": True, "fields": ("agent_seen_at",)}),
    ]
    assert store.deleted == [["SECRET#x1", "DTMF#d1", SESSION, "CONTACT#c1"]]
    assert seen["audit"][0][1]["reason"] == "hung_up"


def test_a_hang_up_of_a_session_already_gone_finishes_it(seen: Any) -> None:
    store = Store({"CONTACT#c1": {"session_pk": SESSION}}, existing=1)
    assert cleanup.caller_hung_up(Svc(store), "c1") == 1
    assert store.deleted == [[SESSION, "CONTACT#c1"]]


def test_a_hang_up_after_an_agent_saw_it_or_of_an_unknown_contact_keeps_everything(seen: Any) -> None:
    store = Store({"CONTACT#c1": {"session_pk": SESSION}, SESSION: {**FULL, "agent_seen_at": 1}})
    assert cleanup.caller_hung_up(Svc(store), "c1") == 0
    store2 = Store()
    assert cleanup.caller_hung_up(Svc(store2), "c1") == 0
    assert store.deleted == [] and store2.deleted == [] and len(store2.gets) == 1


def test_the_sweep_deletes_sessions_whole_and_other_items_one_by_one(seen: Any) -> None:
    store = Store({SESSION: FULL, "RATE#a": {}, "RATE#gone": {}, "DTMF#x": {}})
    assert cleanup.sweep(Svc(store)) == 4 + 2
    assert store.deleted == [["SECRET#x1", "DTMF#d1", "CONTACT#c1", SESSION]]
    assert store.expired_deleted == [("RATE#a", NOW), ("RATE#gone", NOW), ("DTMF#x", NOW)]
    assert seen["count"].count(("RecordsDeleted",)) == 2
    assert seen["audit"][0][1]["reason"] == "expired"


# --- contact events -------------------------------------------------------------------------------------


def test_event_ids_whatever_the_casing() -> None:
    detail = {"EventType": " completed ", "contactid": "c2", "InitialContactId": "c1", "initiationMethod": "transfer"}
    assert cleanup.event_ids(detail) == ("COMPLETED", "c2", "c1", "TRANSFER")


def test_event_ids_default_the_initial_contact_to_the_contact() -> None:
    assert cleanup.event_ids({"eventType": "x", "contactId": "c2", "initialContactId": 5}) == ("X", "c2", "c2", "")
    assert cleanup.event_ids({}) == ("", "", "", "")


def test_the_sweep_adds_a_sessions_items_to_what_it_deleted_before(seen: Any) -> None:
    store = Store({"RATE#a": {}, SESSION: FULL, "SESSION#s2": {}})
    assert cleanup.sweep(Svc(store)) == 1 + 4 + 1
