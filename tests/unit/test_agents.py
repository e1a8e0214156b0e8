"""Agent identity rules (idbellen.agents) on the claim shapes API Gateway's HTTP API JWT authorizer passes:
every claim a string, array claims as one bracketed space-separated string, scopes as a list."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from idbellen import agents
from idbellen.config import Settings
from idbellen.errors import ConfigError, Forbidden

from devstack.identity import cognito_access_claims, cognito_id_claims, entra_access_claims, scopes_of

COGNITO = Settings(
    tenant="default", table="t", hash_key_param="/p", agent_idp="kcc-idp", agent_group="kcc-agents", verify_agent=True
)
ENTRA = dataclasses.replace(
    COGNITO,
    agent_idp="",
    agent_username_claim="preferred_username",
    agent_groups_claim="roles",
    agent_group="KCC.Agent",
    agent_scope="Agent.Access",
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[kcc-agents eu-central-1_X_kcc-idp]", ["kcc-agents", "eu-central-1_X_kcc-idp"]),
        ("[kcc-agents]", ["kcc-agents"]),
        ("[]", []),
        (["kcc-agents", "x"], ["kcc-agents", "x"]),
        ("kcc-agents,x", ["kcc-agents", "x"]),
        ("openid email idbellen/agent", ["openid", "email", "idbellen/agent"]),
        (None, []),
        (12, []),
        ({"a": "b"}, []),
    ],
)
def test_claim_lists_in_every_shape(raw: object, expected: list[str]) -> None:
    assert agents.claim_list(raw) == expected


def test_the_cognito_username_minus_exactly_the_provider_prefix() -> None:
    assert agents.connect_username(COGNITO, {"username": "kcc-idp_jan@gemeente.nl"}) == "jan@gemeente.nl"
    assert agents.connect_username(COGNITO, {"username": "kcc-idp_piet_jan@gemeente.nl"}) == "piet_jan@gemeente.nl"
    for other in ("jan@gemeente.nl", "other_jan@gemeente.nl", "kcc-idp_", "KCC-IDP_jan@gemeente.nl", "", "x" * 300):
        assert agents.connect_username(COGNITO, {"username": other}) is None, other
    assert agents.connect_username(COGNITO, {"sub": "0b0c"}) is None


def test_an_oidc_claim_is_taken_as_is() -> None:
    assert agents.connect_username(ENTRA, {"preferred_username": "jan@gemeente.nl"}) == "jan@gemeente.nl"
    assert agents.connect_username(ENTRA, {"username": "jan@gemeente.nl"}) is None


def test_a_federated_agent_passes_with_their_connect_username() -> None:
    claims = cognito_access_claims("jan@gemeente.nl")
    agent = agents.authorize(COGNITO, claims, scopes_of(claims))
    assert agent == agents.Agent(subject=claims["sub"], username="jan@gemeente.nl")


@pytest.mark.parametrize(
    "claims",
    [
        cognito_access_claims("jan@gemeente.nl", groups=()),
        cognito_access_claims("jan@gemeente.nl", groups=("kcc-agents-extern",)),
        # the group Cognito adds every user of the provider to is not the agents group
        {**cognito_access_claims("jan@gemeente.nl"), "cognito:groups": "[eu-central-1_DevStack1_kcc-idp]"},
    ],
)
def test_not_in_the_group_is_forbidden(claims: dict[str, Any]) -> None:
    with pytest.raises(Forbidden):
        agents.authorize(COGNITO, claims, scopes_of(claims))


def test_an_id_token_authorizes_but_names_no_connect_user() -> None:
    claims = cognito_id_claims("jan@gemeente.nl")
    agent = agents.authorize(COGNITO, claims, scopes_of(claims))
    assert agent is not None and agent.username is None  # the binding then refuses it


def test_entra_needs_role_and_scope() -> None:
    good = entra_access_claims("jan@gemeente.nl")
    assert agents.authorize(ENTRA, good, None) == agents.Agent(good["sub"], "jan@gemeente.nl")
    with pytest.raises(Forbidden):
        agents.authorize(ENTRA, entra_access_claims("jan@gemeente.nl", roles=()), None)
    with pytest.raises(Forbidden):
        agents.authorize(ENTRA, entra_access_claims("jan@gemeente.nl", scp="User.Read"), None)
    # the authorizer's scope list wins over the claim when present
    assert agents.authorize(ENTRA, entra_access_claims("jan@gemeente.nl", scp=""), ["Agent.Access"]) is not None


def test_missing_claims_and_subject_are_unauthorized_and_no_rule_is_a_config_error() -> None:
    with pytest.raises(PermissionError):
        agents.authorize(COGNITO, None)
    with pytest.raises(PermissionError):
        agents.authorize(COGNITO, {"username": "kcc-idp_jan@gemeente.nl", "cognito:groups": "[kcc-agents]"})
    assert agents.authorize(dataclasses.replace(COGNITO, agent_auth="off"), None) is None
    with pytest.raises(ConfigError):
        agents.authorize(dataclasses.replace(COGNITO, agent_group=""), cognito_access_claims("jan@gemeente.nl"))


# -- configuration ------------------------------------------------------------------------------------
@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("IDBELLEN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("IDBELLEN_TABLE", "t")
    monkeypatch.setenv("IDBELLEN_HASH_KEY_PARAM", "/p/hash")
    return monkeypatch


ARN = "arn:aws:connect:eu-central-1:123456789012:instance/00000000-0000-4000-8000-000000000000"


def test_binding_is_on_whenever_a_connect_instance_is_configured(env: pytest.MonkeyPatch) -> None:
    from idbellen import config

    assert config.load().verify_agent is False  # no instance: nothing to ask
    env.setenv("IDBELLEN_CONNECT_INSTANCE_ARN", ARN)
    settings = config.load()
    assert settings.verify_agent is True
    assert (settings.agent_username_claim, settings.agent_groups_claim) == ("username", "cognito:groups")
    env.setenv("IDBELLEN_VERIFY_AGENT", "off")  # only explicitly
    assert config.load().verify_agent is False


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("IDBELLEN_AGENT_USERNAME_CLAIM", "user name"),
        ("IDBELLEN_AGENT_GROUPS_CLAIM", "groups[]"),
        ("IDBELLEN_AGENT_IDP", "kcc idp"),
        ("IDBELLEN_AGENT_GROUP", "a b"),
        ("IDBELLEN_AGENT_SCOPE", "openid,email"),
    ],
)
def test_identity_settings_are_validated_without_echo(env: pytest.MonkeyPatch, name: str, bad: str) -> None:
    from idbellen import config

    env.setenv(name, bad)
    with pytest.raises(ConfigError, match=name) as raised:
        config.load()
    assert bad not in str(raised.value)
