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
        ("IDBELLEN_IRMA_JWT_PUBLIC_KEY", "secret-looking-value", "IDBELLEN_IRMA_JWT_PUBLIC_KEY must be a PEM"),
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


def test_pem_with_escaped_newlines_is_accepted(env):
    env.setenv("IDBELLEN_IRMA_JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----")
    assert "\n" in config.load().irma_jwt_public_key
