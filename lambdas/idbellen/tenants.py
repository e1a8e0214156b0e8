"""The tenant registry: several municipalities (joint controllers) on one deployment.

One SSM String parameter per tenant at `${IDBELLEN_TENANTS_PARAMETER_PATH}/<tenant id>`, a JSON document
(docs/tenancy.md has the schema). Loaded with one plain `GetParametersByPath` (no Powertools: this is on
the DTMF function's cold-start path), cached per process for `IDBELLEN_TENANTS_MAX_AGE` seconds (default
300), so a change is picked up by running functions within minutes, with no redeploy. A document that
does not validate is skipped and counted (`TenantDocumentsInvalid`): that tenant fails closed, the others
keep working. Without `IDBELLEN_TENANTS_PARAMETER_PATH` there is no registry: the deployment serves the
one tenant of its environment (`IDBELLEN_TENANT` and the other `IDBELLEN_*` settings), as before.

Resolution never uses what a caller or browser chooses (except the public citizen page's tenant): a call
by the Connect instance it arrived on and the number it dialled, a contact event by its instance, an
agent by the verified claims (`wiring`). Error messages name fields, never echo values.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from idbellen import config, runtime
from idbellen.config import DURATION, E164, OIN, TENANT_ID, Purpose, Settings
from idbellen.errors import ConfigError, Unavailable

PATH_ENV = "IDBELLEN_TENANTS_PARAMETER_PATH"
MAX_AGE_ENV = "IDBELLEN_TENANTS_MAX_AGE"
DEFAULT_MAX_AGE = 300
PATH = re.compile(r"^(/[A-Za-z0-9_.-]+)+\Z")
INSTANCE_ARN = re.compile(r"^arn:aws[a-z-]*:connect:[a-z0-9-]+:[0-9]{12}:instance/[0-9a-f-]{36}\Z")
KMS_KEY = re.compile(
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[0-9a-f-]{36}|alias/[A-Za-z0-9/_-]{1,250})"
    r"|[0-9a-f-]{36}|alias/[A-Za-z0-9/_-]{1,250})\Z"
)
LOG_GROUP = re.compile(r"^[A-Za-z0-9_./#-]{1,512}\Z")
DISPLAY_NAME = re.compile(r"^[^\x00-\x1f<>]{1,100}\Z")
FIELDS = frozenset(
    {
        "id",
        "display_name",
        "oin",
        "enabled",
        "phone_numbers",
        "connect_instance_arn",
        "kms_key_id",
        "processing_log_group",
        "processing_log_retention",
        "purposes",
        "agents",
        "rate_limit_failures",
    }
)
AGENT_FIELDS = frozenset({"idp", "group", "username_claim", "groups_claim", "scope"})
MAX_PHONE_NUMBERS = 20


@dataclass(frozen=True)
class Tenant:
    """One municipality as the registry describes it (validated)."""

    id: str
    display_name: str
    oin: str
    enabled: bool
    phone_numbers: tuple[str, ...]
    connect_instance_arn: str
    kms_key_id: str
    processing_log_group: str
    processing_log_retention: str
    purposes: dict[str, Purpose] = field(compare=False)
    agents: dict[str, str]
    rate_limit_failures: int | None
    document: str = field(compare=True, repr=False)  # the raw JSON: a changed document is a new Tenant

    def settings(self, shared: Settings) -> Settings:
        """The shared (environment) settings with this tenant's overrides."""
        overrides: dict[str, Any] = {
            "tenant": self.id,
            "purposes": self.purposes,
            "phone_number": self.phone_numbers[0],
            "connect_instance_arn": self.connect_instance_arn,
            "kms_key_id": self.kms_key_id,
            "processing_log_group": self.processing_log_group,
            "processing_log_retention": self.processing_log_retention,
            "controller_oin": self.oin,
            "agent_idp": self.agents.get("idp", ""),
            "agent_group": self.agents.get("group", ""),
            "agent_scope": self.agents.get("scope", ""),
            "agent_username_claim": self.agents.get("username_claim", shared.agent_username_claim),
            "agent_groups_claim": self.agents.get("groups_claim", shared.agent_groups_claim),
        }
        if self.rate_limit_failures is not None:
            overrides["rate_limit_failures"] = self.rate_limit_failures
        # the agent binding is on for a tenant (it always names its instance) unless switched off explicitly
        if not os.environ.get("IDBELLEN_VERIFY_AGENT", "").strip():
            overrides["verify_agent"] = True
        return dataclasses.replace(shared, **overrides)

    def public(self) -> dict[str, Any]:
        """What the public `GET /tenants` shows a picker: no numbers, keys, groups or instances."""
        return {
            "id": self.id,
            "display_name": self.display_name,
            "purposes": [{"id": p.id, "label": p.label} for p in self.purposes.values()],
        }


def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"tenant document{where}: {message}")


