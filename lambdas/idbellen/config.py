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
ATTRIBUTE_ID = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){3}$")
PURPOSE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# A reference into a register (URL, URN or id), or a short legal-basis citation; no digit runs long
# enough to be a BSN or a phone number can hide in it (at most 4 digits in a row).
REFERENCE = re.compile(r"^(?!.*[0-9]{5})[A-Za-z0-9 .,:;/#()_+&=?%'-]{1,200}$")
OIN = re.compile(r"^[0-9]{20}$")
DURATION = re.compile(r"^P(?=[0-9])([0-9]+Y)?([0-9]+M)?([0-9]+D)?$")
MAX_TTL = 3600


@dataclass(frozen=True)
class Purpose:
    """What a call topic asks the citizen to disclose, and how the agent sees it labelled."""

    id: str
    label: dict[str, str]
    disclose: list[list[list[str]]]
    labels: dict[str, dict[str, str]]
    queue: str | None = None
    # Processing-log references (types and references only, never values): the municipality's entry in
    # its register of processing activities (AVG art. 30) and the legal basis it relies on.
    activity: str | None = None
    legal_basis: str | None = None

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


@dataclass(frozen=True)
class Settings:
    tenant: str
    table: str
    hash_key_param: str
    kms_key_id: str = ""
    irma_url: str = ""
    irma_token_param: str = ""
    irma_jwt_public_key: str = ""
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

    def purpose(self, purpose_id: str) -> Purpose | None:
        return self.purposes.get(purpose_id)

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
        disclose = spec.get("disclose")
        if (
            not isinstance(disclose, list)
            or not disclose
            or not all(
                isinstance(discon, list)
                and discon
                and all(
                    isinstance(con, list) and con and all(isinstance(a, str) and ATTRIBUTE_ID.match(a) for a in con)
                    for con in discon
                )
                for discon in disclose
            )
        ):
            raise ConfigError(f"{PREFIX}PURPOSES[{pid}].disclose must be a non-empty condiscon of attribute ids")
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
        )
    return purposes


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
    pem = _env("IRMA_JWT_PUBLIC_KEY", "").replace("\\n", "\n")
    if pem and "BEGIN PUBLIC KEY" not in pem:
        raise ConfigError(f"{PREFIX}IRMA_JWT_PUBLIC_KEY must be a PEM public key")
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
        irma_jwt_public_key=pem,
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
        verify_agent=_switch("VERIFY_AGENT", False),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The settings of this execution environment, loaded on first use (once per cold start)."""
    return load()
