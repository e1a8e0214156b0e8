"""Agent identity as deployed (issue 12): the claims API Gateway's JWT authorizer passes for the
template's Cognito + SAML sign-in, and for an OIDC issuer (Entra ID), against Connect's user on the
contact (DescribeContact → DescribeUser in the dev stack's Connect stand-in).

- Cognito access token: `username` = `kcc-idp_<NameID>`, the Connect username is the NameID; `sub` is a
  UUID that names no Connect user. The exact NameID matches; a look-alike (`kcc-idp_piet_jan@…` for the
  Connect user `jan@…`), another provider's or a native user, a different case, and an ID token (no
  `username`) do not.
- Only members of `kcc-agents` are agents (403 otherwise, before anything is looked up).
- The binding is on by default (the dev stack configures a Connect instance) and fails closed.
- Entra ID: `preferred_username` against the Connect username, the app role `KCC.Agent` in `roles`, the
  scope `Agent.Access` in `scp`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from idbellen import config

from devstack import DevStack
from devstack.identity import (
    ENTRA_SETTINGS,
    cognito_access_claims,
    cognito_id_claims,
    entra_access_claims,
)

from .conftest import disclosed_session

JAN = "jan@gemeente.nl"


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with DevStack() as running:
        yield running


def _call_accepted_by(stack: DevStack, username: str) -> dict[str, str]:
    call = stack.call(disclosed_session(stack).digits)
    stack.assign(call.contact_id, username)
    return {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}


def _read(stack: DevStack, request: dict[str, str], claims: dict[str, Any]) -> tuple[int, Any]:
    return stack.api("POST", "/agent/disclosure", request, claims=claims)


def test_binding_is_on_by_default_with_a_connect_instance(stack: DevStack) -> None:
    settings = config.settings()
    assert settings.connect_instance_arn and settings.verify_agent is True
    assert (settings.agent_username_claim, settings.agent_idp) == ("username", "kcc-idp")
    assert (settings.agent_groups_claim, settings.agent_group) == ("cognito:groups", "kcc-agents")


def test_the_saml_federated_agent_on_the_contact_reads(stack: DevStack) -> None:
    request = _call_accepted_by(stack, JAN)
    claims = cognito_access_claims(JAN)
    assert claims["username"] == "kcc-idp_jan@gemeente.nl" and claims["sub"] != JAN
    status, body = _read(stack, request, claims)
    assert status == 200 and body["purpose"] == "demo"


NOT_FOUND = (404, {"error": "not_found"})
FORBIDDEN = (403, {"error": "forbidden"})


# With several tenants (the dev stack's default) a token is a tenant's agent only with that tenant's
# identity-provider prefix *and* group: without the prefix it names no tenant (403, before any lookup).
# With the prefix, the binding refuses anyone but the agent Connect has on the contact (404).
@pytest.mark.parametrize(
    ("claims", "answer"),
    [
        (cognito_access_claims("piet_jan@gemeente.nl"), NOT_FOUND),  # kcc-idp_piet_jan@… ends in _jan@gemeente.nl
        (cognito_access_claims("Jan@Gemeente.nl"), NOT_FOUND),  # exact comparison: another spelling is another user
        (cognito_access_claims(JAN, provider="other-idp"), FORBIDDEN),  # federated from another provider
        ({**cognito_access_claims(JAN), "username": JAN}, FORBIDDEN),  # a native pool user: no provider prefix
        ({**cognito_access_claims(JAN), "username": "kcc-idp_"}, FORBIDDEN),  # the prefix alone names nobody
        ({k: v for k, v in cognito_access_claims(JAN).items() if k != "username"}, FORBIDDEN),
    ],
    ids=["look-alike", "case", "other-provider", "native-user", "bare-prefix", "no-username"],
)
def test_anyone_but_exactly_that_agent_is_refused(
    stack: DevStack, claims: dict[str, str], answer: tuple[int, Any]
) -> None:
    request = _call_accepted_by(stack, JAN)
    assert _read(stack, request, claims) == answer
    assert _read(stack, request, cognito_access_claims(JAN))[0] == 200  # and the right one still reads


def test_an_id_token_names_no_agent(stack: DevStack) -> None:
    """The same user's ID token (`cognito:username`, `aud`, no `username`, no scope): refused (no tenant's
    agent without the username). The template's routes also require the idbellen/agent scope, which ID
    tokens never carry."""
    request = _call_accepted_by(stack, JAN)
    assert _read(stack, request, cognito_id_claims(JAN)) == FORBIDDEN


@pytest.mark.parametrize(
    "groups",
    [(), ("kcc-burgerzaken",), ("kcc-agents-old",), ("KCC-AGENTS",)],
    ids=["none", "other-group", "prefix-group", "case"],
)
def test_a_user_outside_the_agents_group_is_forbidden_before_any_lookup(
    stack: DevStack, groups: tuple[str, ...]
) -> None:
    request = _call_accepted_by(stack, JAN)
    before = len(stack.connect.calls)
    assert _read(stack, request, cognito_access_claims(JAN, groups=groups)) == (403, {"error": "forbidden"})
    clear = stack.api("POST", "/agent/clear", request, claims=cognito_access_claims(JAN, groups=groups))
    assert clear == (403, {"error": "forbidden"})
    assert len(stack.connect.calls) == before  # refused before Connect (or the table) was asked
    assert _read(stack, request, cognito_access_claims(JAN))[0] == 200


def test_no_claims_is_unauthorized(stack: DevStack) -> None:
    request = _call_accepted_by(stack, JAN)
    assert _read(stack, request, {}) == (401, {"error": "unauthorized"})


def test_the_binding_fails_closed_when_connect_cannot_tell(stack: DevStack) -> None:
    request = _call_accepted_by(stack, JAN)
    stack.connect.fail.add("DescribeContact")
    try:
        assert _read(stack, request, cognito_access_claims(JAN)) == (404, {"error": "not_found"})
        clear = stack.api("POST", "/agent/clear", request, claims=cognito_access_claims(JAN))
        assert clear == (204, None)
    finally:
        stack.connect.fail.discard("DescribeContact")
    assert _read(stack, request, cognito_access_claims(JAN))[0] == 200  # the failed clear deleted nothing


def test_usernames_are_looked_up_once_per_user_for_a_while(stack: DevStack) -> None:
    request = _call_accepted_by(stack, "cache.check@gemeente.nl")
    claims = cognito_access_claims("cache.check@gemeente.nl")
    user_id = stack.connect.user_id("cache.check@gemeente.nl")

    def lookups() -> int:
        return len([c for op, c in stack.connect.calls if op == "DescribeUser" and c == user_id])

    for _ in range(3):
        assert _read(stack, request, claims)[0] == 200
    assert lookups() == 1
    stack.clock.advance(301)  # the cache holds a username for 5 minutes
    assert _read(stack, request, claims)[0] == 200
    assert lookups() == 2


def test_without_an_agent_rule_the_routes_refuse_everyone() -> None:
    with DevStack(settings={"IDBELLEN_AGENT_GROUP": "", "IDBELLEN_AGENT_SCOPE": ""}) as stack:
        call = stack.call(disclosed_session(stack).digits)
        stack.assign(call.contact_id)
        request = {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
        assert stack.api("POST", "/agent/disclosure", request) == (500, {"error": "config_error"})


# -- an OIDC issuer: Entra ID --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def entra() -> Iterator[DevStack]:
    with DevStack(settings=ENTRA_SETTINGS) as running:
        yield running


def test_entra_id_agent_matches_on_preferred_username(entra: DevStack) -> None:
    request = _call_accepted_by(entra, JAN)
    assert _read(entra, request, entra_access_claims(JAN))[0] == 200
    assert _read(entra, request, entra_access_claims("piet_jan@gemeente.nl")) == (404, {"error": "not_found"})
    # the Cognito dev agent's token means nothing to this deployment
    assert _read(entra, request, cognito_access_claims(JAN)) == (403, {"error": "forbidden"})


@pytest.mark.parametrize(
    "claims",
    [entra_access_claims(JAN, roles=()), entra_access_claims(JAN, scp="User.Read")],
    ids=["no-agent-role", "no-agent-scope"],
)
def test_entra_id_needs_the_agent_role_and_scope(entra: DevStack, claims: dict[str, str]) -> None:
    request = _call_accepted_by(entra, JAN)
    assert _read(entra, request, claims) == (403, {"error": "forbidden"})
