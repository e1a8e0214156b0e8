"""Codes, secrets, ids and the hashes stored in their place.

Only hashes are lookup keys: sha256 where the input is 256-bit random (secrets, session ids), a keyed
HMAC where it is guessable (DTMF codes, phone numbers), so the table alone never reveals them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}\Z")
SESSION_ID_PATTERN = SECRET_PATTERN


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def new_secret() -> str:
    """256 random bits, URL-safe (fits Connect's STRING_MAP `[A-Za-z0-9_-]`)."""
    return secrets.token_urlsafe(32)


def new_dtmf(length: int) -> str:
    return f"{secrets.randbelow(10**length):0{length}d}"


def valid_dtmf(digits: object, length: int) -> bool:
    return isinstance(digits, str) and len(digits) == length and digits.isascii() and digits.isdigit()


def sha256_ref(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def keyed_ref(key: bytes, kind: str, tenant: str, value: str) -> str:
    """HMAC-SHA256 over a domain-separated input: codes and numbers of one tenant never collide."""
    return hmac.new(key, f"{kind}\x00{tenant}\x00{value}".encode(), hashlib.sha256).hexdigest()


def normalise_phone(number: str) -> str | None:
    """E.164-ish canonical form for comparison and hashing; None when it is not a phone number."""
    digits = re.sub(r"[\s().-]", "", (number or "").replace("(0)", ""))
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("06") and len(digits) == 10:
        digits = "+31" + digits[1:]
    if not re.fullmatch(r"\+[1-9][0-9]{6,14}", digits):
        return None
    return digits
