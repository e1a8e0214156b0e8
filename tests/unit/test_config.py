"""Configuration: validated once, errors name the setting and never echo its value."""

from __future__ import annotations

import json

import pytest
from idbellen import config
from idbellen.errors import ConfigError

PURPOSES = {
    "demo": {
        "label": {"nl": "Demo", "en": "Demo"},
        "disclose": [[["pbdf.gemeente.personalData.bsn"]]],
        "labels": {"pbdf.gemeente.personalData.bsn": {"nl": "BSN", "en": "BSN"}},
    }
}


@pytest.fixture
def env(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("IDBELLEN_"):
            monkeypatch.delenv(name)
    values = {
        "IDBELLEN_TABLE": "t",
        "IDBELLEN_HASH_KEY_PARAM": "/p/hash",
        "IDBELLEN_PURPOSES": json.dumps(PURPOSES),
        "IDBELLEN_PHONE_NUMBER": "+31141234567",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return monkeypatch


def test_defaults(env):
    settings = config.load()
    assert settings.tenant == "default"
    assert settings.ttl_seconds == 3600
    assert settings.dtmf_length == 8
    assert settings.call_window_seconds == 900
    assert settings.agent_auth == "jwt"
    assert settings.purpose("demo").attribute_ids() == ["pbdf.gemeente.personalData.bsn"]
    assert settings.purpose("demo").label_for("pbdf.gemeente.personalData.bsn", "en") == "BSN"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("IDBELLEN_TTL_SECONDS", "7200", "IDBELLEN_TTL_SECONDS must be between"),
        ("IDBELLEN_TTL_SECONDS", "an hour", "IDBELLEN_TTL_SECONDS must be an integer"),
        ("IDBELLEN_DTMF_LENGTH", "4", "IDBELLEN_DTMF_LENGTH must be between"),
        ("IDBELLEN_RATE_LIMIT_FAILURES", "3", "IDBELLEN_RATE_LIMIT_FAILURES must be between"),
        ("IDBELLEN_PHONE_NUMBER", "0141234567", "IDBELLEN_PHONE_NUMBER must be an E.164"),
        ("IDBELLEN_IRMA_URL", "http://irma.example.org", "IDBELLEN_IRMA_URL must be an https"),
        ("IDBELLEN_AGENT_AUTH", "maybe", "IDBELLEN_AGENT_AUTH must be"),
        ("IDBELLEN_PURPOSES", "{not json", "IDBELLEN_PURPOSES is not valid JSON"),
        ("IDBELLEN_PURPOSES", "{}", "IDBELLEN_PURPOSES must be a non-empty"),
        ("IDBELLEN_PURPOSES", '{"Bad Id": {}}', "purpose ids must match"),
        ("IDBELLEN_PURPOSES", '{"x": {"disclose": [[["not-an-attribute"]]]}}', "PURPOSES[x].disclose"),
        ("IDBELLEN_PURPOSES", '{"x": {"disclose": []}}', "PURPOSES[x].disclose"),
        ("IDBELLEN_IRMA_JWT_PUBLIC_KEY", "secret-looking-value", "IDBELLEN_IRMA_JWT_PUBLIC_KEY must be one or more"),
        ("IDBELLEN_IRMA_JWT_ISSUER", "tab\tin issuer", "IDBELLEN_IRMA_JWT_ISSUER must be"),
        ("IDBELLEN_IRMA_UNSIGNED_CALLBACKS", "sometimes", "IDBELLEN_IRMA_UNSIGNED_CALLBACKS must be"),
    ],
)
def test_bad_settings_name_the_variable_and_not_the_value(env, name, value, message):
    env.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        config.load()
    assert message in str(caught.value)
    assert value not in str(caught.value) or value in ("{}",)


@pytest.mark.parametrize("name", ["IDBELLEN_TABLE", "IDBELLEN_HASH_KEY_PARAM"])
def test_required_settings(env, name):
    env.delenv(name)
    with pytest.raises(ConfigError, match=name):
        config.load()


def test_function_specific_requirements_are_named(env):
    settings = config.load()
    with pytest.raises(ConfigError, match="IDBELLEN_KMS_KEY_ID"):
        settings.require("kms_key_id")


def _pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_one_pem_with_escaped_newlines_is_accepted(env):
    pem = _pem()
    env.setenv("IDBELLEN_IRMA_JWT_PUBLIC_KEY", pem.replace("\n", "\\n"))
    settings = config.load()
    assert settings.irma_jwt_public_keys == (pem,)
    assert settings.irma_callbacks == "signed"


