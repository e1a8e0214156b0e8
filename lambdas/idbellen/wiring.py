"""Builds the per-process services from settings, lazily, so each function pays only for what it uses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from idbellen import config, runtime, secrets_store
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


_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        _services = Services(config.settings())
    return _services


@runtime.on_reset
def _reset() -> None:
    global _services
    _services = None
