"""`DevStack`: embedded AWS (moto server on loopback), the demo IRMA server and wallet, the Lambda
stand-in and the HTTP API adapter, with the environment set so the real handlers run unchanged.

    with DevStack() as stack:
        status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
        tel = stack.wallet.disclose(body["sessionPtr"], {...})
        call = stack.call(tel.split(",", 1)[1], caller="+31612345678")
        stack.contact_event(call.contact_id, "COMPLETED")
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer

from devstack.apigw import ApiDispatcher, HttpApiAdapter
from devstack.clock import MovableClock
from devstack.cloudwatch_standin import cloudwatch_like_aws
from devstack.connect_standin import ConnectStandIn
from devstack.emf_bridge import EmfBridge
from devstack.identity import COGNITO_SETTINGS, DEV_AGENT, cognito_access_claims
from devstack.irma_server import DemoIrmaServer, IrmaServerConfig
from devstack.lambda_context import LambdaContext
from devstack.lambda_standin import LambdaStandIn
from devstack.moto_atomic import atomic_dynamodb_requests
from devstack.moto_conformance import unused_placeholders_refused, updated_new_like_dynamodb
from devstack.provision import provision
from devstack.wallet import DemoWallet

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request lines are noise

REGION = "eu-central-1"
INSTANCE_ARN = "arn:aws:connect:eu-central-1:123456789012:instance/00000000-0000-4000-8000-000000000000"
PHONE_NUMBER = "+31141234567"
SESSION_FUNCTION = "idbellen-session"
DEFAULT_TENANT = "default"
# Multi-tenancy is a later issue: the facade takes `tenant=` already, and accepts only these.
TENANTS: tuple[str, ...] = (DEFAULT_TENANT,)
DEMO_PURPOSES: dict[str, Any] = {
    "demo": {
        "label": {"nl": "Demo: vraag over uw gegevens", "en": "Demo: question about your records"},
        "disclose": [[["pbdf.gemeente.personalData.bsn"]], [["pbdf.gemeente.personalData.fullname"]]],
        "labels": {
            "pbdf.gemeente.personalData.bsn": {"nl": "BSN", "en": "Citizen service number (BSN)"},
            "pbdf.gemeente.personalData.fullname": {"nl": "Naam", "en": "Name"},
        },
    },
    "belastingen": {
        "label": {"nl": "Gemeentelijke belastingen", "en": "Municipal taxes"},
        "disclose": [
            [["pbdf.gemeente.personalData.bsn"]],
            [["pbdf.gemeente.personalData.fullname"]],
            [["pbdf.sidn-pbdf.mobilenumber.mobilenumber"]],
        ],
        "labels": {
            "pbdf.gemeente.personalData.bsn": {"nl": "BSN", "en": "Citizen service number (BSN)"},
            "pbdf.gemeente.personalData.fullname": {"nl": "Naam", "en": "Name"},
            "pbdf.sidn-pbdf.mobilenumber.mobilenumber": {"nl": "Mobiel nummer", "en": "Mobile number"},
        },
    },
}


@dataclass(frozen=True)
class IrmaSetup:
    """How the dev stack's IRMA server is configured (irmago's switches) and what idbellen is told.

    The default is the recommended production setup: the server signs results with a JWT key,
    `jwt_issuer` is the CLI's default, idbellen trusts that key. Other real configurations:
    `IrmaSetup(jwt_issuer="yivi.example.nl")`; `IrmaSetup(rotation=True)` (idbellen trusts two keys,
    an older one first, the server signs with the second); `IrmaSetup(jwt_key=False)` (no key: no
    callbacks); `IrmaSetup(jwt_key=False, allow_unsigned_callbacks=True)` (unsigned callbacks).
    """

    jwt_key: bool = True
    jwt_issuer: str = "irmaserver"
    allow_unsigned_callbacks: bool = False
    rotation: bool = False
    # IDBELLEN_IRMA_UNSIGNED_CALLBACKS; None = as the server allows
    unsigned_callbacks: bool | None = None
    session_result_lifetime: int = 300
    max_session_lifetime: int = 900
    write_timeout: float = 4.0
    background_sweep: bool = True
    log_level: str = "info"

    def server_config(self) -> IrmaServerConfig:
        return IrmaServerConfig(
            jwt_privkey=self.jwt_key,
            jwt_issuer=self.jwt_issuer,
            allow_unsigned_callbacks=self.allow_unsigned_callbacks,
            session_result_lifetime=self.session_result_lifetime,
            max_session_lifetime=self.max_session_lifetime,
            write_timeout=self.write_timeout,
            background_sweep=self.background_sweep,
            log_level=self.log_level,
        )


def _other_public_key() -> str:
    """A public key the IRMA server does not sign with (the old key of a rotation)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class CallResult:
    """What happened to one simulated call."""

    contact_id: str
    initial_contact_id: str
    attributes: dict[str, str]
    queued: bool
    prompts: list[str] = field(default_factory=list)
    lambda_result: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    # every answer of the DTMF function during the call, in order (the flow asks again after a pause
    # when a code is not verified yet); `lambda_result` is the last one
    lambda_results: list[dict[str, str]] = field(default_factory=list)


