"""One stack per tenant (iac/tenant.yaml), read off the template - moto cannot deploy it, so these are
the proof: the tenant's own key (used directly only by the shared session and agent roles, only with
this tenant's encryption context; its key administrators may crypto-shred it and nothing more), its own
processing log (own key, own retention, one reader role), its flows in its own instance (waiting for
their functions' permission and association), and its contact events routed to the shared cleanup
function from its own instance only. Issue 14.
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
from typing import Any

import pytest

from tests.iac.conftest import ROOT, TENANT_TEMPLATE, as_list, load_iac_module
from tests.iac.eventpattern import matches

INSTANCE = "arn:aws:connect:eu-central-1:123456789012:instance/22222222-2222-4222-8222-222222222222"
OTHER_INSTANCE = "arn:aws:connect:eu-central-1:123456789012:instance/11111111-1111-4111-8111-111111111111"
DATA_PLANE = ("Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey")
FLOW_TYPES = ("AWS::Connect::ContactFlow", "AWS::Connect::ContactFlowModule")


def of_type(resources: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == resource_type}


def key_statements(resources: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """A key policy's statements, a conditional one (`Fn::If`) with its granting branch."""
    out = []
    for statement in resources[key]["Properties"]["KeyPolicy"]["Statement"]:
        if set(statement) == {"Fn::If"}:
            _, granting, otherwise = statement["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}
            out.append(granting)
        else:
            out.append(statement)
    return out


def imported(name: str) -> dict[str, Any]:
    return {"Fn::ImportValue": {"Fn::Sub": "${SharedStackName}-" + name}}


def principals(statement: dict[str, Any]) -> list[Any]:
    principal = statement["Principal"]
    if principal == {"AWS": "*"}:
        return as_list(statement["Condition"]["ArnEquals"]["aws:PrincipalArn"])
    return as_list(principal.get("AWS", [])) + as_list(principal.get("Service", []))


def is_data_plane(action: str) -> bool:
    return action == "kms:*" or action.split(":", 1)[1].startswith(DATA_PLANE)


# --------------------------------------------------------------------------------------- inventory
def test_the_tenant_stack_holds_the_tenants_own_resources_and_no_code_or_data(tenant_resources):
    counts: dict[str, int] = {}
    for resource in tenant_resources.values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    assert counts["AWS::KMS::Key"] == 2  # data key (crypto-shred) and processing-log key (kept)
    assert counts["AWS::Logs::LogGroup"] == 1
    assert counts["AWS::IAM::Role"] == 2  # the privacy officer's reader role, the key administrators' role
    assert counts["AWS::Connect::ContactFlow"] == 3 and counts["AWS::Connect::ContactFlowModule"] == 1
    assert counts["AWS::Connect::IntegrationAssociation"] == 2
    assert counts["AWS::Events::Rule"] == 1
    for absent in (
        "AWS::DynamoDB::Table",
        "AWS::Lambda::Function",
        "AWS::Serverless::Function",
        "AWS::SSM::Parameter",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::User",
    ):
        assert absent not in counts, absent


def test_the_registry_document_is_written_by_the_cli_and_the_stack_outputs_its_part(tenant_template):
    """No AWS::SSM::Parameter: `python -m idbellen.tenant_admin put` validates the whole document
    (schema and references) before PutParameter and owns disable/rollback, which a stack update would
    silently undo. The stack outputs the fields it knows, as JSON the CLI can take."""
    outputs = tenant_template["Outputs"]
    text = outputs["RegistryDocumentFragment"]["Value"]["Fn::Sub"]
    values = {
        "TenantId": "demodorp",
        "ConnectInstanceArn": INSTANCE,
        "TenantKey.Arn": "arn:aws:kms:eu-central-1:123456789012:key/abc",
        "ProcessingLogGroup": "/idbellen/idbellen/tenants/demodorp/processing",
        "ProcessingLogRetentionDays": "365",
    }
    fragment = json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text))
    assert fragment == {
        "id": "demodorp",
        "connect_instance_arn": INSTANCE,
        "kms_key_id": values["TenantKey.Arn"],
        "processing_log_group": values["ProcessingLogGroup"],
        "processing_log_retention": "P365D",
    }
    assert outputs["TenantKeyArn"]["Value"] == {"Fn::GetAtt": ["TenantKey", "Arn"]}
    # the registry path is imported (a single-tenant shared stack exports none: the deploy fails)
    tags = {t["Key"]: t["Value"] for t in tenant_template["Resources"]["TenantKey"]["Properties"]["Tags"]}
    assert tags["idbellen:registry-parameter"]["Fn::Sub"][1]["Path"] == imported("TenantsParameterPath")


