"""Agent identities as API Gateway's JWT authorizer hands them to the agent function (dev stack only).

The dev stack's agent sign-in is configured like the template's Cognito + SAML option: a user pool
federated to a SAML IdP named `kcc-idp`; agents are in the group `kcc-agents`; a Connect user's username
is the SAML NameID. The claims below are what an HTTP API JWT authorizer passes for such tokens:
every value a string (numbers too), an array claim as one bracketed, space-separated string
(`"[kcc-agents eu-central-1_Dev_kcc-idp]"`), and `requestContext.authorizer.jwt.scopes` the token's
scopes. Cognito puts a federated user in the group `<pool id>_<provider>` by itself; a Cognito *access*
token has `client_id` and `username` (no `aud`, no `email`); an *ID* token has `aud`,
`cognito:username`, `email` and `identities`. The Entra ID variant is an OIDC v2.0 access token
(`preferred_username`, `scp`, `roles`, `groups` as object ids).

Clearly fake values only; nothing here is a real token or key.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

REGION = "eu-central-1"
USER_POOL_ID = f"{REGION}_DevStack1"
CLIENT_ID = "devstackagentwidget000000"
PROVIDER = "kcc-idp"
AGENTS_GROUP = "kcc-agents"
AGENT_SCOPE = "idbellen/agent"
DEV_AGENT = "agent.demo@gemeente.example"  # the dev agent's SAML NameID = its Connect username
# The second dev tenant (Gemeente Demodorp): its own SAML IdP in the shared user pool, its own group.
DEMODORP_PROVIDER = "demodorp-idp"
DEMODORP_AGENTS_GROUP = "demodorp-agents"
DEMODORP_DEV_AGENT = "agent.demo@demodorp.example"
ENTRA_TENANT = "00000000-0000-4000-8000-0000000000e1"
ENTRA_APP = "api://idbellen-agent"
ENTRA_AGENT_ROLE = "KCC.Agent"
_NS = uuid.UUID("3b1f0d9a-6e1c-4c53-9f9b-1d2c3e4f5a6b")

# the settings that configure the agent function for each variant (DevStack uses COGNITO_SETTINGS)
COGNITO_SETTINGS = {
    "IDBELLEN_AGENT_USERNAME_CLAIM": "username",
    "IDBELLEN_AGENT_IDP": PROVIDER,
    "IDBELLEN_AGENT_GROUPS_CLAIM": "cognito:groups",
    "IDBELLEN_AGENT_GROUP": AGENTS_GROUP,
}
ENTRA_SETTINGS = {
    "IDBELLEN_AGENT_USERNAME_CLAIM": "preferred_username",
    "IDBELLEN_AGENT_IDP": "",
    "IDBELLEN_AGENT_GROUPS_CLAIM": "roles",
    "IDBELLEN_AGENT_GROUP": ENTRA_AGENT_ROLE,
    "IDBELLEN_AGENT_SCOPE": "Agent.Access",
}


def _array(values: list[str]) -> str:
    """How API Gateway's JWT authorizer renders an array claim."""
    return "[" + " ".join(values) + "]"


def _times(now: float | None) -> dict[str, str]:
    iat = int(time.time() if now is None else now)
    return {"auth_time": str(iat), "iat": str(iat), "exp": str(iat + 3600)}


def cognito_access_claims(
    name_id: str = DEV_AGENT,
    groups: tuple[str, ...] = (AGENTS_GROUP,),
    provider: str = PROVIDER,
    scope: str = f"openid email {AGENT_SCOPE}",
    now: float | None = None,
) -> dict[str, str]:
    """A SAML-federated user's Cognito access token (`username` = `<provider>_<NameID>`)."""
    return {
        "sub": str(uuid.uuid5(_NS, f"{provider}/{name_id}")),
        "cognito:groups": _array([*groups, f"{USER_POOL_ID}_{provider}"]),
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{USER_POOL_ID}",
        "version": "2",
        "client_id": CLIENT_ID,
        "origin_jti": str(uuid.uuid4()),
        "token_use": "access",
        "scope": scope,
        "jti": str(uuid.uuid4()),
        "username": f"{provider}_{name_id}",
        **_times(now),
    }


def cognito_id_claims(
    name_id: str = DEV_AGENT, groups: tuple[str, ...] = (AGENTS_GROUP,), provider: str = PROVIDER
) -> dict[str, str]:
    """The same user's Cognito ID token: `cognito:username`, `aud`, `email` — and no `username`, no scope."""
    return {
        "sub": str(uuid.uuid5(_NS, f"{provider}/{name_id}")),
        "cognito:groups": _array([*groups, f"{USER_POOL_ID}_{provider}"]),
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{USER_POOL_ID}",
        "cognito:username": f"{provider}_{name_id}",
        "origin_jti": str(uuid.uuid4()),
        "aud": CLIENT_ID,
        "identities": json.dumps(
            [{"userId": name_id, "providerName": provider, "providerType": "SAML", "primary": "true"}]
        ),
        "token_use": "id",
        "jti": str(uuid.uuid4()),
        "email": name_id,
        "email_verified": "false",
        **_times(None),
    }


def entra_access_claims(
    preferred_username: str = DEV_AGENT, roles: tuple[str, ...] = (ENTRA_AGENT_ROLE,), scp: str = "Agent.Access"
) -> dict[str, str]:
    """An Entra ID (OIDC) v2.0 access token for the idbellen API."""
    oid = str(uuid.uuid5(_NS, f"entra/{preferred_username}"))
    return {
        "aud": ENTRA_APP,
        "iss": f"https://login.microsoftonline.com/{ENTRA_TENANT}/v2.0",
        "azp": "11111111-2222-4333-8444-555555555555",
        "azpacr": "0",
        "name": "Demo Medewerker",
        "oid": oid,
        "preferred_username": preferred_username,
        "roles": _array(list(roles)),
        "groups": _array([str(uuid.uuid5(_NS, "kcc-group"))]),
        "scp": scp,
        "sub": str(uuid.uuid5(_NS, f"entra-sub/{preferred_username}")),
        "tid": ENTRA_TENANT,
        "uti": "devstackUti",
        "ver": "2.0",
        **_times(None),
    }


def scopes_of(claims: dict[str, Any]) -> list[str] | None:
    """`requestContext.authorizer.jwt.scopes`: the token's scope (or Entra `scp`) claim, split."""
    raw = claims.get("scope") or claims.get("scp")
    return str(raw).split() if raw else None
