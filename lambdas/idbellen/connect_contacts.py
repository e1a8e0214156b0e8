"""Port to Amazon Connect's own contact APIs (real boto3; the dev stack points it at a loopback stand-in
through `AWS_ENDPOINT_URL_CONNECT`).

- `blank_secret`: after a session's records are deleted, overwrite the `session_secret` contact
  attribute with an empty string (`UpdateContactAttributes`, allowed on ongoing *and* completed
  contacts). The secret is already useless then — its `SECRET#` item is gone — this only keeps a dead
  value out of the contact record Connect retains for 24 months.
- `agent_on_contact` (optional, `IDBELLEN_VERIFY_AGENT=on`): `DescribeContact` names the Connect
  user on the contact; it must be the agent the API authenticated (the JWT subject equals the Connect
  user id or username, or ends in `_<username>` as Cognito names federated users).

Never imported on the DTMF path; the boto3 client is created on first use only.
"""

from __future__ import annotations

from typing import Any, Protocol

from idbellen import aws

SECRET_ATTRIBUTE = "session_secret"


class ContactsPort(Protocol):
    def blank_secret(self, initial_contact_id: str) -> None: ...

    def agent_on_contact(self, contact_id: str, agent_id: str) -> bool: ...


def instance_id(instance_arn: str) -> str:
    """`arn:aws:connect:<region>:<account>:instance/<id>` → `<id>` (an id passes through)."""
    return instance_arn.rsplit("/", 1)[-1]


class ConnectContacts:
    def __init__(self, instance_arn: str) -> None:
        self.instance_id = instance_id(instance_arn)
        self._usernames: dict[str, str] = {}

    def _client(self) -> Any:
        return aws.client("connect")

    def blank_secret(self, initial_contact_id: str) -> None:
        self._client().update_contact_attributes(
            InstanceId=self.instance_id,
            InitialContactId=initial_contact_id,
            Attributes={SECRET_ATTRIBUTE: ""},
        )

    def _username(self, user_id: str) -> str:
        if user_id not in self._usernames:
            user = self._client().describe_user(InstanceId=self.instance_id, UserId=user_id).get("User", {})
            self._usernames[user_id] = str(user.get("Username") or "")
        return self._usernames[user_id]

    def agent_on_contact(self, contact_id: str, agent_id: str) -> bool:
        contact = self._client().describe_contact(InstanceId=self.instance_id, ContactId=contact_id).get("Contact", {})
        user_id = (contact.get("AgentInfo") or {}).get("Id")
        if not user_id:
            return False
        if agent_id == user_id:
            return True
        username = self._username(str(user_id)).lower()
        wanted = agent_id.lower()
        return bool(username) and (wanted == username or wanted.endswith("_" + username))
