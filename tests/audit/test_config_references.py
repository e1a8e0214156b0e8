"""The settings the processing log and the Connect port read: validated at load, never echoed, and no
place for a value to hide (a reference may not hold a BSN- or phone-length digit run)."""

from __future__ import annotations

import json
import os

import pytest
from idbellen import config
from idbellen.errors import ConfigError

BASE = {
    "label": {"nl": "Demo"},
    "disclose": [[["pbdf.gemeente.personalData.bsn"]]],
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("IDBELLEN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("IDBELLEN_TABLE", "t")
    monkeypatch.setenv("IDBELLEN_HASH_KEY_PARAM", "/p/hash")
    monkeypatch.setenv("IDBELLEN_PURPOSES", json.dumps({"demo": BASE}))
    return monkeypatch


def test_defaults(env: pytest.MonkeyPatch) -> None:
    settings = config.load()
    assert settings.processing_log_retention == "P1Y"
    assert settings.controller_oin == ""
    assert settings.blank_secret is True
    assert settings.verify_agent is False
    assert settings.purpose("demo").activity is None and settings.purpose("demo").legal_basis is None


def test_references_per_purpose(env: pytest.MonkeyPatch) -> None:
    purposes = {"demo": {**BASE, "activity": "urn:gemeente:avg:kcc-01", "legal_basis": "AVG 6(1)(e); Wabb art. 10"}}
    env.setenv("IDBELLEN_PURPOSES", json.dumps(purposes))
    demo = config.load().purpose("demo")
    assert demo.activity == "urn:gemeente:avg:kcc-01"
    assert demo.legal_basis == "AVG 6(1)(e); Wabb art. 10"


@pytest.mark.parametrize(
    "value",
    ["BSN 999990019", "call +31612345678", "x" * 201, "", "line\nbreak", 12, ["a"]],
)
def test_a_reference_cannot_carry_a_value(env: pytest.MonkeyPatch, value: object) -> None:
    env.setenv("IDBELLEN_PURPOSES", json.dumps({"demo": {**BASE, "legal_basis": value}}))
    with pytest.raises(ConfigError) as raised:
        config.load()
    assert "legal_basis" in str(raised.value)
    assert "999990019" not in str(raised.value) and "612345678" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("IDBELLEN_CONTROLLER_OIN", "00000001001234567000", "1234"),
        ("IDBELLEN_PROCESSING_LOG_RETENTION", "P400D", "400 days"),
        ("IDBELLEN_BLANK_SECRET", "off", "maybe"),
        ("IDBELLEN_VERIFY_AGENT", "on", "yes please"),
    ],
)
def test_switches_and_formats(env: pytest.MonkeyPatch, name: str, good: str, bad: str) -> None:
    env.setenv(name, good)
    config.load()
    env.setenv(name, bad)
    with pytest.raises(ConfigError, match=name):
        config.load()