def parse(raw: object, name: str | None = None) -> Tenant:
    """Validate one tenant document (JSON text). `name`: the parameter's last path segment, which must
    equal the document's id. Raises ConfigError naming the field (never a value)."""
    where = f" {name}" if name and TENANT_ID.match(name) else ""
    if not isinstance(raw, str):
        raise _fail(where, "must be JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise _fail(where, "is not valid JSON") from None
    if not isinstance(data, dict):
        raise _fail(where, "must be a JSON object")
    unknown = set(data) - FIELDS
    if unknown:
        raise _fail(where, f"unknown fields {sorted(str(k)[:40] for k in unknown)}")
    tenant_id = data.get("id")
    if not isinstance(tenant_id, str) or not TENANT_ID.match(tenant_id):
        raise _fail(where, f"id must match {TENANT_ID.pattern}")
    if name is not None and name != tenant_id:
        raise _fail(where, "id must equal the last segment of the parameter name")
    where = f" {tenant_id}"
    display = data.get("display_name")
    if not isinstance(display, str) or not DISPLAY_NAME.match(display):
        raise _fail(where, "display_name must be a name of 1-100 printable characters")
    oin = data.get("oin")
    if not isinstance(oin, str) or not OIN.match(oin):
        raise _fail(where, "oin must be a 20-digit OIN")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _fail(where, "enabled must be true or false")
    numbers = data.get("phone_numbers")
    if (
        not isinstance(numbers, list)
        or not numbers
        or len(numbers) > MAX_PHONE_NUMBERS
        or not all(isinstance(n, str) and E164.match(n) for n in numbers)
        or len(set(numbers)) != len(numbers)
    ):
        raise _fail(where, "phone_numbers must be a list of distinct E.164 numbers like +31141234567")
    instance = data.get("connect_instance_arn")
    if not isinstance(instance, str) or not INSTANCE_ARN.match(instance):
        raise _fail(where, "connect_instance_arn must be an Amazon Connect instance ARN")
    key = data.get("kms_key_id")
    if not isinstance(key, str) or not KMS_KEY.match(key):
        raise _fail(where, "kms_key_id must be a KMS key ARN, key id or alias")
    group = data.get("processing_log_group")
    if not isinstance(group, str) or not LOG_GROUP.match(group):
        raise _fail(where, "processing_log_group must be a CloudWatch Logs log group name")
    retention = data.get("processing_log_retention", "P1Y")
    if not isinstance(retention, str) or not DURATION.match(retention):
        raise _fail(where, "processing_log_retention must be an ISO 8601 duration like P1Y")
    purposes_raw = data.get("purposes")
    if not isinstance(purposes_raw, dict):
        raise _fail(where, "purposes must be an object (the IDBELLEN_PURPOSES format)")
    try:
        purposes = config.parse_purposes(json.dumps(purposes_raw))
    except ConfigError as exc:
        raise _fail(where, str(exc).replace(config.PREFIX + "PURPOSES", "purposes")) from None
    agents = _agents(data.get("agents"), where)
    limit = data.get("rate_limit_failures")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or not 5 <= limit <= 1000):
        raise _fail(where, "rate_limit_failures must be an integer between 5 and 1000")
    return Tenant(
        id=tenant_id,
        display_name=display,
        oin=oin,
        enabled=enabled,
        phone_numbers=tuple(numbers),
        connect_instance_arn=instance,
        kms_key_id=key,
        processing_log_group=group,
        processing_log_retention=retention,
        purposes=purposes,
        agents=agents,
        rate_limit_failures=limit,
        document=raw,
    )


