"""SSM SecureString reads (IRMA requestor credential, hash key), cached per process with a max age.

The cache keeps warm invocations free of SSM calls; the max age lets a rotated credential take
effect within minutes without a redeploy.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from idbellen import aws, runtime
from idbellen.errors import ConfigError, Unavailable

MAX_AGE_SECONDS = 300
_provider: Any = None


def _ssm() -> Any:
    global _provider
    if _provider is None:
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        _provider = SSMProvider(boto3_client=aws.client("ssm"))
    return _provider


def secure_string(name: str) -> str:
    try:
        value = _ssm().get(name, decrypt=True, max_age=MAX_AGE_SECONDS)
    except Exception:  # any SSM/KMS failure ends the same way; the original text is not carried along
        raise Unavailable("parameter store unavailable") from None
    if not isinstance(value, str) or not value:
        raise ConfigError("a required SecureString parameter is empty")
    return value


def hash_key(name: str) -> bytes:
    """The HMAC key for lookup hashes: base64 text of at least 32 random bytes."""
    try:
        key = base64.b64decode(secure_string(name), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("IDBELLEN_HASH_KEY_PARAM must hold base64 of >= 32 bytes") from None
    if len(key) < 32:
        raise ConfigError("IDBELLEN_HASH_KEY_PARAM must hold base64 of >= 32 bytes")
    return key


@runtime.on_reset
def _reset() -> None:
    global _provider
    _provider = None
