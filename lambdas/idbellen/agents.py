"""Who is asking on the agent routes: the identity API Gateway's JWT authorizer verified, and the rule an
agent must meet before anything else is looked at.

The authorizer has checked the token's signature, issuer, audience (`aud`, or `client_id` for Cognito
access tokens), expiry and — where the route lists them — its scopes. It hands the claims over as
strings: an array claim arrives as one bracketed, space-separated string (`"[kcc-agents other]"`), the
token's `scope`/`scp` as `requestContext.authorizer.jwt.scopes` (a list, or null).

- The Connect username: `IDBELLEN_AGENT_USERNAME_CLAIM` (default `username`, which Cognito access tokens
  carry). With `IDBELLEN_AGENT_IDP` set, the claim must be `<provider>_<NameID>` (Cognito's name for a
  user federated from that SAML/OIDC provider) and the prefix is removed; a claim without that exact
  prefix names nobody. With an OIDC issuer such as Entra ID, use `preferred_username` or `email`.
- Agents only: the groups claim (`IDBELLEN_AGENT_GROUPS_CLAIM`, default `cognito:groups`) must hold
  `IDBELLEN_AGENT_GROUP`, and/or the token must carry `IDBELLEN_AGENT_SCOPE`. With neither configured the
  agent routes refuse everyone (fail closed).

No claim value is logged; the username is compared, never stored (the processing log names the agent by
Connect's user id, or by the token's `sub` where Connect is not consulted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from idbellen.config import Settings
from idbellen.errors import ConfigError, Forbidden

MAX_CLAIM = 256
_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class Agent:
    """An authenticated agent. `username` is the Connect username the token names (None: it names none)."""

    subject: str
    username: str | None


def claim_list(value: object) -> list[str]:
    """A multi-valued claim as API Gateway passes it (`"[a b]"`), as a JSON list (direct invocation), or
    as a space/comma separated string."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value if isinstance(v, str | int) and str(v)]
    if not isinstance(value, str):
        return []
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [part for part in _SEPARATORS.split(text) if part]


def token_scopes(claims: Mapping[str, Any], scopes: object) -> list[str]:
    """The token's scopes: the authorizer's list, else the `scope` (OAuth) or `scp` (Entra ID) claim."""
    if isinstance(scopes, list) and scopes:
        return [str(s) for s in scopes if isinstance(s, str)]
    return claim_list(claims.get("scope")) or claim_list(claims.get("scp"))


def connect_username(settings: Settings, claims: Mapping[str, Any]) -> str | None:
    raw = claims.get(settings.agent_username_claim)
    if not isinstance(raw, str) or not raw or len(raw) > MAX_CLAIM:
        return None
    if settings.agent_idp:
        prefix = settings.agent_idp + "_"
        if not raw.startswith(prefix) or len(raw) == len(prefix):
            return None  # a native user, or another provider's: not a Connect user of this KCC
        return raw[len(prefix) :]
    return raw


def authorize(settings: Settings, claims: Mapping[str, Any] | None, scopes: object = None) -> Agent | None:
    """The agent behind the request; None when local use switched authentication off and no claims came.

    Raises PermissionError (401) without claims, Forbidden (403) for a user who is not an agent, and
    ConfigError when no agent rule is configured."""
    if claims is None:
        if settings.agent_auth == "off":
            return None
        raise PermissionError("no authorizer claims")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise PermissionError("no subject")
    if not settings.agent_group and not settings.agent_scope:
        raise ConfigError("IDBELLEN_AGENT_GROUP or IDBELLEN_AGENT_SCOPE must be set for the agent routes")
    if settings.agent_group and settings.agent_group not in claim_list(claims.get(settings.agent_groups_claim)):
        raise Forbidden("not_an_agent")
    if settings.agent_scope and settings.agent_scope not in token_scopes(claims, scopes):
        raise Forbidden("not_an_agent")
    return Agent(subject=subject[:128], username=connect_username(settings, claims))
