"""Creates the AWS resources of iac/template.yaml in the embedded AWS (moto server): the table with
TTL and SSE-KMS, the KMS key, and the SSM SecureStrings ops would create by hand."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

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
    return {
        "TableName": TABLE_NAME,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key_id},
        "DeletionProtectionEnabled": True,
    }


def provision(session: Any, requestor_token: str) -> Provisioned:
    kms = session.client("kms")
    key_id = kms.create_key(
        Description="idbellen envelope key (dev)", KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT"
    )["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key_id)
    ddb = session.client("dynamodb")
    ddb.create_table(**table_definition(key_id))
    ddb.update_time_to_live(
        TableName=TABLE_NAME, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    ssm = session.client("ssm")
    ssm.put_parameter(Name=TOKEN_PARAM, Value=requestor_token, Type="SecureString")
    ssm.put_parameter(
        Name=HASH_KEY_PARAM, Value=base64.b64encode(secrets.token_bytes(32)).decode(), Type="SecureString"
    )
    return Provisioned(TABLE_NAME, key_id, TOKEN_PARAM, HASH_KEY_PARAM)
