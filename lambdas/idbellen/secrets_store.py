"""SSM SecureString reads (IRMA requestor credential, hash key), cached per process with a max age.

The cache keeps warm invocations free of SSM calls; the max age lets a rotated credential take
effect within minutes without a redeploy. A plain `GetParameter` and a dict, not Powertools'
parameters utility: the DTMF function reads the hash key on its first invocation, and that import
would add to the first caller's silence for nothing.
"""

from __future__ import annotations

import base64
import binascii
import time

from idbellen import aws, runtime
from idbellen.errors import ConfigError, Unavailable

MAX_AGE_SECONDS = 300
_cache: dict[str, tuple[float, str]] = {}


def secure_string(name: str) -> str:
    now = time.monotonic()
    cached = _cache.get(name)
    if cached is not None and now - cached[0] < MAX_AGE_SECONDS:
        return cached[1]
    try:
        value = aws.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except Exception:  # any SSM/KMS failure ends the same way; the original text is not carried along
        raise Unavailable("parameter store unavailable") from None
    if not isinstance(value, str) or not value:
        raise ConfigError("a required SecureString parameter is empty")
    _cache[name] = (now, value)
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
    _cache.clear()
