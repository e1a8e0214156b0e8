"""The processing log's access rule, read off the template: its own log group, encrypted with its own
KMS key whose policy lets only the named reader roles decrypt (through CloudWatch Logs, for this group
only); the functions may only encrypt (write); key administration has no data-plane action; CloudWatch
Logs itself gets kms:Decrypt only when `ProcessingLogServiceDecrypt=on`."""

from __future__ import annotations

from typing import Any

from tests.iac.conftest import as_list

GROUP_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    "/idbellen/${AWS::StackName}/processing-log"
}
LOGS = {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}
FUNCTION_ROLES = [{"Fn::GetAtt": [f"{name}FunctionRole", "Arn"]} for name in ("Session", "Dtmf", "Agent", "Cleanup")]
DATA_PLANE = ("Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey")


def _statements(resources: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """(condition name or None, statement) for every key-policy statement, conditional ones included."""
    out: list[tuple[str | None, dict[str, Any]]] = []
    for statement in resources["ProcessingLogKey"]["Properties"]["KeyPolicy"]["Statement"]:
        if set(statement) == {"Fn::If"}:
            condition, then, otherwise = statement["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}
            out.append((condition, then))
        else:
            out.append((None, statement))
    return out


def _by_sid(resources: dict[str, Any]) -> dict[str, tuple[str | None, dict[str, Any]]]:
    return {s["Sid"]: (c, s) for c, s in _statements(resources)}


def test_the_key_is_its_own_rotated_and_retained_with_the_log(resources):
    key = resources["ProcessingLogKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert resources["ProcessingLogGroup"]["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["ProcessingLogKey", "Arn"]}
    assert resources["ProcessingLogGroup"]["DeletionPolicy"] == "Retain"


def test_only_the_named_readers_may_decrypt(resources):
    decrypters = []
    for condition, statement in _statements(resources):
        if "kms:Decrypt" in as_list(statement["Action"]):
            decrypters.append((condition, statement))
    sids = {s["Sid"]: c for c, s in decrypters}
    assert sids == {
        "NamedReadersReadThroughCloudWatchLogs": "HasProcessingLogReaders",
        "CloudWatchLogsDecryptsThisGroup": "ProcessingLogServiceDecrypts",
    }
    _, readers = _by_sid(resources)["NamedReadersReadThroughCloudWatchLogs"]
    assert as_list(readers["Action"]) == ["kms:Decrypt"]
    assert readers["Principal"] == {"AWS": "*"}
    assert readers["Condition"]["ArnEquals"]["aws:PrincipalArn"] == {"Ref": "ProcessingLogReaderRoleArns"}
    assert readers["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == GROUP_ARN
    assert readers["Condition"]["StringEquals"]["kms:ViaService"] == LOGS
    assert readers["Condition"]["StringEquals"]["kms:CallerAccount"] == {"Ref": "AWS::AccountId"}


def test_the_service_decrypts_only_when_switched_on_and_only_this_group(resources, template):
    condition, statement = _by_sid(resources)["CloudWatchLogsDecryptsThisGroup"]
    assert condition == "ProcessingLogServiceDecrypts"
    assert template["Conditions"]["ProcessingLogServiceDecrypts"] == {
        "Fn::Equals": [{"Ref": "ProcessingLogServiceDecrypt"}, "on"]
    }
    assert template["Parameters"]["ProcessingLogServiceDecrypt"]["Default"] == "off"
    assert statement["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == GROUP_ARN


def test_functions_only_encrypt_through_cloudwatch_logs_for_this_group(resources):
    _, writers = _by_sid(resources)["FunctionsWriteThroughCloudWatchLogs"]
    assert set(as_list(writers["Action"])) == {"kms:Encrypt", "kms:GenerateDataKey"}
    assert writers["Condition"]["ArnEquals"]["aws:PrincipalArn"] == FUNCTION_ROLES
    assert writers["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == GROUP_ARN
    assert writers["Condition"]["StringEquals"]["kms:ViaService"] == LOGS
    _, service = _by_sid(resources)["CloudWatchLogsEncryptsThisGroup"]
    assert "kms:Decrypt" not in as_list(service["Action"])
    assert service["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == GROUP_ARN


def test_every_data_plane_grant_is_pinned_to_this_group(resources):
    for condition, statement in _statements(resources):
        actions = as_list(statement["Action"])
        if any(a.split(":", 1)[1].startswith(DATA_PLANE) for a in actions):
            assert statement["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == GROUP_ARN, (
                condition,
                statement["Sid"],
            )
        assert "kms:*" not in actions and "kms:CreateGrant" not in actions, statement["Sid"]


def test_key_administration_has_no_data_plane(resources):
    _, admin = _by_sid(resources)["KeyAdministration"]
    assert not [a for a in admin["Action"] if a.split(":", 1)[1].startswith(DATA_PLANE)]
    assert not [a for a in admin["Action"] if a.endswith("*")]


def test_no_reader_without_a_configured_role(template):
    assert template["Parameters"]["ProcessingLogReaderRoleArns"]["Default"] == ""
    assert template["Conditions"]["HasProcessingLogReaders"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "ProcessingLogReaderRoleArns"}]}, ""]}]
    }


def test_the_read_policy_reads_the_processing_log_only(resources):
    policy = resources["ProcessingLogReadPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    assert not {"Roles", "Users", "Groups"} & set(policy["Properties"])  # attached by the operator, on purpose
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        actions = set(as_list(statement["Action"]))
        assert all(a.startswith("logs:") for a in actions)
        assert (
            not {"logs:PutLogEvents", "logs:CreateLogStream", "logs:DeleteLogGroup", "logs:DeleteLogStream"} & actions
        )
        if statement["Resource"] != "*":
            assert statement["Resource"] == {"Fn::Sub": "${ProcessingLogGroup.Arn}"}
        else:
            assert actions == {"logs:GetQueryResults", "logs:StopQuery"}
