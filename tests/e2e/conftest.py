"""End-to-end fixtures: a fresh DevStack per test (about a second) and a few Given-steps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from devstack import DevStack
from devstack.identity import cognito_access_claims

BSN = "pbdf.gemeente.personalData.bsn"
NAME = "pbdf.gemeente.personalData.fullname"
MOBILE = "pbdf.sidn-pbdf.mobilenumber.mobilenumber"
WALLET = {BSN: "999990019", NAME: "Demo Burger", MOBILE: "0612345678"}


@pytest.fixture
def stack() -> Iterator[DevStack]:
    with DevStack() as running:
        yield running


@dataclass
class Session:
    session_id: str
    body: dict[str, Any]
    tel: str | None = None

    @property
    def digits(self) -> str:
        assert self.tel is not None
        return self.tel.split(",", 1)[1]


def start_session(stack: DevStack, purpose: str = "demo") -> Session:
    status, body = stack.api("POST", "/sessions", {"purpose": purpose})
    assert status == 201, body
    return Session(body["session_id"], body)


def disclosed_session(stack: DevStack, purpose: str = "demo", **wallet_kwargs: Any) -> Session:
    session = start_session(stack, purpose)
    session.tel = stack.wallet.disclose(session.body["sessionPtr"], WALLET, **wallet_kwargs)
    return session


def session_status(stack: DevStack, session: Session) -> tuple[int, Any]:
    return stack.api("GET", f"/sessions/{session.session_id}")


def callback_path(stack: DevStack, session: Session) -> str:
    """The path of the callbackUrl this session's IRMA request carries (its own callback_id)."""
    url = stack.irma.session_for(session.body["sessionPtr"]).callback_url
    assert url is not None and url.startswith(stack.http.url)
    return url.removeprefix(stack.http.url)


def read_disclosure(stack: DevStack, secret: str, contact_id: str, agent: str | None = None) -> tuple[int, Any]:
    """The agent's panel reads (the dev agent by default; `agent`: another agent's NameID)."""
    claims = cognito_access_claims(agent) if agent else None
    return stack.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": contact_id}, claims=claims)
