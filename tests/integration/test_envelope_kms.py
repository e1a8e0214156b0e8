"""Envelope encryption against moto's KMS over HTTP: the encryption context is enforced."""

from __future__ import annotations

import pytest
from idbellen import crypto
from idbellen.crypto import Envelope
from idbellen.errors import IntegrityError


@pytest.fixture
def envelope(aws):
    return Envelope(aws["resources"].kms_key_id)


def test_a_stored_data_key_opens_only_with_its_own_context(envelope):
    context = crypto.encryption_context("default", "record-1")
    data_key = envelope.new_key(context)
    sealed = data_key.seal("disclosure", b"999990019")
    reopened = envelope.open_key(data_key.stored(), context)
    assert reopened.open("disclosure", sealed) == b"999990019"
    with pytest.raises(IntegrityError):
        envelope.open_key(data_key.stored(), crypto.encryption_context("default", "record-2"))
    with pytest.raises(IntegrityError):
        envelope.open_key(data_key.stored(), crypto.encryption_context("other-tenant", "record-1"))


def test_garbage_data_keys_fail_closed(envelope):
    context = crypto.encryption_context("default", "record-1")
    for stored in (None, "", "!!!", "AAAA"):
        with pytest.raises(IntegrityError):
            envelope.open_key(stored, context)