class DevStack:
    def __init__(
        self,
        settings: dict[str, str] | None = None,
        purposes: dict[str, Any] | None = None,
        agent_auth: str = "jwt",
        *,
        irma: IrmaSetup | None = None,
        cloudwatch_url: str | None = None,
    ) -> None:
        self.overrides = settings or {}
        self.cloudwatch_url = cloudwatch_url  # where the functions' EMF metrics go; None: this stack's moto
        self.purposes = purposes or DEMO_PURPOSES
        self.irma_setup = irma or IrmaSetup()
        self.agent_auth = agent_auth
        self._wallet = DemoWallet()  # given the IRMA server at start (status="TIMEOUT")
        self.clock = MovableClock()
        self.requestor_token = secrets.token_urlsafe(24)
        self.contacts: dict[str, str] = {}  # contact id -> initial contact id
        self.tenants: list[str] = list(TENANTS)  # the configured tenant ids, the default first
        self.dev_agents: dict[str, str] = {DEFAULT_TENANT: DEV_AGENT}  # tenant -> the dev agent's NameID
        self._saved_env: dict[str, str | None] = {}
        self._started: list[Any] = []
        self._exit_stack = contextlib.ExitStack()

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> DevStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        from idbellen import clock as idclock
        from idbellen import runtime
        from idbellen.handlers import agent, cleanup, dtmf, session

        self._exit_stack.enter_context(atomic_dynamodb_requests())
        self._exit_stack.enter_context(cloudwatch_like_aws())
        self._exit_stack.enter_context(updated_new_like_dynamodb())
        self._exit_stack.enter_context(unused_placeholders_refused())
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        self._started.append(self.moto)
        host, port = self.moto.get_host_and_port()
        self.aws_url = f"http://{host}:{port}"
        # moto keeps its state per process, not per server: start from empty like a fresh account.
        requests.post(f"{self.aws_url}/moto-api/reset", timeout=10)
        # CloudWatch Logs' EMF extraction: the functions' metric lines become CloudWatch metrics.
        self.metrics_bridge = EmfBridge(
            self.clock.now, self._cloudwatch_client, flush_on_stop=bool(self.cloudwatch_url)
        )
        self._started.append(self.metrics_bridge)
        self.irma = DemoIrmaServer(
            self.requestor_token, clock=self.clock.now, config=self.irma_setup.server_config()
        ).start()
        self._started.append(self.irma)
        self._wallet.irma = self.irma
        self.lambdas = LambdaStandIn().start()
        self._started.append(self.lambdas)
        functions = {
            "session": session.handler,
            "dtmf": dtmf.handler,
            "agent": agent.handler,
            "cleanup": cleanup.handler,
        }
        self.handlers = {name: self.metrics_bridge.wrap(handler) for name, handler in functions.items()}
        self.lambdas.register(SESSION_FUNCTION, self.handlers["session"])
        self.connect = ConnectStandIn().start()
        self._started.append(self.connect)
        self.dispatcher = ApiDispatcher({"session": self.handlers["session"], "agent": self.handlers["agent"]})
        self.http = HttpApiAdapter(self.dispatcher).start()
        self._started.append(self.http)

        self._set_env(
            {
                "AWS_ENDPOINT_URL": self.aws_url,
                "AWS_ENDPOINT_URL_LAMBDA": self.lambdas.url,
                "AWS_ENDPOINT_URL_CONNECT": self.connect.url,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_PROFILE": None,
            }
        )
        self.session = boto3.session.Session()
        resources = provision(self.session, self.requestor_token)
        self.resources = resources
        self._set_env(
            {
                "IDBELLEN_TENANT": "default",
                "IDBELLEN_TABLE": resources.table,
                "IDBELLEN_KMS_KEY_ID": resources.kms_key_id,
                "IDBELLEN_HASH_KEY_PARAM": resources.hash_key_param,
                "IDBELLEN_IRMA_URL": self.irma.url,
                "IDBELLEN_IRMA_TOKEN_PARAM": resources.token_param,
                **self._irma_settings(),
                "IDBELLEN_PUBLIC_API_URL": self.http.url,
                "IDBELLEN_PHONE_NUMBER": PHONE_NUMBER,
                "IDBELLEN_PURPOSES": json.dumps(self.purposes),
                "IDBELLEN_SESSION_FUNCTION": SESSION_FUNCTION,
                "IDBELLEN_AGENT_AUTH": self.agent_auth,
                "IDBELLEN_CONNECT_INSTANCE_ARN": INSTANCE_ARN,
                # agent sign-in like the template's Cognito + SAML option (devstack/identity.py);
                # the agent binding is on because a Connect instance is configured
                **COGNITO_SETTINGS,
                "POWERTOOLS_SERVICE_NAME": "idbellen",
                "POWERTOOLS_METRICS_NAMESPACE": "idbellen",
                **self.overrides,
            }
        )
        idclock.use(self.clock.now)
        runtime.reset()  # a fresh "cold start" against this stack's settings

    def _irma_settings(self) -> dict[str, str | None]:
        setup = self.irma_setup
        keys = [self.irma.public_key_pem] if setup.jwt_key else []
        if setup.jwt_key and setup.rotation:
            keys.insert(0, _other_public_key())
        unsigned = setup.allow_unsigned_callbacks if setup.unsigned_callbacks is None else setup.unsigned_callbacks
        return {
            "IDBELLEN_IRMA_JWT_PUBLIC_KEY": "".join(keys),
            "IDBELLEN_IRMA_JWT_ISSUER": setup.jwt_issuer or None,
            "IDBELLEN_IRMA_UNSIGNED_CALLBACKS": "on" if unsigned else "off",
        }

    def stop(self) -> None:
        from idbellen import clock as idclock
        from idbellen import runtime

        for component in reversed(self._started):
            try:
                component.stop()
            except Exception:  # noqa: S112 (best effort shutdown)
                continue
        self._started.clear()
        self._exit_stack.close()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        idclock.use(None)
        runtime.reset()

    def _set_env(self, values: dict[str, str | None]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _cloudwatch_client(self) -> Any:
        return boto3.session.Session().client(
            "cloudwatch",
            endpoint_url=self.cloudwatch_url or self.aws_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def flush_metrics(self) -> int:
        """Deliver the functions' EMF metrics to CloudWatch now (CloudWatch is asynchronous too)."""
        return self.metrics_bridge.flush()

    # -- the facade ----------------------------------------------------------------------------
    @property
    def wallet(self) -> DemoWallet:
        return self._wallet

    def _tenant(self, tenant: str | None) -> str:
        if tenant is None:
            return self.tenants[0]
        if tenant not in self.tenants:
            raise ValueError(f"unknown tenant {tenant!r}; configured: {self.tenants}")
        return tenant

    def agent_claims(self, tenant: str | None = None) -> dict[str, str]:
        """The claims API Gateway's JWT authorizer passes for the dev agent of `tenant` (a Cognito access
        token of a user federated from `kcc-idp`, in the group `kcc-agents`)."""
        return cognito_access_claims(self.dev_agents[self._tenant(tenant)], now=self.clock.now())

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        claims: dict[str, Any] | None = None,
        tenant: str | None = None,
    ) -> tuple[int, Any]:
        """Call the real handler with an API Gateway v2 event; returns (status, parsed JSON or None).

        Agent routes run as an authenticated agent: the dev agent of `tenant` (the default tenant when
        None) with the claims a real JWT authorizer would pass, or exactly `claims` when given."""
        tenant = self._tenant(tenant)
        text = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        if claims is None and self.dispatcher.agent_claims is None:
            claims = self.agent_claims(tenant)
        status, _, payload = self.dispatcher.dispatch(
            method, path, text, headers or {"content-type": "application/json"}, claims=claims
        )
        try:
            return status, json.loads(payload) if payload else None
        except ValueError:
            return status, None

    def invoke(self, function: str, event: Any) -> Any:
        """Invoke one of the four handlers directly with any event (tests, fuzzing)."""
        return self.handlers[function](event, LambdaContext(function_name=f"idbellen-{function}"))

    def contact_flow_event(
        self,
        contact_id: str,
        initial_contact_id: str,
        parameters: dict[str, str],
        caller: str | None = "+31612345678",
        attributes: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return {
            "Name": "ContactFlowEvent",
            "Details": {
                "ContactData": {
                    "Attributes": attributes or {},
                    "Channel": "VOICE",
                    "ContactId": contact_id,
                    "InitialContactId": initial_contact_id,
                    "PreviousContactId": initial_contact_id,
                    "InitiationMethod": "INBOUND",
                    "InstanceARN": INSTANCE_ARN,
                    "CustomerEndpoint": {"Address": caller, "Type": "TELEPHONE_NUMBER"} if caller else None,
                    "SystemEndpoint": {"Address": PHONE_NUMBER, "Type": "TELEPHONE_NUMBER"},
                    "Queue": None,
                    "MediaStreams": {"Customer": {"Audio": None}},
                },
                "Parameters": parameters,
            },
        }

    def call(
        self,
        digits: str,
        caller: str | None = "+31612345678",
        contact_id: str | None = None,
        initial_contact_id: str | None = None,
        *,
        hours_open: bool = True,
        queue_full: bool = False,
        early_digits: bool = False,
    ) -> CallResult:
        """Place a call with the digits the app dials after the pause; "" means no input (Timeout).

        Runs the rendered inbound flow (``contact_flows/id_inbound.json``) in the flow simulator
        against the real DTMF handler: logging off, touchtone buffer, hours, Store customer input,
        the Lambda call with Connect's time limit / STRING_MAP / retry rules, attributes, queue.
        ``early_digits`` sends the digits before the input block (as the Yivi app does);
        ``hours_open=False`` and ``queue_full=True`` take those branches. The contact stays queued
        (no disconnect flow) until ``contact_event``; ``call.path`` lists the actions taken.
        """
        contact_id = contact_id or str(uuid.uuid4())
        # a flow run on a known segment (a transfer's) keeps that segment's InitialContactId
        initial = initial_contact_id or self.contacts.get(contact_id, contact_id)
        self.contacts[contact_id] = initial
        simulator = self._flow_simulator()
        run = simulator.call(
            self._flow_arns["inbound"],
            digits,
            caller=caller,
            early_digits=early_digits,
            hours_open=hours_open,
            queue_full=queue_full,
            contact_id=contact_id,
            initial_contact_id=initial,
        )
        dtmf = [i for i in run.invocations if i.action == "RedeemCallCode" and i.outcome == "ok"]
        lambda_results = [{k: str(v) for k, v in i.response.items()} for i in dtmf]
        lambda_result = lambda_results[-1] if lambda_results else {}
        if run.contact_id not in self.connect.contacts:
            self.connect.add_contact(run.contact_id, run.initial_contact_id)
        self.connect.set_attributes(run.initial_contact_id, dict(run.attributes))  # Connect's contact record
        return CallResult(
            run.contact_id,
            run.initial_contact_id,
            dict(run.attributes),
            run.queued,
            list(run.prompts),
            lambda_result,
            list(run.path),
            lambda_results,
        )

    def _flow_simulator(self) -> Any:
        """The flow simulator with our flows rendered for this stack (built on first call)."""
        from devstack.flow_simulator import flow_arns, simulator_for, template_timeouts

        code_length = os.environ.get("IDBELLEN_DTMF_LENGTH", "8")
        cached = getattr(self, "_flow_sim", None)
        if cached is None or cached[0] != code_length:
            sim = simulator_for(
                {"dtmf": self.handlers["dtmf"], "cleanup": self.handlers["cleanup"]},
                instance_arn=INSTANCE_ARN,
                code_length=code_length,
                system_number=PHONE_NUMBER,
                timeouts=template_timeouts(),  # Lambda ends an attempt at the function's Timeout
            )
            sim.on_spend.append(self.clock.advance)  # work that takes time moves the handlers' clock too
            self._flow_sim = (code_length, sim)
            self._flow_arns = flow_arns(INSTANCE_ARN)
        return self._flow_sim[1]

    def assign(self, contact_id: str, username: str | None = None) -> str:
        """That agent accepts the contact in Connect (`None`: the dev agent of the contact's tenant):
        `DescribeContact` names them with a `ConnectedToAgentTimestamp`. Returns their Connect user id."""
        name = username if username is not None else self.dev_agents[self.tenants[0]]
        return self.connect.assign(contact_id, name, initial_contact_id=self.contacts.get(contact_id, contact_id))

    def transfer(self, contact_id: str) -> str:
        """The agent transfers the call: a new segment (ContactId) with the same InitialContactId, its
        `INITIATED` contact event (initiationMethod TRANSFER) delivered. Returns the new contact id."""
        initial = self.contacts.get(contact_id, contact_id)
        new_id = str(uuid.uuid4())
        self.contacts[new_id] = initial
        self.connect.add_contact(new_id, initial, previous_contact_id=contact_id, method="TRANSFER")
        self.contact_event(new_id, "INITIATED", initiationMethod="TRANSFER", previousContactId=contact_id)
        return new_id

    def contact_event(self, contact_id: str, event_type: str, **detail: Any) -> Any:
        """Deliver an EventBridge `Amazon Connect Contact Event` to the cleanup function."""
        initial = self.contacts.get(contact_id, contact_id)
        body = {
            "eventType": event_type,
            "contactId": contact_id,
            "initialContactId": initial,
            "channel": "VOICE",
            "instanceArn": INSTANCE_ARN,
            "initiationMethod": "INBOUND",
            "initiationTimestamp": "2026-11-28T10:00:00.000Z",
            **detail,
        }
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Amazon Connect Contact Event",
            "source": "aws.connect",
            "account": "123456789012",
            "time": "2026-11-28T10:05:00Z",
            "region": REGION,
            "resources": [INSTANCE_ARN],
            "detail": body,
        }
        return self.invoke("cleanup", event)

    def sweep(self) -> Any:
        return self.invoke("cleanup", {"idbellen_action": "sweep"})

    def table_items(self) -> list[dict[str, Any]]:
        """Every raw item in the table (attribute-value form unwrapped), for inspection."""
        from idbellen.store import unmarshal

        ddb = self.session.client("dynamodb")
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.resources.table}
        while True:
            out = ddb.scan(**kwargs)
            items += [unmarshal(i) for i in out.get("Items", [])]
            if "LastEvaluatedKey" not in out:
                return items
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
