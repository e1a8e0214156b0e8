"""The agent binding's rules, unit by unit and fast (part of `make test` and of `make mutate`'s binding group).

Who may see a disclosure rests on two small modules: `idbellen.agents` (which token is an agent, and which
Connect username it names) and `idbellen.connect_contacts` (what Connect says about a contact segment: its
call, its agent, whether the agent accepted it). The e2e suites prove the whole binding on the dev stack;
these tests pin each rule on its own against a recording stand-in for the Connect API, so that weakening
one (a look-alike username, an offered-but-not-accepted contact, a stale username cache) fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from idbellen import agents, clock, connect_contacts
from idbellen.config import Settings
from idbellen.connect_contacts import SECRET_ATTRIBUTE, ConnectContacts, ContactView
from idbellen.errors import ConfigError, Forbidden

ARN = "arn:aws:connect:eu-central-1:123456789012:instance/inst-1"
SETTINGS = Settings(tenant="default", table="t", hash_key_param="/p", agent_group="kcc-agents", verify_agent=True)


# -- agents ------------------------------------------------------------------------------------------------
def test_claim_lists_keep_only_non_empty_strings_and_numbers() -> None:
    assert agents.claim_list(["a", "", None, 7, 1.5, "b"]) == ["a", "7", "b"]
    assert agents.claim_list(("x",)) == ["x"]
    assert agents.claim_list("[a b]") == ["a", "b"]
    assert agents.claim_list("[a b") == ["[a", "b"]  # only a bracketed whole is unwrapped
    assert agents.claim_list("a b]") == ["a", "b]"]
    assert agents.claim_list(" a, b ,c ") == ["a", "b", "c"]
    assert agents.claim_list(None) == []
    assert agents.claim_list(12) == []


def test_token_scopes_prefer_the_authorizer_list_then_scope_then_scp() -> None:
    assert agents.token_scopes({"scope": "s1"}, ["a", 3, "b"]) == ["a", "b"]
    assert agents.token_scopes({"scope": "s1 s2", "scp": "x"}, []) == ["s1", "s2"]
    assert agents.token_scopes({"scope": "s1"}, None) == ["s1"]
    assert agents.token_scopes({"scp": "x y"}, None) == ["x", "y"]
    assert agents.token_scopes({}, "not a list") == []


def test_the_connect_username_is_a_bounded_string_claim() -> None:
    plain = Settings(tenant="default", table="t", hash_key_param="/p", agent_username_claim="username")
    assert agents.connect_username(plain, {"username": "u" * agents.MAX_CLAIM}) == "u" * agents.MAX_CLAIM
    assert agents.connect_username(plain, {"username": "u" * (agents.MAX_CLAIM + 1)}) is None
    assert agents.connect_username(plain, {"username": ""}) is None
    assert agents.connect_username(plain, {"username": 5}) is None
    assert agents.connect_username(plain, {}) is None


def test_authorize_refuses_without_claims_or_subject_and_names_the_reason() -> None:
    with pytest.raises(PermissionError, match=r"^no authorizer claims$"):
        agents.authorize(SETTINGS, None)
    for subject in (None, "", 123):
        with pytest.raises(PermissionError, match=r"^no subject$"):
            agents.authorize(SETTINGS, {"sub": subject, "cognito:groups": "[kcc-agents]"})
    bare = Settings(tenant="default", table="t", hash_key_param="/p", agent_group="", agent_scope="")
    with pytest.raises(ConfigError, match=r"^IDBELLEN_AGENT_GROUP or IDBELLEN_AGENT_SCOPE must be set"):
        agents.authorize(bare, {"sub": "s"})


def test_authorize_refuses_a_user_outside_the_group_or_without_the_scope_with_one_stable_code() -> None:
    with pytest.raises(Forbidden) as caught:
        agents.authorize(SETTINGS, {"sub": "s", "cognito:groups": "[other]"})
    assert caught.value.code == "forbidden" and str(caught.value) == "not_an_agent"
    scoped = Settings(tenant="default", table="t", hash_key_param="/p", agent_group="", agent_scope="Agent.Access")
    with pytest.raises(Forbidden) as caught:
        agents.authorize(scoped, {"sub": "s", "scope": "Other"})
    assert caught.value.code == "forbidden" and str(caught.value) == "not_an_agent"
    assert agents.authorize(scoped, {"sub": "s", "scope": "Agent.Access"}) is not None


def test_authorize_keeps_at_most_128_characters_of_the_subject() -> None:
    agent = agents.authorize(SETTINGS, {"sub": "s" * 200, "cognito:groups": "[kcc-agents]"})
    assert agent is not None and agent.subject == "s" * 128


# -- connect_contacts ----------------------------------------------------------------------------------------
class FakeConnect:
    """Records every call; answers from `contacts` and `users`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.contacts: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}

    def describe_contact(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_contact", kwargs))
        contact = self.contacts.get(kwargs["ContactId"])
        return {} if contact is None else {"Contact": contact}  # an answer without the member

    def describe_user(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_user", kwargs))
        user = self.users.get(kwargs["UserId"])
        return {} if user is None else {"User": user}

    def update_contact_attributes(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("update_contact_attributes", kwargs))
        return {}


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch) -> FakeConnect:
    fake = FakeConnect()
    real = connect_contacts.aws.client
    monkeypatch.setattr(connect_contacts.aws, "client", lambda service: fake if service == "connect" else real(service))
    now = {"t": 1_900_000_000}
    clock.use(lambda: now["t"])
    fake.now = now  # type: ignore[attr-defined]
    yield fake
    clock.use(None)


def test_instance_id_is_the_last_arn_segment() -> None:
    assert connect_contacts.instance_id(ARN) == "inst-1"
    assert connect_contacts.instance_id("inst-2") == "inst-2"
    assert connect_contacts.instance_id("a/b/c") == "c"
    assert ConnectContacts(ARN).instance_id == "inst-1"


def test_blanking_overwrites_only_the_secret_attribute_of_the_initial_contact(connect: FakeConnect) -> None:
    ConnectContacts(ARN).blank_secret("initial-1")
    assert connect.calls == [
        (
            "update_contact_attributes",
            {"InstanceId": "inst-1", "InitialContactId": "initial-1", "Attributes": {SECRET_ATTRIBUTE: ""}},
        )
    ]
    assert SECRET_ATTRIBUTE == "session_secret"


def test_an_accepted_segment_names_its_call_its_agent_and_the_agents_username(connect: FakeConnect) -> None:
    connect.contacts["seg-2"] = {
        "Id": "seg-2",
        "InitialContactId": "initial-1",
        "AgentInfo": {"Id": "user-1", "ConnectedToAgentTimestamp": "2026-01-01T00:00:00Z"},
    }
    connect.users["user-1"] = {"Username": "agent.one"}
    view = ConnectContacts(ARN).describe("seg-2")
    assert view == ContactView("seg-2", "initial-1", "user-1", "agent.one", True)
    assert connect.calls == [
        ("describe_contact", {"InstanceId": "inst-1", "ContactId": "seg-2"}),
        ("describe_user", {"InstanceId": "inst-1", "UserId": "user-1"}),
    ]


def test_an_offered_segment_is_not_accepted_and_an_unassigned_one_names_no_agent(connect: FakeConnect) -> None:
    connect.contacts["ringing"] = {"Id": "ringing", "InitialContactId": "i", "AgentInfo": {"Id": "user-1"}}
    connect.contacts["queued"] = {"Id": "queued", "AgentInfo": None}
    connect.users["user-1"] = {"Username": "agent.one"}
    contacts = ConnectContacts(ARN)
    ringing = contacts.describe("ringing")
    assert ringing.accepted is False and ringing.agent_username == "agent.one"
    queued = contacts.describe("queued")
    assert queued == ContactView("queued", "queued", None, None, False)  # its own call when it names none
    unknown = contacts.describe("gone")
    assert unknown == ContactView("gone", "gone", None, None, False)
    connect.contacts["odd"] = {"AgentInfo": {"ConnectedToAgentTimestamp": "t"}}  # accepted by nobody
    assert contacts.describe("odd").accepted is False
    assert [c for c in connect.calls if c[0] == "describe_user"] == [
        ("describe_user", {"InstanceId": "inst-1", "UserId": "user-1"})
    ], "a contact without an agent must not look one up"
    connect.contacts["own-id"] = {"Id": "first-segment"}  # no InitialContactId: its own Id is the call
    assert contacts.describe("own-id").initial_contact_id == "first-segment"


def test_a_user_without_a_username_names_none(connect: FakeConnect) -> None:
    connect.contacts["c"] = {"Id": "c", "AgentInfo": {"Id": "user-9", "ConnectedToAgentTimestamp": "t"}}
    view = ConnectContacts(ARN).describe("c")
    assert view.agent_user_id == "user-9"
    assert view.agent_username is None
    assert view.accepted is True


def test_usernames_are_cached_for_five_minutes_per_user(connect: FakeConnect) -> None:
    contacts = ConnectContacts(ARN)
    connect.users["user-1"] = {"Username": "first"}
    connect.users["user-2"] = {"Username": "second"}
    assert connect_contacts.USERNAME_CACHE_SECONDS == 300
    assert contacts._username("user-1") == "first"
    connect.users["user-1"] = {"Username": "renamed"}
    connect.now["t"] += 299  # type: ignore[attr-defined]
    assert contacts._username("user-1") == "first"
    assert contacts._username("user-2") == "second"
    lookups = [c for c in connect.calls if c[0] == "describe_user"]
    assert [c[1]["UserId"] for c in lookups] == ["user-1", "user-2"]
    connect.now["t"] += 1  # type: ignore[attr-defined]
    assert contacts._username("user-1") == "renamed"  # expired at exactly 300 s
    assert len([c for c in connect.calls if c[0] == "describe_user"]) == 3
    assert contacts._usernames["user-1"] == ("renamed", connect.now["t"] + 300)  # type: ignore[attr-defined]
