"""Creates the AWS resources of iac/template.yaml in the embedded AWS (moto server): the table with
TTL and SSE-KMS, the KMS key, and the SSM SecureStrings ops would create by hand.

The definitions come out of the template itself (`devstack.template_resources`, a strict extractor),
so the dev stack cannot drift from what `sam deploy` creates."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from devstack import template_resources

TABLE_NAME = "idbellen-dev"
TOKEN_PARAM = "/idbellen/dev/irma-requestor-token"
HASH_KEY_PARAM = "/idbellen/dev/hash-key"


@dataclass(frozen=True)
class Provisioned:
    table: str
    kms_key_id: str
    token_param: str
    hash_key_param: str


def table_definition(kms_key_id: str) -> dict[str, Any]:
    """`create_table` kwargs of the template's table (name: the dev stack's)."""
    return template_resources.table_kwargs(TABLE_NAME, kms_key_id)


def provision(session: Any, requestor_token: str) -> Provisioned:
    kms = session.client("kms")
    key_id = kms.create_key(**template_resources.kms_key_kwargs())["KeyMetadata"]["KeyId"]
    if template_resources.key_rotation():
        kms.enable_key_rotation(KeyId=key_id)
    ddb = session.client("dynamodb")
    ddb.create_table(**table_definition(key_id))
    ddb.update_time_to_live(**template_resources.ttl_kwargs(TABLE_NAME))
    # The SecureStrings ops create by hand, one per IDBELLEN_*_PARAM the template sets.
    values = {
        "IDBELLEN_IRMA_TOKEN_PARAM": (TOKEN_PARAM, requestor_token),
        "IDBELLEN_HASH_KEY_PARAM": (HASH_KEY_PARAM, base64.b64encode(secrets.token_bytes(32)).decode()),
    }
    ssm = session.client("ssm")
    for parameter in template_resources.secure_string_parameters():
        if parameter.env_var not in values:
            raise template_resources.TemplateDrift(f"the dev stack has no value for {parameter.env_var}")
        name, value = values[parameter.env_var]
        ssm.put_parameter(Name=name, Value=value, Type="SecureString")
    return Provisioned(TABLE_NAME, key_id, TOKEN_PARAM, HASH_KEY_PARAM)
