"""Port to Amazon Connect's own contact APIs (real boto3; the dev stack points it at a loopback stand-in
through `AWS_ENDPOINT_URL_CONNECT`).

- `blank_secret`: after a session's records are deleted, overwrite the `session_secret` contact
  attribute with an empty string (`UpdateContactAttributes`, allowed on ongoing *and* completed
  contacts). The secret is already useless then — its `SECRET#` item is gone — this only keeps a dead
  value out of the contact record Connect retains for 24 months.
- `describe`: who Connect has on a contact segment and which call it belongs to. `DescribeContact`
  gives `InitialContactId` and `AgentInfo` (`Id`, and `ConnectedToAgentTimestamp` once the agent
  accepted: "Information about the agent who accepted the contact"); `DescribeUser` turns the user id
  into the username the agent signs in with. Usernames are cached per user id for a few minutes (a
  user's username does not change under a running call); contacts are never cached (the agent on a
  contact changes).

Never imported on the DTMF path; the boto3 client is created on first use only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from idbellen import aws, clock

SECRET_ATTRIBUTE = "session_secret"
USERNAME_CACHE_SECONDS = 300


@dataclass(frozen=True)
class ContactView:
    """What Connect says about one contact segment (ids only)."""

    contact_id: str
    initial_contact_id: str
    agent_user_id: str | None
    agent_username: str | None
    accepted: bool  # an agent accepted it (AgentInfo.ConnectedToAgentTimestamp is set)


class ContactsPort(Protocol):
    def blank_secret(self, initial_contact_id: str) -> None: ...

    def describe(self, contact_id: str) -> ContactView: ...


def instance_id(instance_arn: str) -> str:
    """`arn:aws:connect:<region>:<account>:instance/<id>` → `<id>` (an id passes through)."""
    return instance_arn.rsplit("/", 1)[-1]


class ConnectContacts:
    def __init__(self, instance_arn: str) -> None:
        self.instance_id = instance_id(instance_arn)
        self._usernames: dict[str, tuple[str, int]] = {}  # user id -> (username, cached until)

    def _client(self) -> Any:
        return aws.client("connect")

    def blank_secret(self, initial_contact_id: str) -> None:
        self._client().update_contact_attributes(
            InstanceId=self.instance_id,
            InitialContactId=initial_contact_id,
            Attributes={SECRET_ATTRIBUTE: ""},
        )

    def _username(self, user_id: str) -> str:
        now = clock.now()
        cached = self._usernames.get(user_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        user = self._client().describe_user(InstanceId=self.instance_id, UserId=user_id).get("User", {})
        username = str(user.get("Username") or "")
        self._usernames[user_id] = (username, now + USERNAME_CACHE_SECONDS)
        return username

    def describe(self, contact_id: str) -> ContactView:
        contact = self._client().describe_contact(InstanceId=self.instance_id, ContactId=contact_id).get("Contact", {})
        agent = contact.get("AgentInfo") or {}
        user_id = agent.get("Id")
        return ContactView(
            contact_id=contact_id,
            initial_contact_id=str(contact.get("InitialContactId") or contact.get("Id") or contact_id),
            agent_user_id=str(user_id) if user_id else None,
            agent_username=(self._username(str(user_id)) or None) if user_id else None,
            accepted=bool(user_id and agent.get("ConnectedToAgentTimestamp")),
        )
