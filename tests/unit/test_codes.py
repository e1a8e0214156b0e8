"""Codes, secrets and lookup hashes."""

from __future__ import annotations

import re

import pytest
from idbellen import codes


def test_dtmf_codes_have_the_configured_length_and_are_digits_only():
    for length in (6, 8, 12):
        code = codes.new_dtmf(length)
        assert len(code) == length and code.isdigit()


def test_dtmf_codes_keep_leading_zeros_and_vary():
    seen = {codes.new_dtmf(6) for _ in range(2000)}
    assert len(seen) > 1900  # 10^6 space: collisions are rare
    assert any(c.startswith("0") for c in seen)


@pytest.mark.parametrize(
    "digits", ["Timeout", "", None, "1234567", "123456789", "1234 678", "١٢٣٤٥٦٧٨", "12345a78", 12345678]
)
def test_invalid_dtmf_input_is_rejected(digits):
    assert not codes.valid_dtmf(digits, 8)


def test_valid_dtmf_input_is_accepted():
    assert codes.valid_dtmf("01234567", 8)


def test_secrets_are_256_bit_url_safe_and_fit_a_string_map():
    secret = codes.new_secret()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret)
    assert codes.SECRET_PATTERN.match(secret)
    assert len({codes.new_secret() for _ in range(1000)}) == 1000


def test_keyed_hashes_depend_on_key_kind_and_tenant():
    key_a, key_b = b"a" * 32, b"b" * 32
    base = codes.keyed_ref(key_a, "dtmf", "default", "12345678")
    assert base == codes.keyed_ref(key_a, "dtmf", "default", "12345678")
    assert base != codes.keyed_ref(key_b, "dtmf", "default", "12345678")
    assert base != codes.keyed_ref(key_a, "phone", "default", "12345678")
    assert base != codes.keyed_ref(key_a, "dtmf", "other", "12345678")
    assert "12345678" not in base


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+31612345678", "+31612345678"),
        ("0612345678", "+31612345678"),
        ("0031 6 1234 5678", "+31612345678"),
        ("+31 (0)6-1234 5678", "+31612345678"),
        ("12", None),
        ("anonymous", None),
        ("", None),
    ],
)
def test_phone_numbers_are_normalised_before_hashing(raw, expected):
    assert codes.normalise_phone(raw) == expected


def test_a_value_with_a_trailing_newline_is_not_a_secret_or_contact_id() -> None:
    # `$` also matches before a final newline; every pattern of the package ends with `\Z` instead
    from idbellen import disclosure

    secret = "A" * 43
    assert codes.SECRET_PATTERN.match(secret)
    assert not codes.SECRET_PATTERN.match(secret + "\n")
    assert disclosure.CONTACT_ID.match("c0ffee00-0000-4000-8000-000000000000")
    assert not disclosure.CONTACT_ID.match("c0ffee00-0000-4000-8000-000000000000\n")
