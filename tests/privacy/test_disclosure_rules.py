"""The agent's read and clear, request by request (the tests of `make mutate`'s disclosure group).

`tests/e2e/test_lifecycle.py` and `test_privacy_expiry.py` prove the agent route on the dev stack; these
pin, against recording fakes and in milliseconds, what `disclosure.read` and `disclosure.clear` ask of the
store, the envelope, Connect, the processing log and the metrics: which secret and contact ids are refused
before anything is read, the exact update (expression, condition, names, values) with and without the
agent binding, that every "no" is the same `not_found`, and which segment end each clear leads to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from idbellen import codes, disclosure
from idbellen.agents import Agent
from idbellen.config import Purpose
from idbellen.connect_contacts import ContactView
from idbellen.errors import BadRequest, IntegrityError, NotFound
from idbellen.redaction import Redactor
from idbellen.store import ConditionFailed

SECRET = "S" * 40 + "abc"
SECRET_PK = "SECRET#" + codes.sha256_ref(SECRET)
SESSION_PK = "SESSION#sess-1"
CONTACT, INITIAL = "contact-2", "contact-1"
BSN, NAME = "pbdf.gemeente.personalData.bsn", "pbdf.gemeente.personalData.fullname"
PURPOSE = Purpose(
    id="demo",
    label={"nl": "Demo nl", "en": "Demo en"},
    disclose=[[[BSN]], [[NAME]]],
    labels={BSN: {"nl": "BSN", "en": "Citizen service number"}, NAME: {"nl": "Naam"}},
)
AGENT = Agent(subject="sub-1", username="agent.one")
PLAIN = {"purpose": "demo", "attributes": [[BSN, "999990019"], [NAME, "Demo Burger"]]}


class Store:
    def __init__(self, pointer: dict[str, Any] | None, session: dict[str, Any] | Exception) -> None:
        self.pointer, self.session = pointer, session
        self.gets: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[tuple[Any, ...]] = []

    def get(self, pk: str, **kwargs: Any) -> dict[str, Any] | None:
        self.gets.append((pk, kwargs))
        return self.pointer

    def update(self, pk: str, expression: str, condition: str, **kwargs: Any) -> dict[str, Any]:
        self.updates.append((pk, expression, condition, kwargs))
        if isinstance(self.session, Exception):
            raise self.session
        return self.session


class DataKey:
    def __init__(self, plain: dict[str, Any] | Exception) -> None:
        self.plain = plain
        self.opened: list[tuple[str, Any]] = []

    def open(self, name: str, blob: Any) -> str:
        self.opened.append((name, blob))
        if isinstance(self.plain, Exception):
            raise self.plain
        return json.dumps(self.plain)


class Envelope:
    def __init__(self, key: DataKey | Exception) -> None:
        self.key = key
        self.calls: list[tuple[Any, Any]] = []

    def open_key(self, data_key: Any, context: dict[str, str]) -> DataKey:
        self.calls.append((data_key, context))
        if isinstance(self.key, Exception):
            raise self.key
        return self.key


class Contacts:
    def __init__(self, view: ContactView | Exception) -> None:
        self.view = view
        self.asked: list[str] = []

    def describe(self, contact_id: str) -> ContactView:
        self.asked.append(contact_id)
        if isinstance(self.view, Exception):
            raise self.view
        return self.view


@dataclass
class Settings:
    verify_agent: bool = False
    tenant: str = "gemeente-a"
    purposes: dict[str, Purpose] = field(default_factory=lambda: {"demo": PURPOSE})

    def purpose(self, purpose_id: str) -> Purpose | None:
        return self.purposes.get(purpose_id)


@dataclass
class Svc:
    store: Store
    settings: Settings = field(default_factory=Settings)
    envelope: Envelope = field(default_factory=lambda: Envelope(DataKey(PLAIN)))
    contacts: Contacts | None = None


def session_item(**extra: Any) -> dict[str, Any]:
    return {
        "data_key": b"wrapped",
        "disclosure": b"sealed",
        "caller_match": "match",
        "disclosed_at": 100,
        "expires_at": 3700,
        **extra,
    }


POINTER = {"session_pk": SESSION_PK, "initial_contact_id": INITIAL}
VIEW = ContactView(CONTACT, INITIAL, "user-id-1", "agent.one", True)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """What the module counts, logs and writes to the processing log, and which segment ends it asks for."""
    seen: dict[str, list[Any]] = {
        "count": [],
        "count_by": [],
        "log": [],
        "audit": [],
        "end": [],
        "finish": [],
        "record": [],
        "delete": [],
    }
    monkeypatch.setattr(disclosure, "count", lambda *a, **k: seen["count"].append((a, k)))
    monkeypatch.setattr(disclosure, "count_by", lambda *a, **k: seen["count_by"].append((a, k)))
    monkeypatch.setattr(disclosure.audit, "record", lambda *a, **k: seen["audit"].append((a, k)))
    monkeypatch.setattr(disclosure.clock, "now", lambda: 1000.5)
    # a fresh redactor: mutmut forks each mutant's run from a process that already ran every test
    monkeypatch.setattr(disclosure, "redactor", Redactor())

    class Log:
        def warning(self, *a: Any, **k: Any) -> None:
            seen["log"].append(("warning", a, k))

        def error(self, *a: Any, **k: Any) -> None:
            seen["log"].append(("error", a, k))

    monkeypatch.setattr(disclosure, "logger", Log())
    return seen


def counts(seen: dict[str, list[Any]]) -> list[str]:
    return [a[0] for a, _ in seen["count"]]


# --- what is refused before anything is read ----------------------------------------------------


@pytest.mark.parametrize("secret", [None, 5, "S" * 42, "S" * 44, "S" * 42 + "!", "S" * 42 + "\n"])
@pytest.mark.parametrize("call", [disclosure.read, disclosure.clear])
def test_a_malformed_secret_is_refused_before_any_read(secret: Any, call: Any, seen: Any) -> None:
    store = Store(POINTER, session_item())
    with pytest.raises(BadRequest) as raised:
        call(Svc(store), secret, CONTACT, AGENT)
    assert str(raised.value) == "invalid_secret"
    assert store.gets == []


@pytest.mark.parametrize("contact", [None, 5, "", "a" * 129, "a b", "a/b", "\nabc"])
@pytest.mark.parametrize("call", [disclosure.read, disclosure.clear])
def test_a_malformed_contact_id_is_refused_before_any_read(contact: Any, call: Any, seen: Any) -> None:
    store = Store(POINTER, session_item())
    with pytest.raises(BadRequest) as raised:
        call(Svc(store), SECRET, contact, AGENT)
    assert str(raised.value) == "invalid_contact_id"
    assert store.gets == []


@pytest.mark.parametrize("contact", ["a", "a" * 128, "Ab-09-zZ"])
def test_contact_ids_of_the_allowed_shape_pass(contact: str) -> None:
    assert disclosure._contact_id(contact) == contact


def test_the_secret_is_registered_with_the_redactor_and_names_its_pointer(seen: Any) -> None:
    secret = "R" * 40 + "xyz"
    assert disclosure._secret_pk(secret) == "SECRET#" + codes.sha256_ref(secret)
    assert list(disclosure.redactor._values) == [secret]


# --- read without the agent binding ----------------------------------------------------------------


def test_read_updates_the_live_segment_and_shows_the_values_with_their_labels(seen: Any) -> None:
    store = Store(POINTER, session_item())
    svc = Svc(store)
    answer = disclosure.read(svc, SECRET, CONTACT, AGENT)
    assert store.gets == [(SECRET_PK, {})]
    assert store.updates == [
        (
            SESSION_PK,
            "SET #status = :connected, agent_seen_at = if_not_exists(agent_seen_at, :now)",
            "attribute_exists(pk) AND expires_at > :now AND secret_pk = :spk AND attribute_exists(disclosure)"
            " AND contains(#segments, :cid)",
            {
                "names": {"#status": "status", "#segments": "segments"},
                "values": {":connected": "CONNECTED", ":now": 1000.5, ":spk": SECRET_PK, ":cid": CONTACT},
            },
        )
    ]
    assert svc.envelope.calls == [(b"wrapped", {"app": "idbellen", "tenant": "gemeente-a", "record": "sess-1"})]
    assert svc.envelope.key.opened == [("disclosure", b"sealed")]  # type: ignore[union-attr]
    assert answer == {
        "purpose": "demo",
        "purpose_label": {"nl": "Demo nl", "en": "Demo en"},
        "attributes": [
            {
                "id": BSN,
                "label": "BSN",
                "labels": {"nl": "BSN", "en": "Citizen service number"},
                "value": "999990019",
            },
            {"id": NAME, "label": "Naam", "labels": {"nl": "Naam", "en": "Naam"}, "value": "Demo Burger"},
        ],
        "caller_match": "match",
        "disclosed_at": 100,
        "expires_at": 3700,
    }
    assert seen["audit"] == [
        (
            ("shown_to_agent", "gemeente-a", SESSION_PK),
            {
                "purpose": "demo",
                "contact_id": CONTACT,
                "agent_id": "sub-1",
                "attribute_types": [BSN, NAME],
            },
        )
    ]
    assert counts(seen) == ["AgentReads"]
    assert seen["count_by"] == [(("AgentReads",), {"purpose": "demo"})]
    assert list(disclosure.redactor._values) == [SECRET, "999990019", "Demo Burger"]


def test_read_of_a_session_without_caller_match_or_times(seen: Any) -> None:
    store = Store(POINTER, {"data_key": b"k", "disclosure": b"d"})
    answer = disclosure.read(Svc(store), SECRET, CONTACT, None)
    assert answer["caller_match"] == "unknown"
    assert answer["disclosed_at"] is None and answer["expires_at"] is None
    assert seen["audit"][0][1]["agent_id"] is None


def test_read_of_a_purpose_no_longer_configured_shows_the_ids(seen: Any) -> None:
    svc = Svc(Store(POINTER, session_item()), Settings(purposes={}))
    answer = disclosure.read(svc, SECRET, CONTACT, AGENT)
    assert answer["purpose_label"] is None
    assert answer["attributes"][0] == {"id": BSN, "label": BSN, "labels": {"nl": BSN, "en": BSN}, "value": "999990019"}


def test_read_of_a_disclosure_without_attributes(seen: Any) -> None:
    svc = Svc(Store(POINTER, session_item()), envelope=Envelope(DataKey({"purpose": "demo"})))
    answer = disclosure.read(svc, SECRET, CONTACT, AGENT)
    assert answer["attributes"] == []
    assert seen["audit"][0][1]["attribute_types"] == []


def test_an_unknown_secret_is_not_found_and_nothing_is_written(seen: Any) -> None:
    store = Store(None, session_item())
    with pytest.raises(NotFound) as raised:
        disclosure.read(Svc(store), SECRET, CONTACT, AGENT)
    assert str(raised.value) == "not_found"
    assert store.updates == []


def test_a_failed_condition_is_not_found(seen: Any) -> None:
    store = Store(POINTER, ConditionFailed(["ConditionalCheckFailed"]))
    svc = Svc(store)
    with pytest.raises(NotFound) as raised:
        disclosure.read(svc, SECRET, CONTACT, AGENT)
    assert str(raised.value) == "not_found"
    assert raised.value.__suppress_context__
    assert svc.envelope.calls == []
    assert seen["audit"] == [] and seen["count"] == []


@pytest.mark.parametrize("where", ["key", "open"])
def test_a_disclosure_that_fails_verification_is_not_found_and_counted(where: str, seen: Any) -> None:
    failure = IntegrityError("tampered")
    envelope = Envelope(failure) if where == "key" else Envelope(DataKey(failure))
    svc = Svc(Store(POINTER, session_item()), envelope=envelope)
    with pytest.raises(NotFound) as raised:
        disclosure.read(svc, SECRET, CONTACT, AGENT)
    assert str(raised.value) == "not_found"
    assert raised.value.__suppress_context__
    assert counts(seen) == ["IntegrityFailures"]
    assert seen["log"] == [("error", ("disclosure failed verification; shown as not found",), {})]
    assert seen["audit"] == []


# --- read with the agent binding -------------------------------------------------------------------


def bound(view: ContactView | Exception = VIEW, pointer: dict[str, Any] | None = POINTER) -> Svc:
    return Svc(Store(pointer, session_item()), Settings(verify_agent=True), contacts=Contacts(view))


def test_a_bound_read_adds_the_segment_unless_it_ended(seen: Any) -> None:
    svc = bound()
    disclosure.read(svc, SECRET, CONTACT, AGENT)
    assert svc.contacts.asked == [CONTACT]  # type: ignore[union-attr]
    assert svc.store.updates == [
        (
            SESSION_PK,
            "SET #status = :connected, agent_seen_at = if_not_exists(agent_seen_at, :now) ADD #segments :c",
            "attribute_exists(pk) AND expires_at > :now AND secret_pk = :spk AND attribute_exists(disclosure)"
            " AND NOT contains(#ended, :cid)",
            {
                "names": {"#status": "status", "#segments": "segments", "#ended": "ended"},
                "values": {
                    ":c": {CONTACT},
                    ":connected": "CONNECTED",
                    ":now": 1000.5,
                    ":spk": SECRET_PK,
                    ":cid": CONTACT,
                },
            },
        )
    ]
    assert seen["audit"][0][1]["agent_id"] == "user-id-1"
    assert counts(seen) == ["AgentReads"]


def test_a_bound_read_without_connects_user_id_names_the_tokens_subject(seen: Any) -> None:
    svc = bound(ContactView(CONTACT, INITIAL, None, "agent.one", True))
    disclosure.read(svc, SECRET, CONTACT, AGENT)
    assert seen["audit"][0][1]["agent_id"] == "sub-1"
    svc = bound(ContactView(CONTACT, INITIAL, "", "agent.one", True))
    disclosure.read(svc, SECRET, CONTACT, AGENT)
    assert seen["audit"][1][1]["agent_id"] == "sub-1"


@pytest.mark.parametrize(
    "view",
    [
        ContactView(CONTACT, "another-call", "user-id-1", "agent.one", True),
        ContactView(CONTACT, INITIAL, "user-id-1", "agent.one", False),
        ContactView(CONTACT, INITIAL, "user-id-1", "agent.two", True),
        ContactView(CONTACT, INITIAL, "user-id-1", None, True),
    ],
)
def test_a_segment_connect_does_not_vouch_for_is_not_found(view: ContactView, seen: Any) -> None:
    svc = bound(view)
    with pytest.raises(NotFound) as raised:
        disclosure.read(svc, SECRET, CONTACT, AGENT)
    assert str(raised.value) == "not_found"
    assert svc.store.updates == []
    assert counts(seen) == ["AgentContactMismatch"]


@pytest.mark.parametrize("agent", [None, Agent("sub-1", None), Agent("sub-1", "")])
def test_without_a_connect_username_nothing_is_asked_and_nothing_found(agent: Agent | None, seen: Any) -> None:
    svc = bound()
    with pytest.raises(NotFound):
        disclosure.read(svc, SECRET, CONTACT, agent)
    assert svc.contacts.asked == []  # type: ignore[union-attr]
    assert counts(seen) == ["AgentContactMismatch"]


def test_without_connect_the_binding_fails_closed(seen: Any) -> None:
    svc = Svc(Store(POINTER, session_item()), Settings(verify_agent=True))
    with pytest.raises(NotFound):
        disclosure.read(svc, SECRET, CONTACT, AGENT)
    assert svc.store.updates == []
    assert counts(seen) == ["AgentContactMismatch"]


def test_when_connect_cannot_be_asked_the_binding_fails_closed_and_says_so(seen: Any) -> None:
    svc = bound(RuntimeError("throttled"))
    with pytest.raises(NotFound):
        disclosure.read(svc, SECRET, CONTACT, AGENT)
    assert svc.store.updates == []
    assert counts(seen) == ["AgentCheckErrors"]
    assert len(seen["log"]) == 1
    level, args, kwargs = seen["log"][0]
    assert (level, args) == ("warning", ("could not check the agent on the contact",))
    assert kwargs["extra"]["error_type"] == "RuntimeError"


def test_a_pointer_without_an_initial_contact_id_never_matches(seen: Any) -> None:
    svc = bound(ContactView(CONTACT, "None", "user-id-1", "agent.one", True), pointer={"session_pk": SESSION_PK})
    disclosure.read(svc, SECRET, CONTACT, AGENT)  # str(None) on both sides: the stored shape always has one
    svc = bound(pointer={"session_pk": SESSION_PK})
    with pytest.raises(NotFound):
        disclosure.read(svc, SECRET, CONTACT, AGENT)


# --- clear -----------------------------------------------------------------------------------------


def svc_of(args: tuple[Any, ...]) -> None:
    """The segment ends are asked with the services they were given."""
    assert isinstance(args[0], Svc)


@pytest.fixture
def ends(monkeypatch: pytest.MonkeyPatch, seen: dict[str, list[Any]]) -> Any:
    def use(remaining: Any) -> None:
        def end_segment(svc: Any, session_pk: str, contact_id: str) -> Any:
            assert isinstance(svc, Svc)
            seen["end"].append((session_pk, contact_id))
            return remaining

        monkeypatch.setattr(disclosure, "end_segment", end_segment)

    monkeypatch.setattr(
        disclosure, "finish_if_ended", lambda *a, **k: seen["finish"].append((a[1:], k)) or svc_of(a) or 3
    )
    monkeypatch.setattr(
        disclosure, "record_segment_end", lambda *a, **k: seen["record"].append((a[1:], k)) or svc_of(a)
    )
    monkeypatch.setattr(
        disclosure, "delete_session", lambda *a, **k: seen["delete"].append((a[1:], k)) or svc_of(a) or 4
    )
    return use


def test_clear_of_the_last_live_segment_deletes_the_session(seen: Any, ends: Any) -> None:
    ends(set())
    store = Store(POINTER, session_item())
    assert disclosure.clear(Svc(store), SECRET, CONTACT, AGENT) == 4
    assert store.gets == [(SECRET_PK, {"include_expired": True})]
    assert seen["end"] == [(SESSION_PK, CONTACT)]
    assert seen["delete"] == [((SESSION_PK,), {"reason": "cleared", "extra_keys": [SECRET_PK], "agent_id": "sub-1"})]
    assert seen["finish"] == [] and seen["record"] == []


def test_clear_of_one_of_several_segments_records_only_its_end(seen: Any, ends: Any) -> None:
    ends({"contact-3"})
    assert disclosure.clear(Svc(Store(POINTER, session_item())), SECRET, CONTACT, AGENT) == 0
    assert seen["record"] == [((SESSION_PK, CONTACT, "cleared", "sub-1"), {})]
    assert seen["delete"] == [] and seen["finish"] == []


def test_clear_of_a_session_already_gone_finishes_what_is_left(seen: Any, ends: Any) -> None:
    ends(None)
    assert disclosure.clear(Svc(Store(POINTER, session_item())), SECRET, CONTACT, AGENT) == 3
    assert seen["finish"] == [((SESSION_PK, "cleared", [SECRET_PK], "sub-1"), {})]
    assert seen["delete"] == [] and seen["record"] == []


def test_clear_of_an_unknown_secret_changes_nothing(seen: Any, ends: Any) -> None:
    ends(set())
    assert disclosure.clear(Svc(Store(None, session_item())), SECRET, CONTACT, AGENT) == 0
    assert seen["end"] == []


def test_a_bound_clear_names_connects_user_and_refuses_an_agent_connect_does_not_have(seen: Any, ends: Any) -> None:
    ends(set())
    assert disclosure.clear(bound(), SECRET, CONTACT, AGENT) == 4
    assert seen["delete"][0][1]["agent_id"] == "user-id-1"
    svc = bound(ContactView(CONTACT, INITIAL, "user-id-2", "agent.two", True))
    assert disclosure.clear(svc, SECRET, CONTACT, AGENT) == 0
    assert svc.contacts.asked == [CONTACT]  # type: ignore[union-attr]
    assert len(seen["end"]) == 1
