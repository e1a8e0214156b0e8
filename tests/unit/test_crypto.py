"""Envelope encryption: AES-256-GCM under a per-record data key, bound to record and field."""

from __future__ import annotations

import os

import pytest
from idbellen import crypto
from idbellen.errors import IntegrityError


def key(record="r1"):
    return crypto.DataKey(os.urandom(32), b"encrypted-key", crypto.encryption_context("default", record))


def test_roundtrip_and_ciphertext_hides_the_value():
    data_key = key()
    sealed = data_key.seal("disclosure", b"999990019 Demo Burger")
    assert b"999990019" not in sealed.encode() and "Demo" not in sealed
    assert data_key.open("disclosure", sealed) == b"999990019 Demo Burger"


def test_same_value_encrypts_differently_each_time():
    data_key = key()
    assert data_key.seal("f", b"x") != data_key.seal("f", b"x")


def test_ciphertext_moved_to_another_field_fails():
    data_key = key()
    with pytest.raises(IntegrityError):
        data_key.open("irma_token", data_key.seal("disclosure", b"v"))


def test_ciphertext_moved_to_another_record_fails():
    a, b = key("r1"), key("r2")
    b.plaintext = a.plaintext  # even with the same key material, the record id is bound in
    with pytest.raises(IntegrityError):
        b.open("disclosure", a.seal("disclosure", b"v"))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1],
        lambda s: "v2" + s[2:],
        lambda s: s.replace(".", "", 1),
        lambda s: None,
        lambda s: "",
    ],
)
def test_tampered_ciphertexts_fail_closed(mangle):
    data_key = key()
    with pytest.raises(IntegrityError):
        data_key.open("disclosure", mangle(data_key.seal("disclosure", b"value")))


def test_encryption_context_holds_only_opaque_ids():
    context = crypto.encryption_context("default", "ab" * 32)
    assert set(context) == {"app", "tenant", "record"}


def test_display_seal_needs_the_session_id():
    sealed = crypto.display_seal("session-id-1", "SESSION#x", "12345678")
    assert "12345678" not in sealed
    assert crypto.display_open("session-id-1", "SESSION#x", sealed) == "12345678"
    with pytest.raises(IntegrityError):
        crypto.display_open("session-id-2", "SESSION#x", sealed)
    with pytest.raises(IntegrityError):
        crypto.display_open("session-id-1", "SESSION#y", sealed)
