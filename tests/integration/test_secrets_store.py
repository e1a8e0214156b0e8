"""SSM SecureString reads against moto over HTTP."""

from __future__ import annotations

import pytest
from idbellen import runtime, secrets_store
from idbellen.errors import ConfigError, Unavailable


def test_reads_the_requestor_token_and_hash_key(aws):
    runtime.reset()
    assert secrets_store.secure_string(aws["resources"].token_param) == "requestor-token-for-tests"
    assert len(secrets_store.hash_key(aws["resources"].hash_key_param)) == 32


def test_a_missing_parameter_is_unavailable_without_details(aws):
    runtime.reset()
    with pytest.raises(Unavailable) as caught:
        secrets_store.secure_string("/no/such/parameter")
    assert "/no/such" not in str(caught.value)


def test_a_short_hash_key_is_refused(aws):
    runtime.reset()
    aws["session"].client("ssm").put_parameter(Name="/short", Value="c2hvcnQ=", Type="SecureString")
    with pytest.raises(ConfigError, match="IDBELLEN_HASH_KEY_PARAM"):
        secrets_store.hash_key("/short")
