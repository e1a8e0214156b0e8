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
import dataclasses
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
from devstack.identity import (
    AGENTS_GROUP,
    COGNITO_SETTINGS,
    DEMODORP_AGENTS_GROUP,
    DEMODORP_DEV_AGENT,
    DEMODORP_PROVIDER,
    DEV_AGENT,
    PROVIDER,
    cognito_access_claims,
)
from devstack.irma_server import DemoIrmaServer, IrmaServerConfig
from devstack.lambda_context import LambdaContext
from devstack.lambda_standin import LambdaStandIn
from devstack.moto_atomic import atomic_dynamodb_requests
from devstack.moto_conformance import (
    kms_key_state_like_aws,
    unused_placeholders_refused,
    updated_new_like_dynamodb,
)
from devstack.provision import provision
from devstack.wallet import DemoWallet

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request lines are noise

REGION = "eu-central-1"
INSTANCE_ARN = "arn:aws:connect:eu-central-1:123456789012:instance/00000000-0000-4000-8000-000000000000"
PHONE_NUMBER = "+31141234567"
SESSION_FUNCTION = "idbellen-session"
DEFAULT_TENANT = "default"
# The dev stack's tenants (issue 14): two municipalities on one deployment, the default first.
TENANTS: tuple[str, ...] = (DEFAULT_TENANT, "demodorp")
TENANTS_PATH = "/idbellen/dev/tenants"
SHARED_PROCESSING_LOG_GROUP = "/idbellen/dev/processing"
# Environment settings a tenant document carries: a DevStack told one of these (or IDBELLEN_TENANT)
# through `settings=` configures *the* tenant through the environment, so it runs single-tenant unless
# `tenants=` says otherwise.
TENANT_SETTINGS = frozenset(
    {
        "IDBELLEN_TENANT",
        "IDBELLEN_PURPOSES",
        "IDBELLEN_PHONE_NUMBER",
        "IDBELLEN_CONNECT_INSTANCE_ARN",
        "IDBELLEN_KMS_KEY_ID",
        "IDBELLEN_CONTROLLER_OIN",
        "IDBELLEN_PROCESSING_LOG_RETENTION",
        "IDBELLEN_RATE_LIMIT_FAILURES",
        "IDBELLEN_AGENT_USERNAME_CLAIM",
        "IDBELLEN_AGENT_IDP",
        "IDBELLEN_AGENT_GROUPS_CLAIM",
        "IDBELLEN_AGENT_GROUP",
        "IDBELLEN_AGENT_SCOPE",
    }
)


@dataclass(frozen=True)
class DevTenant:
    """One dev municipality: where its calls arrive, who its agents are (clearly fake values)."""

    id: str
    display_name: str
    oin: str
    phone_number: str
    instance_arn: str
    idp: str
    group: str
    agent: str  # the dev agent's SAML NameID = Connect username

    @property
    def processing_log_group(self) -> str:
        return f"/idbellen/dev/tenants/{self.id}/processing"


DEV_TENANTS = {
    DEFAULT_TENANT: DevTenant(
        DEFAULT_TENANT,
        "Gemeente Voorbeeld (dev)",
        "00000001001234567000",
        PHONE_NUMBER,
        INSTANCE_ARN,
        PROVIDER,
        AGENTS_GROUP,
        DEV_AGENT,
    ),
    "demodorp": DevTenant(
        "demodorp",
        "Gemeente Demodorp",
        "00000001009876543000",
        "+31142345678",
        INSTANCE_ARN.replace("-000000000000", "-000000000002"),
        DEMODORP_PROVIDER,
        DEMODORP_AGENTS_GROUP,
        DEMODORP_DEV_AGENT,
    ),
}


