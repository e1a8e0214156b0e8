"""Envelope encryption of a session record's fields.

One KMS data key per session record (GenerateDataKey once, Decrypt once per later use), AES-256-GCM
per field. The KMS encryption context holds opaque ids only (CloudTrail logs it in plaintext); the
AES-GCM associated data adds the field name, so a ciphertext copied to another record or field fails.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idbellen import aws
from idbellen.errors import IntegrityError, Unavailable

VERSION = "v1"
NONCE_BYTES = 12


def encryption_context(tenant: str, record: str) -> dict[str, str]:
    return {"app": "idbellen", "tenant": tenant, "record": record}


def _aad(context: dict[str, str], field: str) -> bytes:
    return json.dumps({**context, "field": field}, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class DataKey:
    """A plaintext data key in memory for one invocation, with its KMS-encrypted form for storage."""

    plaintext: bytes
    encrypted: bytes
    context: dict[str, str]

    def seal(self, field: str, value: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        ct = AESGCM(self.plaintext).encrypt(nonce, value, _aad(self.context, field))
        return f"{VERSION}.{_b64(nonce)}.{_b64(ct)}"

    def open(self, field: str, sealed: object) -> bytes:
        try:
            if not isinstance(sealed, str):
                raise ValueError
            version, nonce, ct = sealed.split(".")
            if version != VERSION:
                raise ValueError
            return AESGCM(self.plaintext).decrypt(_unb64(nonce), _unb64(ct), _aad(self.context, field))
        except (ValueError, InvalidTag):
            raise IntegrityError("ciphertext failed verification") from None

    def stored(self) -> str:
        return _b64(self.encrypted)


class Envelope:
    """KMS side of the envelope; the client is built on first use (the DTMF path never builds one)."""

    def __init__(self, key_id: str, kms: Any = None) -> None:
        self.key_id = key_id
        self._kms = kms

    @property
    def kms(self) -> Any:
        if self._kms is None:
            self._kms = aws.client("kms")
        return self._kms

    def new_key(self, context: dict[str, str]) -> DataKey:
        try:
            out = self.kms.generate_data_key(KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=context)
        except Exception:
            raise Unavailable("key service unavailable") from None
        return DataKey(out["Plaintext"], out["CiphertextBlob"], context)

    def open_key(self, stored: object, context: dict[str, str]) -> DataKey:
        if not isinstance(stored, str):
            raise IntegrityError("missing data key")
        try:
            blob = _unb64(stored)
        except ValueError:
            raise IntegrityError("malformed data key") from None
        try:
            out = self.kms.decrypt(CiphertextBlob=blob, EncryptionContext=context, KeyId=self.key_id)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in ("InvalidCiphertextException", "IncorrectKeyException"):
                raise IntegrityError("data key failed verification") from None
            raise Unavailable("key service unavailable") from None
        return DataKey(out["Plaintext"], blob, context)


def display_seal(session_id: str, record: str, value: str) -> str:
    """Encrypt a value only the holder of the session id can read back (the citizen's own DTMF code).

    The key is derived from the session id, which the table never stores (only its hash), so this
    needs no KMS call on the status poll and the table alone cannot reveal the code.
    """
    nonce = os.urandom(NONCE_BYTES)
    ct = AESGCM(_display_key(session_id)).encrypt(nonce, value.encode(), record.encode())
    return f"{VERSION}.{_b64(nonce)}.{_b64(ct)}"


def display_open(session_id: str, record: str, sealed: object) -> str:
    try:
        if not isinstance(sealed, str):
            raise ValueError
        _, nonce, ct = sealed.split(".")
        return AESGCM(_display_key(session_id)).decrypt(_unb64(nonce), _unb64(ct), record.encode()).decode()
    except (ValueError, InvalidTag):
        raise IntegrityError("ciphertext failed verification") from None


def _display_key(session_id: str) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"idbellen-display-v1", info=b"dtmf").derive(
        hashlib.sha256(session_id.encode()).digest() + session_id.encode()
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except Exception:
        raise ValueError("bad base64") from None