# ----------------------------------------------------------------------------------- the tenant key
def test_the_tenant_key_is_used_directly_only_by_the_session_and_agent_roles_with_this_tenants_context(
    tenant_resources,
):
    users: dict[str, set[str]] = {}
    for statement in key_statements(tenant_resources, "TenantKey"):
        actions = set(as_list(statement["Action"]))
        if not any(is_data_plane(a) for a in actions):
            continue
        conditions = statement["Condition"]
        assert conditions["StringEquals"]["kms:EncryptionContext:app"] == "idbellen", statement["Sid"]
        assert conditions["StringEquals"]["kms:EncryptionContext:tenant"] == {"Ref": "TenantId"}, statement["Sid"]
        assert conditions["StringEquals"]["kms:CallerAccount"] == {"Ref": "AWS::AccountId"}, statement["Sid"]
        for principal in principals(statement):
            users.setdefault(json.dumps(principal, sort_keys=True), set()).update(actions)
    assert users == {
        json.dumps(imported("SessionFunctionRoleArn"), sort_keys=True): {"kms:GenerateDataKey", "kms:Decrypt"},
        json.dumps(imported("AgentFunctionRoleArn"), sort_keys=True): {"kms:Decrypt"},
    }


def test_the_dtmf_and_cleanup_roles_are_never_named_on_the_tenant_key(tenant_resources):
    """Promise 2 per tenant: the phone side cannot use any tenant's key, not even through a service."""
    text = json.dumps(tenant_resources["TenantKey"]["Properties"]["KeyPolicy"])
    assert "DtmfFunctionRole" not in text and "CleanupFunctionRole" not in text