def dev_tenant(tenant_id: str, position: int) -> DevTenant:
    """The dev tenant of that id (another id gets its own number, instance, IdP and group)."""
    known = DEV_TENANTS.get(tenant_id)
    if known is not None:
        return known
    if position == 0:  # the hosting municipality under another id: the environment's number, IdP, agent
        name = f"Gemeente {tenant_id.title()}"
        return dataclasses.replace(DEV_TENANTS[DEFAULT_TENANT], id=tenant_id, display_name=name)
    n = position + 10
    return DevTenant(
        tenant_id,
        f"Gemeente {tenant_id.title()} (dev)",
        f"000000010000000000{n:02d}",
        f"+3114300000{n:02d}",
        INSTANCE_ARN.replace("-000000000000", f"-0000000000{n:02d}"),
        f"{tenant_id}-idp"[:32],
        f"{tenant_id}-agents",
        f"agent.demo@{tenant_id}.example",
    )


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
        tenants: tuple[str, ...] | list[str] | int | None = None,
    ) -> None:
        """`tenants`: the tenant ids (the default first), or how many of `TENANTS`; one tenant is the
        single-tenant deployment (no registry, everything from the environment, as before issue 14).
        None: `TENANTS`, unless `settings` configures the tenant itself (`TENANT_SETTINGS`)."""
        self.overrides = settings or {}
        self.cloudwatch_url = cloudwatch_url  # where the functions' EMF metrics go; None: this stack's moto
        self.purposes = purposes or DEMO_PURPOSES
        self.irma_setup = irma or IrmaSetup()
        self.agent_auth = agent_auth
        self._wallet = DemoWallet()  # given the IRMA server at start (status="TIMEOUT")
        self.clock = MovableClock()
        self.requestor_token = secrets.token_urlsafe(24)
        self.contacts: dict[str, str] = {}  # contact id -> initial contact id
        self.tenants: list[str] = self._tenant_ids(tenants)  # the configured tenant ids, the default first
        self.tenant_config: dict[str, DevTenant] = {t: dev_tenant(t, i) for i, t in enumerate(self.tenants)}
        self.dev_agents: dict[str, str] = {t: c.agent for t, c in self.tenant_config.items()}  # tenant -> NameID
        self.tenant_keys: dict[str, str] = {}  # tenant -> its KMS key id (multi-tenant)
        self.processing_log_groups: dict[str, str] = {}  # tenant -> its processing-log group (multi-tenant)
        self.contact_tenants: dict[str, str] = {}  # contact id -> tenant of the call
        self._flow_sims: dict[str, tuple[str, Any]] = {}  # tenant -> (code length, flow simulator)
        self._flow_arns: dict[str, dict[str, str]] = {}  # tenant -> its flows' ARNs
        self._saved_env: dict[str, str | None] = {}
        self._started: list[Any] = []
        self._exit_stack = contextlib.ExitStack()

    def _tenant_ids(self, tenants: tuple[str, ...] | list[str] | int | None) -> list[str]:
        if isinstance(tenants, int):
            ids = list(TENANTS[: max(tenants, 1)])
        elif tenants is not None:
            ids = list(tenants)
        elif TENANT_SETTINGS & set(self.overrides):
            ids = [self.overrides.get("IDBELLEN_TENANT") or DEFAULT_TENANT]
        else:
            ids = list(TENANTS)
        if not ids or len(set(ids)) != len(ids):
            raise ValueError("tenants must be distinct tenant ids, the default first")
        return ids

    @property
    def multi_tenant(self) -> bool:
        return len(self.tenants) > 1

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
        self._exit_stack.enter_context(kms_key_state_like_aws())
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
        first = self.tenant_config[self.tenants[0]]
        self._set_env(
            {
                "IDBELLEN_TENANT": first.id,
                "IDBELLEN_TENANTS_PARAMETER_PATH": None,  # set below for several tenants (not inherited)
                "IDBELLEN_TABLE": resources.table,
                "IDBELLEN_KMS_KEY_ID": resources.kms_key_id,
                "IDBELLEN_HASH_KEY_PARAM": resources.hash_key_param,
                "IDBELLEN_IRMA_URL": self.irma.url,
                "IDBELLEN_IRMA_TOKEN_PARAM": resources.token_param,
                **self._irma_settings(),
                "IDBELLEN_PUBLIC_API_URL": self.http.url,
                "IDBELLEN_PHONE_NUMBER": first.phone_number,
                "IDBELLEN_PURPOSES": json.dumps(self.purposes),
                "IDBELLEN_SESSION_FUNCTION": SESSION_FUNCTION,
                "IDBELLEN_AGENT_AUTH": self.agent_auth,
                "IDBELLEN_CONNECT_INSTANCE_ARN": first.instance_arn,
                # agent sign-in like the template's Cognito + SAML option (devstack/identity.py);
                # the agent binding is on because a Connect instance is configured
                **COGNITO_SETTINGS,
                "POWERTOOLS_SERVICE_NAME": "idbellen",
                "POWERTOOLS_METRICS_NAMESPACE": "idbellen",
                **self.overrides,
            }
        )
        if self.multi_tenant:
            self._provision_tenants()
        idclock.use(self.clock.now)
        runtime.reset()  # a fresh "cold start" against this stack's settings

    def _provision_tenants(self) -> None:
        """The registry (one SSM parameter per tenant), a KMS key and a processing-log group per tenant.
        The default tenant's document is made from the environment (so `settings=` still configures it),
        the others from `DEV_TENANTS`; every tenant gets the stack's purposes."""
        kms = self.session.client("kms")
        logs = self.session.client("logs")
        ssm = self.session.client("ssm")
        env = os.environ
        for position, tenant in enumerate(self.tenants):
            config = self.tenant_config[tenant]
            if position == 0:
                key = env.get("IDBELLEN_KMS_KEY_ID") or self.resources.kms_key_id
            else:
                key = kms.create_key(
                    Description=f"idbellen dev tenant {tenant}",
                    Tags=[{"TagKey": "idbellen:tenant", "TagValue": tenant}],
                )["KeyMetadata"]["KeyId"]
            self.tenant_keys[tenant] = key
            # the default tenant is the hosting municipality: its group is the deployment's own
            # (IDBELLEN_PROCESSING_LOG_GROUP, made by whoever set it) when one is configured
            group = (env.get("IDBELLEN_PROCESSING_LOG_GROUP") if position == 0 else None) or config.processing_log_group
            if group == config.processing_log_group:
                logs.create_log_group(logGroupName=group)
            self.processing_log_groups[tenant] = group
            document: dict[str, Any] = {
                "id": tenant,
                "display_name": config.display_name,
                "oin": config.oin,
                "enabled": True,
                "phone_numbers": [config.phone_number],
                "connect_instance_arn": config.instance_arn,
                "kms_key_id": key,
                "processing_log_group": group,
                "purposes": self.purposes,
                "agents": {"idp": config.idp, "group": config.group},
            }
            if position == 0:  # the environment configures the default tenant
                document.update(
                    phone_numbers=[env["IDBELLEN_PHONE_NUMBER"]],
                    connect_instance_arn=env["IDBELLEN_CONNECT_INSTANCE_ARN"],
                    purposes=json.loads(env["IDBELLEN_PURPOSES"]),
                    agents={
                        "idp": env.get("IDBELLEN_AGENT_IDP", ""),
                        "group": env.get("IDBELLEN_AGENT_GROUP", ""),
                        "username_claim": env.get("IDBELLEN_AGENT_USERNAME_CLAIM", ""),
                        "groups_claim": env.get("IDBELLEN_AGENT_GROUPS_CLAIM", ""),
                        "scope": env.get("IDBELLEN_AGENT_SCOPE", ""),
                    },
                )
                if env.get("IDBELLEN_RATE_LIMIT_FAILURES"):
                    document["rate_limit_failures"] = int(env["IDBELLEN_RATE_LIMIT_FAILURES"])
            ssm.put_parameter(Name=f"{TENANTS_PATH}/{tenant}", Value=json.dumps(document), Type="String")
        self._set_env({"IDBELLEN_TENANTS_PARAMETER_PATH": TENANTS_PATH})

    def tenant_document(self, tenant: str) -> dict[str, Any]:
        """The tenant's current registry document (multi-tenant stacks)."""
        value = self.session.client("ssm").get_parameter(Name=f"{TENANTS_PATH}/{tenant}")["Parameter"]["Value"]
        return dict(json.loads(value))

    def put_tenant_document(self, tenant: str, document: dict[str, Any]) -> None:
        """Change a tenant's registry document and make the functions see it now (as after the max age)."""
        from idbellen import tenants as registry

        self.session.client("ssm").put_parameter(
            Name=f"{TENANTS_PATH}/{tenant}", Value=json.dumps(document), Type="String", Overwrite=True
        )
        registry._cache.clear()

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
        token of a user federated from the tenant's IdP — `kcc-idp` for the default — in its group)."""
        config = self.tenant_config[self._tenant(tenant)]
        return cognito_access_claims(config.agent, groups=(config.group,), provider=config.idp, now=self.clock.now())

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
        named = tenant
        tenant = self._tenant(tenant)
        if named is not None and method.upper() == "POST" and path == "/sessions" and isinstance(body, dict):
            body = {**body, "tenant": named}  # the tenant's citizen page names its tenant
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
        *,
        tenant: str | None = None,
    ) -> dict[str, Any]:
        config = self.tenant_config[self._tenant(tenant or self.contact_tenants.get(contact_id))]
        if tenant is not None and contact_id not in self.contact_tenants:
            # the event of a contact on that tenant's instance: Connect now knows the contact there
            self.contact_tenants[contact_id] = config.id
            self.contacts.setdefault(contact_id, initial_contact_id)
            if contact_id not in self.connect.contacts:
                instance = config.instance_arn if self.multi_tenant else None
                self.connect.add_contact(contact_id, initial_contact_id, instance_arn=instance)
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
                    "InstanceARN": config.instance_arn,
                    "CustomerEndpoint": {"Address": caller, "Type": "TELEPHONE_NUMBER"} if caller else None,
                    "SystemEndpoint": {"Address": config.phone_number, "Type": "TELEPHONE_NUMBER"},
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
        tenant: str | None = None,
    ) -> CallResult:
        """Place a call with the digits the app dials after the pause; "" means no input (Timeout).

        Runs the rendered inbound flow (``contact_flows/id_inbound.json``) in the flow simulator
        against the real DTMF handler: logging off, touchtone buffer, hours, Store customer input,
        the Lambda call with Connect's time limit / STRING_MAP / retry rules, attributes, queue.
        ``early_digits`` sends the digits before the input block (as the Yivi app does);
        ``hours_open=False`` and ``queue_full=True`` take those branches. The contact stays queued
        (no disconnect flow) until ``contact_event``; ``call.path`` lists the actions taken.
        ``tenant``: the call arrives on that tenant's number in its Connect instance (default: the
        default tenant, or the tenant of a known segment).
        """
        contact_id = contact_id or str(uuid.uuid4())
        # a flow run on a known segment (a transfer's) keeps that segment's InitialContactId
        initial = initial_contact_id or self.contacts.get(contact_id, contact_id)
        self.contacts[contact_id] = initial
        tenant = self._tenant(tenant or self.contact_tenants.get(contact_id) or self.contact_tenants.get(initial))
        self.contact_tenants[contact_id] = tenant
        simulator = self._flow_simulator(tenant)
        run = simulator.call(
            self._flow_arns[tenant]["inbound"],
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
            instance = self.tenant_config[tenant].instance_arn if self.multi_tenant else None
            self.connect.add_contact(run.contact_id, run.initial_contact_id, instance_arn=instance)
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

    def _flow_simulator(self, tenant: str | None = None) -> Any:
        """The flow simulator with our flows rendered for this tenant's instance and number (built on
        first call)."""
        from devstack.flow_simulator import flow_arns, simulator_for, template_timeouts

        config = self.tenant_config[self._tenant(tenant)]
        code_length = os.environ.get("IDBELLEN_DTMF_LENGTH", "8")
        sims = self._flow_sims
        cached = sims.get(config.id)
        if cached is None or cached[0] != code_length:
            sim = simulator_for(
                {"dtmf": self.handlers["dtmf"], "cleanup": self.handlers["cleanup"]},
                instance_arn=config.instance_arn,
                code_length=code_length,
                system_number=config.phone_number,
                timeouts=template_timeouts(),  # Lambda ends an attempt at the function's Timeout
            )
            sim.on_spend.append(self.clock.advance)  # work that takes time moves the handlers' clock too
            sims[config.id] = (code_length, sim)
            self._flow_arns[config.id] = flow_arns(config.instance_arn)
        return sims[config.id][1]

    def assign(self, contact_id: str, username: str | None = None) -> str:
        """That agent accepts the contact in Connect (`None`: the dev agent of the contact's tenant):
        `DescribeContact` names them with a `ConnectedToAgentTimestamp`. Returns their Connect user id."""
        tenant = self.contact_tenants.get(contact_id) or self.contact_tenants.get(self.contacts.get(contact_id, ""))
        name = username if username is not None else self.dev_agents[self._tenant(tenant)]
        return self.connect.assign(contact_id, name, initial_contact_id=self.contacts.get(contact_id, contact_id))

    def transfer(self, contact_id: str) -> str:
        """The agent transfers the call: a new segment (ContactId) with the same InitialContactId, its
        `INITIATED` contact event (initiationMethod TRANSFER) delivered. Returns the new contact id."""
        initial = self.contacts.get(contact_id, contact_id)
        new_id = str(uuid.uuid4())
        self.contacts[new_id] = initial
        if contact_id in self.contact_tenants:
            self.contact_tenants[new_id] = self.contact_tenants[contact_id]
        tenant = self.contact_tenants.get(contact_id)
        instance = self.tenant_config[tenant].instance_arn if tenant and self.multi_tenant else None
        self.connect.add_contact(
            new_id, initial, previous_contact_id=contact_id, method="TRANSFER", instance_arn=instance
        )
        self.contact_event(new_id, "INITIATED", initiationMethod="TRANSFER", previousContactId=contact_id)
        return new_id

    def contact_event(self, contact_id: str, event_type: str, *, instance_arn: str | None = None, **detail: Any) -> Any:
        """Deliver an EventBridge `Amazon Connect Contact Event` to the cleanup function, from the
        contact's tenant's instance (`instance_arn=`: from another one)."""
        initial = self.contacts.get(contact_id, contact_id)
        tenant = self.contact_tenants.get(contact_id) or self.contact_tenants.get(initial)
        instance = instance_arn or self.tenant_config[self._tenant(tenant)].instance_arn
        body = {
            "eventType": event_type,
            "contactId": contact_id,
            "initialContactId": initial,
            "channel": "VOICE",
            "instanceArn": instance,
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
            "resources": [instance],
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