def _agents(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or set(raw) - AGENT_FIELDS:
        raise _fail(where, f"agents must be an object with the fields {sorted(AGENT_FIELDS)}")
    if not all(isinstance(v, str) for v in raw.values()):
        raise _fail(where, "agents values must be strings")
    agents = {str(k): str(v) for k, v in raw.items() if v}
    if not agents.get("group") and not agents.get("scope"):
        raise _fail(where, "agents must name a group or a scope (otherwise nobody could be this tenant's agent)")
    if "idp" in agents and not config.PROVIDER_NAME.match(agents["idp"]):
        raise _fail(where, "agents.idp must be an identity provider name like kcc-idp")
    for name in ("username_claim", "groups_claim"):
        if name in agents and not config.CLAIM_NAME.match(agents[name]):
            raise _fail(where, f"agents.{name} must be a claim name")
    for name in ("group", "scope"):
        if name in agents and not config.GROUP_OR_SCOPE.match(agents[name]):
            raise _fail(where, f"agents.{name} must be one name without spaces")
    return agents


def conflicts(tenants: list[Tenant]) -> list[str]:
    """Numbers claimed by two tenants (a number rings in one instance: it belongs to one tenant).
    Returns messages naming the tenants, never the numbers."""
    owner: dict[str, str] = {}
    problems = []
    for tenant in tenants:
        for number in tenant.phone_numbers:
            other = owner.setdefault(number, tenant.id)
            if other != tenant.id:
                problems.append(f"a phone number of tenant {tenant.id} is already claimed by tenant {other}")
    return problems


@dataclass(frozen=True)
class Registry:
    """The tenants of this deployment, in id order; `default_id` answers a citizen page that names none."""

    tenants: dict[str, Tenant]
    default_id: str
    invalid: tuple[str, ...] = ()  # parameter names whose document was skipped

    def get(self, tenant_id: object) -> Tenant | None:
        return self.tenants.get(tenant_id) if isinstance(tenant_id, str) else None

    def enabled(self) -> list[Tenant]:
        return [t for t in self.tenants.values() if t.enabled]

    def for_call(self, instance_arn: str | None, dialled: str | None, include_disabled: bool = False) -> Tenant | None:
        """The tenant of a call: its instance is the one Connect names and — when several tenants share
        the instance — its numbers hold the dialled number. None when that does not name exactly one."""
        on_instance = [t for t in self.for_instance(instance_arn) if include_disabled or t.enabled]
        if len(on_instance) > 1:
            on_instance = [t for t in on_instance if dialled in t.phone_numbers]
        return on_instance[0] if len(on_instance) == 1 else None

    def for_instance(self, instance_arn: object) -> list[Tenant]:
        """Every tenant (disabled ones too: deletion never stops) whose calls arrive on this instance."""
        return [t for t in self.tenants.values() if t.connect_instance_arn == instance_arn]


def build(documents: Mapping[str, str], default_id: str = "") -> Registry:
    """A registry from {parameter name: document}; invalid documents and double-claimed numbers are
    skipped (the later tenant in id order loses the number's whole document: fail closed)."""
    valid: list[Tenant] = []
    invalid: list[str] = []
    for name in sorted(documents):
        try:
            valid.append(parse(documents[name], name.rsplit("/", 1)[-1]))
        except ConfigError:
            invalid.append(name)
    accepted: list[Tenant] = []
    for tenant in sorted(valid, key=lambda t: t.id):
        if conflicts([*accepted, tenant]):
            invalid.append(tenant.id)
            continue
        accepted.append(tenant)
    tenants = {t.id: t for t in accepted}
    default = default_id if default_id in tenants else next(iter(tenants), "")
    return Registry(tenants, default, tuple(invalid))


def path() -> str:
    """The registry's parameter path, or "" for a single-tenant deployment."""
    raw = os.environ.get(PATH_ENV, "").strip().rstrip("/")
    if raw and not PATH.match(raw):
        raise ConfigError(f"{PATH_ENV} must be an SSM parameter path like /idbellen/prod/tenants")
    return raw


def max_age() -> float:
    raw = os.environ.get(MAX_AGE_ENV, "").strip()
    if not raw:
        return float(DEFAULT_MAX_AGE)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{MAX_AGE_ENV} must be an integer number of seconds") from None
    if not 0 <= value <= 3600:
        raise ConfigError(f"{MAX_AGE_ENV} must be between 0 and 3600")
    return float(value)


def read_documents(parameter_path: str, ssm: Any = None) -> dict[str, str]:
    """{parameter name: value} of every parameter directly under the path (one call per 10)."""
    if ssm is None:
        from idbellen import aws

        ssm = aws.client("ssm")
    documents: dict[str, str] = {}
    kwargs: dict[str, Any] = {"Path": parameter_path, "Recursive": False, "MaxResults": 10}
    while True:
        out = ssm.get_parameters_by_path(**kwargs)
        for parameter in out.get("Parameters", []):
            documents[str(parameter["Name"])] = str(parameter.get("Value", ""))
        token = out.get("NextToken")
        if not token:
            return documents
        kwargs["NextToken"] = token


# -- the per-process cache ---------------------------------------------------------------------------
clock: Callable[[], float] = time.monotonic  # tests move it to see a change picked up
_cache: dict[str, tuple[float, Registry]] = {}
_lock = threading.Lock()


def registry() -> Registry | None:
    """This process's registry (None: single tenant). Reloaded after the max age; when a reload fails
    the last good registry keeps serving (counted), and with none at all the request fails (Unavailable)."""
    parameter_path = path()
    if not parameter_path:
        return None
    now = clock()
    cached = _cache.get(parameter_path)
    if cached is not None and now - cached[0] < max_age():
        return cached[1]
    with _lock:
        cached = _cache.get(parameter_path)
        if cached is not None and now - cached[0] < max_age():
            return cached[1]
        try:
            documents = read_documents(parameter_path)
        except Exception:
            _count("TenantRegistryLoadFailures")
            if cached is not None:
                return cached[1]
            raise Unavailable("tenant registry unavailable") from None
        loaded = build(documents, os.environ.get("IDBELLEN_TENANT", "").strip())
        if loaded.invalid:
            _count("TenantDocumentsInvalid", len(loaded.invalid))
        _cache[parameter_path] = (now, loaded)
        return loaded


def _count(name: str, value: int = 1) -> None:
    """A PII-free metric line (fixed name, a count), whatever function this is."""
    try:
        from idbellen.observability_lite import SERVICE, metrics
        from idbellen.redaction import metric_dimensions

        metrics.emit_single(name, "Count", value, metric_dimensions("registry", SERVICE, {}))
    except Exception:  # noqa: S110 (a metric never fails the request)
        pass


@runtime.on_reset
def _reset() -> None:
    _cache.clear()
