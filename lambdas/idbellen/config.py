"""Settings from environment variables, validated once per cold start.

A bad value raises `ConfigError` naming the variable (never echoing its value: some hold ARNs or PEMs
an operator may not want in a log line, none hold personal data).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from idbellen.errors import ConfigError

PREFIX = "IDBELLEN_"
ATTRIBUTE_ID = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){3}\Z")
PURPOSE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")
TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}\Z")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}\Z")
# A reference into a register (URL, URN or id), or a short legal-basis citation; no digit runs long
# enough to be a BSN or a phone number can hide in it (at most 4 digits in a row).
REFERENCE = re.compile(r"^(?!.*[0-9]{5})[A-Za-z0-9 .,:;/#()_+&=?%'-]{1,200}\Z")
OIN = re.compile(r"^[0-9]{20}\Z")
DURATION = re.compile(r"^P(?=[0-9])([0-9]+Y)?([0-9]+M)?([0-9]+D)?\Z")
MAX_TTL = 3600
# One or more PEM public keys (the IRMA server's result-JWT key; two during a rotation).
PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END PUBLIC KEY-----")
MAX_JWT_KEYS = 4
# irmago's `jwt_issuer` (the CLI's default is `irmaserver`): printable, no whitespace at the ends.
ISSUER = re.compile(r"^[\x21-\x7e]([\x20-\x7e]{0,198}[\x21-\x7e])?\Z")

# The largest result an IRMA server can POST to our callback for a purpose, so the body limit fits
# every real result (docs/architecture.md, "The callback body limit"). An IRMA attribute value is a
# number the issuer signs, a few dozen bytes in practice; 255 bytes per value is our assumption,
# with margin (not a scheme fact: a longer value makes the limit too small, docs say so). Go's JSON
# encoder writes a byte as at most 6 characters (\u003c for <, >, &, control bytes, bad UTF-8), and
# a disclosed attribute carries its value 4 times (rawvalue and value "", "en", "nl"). EXTRA
# attributes can be any other attribute of the credentials used: at most 32 per credential type.
MAX_VALUE_BYTES = 255
MAX_ATTRIBUTES_PER_CREDENTIAL = 32
ATTRIBUTE_JSON_OVERHEAD = 256  # keys, status, issuancetime, notrevoked(before), punctuation
RESULT_JSON_OVERHEAD = 512  # token, status, type, proofStatus, error, iss/sub/iat/exp, brackets
JWT_SIGNATURE_CHARS = 683  # base64url of a 4096-bit RSA signature (342 for 2048 bits)


@dataclass(frozen=True)
class Purpose:
    """What a call topic asks the citizen to disclose, and how the agent sees it labelled.

    `disclose` is IRMA's condiscon of attribute ids: every inner list of the outer list (a
    disjunction) must be satisfied by one of its alternatives (conjunctions). An empty alternative
    makes the disjunction optional, as in IRMA. `optional` names attributes whose value may be
    empty (IRMA's NULL); every other attribute is requested with `notNull` and must have a value.
    """

    id: str
    label: dict[str, str]
    disclose: list[list[list[str]]]
    labels: dict[str, dict[str, str]]
    queue: str | None = None
    # Processing-log references (types and references only, never values): the municipality's entry in
    # its register of processing activities (AVG art. 30) and the legal basis it relies on.
    activity: str | None = None
    legal_basis: str | None = None
    optional: frozenset[str] = frozenset()

    def attribute_ids(self) -> list[str]:
        """Every attribute id any condiscon of this purpose may disclose (types, never values)."""
        seen: dict[str, None] = {}
        for discon in self.disclose:
            for con in discon:
                for attr in con:
                    seen.setdefault(attr, None)
        return list(seen)

    def label_for(self, attribute_id: str, lang: str = "nl") -> str:
        labels = self.labels.get(attribute_id, {})
        return labels.get(lang) or labels.get("nl") or attribute_id.rsplit(".", 1)[-1]

    def max_result_bytes(self) -> int:
        """An upper bound of this purpose's result JWT (or unsigned result JSON) in bytes."""
        credentials = {attr.rsplit(".", 1)[0] for attr in self.attribute_ids()}
        longest_id = max(len(a) for a in self.attribute_ids())
        per_attribute = ATTRIBUTE_JSON_OVERHEAD + longest_id + 4 * 6 * MAX_VALUE_BYTES
        attributes = len(credentials) * MAX_ATTRIBUTES_PER_CREDENTIAL
        payload = RESULT_JSON_OVERHEAD + attributes * per_attribute
        return 64 + (payload * 4 + 2) // 3 + JWT_SIGNATURE_CHARS


@dataclass(frozen=True)
class Settings:
    tenant: str
    table: str
    hash_key_param: str
    kms_key_id: str = ""
    irma_url: str = ""
    irma_token_param: str = ""
    irma_jwt_public_keys: tuple[str, ...] = ()
    irma_jwt_issuer: str = "irmaserver"
    irma_unsigned_callbacks: bool = False
    public_api_url: str = ""
    phone_number: str = ""
    purposes: dict[str, Purpose] = field(default_factory=dict)
    dtmf_length: int = 8
    ttl_seconds: int = MAX_TTL
    call_window_seconds: int = 900
    irma_session_timeout: int = 300
    rate_limit_failures: int = 10
    session_function: str = ""
    agent_auth: str = "jwt"
    connect_instance_arn: str = ""
    controller_oin: str = ""
    processing_log_retention: str = "P1Y"
    processing_log_group: str = ""
    blank_secret: bool = True
    verify_agent: bool = False
    # -- agent identity (issue 12; see `_agent_identity` below) --
    agent_username_claim: str = "username"
    agent_idp: str = ""
    agent_groups_claim: str = "cognito:groups"
    agent_group: str = ""
    agent_scope: str = ""

    def purpose(self, purpose_id: str) -> Purpose | None:
        return self.purposes.get(purpose_id)

    @property
    def irma_callbacks(self) -> str:
        """How results may arrive by callback: `signed` (a result JWT, verified against our keys),
        `unsigned` (no key: the IRMA server posts plain JSON, which we never trust) or `off` (no
        key and unsigned callbacks not allowed: we send no callbackUrl, irmago would refuse it)."""
        if self.irma_jwt_public_keys:
            return "signed"
        return "unsigned" if self.irma_unsigned_callbacks else "off"

    @property
    def callback_body_limit(self) -> int:
        """The largest callback body we read: the largest result of any configured purpose."""
        return max((p.max_result_bytes() for p in self.purposes.values()), default=8 * 1024)

    def require(self, *names: str) -> None:
        """Fail with the variable's name when a function needs a setting another function may omit."""
        for name in names:
            if not getattr(self, name):
                raise ConfigError(f"{PREFIX}{name.upper()} is required for this function")


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(PREFIX + name)
    if value is None or value == "":
        if default is None:
            raise ConfigError(f"{PREFIX}{name} is required")
        return default
    return value.strip()


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be an integer") from None
    if not low <= value <= high:
        raise ConfigError(f"{PREFIX}{name} must be between {low} and {high}")
    return value


def _switch(name: str, default: bool) -> bool:
    raw = _env(name, "on" if default else "off").lower()
    if raw not in ("on", "off", "true", "false"):
        raise ConfigError(f"{PREFIX}{name} must be 'on' or 'off'")
    return raw in ("on", "true")


def _labels(raw: Any, where: str) -> dict[str, str]:
    if isinstance(raw, str):
        return {"nl": raw, "en": raw}
    if not isinstance(raw, dict) or not all(isinstance(v, str) and v for v in raw.values()) or "nl" not in raw:
        raise ConfigError(f"{PREFIX}PURPOSES: {where} must be a string or an object with an 'nl' label")
    return {str(k): str(v) for k, v in raw.items()}


def parse_purposes(raw: str) -> dict[str, Purpose]:
    """Validate the purposes JSON; errors name the purpose and field, never echo values."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigError(f"{PREFIX}PURPOSES is not valid JSON") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{PREFIX}PURPOSES must be a non-empty JSON object")
    purposes: dict[str, Purpose] = {}
    for pid, spec in data.items():
        if not isinstance(pid, str) or not PURPOSE_ID.match(pid):
            raise ConfigError(f"{PREFIX}PURPOSES: purpose ids must match {PURPOSE_ID.pattern}")
        if not isinstance(spec, dict):
            raise ConfigError(f"{PREFIX}PURPOSES[{pid}] must be an object")
        disclose, optional = _condiscon(spec.get("disclose"), pid)
        raw_labels = spec.get("labels", {})
        if not isinstance(raw_labels, dict):
            raise ConfigError(f"{PREFIX}PURPOSES[{pid}].labels must be an object")
        labels = {str(a): _labels(v, f"[{pid}].labels[{a}]") for a, v in raw_labels.items()}
        queue = spec.get("queue")
        if queue is not None and not isinstance(queue, str):
            raise ConfigError(f"{PREFIX}PURPOSES[{pid}].queue must be a string")
        refs: dict[str, str | None] = {}
        for ref in ("activity", "legal_basis"):
            value = spec.get(ref)
            if value is not None and (not isinstance(value, str) or not REFERENCE.match(value)):
                raise ConfigError(f"{PREFIX}PURPOSES[{pid}].{ref} must be a short reference (a URL or register id)")
            refs[ref] = value
        purposes[pid] = Purpose(
            id=pid,
            label=_labels(spec.get("label", pid), f"[{pid}].label"),
            disclose=disclose,
            labels=labels,
            queue=queue,
            activity=refs["activity"],
            legal_basis=refs["legal_basis"],
            optional=frozenset(optional),
        )
    return purposes


def _condiscon(raw: Any, pid: str) -> tuple[list[list[list[str]]], set[str]]:
    """IRMA's condiscon with our one extension: an attribute may be written as
    `{"id": "<attribute id>", "optional": true}` (its value may be empty). Returns the condiscon of
    ids and the optional attribute ids."""
    where = f"{PREFIX}PURPOSES[{pid}].disclose"
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where} must be a non-empty condiscon of attribute ids")
    disclose: list[list[list[str]]] = []
    optional: set[str] = set()
    required_somewhere = False
    for discon in raw:
        if not isinstance(discon, list) or not discon or not all(isinstance(con, list) for con in discon):
            raise ConfigError(f"{where} must be a non-empty condiscon of attribute ids")
        if sum(1 for con in discon if not con) > 1:
            raise ConfigError(f"{where}: a disjunction has at most one empty (optional) alternative")
        cons: list[list[str]] = []
        for con in discon:
            ids: list[str] = []
            for entry in con:
                attr_id, is_optional = _attribute_entry(entry, where)
                if attr_id in ids:
                    raise ConfigError(f"{where}: an alternative names an attribute twice")
                ids.append(attr_id)
                if is_optional:
                    optional.add(attr_id)
            cons.append(ids)
        disclose.append(cons)
    for cons in disclose:
        if all(cons) and all(any(a not in optional for a in con) for con in cons):
            required_somewhere = True
    if not required_somewhere:
        raise ConfigError(
            f"{where} must require something: a disjunction without an empty alternative, each of whose "
            "alternatives has an attribute that is not optional"
        )
    return disclose, optional


def _attribute_entry(entry: Any, where: str) -> tuple[str, bool]:
    if isinstance(entry, str) and ATTRIBUTE_ID.match(entry):
        return entry, False
    if (
        isinstance(entry, dict)
        and set(entry) <= {"id", "optional"}
        and isinstance(entry.get("id"), str)
        and ATTRIBUTE_ID.match(entry["id"])
        and isinstance(entry.get("optional", False), bool)
    ):
        return entry["id"], bool(entry.get("optional", False))
    raise ConfigError(f"{where} must be a non-empty condiscon of attribute ids")


def parse_public_keys(raw: str) -> tuple[str, ...]:
    """One or more PEM public keys (`\\n` escapes allowed), each normalised to its own PEM block."""
    text = raw.replace("\\n", "\n").strip()
    if not text:
        return ()
    blocks = PEM_BLOCK.findall(text)
    leftover = PEM_BLOCK.sub("", text).strip()
    if not blocks or leftover or len(blocks) > MAX_JWT_KEYS:
        raise ConfigError(f"{PREFIX}IRMA_JWT_PUBLIC_KEY must be one or more (at most {MAX_JWT_KEYS}) PEM public keys")
    keys = []
    for body in blocks:
        b64 = "".join(body.split())
        if len(b64) < 64:
            raise ConfigError(f"{PREFIX}IRMA_JWT_PUBLIC_KEY must be one or more PEM public keys")
        lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
        keys.append("-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n")
    return tuple(dict.fromkeys(keys))


def load() -> Settings:
    """Read and validate every setting (no caching: see `settings()`)."""
    tenant = _env("TENANT", "default")
    if not TENANT_ID.match(tenant):
        raise ConfigError(f"{PREFIX}TENANT must match {TENANT_ID.pattern}")
    phone = _env("PHONE_NUMBER", "")
    if phone and not E164.match(phone):
        raise ConfigError(f"{PREFIX}PHONE_NUMBER must be an E.164 number like +31141234567")
    irma_url = _env("IRMA_URL", "").rstrip("/")
    if irma_url and not irma_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ConfigError(f"{PREFIX}IRMA_URL must be an https:// URL")
    api_url = _env("PUBLIC_API_URL", "").rstrip("/")
    if api_url and not api_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ConfigError(f"{PREFIX}PUBLIC_API_URL must be an https:// URL")
    agent_auth = _env("AGENT_AUTH", "jwt")
    if agent_auth not in ("jwt", "off"):
        raise ConfigError(f"{PREFIX}AGENT_AUTH must be 'jwt' or 'off'")
    keys = parse_public_keys(_env("IRMA_JWT_PUBLIC_KEY", ""))
    issuer = _env("IRMA_JWT_ISSUER", "irmaserver")
    if not ISSUER.match(issuer):
        raise ConfigError(f"{PREFIX}IRMA_JWT_ISSUER must be irmago's jwt_issuer: printable, at most 200 characters")
    purposes_raw = _env("PURPOSES", "")
    oin = _env("CONTROLLER_OIN", "")
    if oin and not OIN.match(oin):
        raise ConfigError(f"{PREFIX}CONTROLLER_OIN must be a 20-digit OIN")
    retention = _env("PROCESSING_LOG_RETENTION", "P1Y")
    if not DURATION.match(retention):
        raise ConfigError(f"{PREFIX}PROCESSING_LOG_RETENTION must be an ISO 8601 duration like P1Y or P400D")
    log_group = _env("PROCESSING_LOG_GROUP", "")  # read again by idbellen.processing_log at import
    if log_group and not re.fullmatch(r"[A-Za-z0-9_./#-]{1,512}", log_group):
        raise ConfigError(f"{PREFIX}PROCESSING_LOG_GROUP must be a CloudWatch Logs log group name")
    return Settings(
        tenant=tenant,
        table=_env("TABLE"),
        hash_key_param=_env("HASH_KEY_PARAM"),
        kms_key_id=_env("KMS_KEY_ID", ""),
        irma_url=irma_url,
        irma_token_param=_env("IRMA_TOKEN_PARAM", ""),
        irma_jwt_public_keys=keys,
        irma_jwt_issuer=issuer,
        irma_unsigned_callbacks=_switch("IRMA_UNSIGNED_CALLBACKS", False),
        public_api_url=api_url,
        phone_number=phone,
        purposes=parse_purposes(purposes_raw) if purposes_raw else {},
        dtmf_length=_int("DTMF_LENGTH", 8, 6, 12),
        ttl_seconds=_int("TTL_SECONDS", MAX_TTL, 60, MAX_TTL),
        call_window_seconds=_int("CALL_WINDOW_SECONDS", 900, 60, MAX_TTL),
        irma_session_timeout=_int("IRMA_SESSION_TIMEOUT", 300, 30, 1800),
        rate_limit_failures=_int("RATE_LIMIT_FAILURES", 10, 5, 1000),
        session_function=_env("SESSION_FUNCTION", ""),
        agent_auth=agent_auth,
        connect_instance_arn=_env("CONNECT_INSTANCE_ARN", ""),
        controller_oin=oin,
        processing_log_retention=retention,
        processing_log_group=log_group,
        blank_secret=_switch("BLANK_SECRET", True),
        **_agent_identity(connect_instance_arn=_env("CONNECT_INSTANCE_ARN", "")),
    )


# -- Agent identity (who may see a disclosure) --------------------------------------------------------
# The agent's Connect username is read from one configured claim of the API's JWT authorizer: a Cognito
# access token's `username` is `<provider>_<NameID>` for a SAML-federated user (IDBELLEN_AGENT_IDP names
# the provider, whose prefix must be present and is removed); an OIDC issuer's claim such as
# `preferred_username` or `email` is used as is. Agents must carry IDBELLEN_AGENT_GROUP in the groups
# claim and/or IDBELLEN_AGENT_SCOPE among the token's scopes (at least one of the two must be set for
# the agent routes to answer at all). The binding check (Connect's user on the contact must be exactly
# that username) is on whenever a Connect instance is configured, unless explicitly switched off.
CLAIM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_:.-]{0,63}\Z")
PROVIDER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}\Z")  # Cognito's ProviderName: no spaces, <= 32
GROUP_OR_SCOPE = re.compile(r"^[^\s,\[\]]{1,128}\Z")


def _agent_identity(connect_instance_arn: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "verify_agent": _switch("VERIFY_AGENT", bool(connect_instance_arn)),
        "agent_username_claim": _env("AGENT_USERNAME_CLAIM", "username"),
        "agent_idp": _env("AGENT_IDP", ""),
        "agent_groups_claim": _env("AGENT_GROUPS_CLAIM", "cognito:groups"),
        "agent_group": _env("AGENT_GROUP", ""),
        "agent_scope": _env("AGENT_SCOPE", ""),
    }
    for name in ("agent_username_claim", "agent_groups_claim"):
        if not CLAIM_NAME.match(values[name]):
            raise ConfigError(f"{PREFIX}{name.upper()} must be a claim name like username or cognito:groups")
    if values["agent_idp"] and not PROVIDER_NAME.match(values["agent_idp"]):
        raise ConfigError(f"{PREFIX}AGENT_IDP must be an identity provider name like kcc-idp")
    for name in ("agent_group", "agent_scope"):
        if values[name] and not GROUP_OR_SCOPE.match(values[name]):
            raise ConfigError(f"{PREFIX}{name.upper()} must be one group or scope name, without spaces")
    return values  # VERIFY_AGENT=on without an instance refuses every read (fails closed)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The settings of this execution environment, loaded on first use (once per cold start)."""
    return load()
