"""Builds the per-process services from settings, lazily, so each function pays only for what it uses.

With a tenant registry (`idbellen.tenants`) there is one `Services` per tenant, its settings the shared
(environment) settings with the tenant's overrides; without one, the single tenant of the environment.
Domain code takes `svc` and never branches on tenant ids; the handlers pick the tenant (from Connect's
instance and dialled number, the verified agent claims, the stored item, or the citizen page's choice).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from idbellen import config, runtime, secrets_store, tenants
from idbellen.errors import UnknownTenant
from idbellen.store import Store

if TYPE_CHECKING:
    from idbellen.connect_contacts import ContactsPort
    from idbellen.crypto import Envelope
    from idbellen.irma import IrmaClient
    from idbellen.session_puller import SessionPuller


@dataclass
class Services:
    settings: config.Settings

    @cached_property
    def store(self) -> Store:
        return Store(self.settings.table, self.settings.tenant)

    @cached_property
    def any_tenant_store(self) -> Store:
        """Reads an item whatever its tenant: only to learn the tenant of a stored item."""
        return Store(self.settings.table, self.settings.tenant, scoped=False)

    @cached_property
    def envelope(self) -> Envelope:
        from idbellen.crypto import Envelope  # not on the DTMF path: no `cryptography` import there

        self.settings.require("kms_key_id")
        return Envelope(self.settings.kms_key_id)

    @cached_property
    def irma(self) -> IrmaClient:
        from idbellen.irma import IrmaClient

        self.settings.require("irma_url", "irma_token_param")
        param = self.settings.irma_token_param
        return IrmaClient(self.settings.irma_url, lambda: secrets_store.secure_string(param))

    @cached_property
    def puller(self) -> SessionPuller | None:
        from idbellen.session_puller import LambdaSessionPuller

        name = self.settings.session_function
        return LambdaSessionPuller(name) if name else None

    @cached_property
    def contacts(self) -> ContactsPort | None:
        """Connect's contact API (blank the secret, optionally check the agent); None without an instance."""
        from idbellen.connect_contacts import ConnectContacts

        arn = self.settings.connect_instance_arn
        return ConnectContacts(arn) if arn else None

    def hash_key(self) -> bytes:
        return secrets_store.hash_key(self.settings.hash_key_param)


_services: dict[str, tuple[object, Services]] = {}


def services(tenant: str | None = None, *, include_disabled: bool = True) -> Services:
    """The services of `tenant` (None: the default tenant). Raises UnknownTenant for a tenant this
    deployment does not have (or, with `include_disabled=False`, has switched off)."""
    shared = config.settings()
    registry = tenants.registry()
    if registry is None:
        if tenant is not None and tenant != shared.tenant:
            raise UnknownTenant("unknown tenant")
        return _cached(shared.tenant, None, lambda: shared)
    entry = registry.get(registry.default_id if tenant is None else tenant)
    if entry is None or not (entry.enabled or include_disabled):
        raise UnknownTenant("unknown tenant")
    return _cached(entry.id, entry, lambda: entry.settings(shared))


def _cached(key: str, version: object, make: Callable[[], config.Settings]) -> Services:
    found = _services.get(key)
    if found is not None and found[0] == version:
        return found[1]
    svc = Services(make())
    _services[key] = (version, svc)
    return svc


def for_stored(tenant: object) -> Services:
    """The services for an item stored with this tenant: its registry entry (disabled too: deletion never
    stops), or — for a tenant no longer in the registry — the shared settings under its id, so its items
    are still deleted (their processing-log records go to the shared group)."""
    if not isinstance(tenant, str) or not config.TENANT_ID.match(tenant):
        return services()
    try:
        return services(tenant)
    except UnknownTenant:
        shared = config.settings()
        return _cached("\x00orphan:" + tenant, None, lambda: dataclasses.replace(shared, tenant=tenant))


def stored_tenant(pk: str) -> str | None:
    """The tenant an item was stored with (one projected GetItem); None when it does not exist. Only
    asked with a registry: a single-tenant deployment has one tenant."""
    item = services().any_tenant_store.get(pk, fields=("tenant",))
    value = item.get("tenant") if item is not None else None
    return value if isinstance(value, str) else None


def settings_for(tenant: str) -> tuple[config.Settings, bool]:
    """The settings a processing-log record of `tenant` is written with, and whether they are the
    registry's (then the record goes to the tenant's own processing-log group)."""
    registry = tenants.registry()
    if registry is not None:
        entry = registry.get(tenant)
        if entry is not None:
            return services(entry.id).settings, True
    return config.settings(), False


@runtime.on_reset
def _reset() -> None:
    _services.clear()
