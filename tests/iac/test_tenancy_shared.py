"""The shared stack's side of several municipalities (issue 14), read off iac/template.yaml:

- a single-tenant deployment stays as it was (no registry path, no registry setting in any function's
  environment, no registry grant, no export);
- with TenantsParameterPath every function may read exactly the registry path (GetParametersByPath,
  nothing else of SSM) and write (never read) the tenant processing-log groups the tenant stacks create;
- no shared role gets a KMS grant for tenant keys (tenant key policies grant them: docs/iam.md).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.iac.conftest import as_list

POLICIES = ("SessionFunctionPolicy", "DtmfFunctionPolicy", "AgentFunctionPolicy", "CleanupFunctionPolicy")
PATH_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${TenantsParameterPath}"
LOGS_ARN = (
    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    "/idbellen/${AWS::StackName}/tenants/*/processing:*"
)


def _tenancy_statements(resources: dict[str, Any], policy: str) -> list[dict[str, Any]]:
    out = []
    for statement in resources[policy]["Properties"]["PolicyDocument"]["Statement"]:
        if set(statement) == {"Fn::If"} and statement["Fn::If"][0] == "HasTenants":
            _, granting, otherwise = statement["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}, policy
            out.append(granting)
    return out


def test_one_tenant_by_default_as_before(template):
    params = template["Parameters"]
    assert params["TenantsParameterPath"]["Default"] == ""
    assert template["Conditions"]["HasTenants"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "TenantsParameterPath"}, ""]}]}
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    # absent, not empty, without a registry: the functions keep today's single tenant from IDBELLEN_TENANT
    assert env["IDBELLEN_TENANTS_PARAMETER_PATH"] == {
        "Fn::If": ["HasTenants", {"Ref": "TenantsParameterPath"}, {"Ref": "AWS::NoValue"}]
    }
    assert env["IDBELLEN_TENANTS_MAX_AGE"] == {
        "Fn::If": ["HasTenants", {"Ref": "TenantsMaxAgeSeconds"}, {"Ref": "AWS::NoValue"}]
    }
    assert params["TenantsMaxAgeSeconds"]["Default"] == 300  # "picked up within minutes"
    assert params["TenantsMaxAgeSeconds"]["MaxValue"] <= 3600
    assert env["IDBELLEN_TENANT"] == {"Ref": "Tenant"}  # the hosting municipality: the shared defaults


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("", True),
        ("/idbellen/production/tenants", True),
        ("/a", True),
        ("idbellen/tenants", False),
        ("/x/", False),
        ("/a b", False),
        ("/a/*", False),
    ],
)
def test_the_registry_path_is_empty_or_an_absolute_ssm_path(template, path, ok):
    assert bool(re.fullmatch(template["Parameters"]["TenantsParameterPath"]["AllowedPattern"], path)) is ok


@pytest.mark.parametrize("policy", POLICIES)
def test_every_function_reads_exactly_the_registry_path_and_only_with_a_registry(resources, policy):
    statements = _tenancy_statements(resources, policy)
    registry = [s for s in statements if s["Sid"] == "TenantRegistry"]
    assert len(registry) == 1, policy
    (statement,) = registry
    assert as_list(statement["Action"]) == ["ssm:GetParametersByPath"]
    assert statement["Resource"] == [{"Fn::Sub": PATH_ARN}, {"Fn::Sub": PATH_ARN + "/*"}]
    # the path parameter is used nowhere else in the role: no GetParameter(s), no Put, no history
    for other in resources[policy]["Properties"]["PolicyDocument"]["Statement"]:
        if other is not statement and not (set(other) == {"Fn::If"} and other["Fn::If"][1] is statement):
            assert "TenantsParameterPath" not in json.dumps(other), policy


@pytest.mark.parametrize("policy", POLICIES)
def test_every_function_writes_but_never_reads_the_tenant_processing_logs(resources, policy):
    (statement,) = [s for s in _tenancy_statements(resources, policy) if s["Sid"] == "TenantProcessingLogs"]
    assert set(as_list(statement["Action"])) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert statement["Resource"] == {"Fn::Sub": LOGS_ARN}
    assert len(_tenancy_statements(resources, policy)) == 2


def test_no_shared_role_gets_kms_on_tenant_keys_or_a_tag_condition(resources):
    """Tenant keys are granted by each tenant key's own policy (iac/tenant.yaml), bound to that tenant's
    encryption context; a shared role's KMS grant names the shared DataKey only."""
    for policy in POLICIES:
        text = json.dumps(resources[policy]["Properties"]["PolicyDocument"])
        assert "aws:ResourceTag" not in text and "kms:ResourceAliases" not in text, policy
        for statement in resources[policy]["Properties"]["PolicyDocument"]["Statement"]:
            granting = statement["Fn::If"][1] if set(statement) == {"Fn::If"} else statement
            if granting == {"Ref": "AWS::NoValue"}:
                continue
            if any(a.startswith("kms:") for a in as_list(granting["Action"])):
                assert granting["Resource"] == {"Fn::GetAtt": ["DataKey", "Arn"]}, (policy, granting["Sid"])