def test_two_keys_for_a_rotation_are_both_kept_in_order(env):
    old, new = _pem(), _pem()
    env.setenv("IDBELLEN_IRMA_JWT_PUBLIC_KEY", old + new)
    assert config.load().irma_jwt_public_keys == (old, new)
    env.setenv("IDBELLEN_IRMA_JWT_PUBLIC_KEY", (old + "\n" + new).replace("\n", "\\n"))
    assert config.load().irma_jwt_public_keys == (old, new)


@pytest.mark.parametrize(
    "value",
    [
        "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----",  # too short to be a key
        "-----BEGIN RSA PRIVATE KEY-----\n" + "A" * 100 + "\n-----END RSA PRIVATE KEY-----",
        "garbage before " + "-----BEGIN PUBLIC KEY-----\n" + "A" * 100 + "\n-----END PUBLIC KEY-----",
        ("-----BEGIN PUBLIC KEY-----\n" + "A" * 100 + "\n-----END PUBLIC KEY-----\n") * 5,
    ],
)
def test_anything_but_one_to_four_public_keys_is_refused(env, value):
    env.setenv("IDBELLEN_IRMA_JWT_PUBLIC_KEY", value)
    with pytest.raises(ConfigError, match="IDBELLEN_IRMA_JWT_PUBLIC_KEY"):
        config.load()


def test_irma_defaults_no_key_no_callbacks_issuer_irmaserver(env):
    settings = config.load()
    assert settings.irma_jwt_public_keys == ()
    assert settings.irma_jwt_issuer == "irmaserver"
    assert settings.irma_unsigned_callbacks is False
    assert settings.irma_callbacks == "off"
    env.setenv("IDBELLEN_IRMA_UNSIGNED_CALLBACKS", "on")
    env.setenv("IDBELLEN_IRMA_JWT_ISSUER", "yivi.gemeente-voorbeeld.nl")
    settings = config.load()
    assert settings.irma_callbacks == "unsigned" and settings.irma_jwt_issuer == "yivi.gemeente-voorbeeld.nl"
    env.setenv("IDBELLEN_IRMA_JWT_PUBLIC_KEY", _pem())
    assert config.load().irma_callbacks == "signed"  # a key wins: unsigned bodies are then never accepted


BSN, NAME = "pbdf.gemeente.personalData.bsn", "pbdf.gemeente.personalData.fullname"
FIRST, PREFIX, SURNAME = (f"pbdf.gemeente.personalData.{a}" for a in ("firstnames", "prefix", "surname"))
MOBILE = "pbdf.sidn-pbdf.mobilenumber.mobilenumber"


def test_purposes_express_optional_attributes_alternatives_and_optional_disjunctions():
    purposes = config.parse_purposes(
        json.dumps(
            {
                "p": {
                    "disclose": [
                        [[BSN]],
                        [[NAME], [FIRST, {"id": PREFIX, "optional": True}, SURNAME]],
                        [[], [MOBILE]],
                    ]
                }
            }
        )
    )
    purpose = purposes["p"]
    assert purpose.disclose == [[[BSN]], [[NAME], [FIRST, PREFIX, SURNAME]], [[], [MOBILE]]]
    assert purpose.optional == frozenset({PREFIX})
    assert purpose.attribute_ids() == [BSN, NAME, FIRST, PREFIX, SURNAME, MOBILE]


@pytest.mark.parametrize(
    "disclose",
    [
        [[[], [BSN]]],  # only an optional disjunction: asks for nothing for sure
        [[[{"id": BSN, "optional": True}]]],  # everything may be empty
        [[[BSN], [{"id": NAME, "optional": True}]]],  # an alternative of nothing but optional attributes
        [[[], [], [BSN]]],  # two empty alternatives
        [[[BSN, BSN]]],
        [[[{"id": BSN, "optional": "yes"}]]],
        [[[{"id": BSN, "value": "999990019"}]]],  # no value constraints: a purpose asks, never presets
        [[[{"type": BSN}]]],
    ],
)
def test_purposes_that_could_accept_nothing_or_are_malformed_are_refused(disclose):
    with pytest.raises(ConfigError, match=r"PURPOSES\[p\]\.disclose"):
        config.parse_purposes(json.dumps({"p": {"disclose": disclose}}))


def test_the_callback_body_limit_fits_the_largest_result_of_any_purpose():
    one = config.parse_purposes(json.dumps({"p": {"disclose": [[[BSN]]]}}))["p"]
    two = config.parse_purposes(json.dumps({"p": {"disclose": [[[BSN]], [[MOBILE]]]}}))["p"]
    # 32 attributes of each credential type used, each value 255 bytes written 4 times, 6 characters a byte
    assert one.max_result_bytes() > 32 * 4 * 6 * 255 * 4 // 3
    assert two.max_result_bytes() > 2 * one.max_result_bytes() - 2000