def test_the_tenants_key_administrators_may_crypto_shred_and_nothing_more(tenant_resources):
    (admins,) = [
        s for s in key_statements(tenant_resources, "TenantKey") if s["Sid"] == "TenantKeyAdministratorsMayShred"
    ]
    actions = set(admins["Action"])
    assert {"kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:EnableKey", "kms:CancelKeyDeletion"} <= actions
    assert not [a for a in actions if is_data_plane(a)]
    assert not actions & {"kms:PutKeyPolicy", "kms:CreateGrant", "kms:UpdateAlias", "kms:DeleteAlias"}
    assert admins["Condition"] == {"ArnEquals": {"aws:PrincipalArn": {"Fn::GetAtt": ["TenantKeyAdminRole", "Arn"]}}}
    # a role in the key's own account (KMS refuses DisableKey/ScheduleKeyDeletion across accounts),
    # assumed by the partner's principals, with no permission but this key-policy grant
    role = tenant_resources["TenantKeyAdminRole"]
    assert role["Condition"] == "HasKeyAdmins"
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"AWS": {"Ref": "KeyAdminPrincipalArns"}}]
    assert not {"Policies", "ManagedPolicyArns", "PermissionsBoundary"} & set(role["Properties"])
    raw = tenant_resources["TenantKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert [s["Fn::If"][0] for s in raw if set(s) == {"Fn::If"}] == ["HasKeyAdmins"]


@pytest.mark.parametrize("key", ["TenantKey", "ProcessingLogKey"])
def test_key_administration_by_the_hosting_account_has_no_data_plane_and_no_grants(tenant_resources, key):
    (admin,) = [s for s in key_statements(tenant_resources, key) if s["Sid"] == "KeyAdministration"]
    assert admin["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    actions = set(admin["Action"])
    assert not [a for a in actions if is_data_plane(a)]
    assert "kms:CreateGrant" not in actions
    assert not [a for a in actions if a.endswith("*")]
    props = tenant_resources[key]["Properties"]
    assert props["EnableKeyRotation"] is True
    assert tenant_resources[key]["DeletionPolicy"] == "Retain"


def test_no_wildcard_kms_anywhere_and_no_kms_in_iam_policies(tenant_resources):
    for name in ("TenantKey", "ProcessingLogKey"):
        for statement in key_statements(tenant_resources, name):
            assert "kms:*" not in as_list(statement["Action"]), (name, statement["Sid"])
            assert statement["Effect"] == "Allow"
            if statement["Principal"] == {"AWS": "*"}:  # everyone but for a condition naming who
                assert statement["Condition"]["ArnEquals"]["aws:PrincipalArn"], (name, statement["Sid"])
    for name, resource in tenant_resources.items():
        docs = []
        if resource["Type"] == "AWS::IAM::RolePolicy":
            docs.append(resource["Properties"]["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Role":
            docs += [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
            assert "ManagedPolicyArns" not in resource["Properties"]
        for doc in docs:
            for statement in doc["Statement"]:
                actions = as_list(statement["Action"])
                assert not [a for a in actions if a.startswith("kms:")], (name, statement.get("Sid"))
                assert not [a for a in actions if a.endswith(":*") or a == "*"], (name, statement.get("Sid"))


def test_the_alias_names_the_deployment_and_the_tenant(tenant_resources):
    alias = tenant_resources["TenantKeyAlias"]["Properties"]
    assert alias == {
        "AliasName": {"Fn::Sub": "alias/${SharedStackName}-${TenantId}"},
        "TargetKeyId": {"Ref": "TenantKey"},
    }


# ------------------------------------------------------------------------------ the processing log
GROUP = "/idbellen/${SharedStackName}/tenants/${TenantId}/processing"
GROUP_ARN = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + GROUP


def test_the_processing_log_has_its_own_key_and_retention_and_outlives_the_stack(tenant_template):
    resources = tenant_template["Resources"]
    group = resources["ProcessingLogGroup"]
    assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"
    props = group["Properties"]
    assert props["LogGroupName"] == {"Fn::Sub": GROUP}
    assert props["RetentionInDays"] == {"Ref": "ProcessingLogRetentionDays"}
    # its own key, not the tenant's data key: disabling the data key (crypto-shred) leaves this
    # controller's accountability records readable for their retention
    assert props["KmsKeyId"] == {"Fn::GetAtt": ["ProcessingLogKey", "Arn"]}
    retention = tenant_template["Parameters"]["ProcessingLogRetentionDays"]
    assert min(retention["AllowedValues"]) >= 30 and retention["Default"] == 365


def test_the_processing_log_group_is_one_the_shared_roles_may_write(template, tenant_resources):
    """The shared stack grants PutLogEvents on a name pattern; the tenant stack's group must match it
    (with the shared stack's name), and no other tenant's group name may match this tenant's."""
    statement = next(
        s["Fn::If"][1]
        for s in template["Resources"]["SessionFunctionPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if set(s) == {"Fn::If"} and s["Fn::If"][1].get("Sid") == "TenantProcessingLogs"
    )
    pattern = statement["Resource"]["Fn::Sub"].replace("${AWS::StackName}", "idbellen-prod")
    name = tenant_resources["ProcessingLogGroup"]["Properties"]["LogGroupName"]["Fn::Sub"]
    arn = (GROUP_ARN + ":*").replace("${SharedStackName}", "idbellen-prod").replace("${TenantId}", "demodorp")
    assert fnmatch.fnmatchcase(arn, pattern)
    assert name == GROUP
    wrong_stack = arn.replace("idbellen-prod", "idbellen-test")
    assert not fnmatch.fnmatchcase(wrong_stack, pattern)


def test_only_this_tenants_reader_role_decrypts_its_processing_log(tenant_resources):
    readers = []
    for statement in key_statements(tenant_resources, "ProcessingLogKey"):
        actions = set(as_list(statement["Action"]))
        if "kms:Decrypt" not in actions:
            continue
        readers += principals(statement)
        conditions = statement["Condition"]
        assert conditions["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == {"Fn::Sub": GROUP_ARN}
        assert conditions["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}
    assert readers == [{"Fn::GetAtt": ["ProcessingLogReaderRole", "Arn"]}]


def test_the_shared_functions_and_cloudwatch_only_encrypt_into_this_group(tenant_resources):
    for statement in key_statements(tenant_resources, "ProcessingLogKey"):
        names = json.dumps(principals(statement))
        if "FunctionRoleArn" in names or "logs." in names:
            assert "kms:Decrypt" not in as_list(statement["Action"]), statement["Sid"]
            if set(as_list(statement["Action"])) != {"kms:DescribeKey"}:
                context = statement["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
                assert context == {"Fn::Sub": GROUP_ARN}, statement["Sid"]
    (writers,) = [
        s
        for s in key_statements(tenant_resources, "ProcessingLogKey")
        if s["Sid"] == "FunctionsWriteThroughCloudWatchLogs"
    ]
    assert principals(writers) == [imported(f"{f}FunctionRoleArn") for f in ("Session", "Dtmf", "Agent", "Cleanup")]


def test_the_reader_role_reads_only_this_tenants_group_and_is_assumed_by_its_privacy_officers(tenant_resources):
    role = tenant_resources["ProcessingLogReaderRole"]
    assert role["Condition"] == "HasPrivacyOfficers"
    # kept with the log and its key when the tenant stack goes: the controller reads it to the end
    assert role["DeletionPolicy"] == role["UpdateReplacePolicy"] == "Retain"
    props = role["Properties"]
    assert [s["Principal"] for s in props["AssumeRolePolicyDocument"]["Statement"]] == [
        {"AWS": {"Ref": "PrivacyOfficerPrincipalArns"}}
    ]
    (policy,) = props["Policies"]
    grants = {}
    for statement in policy["PolicyDocument"]["Statement"]:
        for action in as_list(statement["Action"]):
            grants[action] = statement["Resource"]
    group = {"Fn::Sub": GROUP_ARN + ":*"}
    assert grants == {
        "logs:StartQuery": group,
        "logs:FilterLogEvents": group,
        "logs:GetLogEvents": group,
        "logs:DescribeLogStreams": group,
        "logs:GetQueryResults": "*",  # no resource-level permission; only queries it could start
        "logs:StopQuery": "*",
    }


# -------------------------------------------------------------------------------- Amazon Connect
def test_the_tenants_flows_are_the_shared_flows_in_the_tenants_instance(resources, tenant_resources):
    shared = {k: v for k, v in resources.items() if v["Type"] in FLOW_TYPES}
    tenant = {k: v for k, v in tenant_resources.items() if v["Type"] in FLOW_TYPES}
    assert set(tenant) == set(shared)
    for name, flow in tenant.items():
        props = flow["Properties"]
        assert props["InstanceArn"] == {"Ref": "ConnectInstanceArn"}
        content, shared_content = props["Content"], shared[name]["Properties"]["Content"]
        if isinstance(content, dict):
            assert content["Fn::Sub"][0] == shared_content["Fn::Sub"][0], name  # the same flow text
            variables = content["Fn::Sub"][1]
            for placeholder, function in (("DtmfFunctionArn", "Dtmf"), ("CleanupFunctionArn", "Cleanup")):
                if placeholder in variables:
                    assert variables[placeholder] == imported(f"{function}FunctionAliasArn"), name
            if "DtmfLength" in variables:
                assert variables["DtmfLength"] == imported("DtmfCodeLength")
            for placeholder in ("QueueArn", "HoursOfOperationArn"):
                if placeholder in variables:
                    assert variables[placeholder] == {"Ref": f"Connect{placeholder}"}
        else:
            assert content == shared_content, name


def test_every_tenant_flow_waits_for_the_permission_and_association_of_the_functions_it_invokes(tenant_resources):
    """DependsOn cannot name a conditional resource, so a tenant flow names them in its Metadata through
    Fn::If on OwnInstance: a dependency when this stack creates them (own instance); on a shared
    instance they already exist in another stack."""
    needs = {
        "DtmfFunctionArn": {"DtmfFunctionConnectPermission", "DtmfFunctionIntegration"},
        "CleanupFunctionArn": {"CleanupFunctionConnectPermission", "CleanupFunctionIntegration"},
    }
    checked = 0
    for name, flow in tenant_resources.items():
        if flow["Type"] not in FLOW_TYPES:
            continue
        content = flow["Properties"]["Content"]
        variables = content["Fn::Sub"][1] if isinstance(content, dict) else {}
        needed = set().union(*(needs.get(v, set()) for v in variables))
        assert "DependsOn" not in flow, name
        if not needed:
            continue
        condition, refs, otherwise = flow["Metadata"]["WaitsFor"]["Fn::If"]
        assert condition == "OwnInstance" and otherwise == []
        assert {r["Ref"] for r in refs} == needed, name
        for dependency in needed:
            assert tenant_resources[dependency]["Condition"] == "OwnInstance"
        checked += 1
    assert checked == 3  # inbound and verify module (DTMF function), disconnect (cleanup function)
    flows = load_iac_module("flows")
    current = TENANT_TEMPLATE.read_text(encoding="utf-8")
    assert flows.splice(current, flows.generated_block(flows.TENANT)) == current, "run `make iac-flows`"


def test_connect_may_invoke_the_shared_functions_only_from_the_tenants_instance(tenant_resources):
    for function in ("Dtmf", "Cleanup"):
        permission = tenant_resources[f"{function}FunctionConnectPermission"]
        assert permission["Condition"] == "OwnInstance"
        assert permission["Properties"] == {
            "Action": "lambda:InvokeFunction",
            "FunctionName": imported(f"{function}FunctionAliasArn"),
            "Principal": "connect.amazonaws.com",
            "SourceArn": {"Ref": "ConnectInstanceArn"},
            "SourceAccount": {"Ref": "AWS::AccountId"},
        }
        association = tenant_resources[f"{function}FunctionIntegration"]
        assert association["Condition"] == "OwnInstance"
        assert association["Properties"] == {
            "InstanceId": {"Ref": "ConnectInstanceArn"},
            "IntegrationType": "LAMBDA_FUNCTION",
            "IntegrationArn": imported(f"{function}FunctionAliasArn"),
        }


def test_the_shared_roles_reach_only_this_tenants_instance(tenant_resources):
    expected = {
        "AgentFunctionConnectPolicy": (
            "AgentFunctionRoleName",
            {
                ("connect:UpdateContactAttributes", "${ConnectInstanceArn}/contact/*"),
                ("connect:DescribeContact", "${ConnectInstanceArn}/contact/*"),
                ("connect:DescribeContact", "${ConnectInstanceArn}/agent/*"),
                ("connect:DescribeUser", "${ConnectInstanceArn}/contact/*"),
                ("connect:DescribeUser", "${ConnectInstanceArn}/agent/*"),
            },
        ),
        "CleanupFunctionConnectPolicy": (
            "CleanupFunctionRoleName",
            {("connect:UpdateContactAttributes", "${ConnectInstanceArn}/contact/*")},
        ),
    }
    policies = of_type(tenant_resources, "AWS::IAM::RolePolicy")
    assert set(policies) == set(expected)
    for name, (role, grants) in expected.items():
        policy = policies[name]
        assert policy["Condition"] == "OwnInstance"
        assert policy["Properties"]["RoleName"] == imported(role)
        found = set()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in as_list(statement["Action"]):
                for resource in as_list(statement["Resource"]):
                    found.add((action, resource["Fn::Sub"]))
        assert found == grants, name


def test_the_contact_event_rule_takes_only_the_tenants_instance_to_the_shared_cleanup_function(tenant_resources):
    rule = tenant_resources["ContactEventsRule"]
    assert rule["Condition"] == "OwnInstance"
    props = rule["Properties"]
    pattern = json.loads(
        json.dumps(props["EventPattern"]).replace('{"Ref": "ConnectInstanceArn"}', json.dumps(INSTANCE))
    )

    def event(instance: str, event_type: str, method: str = "INBOUND") -> dict[str, Any]:
        return {
            "source": "aws.connect",
            "detail-type": "Amazon Connect Contact Event",
            "detail": {"instanceArn": instance, "eventType": event_type, "initiationMethod": method, "contactId": "c"},
        }

    assert matches(pattern, event(INSTANCE, "COMPLETED"))
    assert matches(pattern, event(INSTANCE, "INITIATED", "TRANSFER"))
    assert not matches(pattern, event(OTHER_INSTANCE, "COMPLETED"))  # another tenant's instance
    assert not matches(pattern, event(INSTANCE, "INITIATED"))
    assert not matches(pattern, event(INSTANCE, "CONNECTED_TO_AGENT"))
    (target,) = props["Targets"]
    assert target["Arn"] == imported("CleanupFunctionAliasArn")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}}
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 3600
    permission = tenant_resources["CleanupFunctionContactEventsPermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["ContactEventsRule", "Arn"]}
    queue = tenant_resources["EventsDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] <= 3600


def test_a_tenant_on_a_shared_instance_adds_only_its_flows_key_and_log(tenant_template):
    """ConnectInstanceShared=true: no second association (Connect refuses a duplicate, and deleting it
    would cut the other stack's), no second rule (events would reach cleanup twice)."""
    assert tenant_template["Conditions"]["OwnInstance"] == {"Fn::Equals": [{"Ref": "ConnectInstanceShared"}, "false"]}
    assert tenant_template["Parameters"]["ConnectInstanceShared"]["Default"] == "false"
    conditional = {k for k, v in tenant_template["Resources"].items() if v.get("Condition") == "OwnInstance"}
    assert conditional == {
        "DtmfFunctionConnectPermission",
        "CleanupFunctionConnectPermission",
        "DtmfFunctionIntegration",
        "CleanupFunctionIntegration",
        "AgentFunctionConnectPolicy",
        "CleanupFunctionConnectPolicy",
        "ContactEventsRule",
        "CleanupFunctionContactEventsPermission",
        "EventsDeadLetterQueue",
        "EventsDeadLetterQueuePolicy",
        "EventsDeadLetterQueueAlarm",
    }


# ------------------------------------------------------------------------ the link to the shared stack
def _imports(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if set(node) == {"Fn::ImportValue"}:
            text = node["Fn::ImportValue"]["Fn::Sub"]
            assert text.startswith("${SharedStackName}-"), text
            found.add(text.removeprefix("${SharedStackName}-"))
        else:
            for value in node.values():
                found |= _imports(value)
    elif isinstance(node, list):
        for value in node:
            found |= _imports(value)
    return found


def test_every_import_is_an_export_of_a_shared_stack_that_reads_a_registry(template, tenant_template):
    needed = _imports(tenant_template["Resources"]) | _imports(tenant_template.get("Outputs", {}))
    exports = {}
    for output in template["Outputs"].values():
        if "Export" in output:
            exports[output["Export"]["Name"]["Fn::Sub"].removeprefix("${AWS::StackName}-")] = output
    assert needed <= set(exports), sorted(needed - set(exports))
    assert "TenantsParameterPath" in needed
    for name in needed:
        assert exports[name]["Condition"] == "HasTenants", name


def test_the_parameters_refuse_what_the_registry_would_refuse(tenant_template):
    params = tenant_template["Parameters"]
    assert re.fullmatch(params["TenantId"]["AllowedPattern"], "demodorp")
    assert not re.fullmatch(params["TenantId"]["AllowedPattern"], "Demodorp")
    assert not re.fullmatch(params["TenantId"]["AllowedPattern"], "../x")
    assert re.fullmatch(params["ConnectInstanceArn"]["AllowedPattern"], INSTANCE)
    assert not re.fullmatch(params["ConnectInstanceArn"]["AllowedPattern"], INSTANCE + "/queue/x")


def test_cfn_lint_passes_on_the_tenant_template():
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "cfn-lint"),
            "--regions",
            "eu-central-1",
            "--include-checks",
            "I",
            "--",
            str(TENANT_TEMPLATE),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_tenants_alarms_and_dashboard_show_only_its_own_metrics(tenant_resources):
    alarms = of_type(tenant_resources, "AWS::CloudWatch::Alarm")
    own = {"Name": "tenant", "Value": {"Ref": "TenantId"}}
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        if props.get("Namespace") == "AWS/SQS":
            continue
        dimension_sets = [props["Dimensions"]] if "Dimensions" in props else []
        dimension_sets += [
            m["MetricStat"]["Metric"]["Dimensions"] for m in props.get("Metrics", []) if "MetricStat" in m
        ]
        assert dimension_sets, name
        for dimensions in dimension_sets:
            assert own in dimensions, name
    body = tenant_resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    rows = re.findall(r'\["idbellen", "[A-Za-z]+", "tenant", "([^"]+)"', body)
    assert rows and set(rows) == {"${TenantId}"}
    json.loads(body.replace("${TenantId}", "demodorp").replace("${AWS::Region}", "eu-central-1"))