def test_tenancy_exports_exist_only_with_a_registry(template):
    exported = {name: o for name, o in template["Outputs"].items() if "Export" in o}
    assert len(exported) >= 10
    for name, output in exported.items():
        assert output["Condition"] == "HasTenants", name
        assert output["Export"]["Name"]["Fn::Sub"].startswith("${AWS::StackName}-"), name
    assert exported["EventBusArn"]["Value"] == {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
    }
    role_arns = {o["Value"]["Fn::GetAtt"][0] for o in exported.values() if "Fn::GetAtt" in o["Value"]}
    assert role_arns == {f"{f}FunctionRole" for f in ("Session", "Dtmf", "Agent", "Cleanup")}


def test_the_transformed_template_keeps_the_registry_settings_conditional(transformed):
    """After the SAM transform (Globals merged into each function), a single-tenant deploy still
    passes no registry setting to any function."""
    for name in ("SessionFunction", "DtmfFunction", "AgentFunction", "CleanupFunction"):
        env = transformed["Resources"][name]["Properties"]["Environment"]["Variables"]
        for variable in ("IDBELLEN_TENANTS_PARAMETER_PATH", "IDBELLEN_TENANTS_MAX_AGE"):
            assert env[variable]["Fn::If"][0] == "HasTenants", (name, variable)
            assert env[variable]["Fn::If"][2] == {"Ref": "AWS::NoValue"}, (name, variable)


def test_partner_identity_providers_are_offered_only_next_to_the_hosts_saml_provider(template, resources):
    """A partner's agents sign in through its own SAML provider in the created user pool; a stack
    update must keep offering it (no drift), and without partners the client is as before."""
    assert template["Parameters"]["PartnerAgentIdentityProviders"]["Default"] == ""
    condition, with_partners, otherwise = resources["AgentUserPoolClient"]["Properties"]["SupportedIdentityProviders"][
        "Fn::If"
    ]
    assert condition == "HasPartnerIdps"
    assert template["Conditions"]["HasPartnerIdps"]["Fn::And"][0] in (
        {"Condition": "HasSamlIdp"},
        {"Fn::Condition": "HasSamlIdp"},
    )
    delimiter, (joined,) = with_partners["Fn::Split"][0], [with_partners["Fn::Split"][1]]
    assert delimiter == ","
    assert joined["Fn::Join"][1] == [
        {"Ref": "AgentSamlIdentityProvider"},
        {"Fn::Join": [",", {"Ref": "PartnerAgentIdentityProviders"}]},
    ]
    assert otherwise == {"Fn::If": ["HasSamlIdp", [{"Ref": "AgentSamlIdentityProvider"}], ["COGNITO"]]}
