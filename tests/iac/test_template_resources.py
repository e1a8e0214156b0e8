"""The dev stack's table, key and parameters come out of the template: pin the extraction, and
prove that drift (a stream, PITR, an index, an unknown property) makes the extractor refuse."""

from __future__ import annotations

import pytest

from devstack import provision, template_resources
from devstack.template_resources import TemplateDrift
from tests.iac.conftest import TEMPLATE


def test_table_kwargs():
    assert template_resources.table_kwargs("t", "key-1") == {
        "TableName": "t",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "key-1"},
        "DeletionProtectionEnabled": True,
        "TableClass": "STANDARD",
    }
    assert template_resources.ttl_kwargs("t") == {
        "TableName": "t",
        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires_at"},
    }


def test_key_kwargs():
    kwargs = template_resources.kms_key_kwargs()
    assert kwargs["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert kwargs["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert template_resources.key_rotation() is True


def test_parameters_and_env_vars():
    params = {p.env_var: p for p in template_resources.secure_string_parameters()}
    assert set(params) == {"IDBELLEN_HASH_KEY_PARAM", "IDBELLEN_IRMA_TOKEN_PARAM"}
    assert params["IDBELLEN_IRMA_TOKEN_PARAM"].template_parameter == "IrmaTokenParameterName"
    assert params["IDBELLEN_HASH_KEY_PARAM"].template_parameter == "HashKeyParameterName"
    env = template_resources.function_environment_names()
    assert set(env) == {"SessionFunction", "DtmfFunction", "AgentFunction", "CleanupFunction"}
    assert "IDBELLEN_SESSION_FUNCTION" in env["DtmfFunction"]
    assert "IDBELLEN_KMS_KEY_ID" not in env["DtmfFunction"]


def test_provision_uses_the_extractor():
    assert provision.table_definition("k") == template_resources.table_kwargs(provision.TABLE_NAME, "k")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "      DeletionProtectionEnabled: true\n",
            "      DeletionProtectionEnabled: true\n      StreamSpecification: {StreamViewType: NEW_IMAGE}\n",
        ),
        ("        PointInTimeRecoveryEnabled: false\n", "        PointInTimeRecoveryEnabled: true\n"),
        ("      BillingMode: PAY_PER_REQUEST\n", "      BillingMode: PROVISIONED\n"),
        ("        SSEType: KMS\n", "        SSEType: AES256\n"),
        (
            "        AttributeName: expires_at\n        Enabled: true\n",
            "        AttributeName: expires_at\n        Enabled: false\n",
        ),
        ("      TableClass: STANDARD\n", "      TableClass: STANDARD\n      GlobalSecondaryIndexes: []\n"),
    ],
)
def test_drift_is_refused(tmp_path, old, new):
    text = TEMPLATE.read_text(encoding="utf-8")
    assert old in text
    drifted = tmp_path / "template.yaml"
    drifted.write_text(text.replace(old, new, 1))
    with pytest.raises(TemplateDrift):
        template_resources.table_kwargs("t", "k", drifted)
        template_resources.ttl_kwargs("t", drifted)


def test_a_second_table_is_refused(tmp_path):
    text = TEMPLATE.read_text(encoding="utf-8")
    drifted = tmp_path / "template.yaml"
    drifted.write_text(
        text.replace(
            "  DataKeyAlias:\n", "  Other:\n    Type: AWS::DynamoDB::Table\n    Properties: {}\n  DataKeyAlias:\n", 1
        )
    )
    with pytest.raises(TemplateDrift):
        template_resources.table_kwargs("t", "k", drifted)
