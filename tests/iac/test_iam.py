"""Least privilege, read off the template: moto ignores IAM, so these tests are the proof.

EXPECTED is the per-function IAM table of docs/iam.md. A change of any role's actions must change
this table (and the doc) too.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.iac.conftest import as_list, statements

FUNCTIONS = {
    "SessionFunction": "SessionFunctionPolicy",
    "DtmfFunction": "DtmfFunctionPolicy",
    "AgentFunction": "AgentFunctionPolicy",
    "CleanupFunction": "CleanupFunctionPolicy",
}

# Only with TenantsParameterPath (several municipalities): every function reads the tenant registry under
# its path and writes each tenant's processing-log records into that tenant's group. Tenant KMS keys are
# granted by each tenant key's policy (iac/tenant.yaml), never here: tests/iac/test_tenancy_shared.py.
TENANCY: set[tuple[str, str]] = {
    ("ssm:GetParametersByPath", "param:TenantsParameterPath"),
    ("ssm:GetParametersByPath", "param:TenantsParameterPath/*"),
    ("logs:CreateLogStream", "log:tenants/*/processing"),
    ("logs:PutLogEvents", "log:tenants/*/processing"),
}

# function -> {(action, prefix-or-resource)}; prefixes are the pk prefixes allowed by LeadingKeys,
# "table" means the whole table (Scan), other resources are named by what they are.
EXPECTED: dict[str, set[tuple[str, str]]] = {
    "SessionFunction": {
        *{
            (a, p)
            for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
            for p in ("SESSION#", "DTMF#", "CALLBACK#")
        },
        ("dynamodb:DeleteItem", "CALLBACK#"),  # the IRMA callback's pointer goes with the final result
        ("kms:GenerateDataKey", "key:app=idbellen"),
        ("kms:Decrypt", "key:app=idbellen"),
        ("ssm:GetParameter", "param:IrmaTokenParameterName"),
        ("ssm:GetParameter", "param:HashKeyParameterName"),
        ("logs:CreateLogStream", "log:SessionFunctionLogGroup"),
        ("logs:PutLogEvents", "log:SessionFunctionLogGroup"),
        ("logs:CreateLogStream", "log:ProcessingLogGroup"),
        ("logs:PutLogEvents", "log:ProcessingLogGroup"),
        *TENANCY,
    },
    "DtmfFunction": {
        *{
            (a, p)
            for a in ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem")
            for p in ("DTMF#", "RATE#")
        },
        ("dynamodb:ConditionCheckItem", "RATE#"),
        ("dynamodb:PutItem", "SECRET#"),
        ("dynamodb:UpdateItem", "CONTACT#"),
        ("dynamodb:GetItem", "CONTACT#"),  # only the ids pk, expires_at, session_pk, secret_pk, dtmf_pk
        *{("dynamodb:DeleteItem", p) for p in ("SECRET#", "DTMF#", "SESSION#")},
        ("dynamodb:UpdateItem", "SESSION#"),
        ("ssm:GetParameter", "param:HashKeyParameterName"),
        ("lambda:InvokeFunction", "fn:SessionFunctionAliaslive"),
        ("logs:CreateLogStream", "log:DtmfFunctionLogGroup"),
        ("logs:PutLogEvents", "log:DtmfFunctionLogGroup"),
        ("logs:CreateLogStream", "log:ProcessingLogGroup"),
        ("logs:PutLogEvents", "log:ProcessingLogGroup"),
        *TENANCY,
    },
    "AgentFunction": {
        *{("dynamodb:GetItem", p) for p in ("SECRET#", "SESSION#")},
        ("dynamodb:UpdateItem", "SESSION#"),
        *{("dynamodb:DeleteItem", p) for p in ("SESSION#", "DTMF#", "SECRET#", "CONTACT#")},
        ("kms:Decrypt", "key:app=idbellen"),
        ("connect:UpdateContactAttributes", "connect:contact/*"),
        # only with VerifyAgentOnContact=on
        ("connect:DescribeContact", "connect:contact/*"),
        ("connect:DescribeContact", "connect:agent/*"),
        ("connect:DescribeUser", "connect:contact/*"),
        ("connect:DescribeUser", "connect:agent/*"),
        ("logs:CreateLogStream", "log:AgentFunctionLogGroup"),
        ("logs:PutLogEvents", "log:AgentFunctionLogGroup"),
        ("logs:CreateLogStream", "log:ProcessingLogGroup"),
        ("logs:PutLogEvents", "log:ProcessingLogGroup"),
        *TENANCY,
    },
    "CleanupFunction": {
        *{("dynamodb:GetItem", p) for p in ("CONTACT#", "SESSION#")},
        ("dynamodb:UpdateItem", "SESSION#"),
        *{("dynamodb:DeleteItem", p) for p in ("SESSION#", "DTMF#", "SECRET#", "CONTACT#", "RATE#", "CALLBACK#")},
        ("dynamodb:Scan", "table"),
        ("connect:UpdateContactAttributes", "connect:contact/*"),
        ("logs:CreateLogStream", "log:CleanupFunctionLogGroup"),
        ("logs:PutLogEvents", "log:CleanupFunctionLogGroup"),
        ("logs:CreateLogStream", "log:ProcessingLogGroup"),
        ("logs:PutLogEvents", "log:ProcessingLogGroup"),
        *TENANCY,
    },
}


def _resource_label(statement: dict[str, Any], action: str) -> list[str]:
    labels = []
    for resource in as_list(statement["Resource"]):
        if resource == "*":
            labels.append("*")
        elif resource == {"Fn::GetAtt": ["Table", "Arn"]}:
            if action.startswith("dynamodb:") and action != "dynamodb:Scan":
                cond = statement.get("Condition", {})
                prefixes = cond.get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
                assert prefixes, f"{statement['Sid']}: item actions need a LeadingKeys condition"
                assert cond.get("Null") == {"dynamodb:LeadingKeys": "false"}, statement["Sid"]
                labels += [p.removesuffix("*") for p in prefixes]
            else:
                labels.append("table")
        elif resource == {"Fn::GetAtt": ["DataKey", "Arn"]}:
            ctx = statement.get("Condition", {}).get("StringEquals", {})
            assert ctx.get("kms:EncryptionContext:app") == "idbellen", statement["Sid"]
            assert ctx.get("kms:EncryptionContext:tenant") == {"Ref": "Tenant"}, statement["Sid"]
            labels.append("key:app=idbellen")
        elif isinstance(resource, dict) and "Fn::Sub" in resource:
            text = resource["Fn::Sub"]
            if text.startswith("${ConnectInstanceArn}/"):
                labels.append("connect:" + text.removeprefix("${ConnectInstanceArn}/"))
            elif ":ssm:" in text:
                labels.append("param:" + text.rsplit("parameter${", 1)[1].replace("}", ""))
            elif text.startswith("arn:${AWS::Partition}:logs:") and "/tenants/*/processing:" in text:
                assert text.endswith(":log-group:/idbellen/${AWS::StackName}/tenants/*/processing:*"), text
                labels.append("log:tenants/*/processing")
            elif text.startswith("${") and text.endswith("LogGroup.Arn}"):
                labels.append("log:" + text[2:].removesuffix(".Arn}"))
            else:
                labels.append("sub:" + text)
        elif isinstance(resource, dict) and "Ref" in resource:
            labels.append("fn:" + resource["Ref"])
        else:
            labels.append(repr(resource))
    return labels


def granted(resources: dict[str, Any], policy: str) -> set[tuple[str, str]]:
    out = set()
    for statement in statements(resources, policy):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            for label in _resource_label(statement, action):
                out.add((action, label))
    return out


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_has_exactly_the_documented_permissions(resources, function):
    assert granted(resources, FUNCTIONS[function]) == EXPECTED[function]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_one_role_per_function_and_no_other_policies(resources, function):
    role = function + "Role"
    assert resources[function]["Properties"]["Role"] == {"Fn::GetAtt": [role, "Arn"]}
    props = resources[role]["Properties"]
    assert not ({"ManagedPolicyArns", "Policies", "PermissionsBoundary"} & set(props)), role
    attached = [
        k
        for k, v in resources.items()
        if v["Type"] in ("AWS::IAM::RolePolicy", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        and ({"Ref": role} == v["Properties"].get("RoleName") or {"Ref": role} in v["Properties"].get("Roles", []))
    ]
    assert attached == [FUNCTIONS[function]]
    trust = props["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "lambda.amazonaws.com"}]


def test_roles_are_not_shared(resources):
    roles = [resources[f]["Properties"]["Role"]["Fn::GetAtt"][0] for f in FUNCTIONS]
    assert len(set(roles)) == len(roles)


def test_no_wildcards_in_function_policies(resources):
    for policy in FUNCTIONS.values():
        for statement in statements(resources, policy):
            assert "*" not in as_list(statement["Resource"]), (policy, statement["Sid"])
            for action in as_list(statement["Action"]):
                assert "*" not in action, (policy, action)
            assert "NotAction" not in statement and "NotResource" not in statement


def test_dtmf_function_cannot_reach_personal_data(resources):
    actions = granted(resources, "DtmfFunctionPolicy")
    assert not [a for a, _ in actions if a.startswith("kms:")], "DTMF role must hold no KMS permission"
    assert ("dynamodb:GetItem", "SESSION#") not in actions
    assert ("dynamodb:BatchGetItem", "SESSION#") not in actions
    assert not [a for a, _ in actions if a in ("dynamodb:Scan", "dynamodb:Query")]
    assert not [r for _, r in actions if r.startswith("param:Irma")]


def test_cleanup_function_has_no_kms(resources):
    assert not [a for a, _ in granted(resources, "CleanupFunctionPolicy") if a.startswith("kms:")]


def _principals(statement: dict[str, Any]) -> list[Any]:
    """Who a key-policy statement is for: its principals, or - for `"AWS": "*"` - the roles its
    `aws:PrincipalArn` condition names (such a statement must name them, and the account)."""
    principal = statement["Principal"]
    if principal == {"AWS": "*"}:
        conditions = statement["Condition"]
        assert conditions["StringEquals"]["kms:CallerAccount"] == {"Ref": "AWS::AccountId"}, statement["Sid"]
        return as_list(conditions["ArnEquals"]["aws:PrincipalArn"])
    return as_list(principal.get("AWS", [])) + as_list(principal.get("Service", []))


def test_key_policy_only_session_and_agent_use_the_key_directly(resources):
    key = resources["DataKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    data_plane = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey", "kms:GenerateDataKey*"}
    direct_users = set()
    for statement in key["KeyPolicy"]["Statement"]:
        actions = set(as_list(statement["Action"]))
        assert "kms:*" not in actions, statement["Sid"]
        conditions = statement.get("Condition", {})
        via = conditions.get("StringEquals", {}).get("kms:ViaService")
        if not actions & data_plane:
            continue
        if via is not None:
            assert via == {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}, statement["Sid"]
            assert "kms:CreateGrant" not in actions or statement["Principal"].get("AWS") == {
                "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
            }
            continue
        # a direct (not via DynamoDB) use of the key: only with the idbellen encryption context
        assert conditions["StringEquals"]["kms:EncryptionContext:app"] == "idbellen", statement["Sid"]
        for principal in _principals(statement):
            direct_users.add(principal["Fn::GetAtt"][0])
    assert direct_users == {"SessionFunctionRole", "AgentFunctionRole"}


def test_key_administration_has_no_data_plane_and_no_grants(resources):
    (admin,) = [
        s for s in resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"] if s["Sid"] == "KeyAdministration"
    ]
    actions = set(admin["Action"])
    assert not {
        a for a in actions if a.split(":")[1].startswith(("Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey"))
    }
    assert "kms:CreateGrant" not in actions
    assert not [a for a in actions if a.endswith("*")]


def test_dtmf_and_cleanup_roles_use_the_key_only_through_dynamodb(resources):
    for statement in resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"]:
        names = [p["Fn::GetAtt"][0] for p in _principals(statement) if isinstance(p, dict) and "Fn::GetAtt" in p]
        if {"DtmfFunctionRole", "CleanupFunctionRole"} & set(names):
            assert statement["Condition"]["StringEquals"]["kms:ViaService"] == {
                "Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"
            }
            assert "kms:CreateGrant" not in as_list(statement["Action"])


def test_verify_agent_permissions_only_when_switched_on(resources):
    raw = resources["AgentFunctionPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    conditional = [s["Fn::If"] for s in raw if set(s) == {"Fn::If"} and s["Fn::If"][0] != "HasTenants"]
    assert len(conditional) == 1
    condition, granted_, otherwise = conditional[0]
    assert condition == "VerifyAgent"
    assert set(granted_["Action"]) == {"connect:DescribeContact", "connect:DescribeUser"}
    assert otherwise == {"Ref": "AWS::NoValue"}


def test_only_cleanup_and_agent_touch_connect_contacts(resources):
    for function, policy in FUNCTIONS.items():
        connect = {a for a, _ in granted(resources, policy) if a.startswith("connect:")}
        assert bool(connect) == (function in ("AgentFunction", "CleanupFunction")), function


def test_functions_may_only_write_the_processing_log(resources):
    """Every function writes processing records straight into the processing log group; none can read
    any log (reading it is for the named reader roles: tests/iac/test_processing_log_key.py)."""
    for function, policy in FUNCTIONS.items():
        logs = {(a, r) for a, r in granted(resources, policy) if a.startswith("logs:")}
        assert {(a, r) for a, r in logs if r == "log:ProcessingLogGroup"} == {
            ("logs:CreateLogStream", "log:ProcessingLogGroup"),
            ("logs:PutLogEvents", "log:ProcessingLogGroup"),
        }, function
        assert {a for a, _ in logs} == {"logs:CreateLogStream", "logs:PutLogEvents"}, function


def _all_policy_actions(resources: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        docs = []
        if resource["Type"] in ("AWS::IAM::RolePolicy", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            docs.append(props["PolicyDocument"])
        if resource["Type"] == "AWS::KMS::Key":
            docs.append(props["KeyPolicy"])
        if resource["Type"] in ("AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy"):
            docs.append(props["PolicyDocument"])
        for doc in docs:
            stmts = [s for s in doc["Statement"] if set(s) != {"Fn::If"}]
            stmts += [s["Fn::If"][1] for s in doc["Statement"] if set(s) == {"Fn::If"}]
            for statement in stmts:
                found += [(name, a) for a in as_list(statement["Action"])]
    return found


def test_every_action_exists_in_the_iam_reference(resources):
    """Every action named in a policy is a real IAM action (cfn-lint's service reference data)."""
    import fnmatch
    import json
    from pathlib import Path

    import cfnlint

    reference = json.loads(
        (Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json").read_text(encoding="utf-8")
    )
    actions = _all_policy_actions(resources)
    assert len(actions) > 40
    for where, action in actions:
        service, name = action.split(":", 1)
        known = reference[service]["Actions"]
        if "*" in name:
            assert fnmatch.filter(known, name.lower()), (where, action)
        else:
            assert name.lower() in known, (where, action)


def test_docs_iam_table_names_every_granted_action():
    from tests.iac.conftest import ROOT

    doc = (ROOT / "docs" / "iam.md").read_text(encoding="utf-8")
    for function, grants in EXPECTED.items():
        for action, _ in grants:
            short = action.split(":", 1)[1]
            assert short in doc or action in doc, (function, action)
