"""The template's side of issues 11 and 12, read off iac/template.yaml:

- every contact flow waits for the Lambda permissions and integration associations of the functions it
  invokes (DependsOn), so a first deploy cannot race them;
- the DTMF function's Lambda timeout is shorter than every flow block's InvocationTimeLimitSeconds that
  invokes it, and a retried attempt still fits Connect's retry window;
- agent identity: the authorizer requires the agents' scope where API Gateway can check it, the function
  gets the username claim, provider prefix and group (enforced there), the binding is on by default, and
  the created user pool requires MFA unless the template says the IdP enforces it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from devstack.flow_simulator import MAX_RETRIES, RETRY_WINDOW_SECONDS

FLOW_TYPES = ("AWS::Connect::ContactFlow", "AWS::Connect::ContactFlowModule")
NEEDS = {
    "DtmfFunctionArn": {"DtmfFunctionConnectPermission", "DtmfFunctionIntegration"},
    "CleanupFunctionArn": {"CleanupFunctionConnectPermission", "CleanupFunctionIntegration"},
}


def _flows(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r["Type"] in FLOW_TYPES}


def _content(resource: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    content = resource["Properties"]["Content"]
    if isinstance(content, dict) and "Fn::Sub" in content:
        text, variables = content["Fn::Sub"]
        return json.loads(text), variables
    return json.loads(content), {}


def test_every_flow_depends_on_the_permissions_and_associations_it_needs(resources):
    checked = 0
    for name, resource in _flows(resources).items():
        _, variables = _content(resource)
        needed = set().union(*(NEEDS.get(v, set()) for v in variables))
        depends = set(resource.get("DependsOn") or [])
        assert needed <= depends, (name, needed - depends)
        for dependency in depends:
            assert dependency in resources, (name, dependency)
        checked += bool(needed)
    assert checked == 3  # inbound, verify module (DTMF function), disconnect (cleanup function)


def _dtmf_blocks(resources: dict[str, Any]) -> list[tuple[str, int]]:
    found = []
    for name, resource in _flows(resources).items():
        flow, variables = _content(resource)
        if "DtmfFunctionArn" not in variables:
            continue
        for action in flow["Actions"]:
            params = action.get("Parameters", {})
            if action["Type"] == "InvokeLambdaFunction" and params.get("LambdaFunctionARN") == "${DtmfFunctionArn}":
                found.append((f"{name}.{action['Identifier']}", int(params["InvocationTimeLimitSeconds"])))
    return found


def test_dtmf_lambda_timeout_is_shorter_than_every_flow_wait(resources):
    """Connect waits InvocationTimeLimitSeconds per attempt; Lambda must end the attempt first, so a
    late attempt surfaces as a function error (retried) and never links after the flow gave up."""
    timeout = resources["DtmfFunction"]["Properties"]["Timeout"]
    blocks = _dtmf_blocks(resources)
    assert {b.split(".")[1] for b, _ in blocks} == {"RedeemCallCode", "MarkSessionClosed"}
    for block, limit in blocks:
        assert timeout < limit, (block, timeout, limit)
    # an attempt Lambda ends leaves room for Connect's retry inside its 8 s retry window
    assert 2 * timeout < RETRY_WINDOW_SECONDS and MAX_RETRIES == 3


def test_the_deadline_reserve_fits_inside_the_lambda_timeout(resources):
    from idbellen.handlers.dtmf import COMMIT_RESERVE_SECONDS

    timeout = resources["DtmfFunction"]["Properties"]["Timeout"]
    assert 0 < COMMIT_RESERVE_SECONDS < timeout


def test_agent_routes_require_the_agent_scope_at_the_authorizer(resources):
    routes = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGatewayV2::Route" and r["Properties"]["RouteKey"].startswith("POST /agent/")
    ]
    assert len(routes) == 2
    for route in routes:
        condition, created_pool, external = route["AuthorizationScopes"]["Fn::If"]
        assert condition == "CreateUserPool"
        assert created_pool == ["idbellen/agent"]
        assert external == {"Fn::If": ["HasAgentScopes", {"Ref": "AgentAuthorizationScopes"}, {"Ref": "AWS::NoValue"}]}
    server = resources["AgentUserPoolResourceServer"]["Properties"]
    assert server["Identifier"] == "idbellen" and [s["ScopeName"] for s in server["Scopes"]] == ["agent"]
    client = resources["AgentUserPoolClient"]
    assert "idbellen/agent" in client["Properties"]["AllowedOAuthScopes"]
    assert client["DependsOn"] == "AgentUserPoolResourceServer"


def test_agent_function_gets_the_identity_configuration(template, resources):
    env = resources["AgentFunction"]["Properties"]["Environment"]["Variables"]
    assert env["IDBELLEN_VERIFY_AGENT"] == {"Ref": "VerifyAgentOnContact"}
    assert template["Parameters"]["VerifyAgentOnContact"]["Default"] == "on"
    assert env["IDBELLEN_AGENT_USERNAME_CLAIM"] == {"Ref": "AgentUsernameClaim"}
    assert env["IDBELLEN_AGENT_IDP"] == {"Fn::If": ["CreateUserPool", {"Ref": "AgentIdentityProviderName"}, ""]}
    assert env["IDBELLEN_AGENT_GROUPS_CLAIM"] == {"Ref": "AgentGroupsClaim"}
    assert env["IDBELLEN_AGENT_GROUP"] == {"Ref": "AgentGroup"}
    assert env["IDBELLEN_AGENT_SCOPE"]["Fn::If"][:2] == ["CreateUserPool", "idbellen/agent"]
    params = template["Parameters"]
    assert params["AgentIdentityProviderName"]["Default"] == "kcc-idp"
    assert params["AgentGroup"]["Default"] == "kcc-agents"
    assert params["AgentUsernameClaim"]["Default"] == "username"
    assert params["AgentGroupsClaim"]["Default"] == "cognito:groups"
    # the SAML provider the user pool federates to is the one whose prefix the function removes
    saml = resources["AgentSamlIdentityProvider"]["Properties"]
    assert saml["ProviderName"] == {"Ref": "AgentIdentityProviderName"} and saml["ProviderType"] == "SAML"
    group = resources["AgentUserPoolGroup"]
    assert group["Condition"] == "CreateAgentGroup" and group["Properties"]["GroupName"] == {"Ref": "AgentGroup"}
    # a deployment without a group must name the scope only agents carry
    rule = template["Rules"]["AgentsAreAGroupOrAScope"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "AgentGroup"}, ""]}


@pytest.mark.parametrize("setting", ["AgentIdentityProviderName", "AgentUsernameClaim", "AgentGroupsClaim"])
def test_identity_parameters_accept_only_what_the_function_accepts(template, setting):
    """The template's AllowedPattern matches idbellen.config's own validation of the same value."""
    from idbellen import config

    pattern = re.compile(template["Parameters"][setting]["AllowedPattern"])
    checker = config.PROVIDER_NAME if setting == "AgentIdentityProviderName" else config.CLAIM_NAME
    for value in ("kcc-idp", "username", "cognito:groups", "preferred_username", "a b", "", "x" * 70, "1abc"):
        assert bool(pattern.match(value)) == bool(checker.match(value)), (setting, value)


def test_user_pool_requires_mfa_unless_the_idp_enforces_it(template, resources):
    pool = resources["AgentUserPool"]["Properties"]
    assert pool["MfaConfiguration"] == {"Fn::If": ["CognitoRequiresMfa", "ON", "OFF"]}
    assert pool["EnabledMfas"] == {"Fn::If": ["CognitoRequiresMfa", ["SOFTWARE_TOKEN_MFA"], {"Ref": "AWS::NoValue"}]}
    condition = template["Conditions"]["CognitoRequiresMfa"]
    assert condition == {
        "Fn::And": [{"Fn::Condition": "CreateUserPool"}, {"Fn::Equals": [{"Ref": "AgentIdpEnforcesMfa"}, "false"]}]
    }
    assert template["Parameters"]["AgentIdpEnforcesMfa"]["Default"] == "false"
    # "the IdP enforces it" is only possible with that IdP configured
    rule = template["Rules"]["MfaLeftToTheIdpOnlyWithAnIdp"]
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AgentSamlMetadataUrl"}, ""]}]}
