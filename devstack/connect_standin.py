"""Loopback stand-in for the parts of the Amazon Connect API idbellen calls, so production code's real
boto3 calls run unchanged (`AWS_ENDPOINT_URL_CONNECT` points here):

- `UpdateContactAttributes` (POST /contact/attributes) merges into the contact's attributes;
- `DescribeContact` (GET /contacts/{InstanceId}/{ContactId}) answers `Id`, `InitialContactId`,
  `PreviousContactId`, `InitiationMethod` and, once an agent is routed to the contact, `AgentInfo`
  (`Id`; plus `ConnectedToAgentTimestamp` after the agent accepted, i.e. `assign`). An offer that is
  missed or rejected leaves no agent on the contact; a supervisor monitoring it changes nothing;
- `DescribeUser` (GET /users/{InstanceId}/{UserId}) returns the username given to `assign`/`offer`.

The dev stack copies the attributes the inbound flow sets into `attributes`, so tests can see what a
contact record would keep (e.g. that `session_secret` is blanked after the contact completes).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import unquote

from devstack.loopback import LoopbackServer, QuietHandler


class ConnectStandIn:
    def __init__(self) -> None:
        self.attributes: dict[str, dict[str, str]] = {}  # initial contact id -> attributes
        self.agents: dict[str, str] = {}  # contact id -> Connect user id
        self.accepted: dict[str, str] = {}  # contact id -> ConnectedToAgentTimestamp (ISO 8601)
        self.contacts: dict[str, dict[str, str]] = {}  # contact id -> {initial, previous, method}
        self.users: dict[str, str] = {}  # Connect user id -> username
        self.instances: dict[str, str] = {}  # contact id -> the instance id it lives in (several tenants)
        self.calls: list[tuple[str, str]] = []  # (operation, contact id), for assertions
        self.fail: set[str] = set()  # operations that answer 500 (fault tests)
        self._lock = threading.Lock()
        self._server = LoopbackServer(_Handler, self)

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> ConnectStandIn:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def set_attributes(self, initial_contact_id: str, attributes: dict[str, str]) -> None:
        with self._lock:
            self.attributes.setdefault(initial_contact_id, {}).update(attributes)

    def add_contact(
        self,
        contact_id: str,
        initial_contact_id: str,
        previous_contact_id: str | None = None,
        method: str = "INBOUND",
        instance_arn: str | None = None,
    ) -> None:
        """A contact segment exists in Connect (a call, or a transfer's new segment), in that instance
        (None: any; an instance asked about another instance's contact answers ResourceNotFound)."""
        with self._lock:
            if instance_arn:
                self.instances[contact_id] = instance_id(instance_arn)
            entry = {"initial": initial_contact_id, "method": method}
            if previous_contact_id:
                entry["previous"] = previous_contact_id
            self.contacts[contact_id] = entry

    def user_id(self, username: str) -> str:
        with self._lock:
            user_id = next((u for u, n in self.users.items() if n == username), None) or str(uuid.uuid4())
            self.users[user_id] = username
            return user_id

    def offer(self, contact_id: str, username: str) -> str:
        """Connect routes the contact to this agent (ringing, not accepted): AgentInfo without a
        ConnectedToAgentTimestamp."""
        user_id = self.user_id(username)
        with self._lock:
            self.agents[contact_id] = user_id
            self.accepted.pop(contact_id, None)
        return user_id

    def withdraw(self, contact_id: str) -> None:
        """A missed or rejected offer: the contact goes back to the queue, no agent on it."""
        with self._lock:
            if contact_id not in self.accepted:
                self.agents.pop(contact_id, None)

    def assign(self, contact_id: str, username: str, initial_contact_id: str | None = None) -> str:
        """The agent with this Connect username accepts the contact; returns their Connect user id."""
        user_id = self.user_id(username)
        with self._lock:
            if contact_id not in self.contacts:
                self.contacts[contact_id] = {"initial": initial_contact_id or contact_id, "method": "INBOUND"}
            self.agents[contact_id] = user_id
            self.accepted[contact_id] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            return user_id


def instance_id(value: str) -> str:
    """An instance ARN or id, as its id (the API takes either)."""
    return value.rsplit("/", 1)[-1]


def _elsewhere(standin: ConnectStandIn, contact: str, instance: str) -> bool:
    with standin._lock:
        known = standin.instances.get(contact)
    return known is not None and known != instance_id(instance)


def _error(handler: QuietHandler, status: int, kind: str) -> None:
    handler.send(status, {"Message": kind}, headers={"x-amzn-ErrorType": kind})


class _Handler(QuietHandler):
    def _path(self) -> list[str]:
        return [unquote(p) for p in self.path.split("?")[0].split("/") if p]

    def do_POST(self) -> None:
        standin: ConnectStandIn = self.server.app  # type: ignore[attr-defined]
        if self._path() != ["contact", "attributes"]:
            _error(self, 404, "ResourceNotFoundException")
            return
        body = json.loads(self.read_body() or b"{}")
        contact = str(body.get("InitialContactId", ""))
        standin.calls.append(("UpdateContactAttributes", contact))
        if "UpdateContactAttributes" in standin.fail:
            _error(self, 500, "InternalServiceException")
            return
        attributes = body.get("Attributes")
        if not contact or not body.get("InstanceId") or not isinstance(attributes, dict):
            _error(self, 400, "InvalidParameterException")
            return
        if _elsewhere(standin, contact, str(body["InstanceId"])):
            _error(self, 400, "ResourceNotFoundException")
            return
        standin.set_attributes(contact, {str(k): str(v) for k, v in attributes.items()})
        self.send(200, {})

    def do_GET(self) -> None:
        standin: ConnectStandIn = self.server.app  # type: ignore[attr-defined]
        parts = self._path()
        if len(parts) == 3 and parts[0] == "contacts":
            contact = parts[2]
            standin.calls.append(("DescribeContact", contact))
            if "DescribeContact" in standin.fail:
                _error(self, 500, "InternalServiceException")
                return
            if _elsewhere(standin, contact, parts[1]):
                _error(self, 404, "ResourceNotFoundException")
                return
            with standin._lock:
                agent = standin.agents.get(contact)
                accepted = standin.accepted.get(contact)
                known = dict(standin.contacts.get(contact) or {"initial": contact, "method": "INBOUND"})
            body: dict[str, Any] = {
                "Id": contact,
                "InitialContactId": known["initial"],
                "Channel": "VOICE",
                "InitiationMethod": known["method"],
            }
            if known.get("previous"):
                body["PreviousContactId"] = known["previous"]
            if agent:
                body["AgentInfo"] = {"Id": agent, **({"ConnectedToAgentTimestamp": accepted} if accepted else {})}
            self.send(200, {"Contact": body})
            return
        if len(parts) == 3 and parts[0] == "users":
            standin.calls.append(("DescribeUser", parts[2]))
            if "DescribeUser" in standin.fail:
                _error(self, 500, "InternalServiceException")
                return
            username = standin.users.get(parts[2])
            if username is None:
                _error(self, 404, "ResourceNotFoundException")
                return
            self.send(200, {"User": {"Id": parts[2], "Username": username}})
            return
        _error(self, 404, "ResourceNotFoundException")
