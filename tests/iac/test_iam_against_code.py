"""Least privilege, checked against what the code really calls.

moto ignores IAM. So this test runs whole ID calls on the dev stack (the real handlers), records every
AWS API call each function makes (service, operation, partition keys, encryption context, parameter
names), and checks each one against that function's role policy in iac/template.yaml: an action the
code needs but the role lacks - or a call to anything the role was not given - fails here instead of
in production.
"""

from __future__ import annotations

import contextvars
import os
from typing import Any

import botocore.client
import pytest

from tests.iac.conftest import statements
from tests.iac.test_iam import FUNCTIONS, granted

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("idbellen_function", default=None)
# function -> (partition key, attribute names a GetItem projected: None without a projection)
PROJECTIONS: dict[str, list[tuple[str, frozenset[str] | None]]] = {}
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def _pk(key: dict[str, Any]) -> str:
    return key["pk"]["S"]


def _requests(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(IAM action, resource label) pairs one API call needs."""
    if service == "dynamodb":
        if operation in ("GetItem", "UpdateItem", "DeleteItem"):
            return [(f"dynamodb:{operation}", _pk(params["Key"]))]
        if operation == "PutItem":
            return [("dynamodb:PutItem", _pk(params["Item"]))]
        if operation == "BatchGetItem":
            return [("dynamodb:BatchGetItem", _pk(k)) for t in params["RequestItems"].values() for k in t["Keys"]]
        if operation == "TransactWriteItems":
            out = []
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                out.append((f"dynamodb:{TRANSACT[kind]}", _pk(body.get("Key") or body["Item"])))
            return out
        if operation == "Scan":
            return [("dynamodb:Scan", "table")]
    if service == "kms":
        ctx = params.get("EncryptionContext") or {}
        label = "key:app=idbellen" if ctx.get("app") == "idbellen" and ctx.get("tenant") else "key:?"
        return [(f"kms:{operation}", label)]
    if service == "ssm" and operation == "GetParameter":
        names = {
            os.environ.get("IDBELLEN_IRMA_TOKEN_PARAM"): "param:IrmaTokenParameterName",
            os.environ.get("IDBELLEN_HASH_KEY_PARAM"): "param:HashKeyParameterName",
        }
        return [("ssm:GetParameter", names.get(params["Name"], "param:?"))]
    if service == "ssm" and operation == "GetParametersByPath":
        path = os.environ.get("IDBELLEN_TENANTS_PARAMETER_PATH")
        return [("ssm:GetParametersByPath", "param:TenantsParameterPath" if params["Path"] == path else "param:?")]
    if service == "lambda" and operation == "Invoke":
        target = (
            "fn:SessionFunctionAliaslive"
            if params["FunctionName"] == os.environ.get("IDBELLEN_SESSION_FUNCTION")
            else "fn:?"
        )
        return [("lambda:InvokeFunction", target)]
    if service == "connect":
        return [(f"connect:{operation}", "connect:contact/*" if operation != "DescribeUser" else "connect:agent/*")]
    return [(f"{service}:{operation}", "?")]


def _allowed(grants: set[tuple[str, str]], action: str, label: str) -> bool:
    for granted_action, granted_label in grants:
        if granted_action != action:
            continue
        if granted_label.endswith("#") and label.startswith(granted_label):
            return True
        if granted_label == label:
            return True
    return False


@pytest.fixture(scope="module")
def recorded() -> dict[str, list[tuple[str, str, str]]]:
    from idbellen import runtime
    from idbellen.handlers import agent, cleanup, dtmf, session

    calls: dict[str, list[tuple[str, str, str]]] = {name: [] for name in ("session", "dtmf", "agent", "cleanup")}
    original_call = botocore.client.BaseClient._make_api_call

    def recording_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        function = _current.get()
        if function is not None:
            service = self.meta.service_model.service_name
            for action, label in _requests(service, operation, params):
                calls[function].append((action, label, operation))
            if service == "dynamodb" and operation == "GetItem":
                names = params.get("ExpressionAttributeNames") or {}
                projected = params.get("ProjectionExpression")
                attrs = frozenset(names.get(p.strip(), p.strip()) for p in projected.split(",")) if projected else None
                PROJECTIONS.setdefault(function, []).append((_pk(params["Key"]), attrs))
        return original_call(self, operation, params)

    modules = {"session": session, "dtmf": dtmf, "agent": agent, "cleanup": cleanup}
    originals = {name: module.handler for name, module in modules.items()}

    def wrap(name: str) -> Any:
        def handler(event: Any, context: Any) -> Any:
            # every invocation starts cold, so each function fetches its own parameters and keys
            # instead of finding them in a cache another function of this one process filled
            if _current.get() is None:
                runtime.reset()
            token = _current.set(name)
            try:
                return originals[name](event, context)
            finally:
                _current.reset(token)

        return handler

    mp = pytest.MonkeyPatch()
    mp.setattr(botocore.client.BaseClient, "_make_api_call", recording_call)
    for name, module in modules.items():
        mp.setattr(module, "handler", wrap(name))
    try:
        from devstack import DevStack

        with DevStack() as stack:
            creds = {"pbdf.gemeente.personalData.bsn": "999990019", "pbdf.gemeente.personalData.fullname": "J. Jansen"}
            # 1. verified call, agent reads, transfer, both segments complete
            status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
            assert status == 201
            stack.api("GET", f"/sessions/{body['session_id']}")
            tel = stack.wallet.disclose(body["sessionPtr"], creds)
            stack.api("POST", f"/sessions/{body['session_id']}/complete")
            call = stack.call(tel.split(",", 1)[1], caller="+31612345678")
            assert call.lambda_result.get("result") == "OK", call.lambda_result
            secret = call.attributes["session_secret"]
            stack.assign(call.contact_id)
            assert stack.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": call.contact_id})[0] == 200
            second = stack.transfer(call.contact_id)
            stack.assign(second, "tweede.agent@gemeente.example")
            from devstack.identity import cognito_access_claims

            other = cognito_access_claims("tweede.agent@gemeente.example")
            request = {"secret": secret, "contact_id": second}
            assert stack.api("POST", "/agent/disclosure", request, claims=other)[0] == 200
            # the verify module runs again on the second segment: a second code replaces the first session
            status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
            tel = stack.wallet.disclose(body["sessionPtr"], creds)
            again = stack.call(tel.split(",", 1)[1], caller="+31612345678", contact_id=second)
            assert again.lambda_result.get("result") == "OK", again.lambda_result
            stack.contact_event(call.contact_id, "COMPLETED")
            stack.contact_event(second, "COMPLETED")
            # 2. verified call cleared by the agent
            status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
            tel = stack.wallet.disclose(body["sessionPtr"], creds)
            call = stack.call(tel.split(",", 1)[1], caller="+31612345679")
            secret = call.attributes.get("session_secret", "")
            stack.assign(call.contact_id)
            stack.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": call.contact_id})
            assert stack.api("POST", "/agent/clear", {"secret": secret, "contact_id": call.contact_id})[0] == 204
            # 3. caller hangs up in the queue (disconnect flow), 4. wrong codes, 5. failed disclosure, sweep
            status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
            tel = stack.wallet.disclose(body["sessionPtr"], creds)
            call = stack.call(tel.split(",", 1)[1], caller="+31612345670")
            event = stack.contact_flow_event(call.contact_id, call.initial_contact_id, {}, caller=None)
            stack.invoke("cleanup", event)
            for _ in range(3):
                stack.call("1" * int(os.environ.get("IDBELLEN_DTMF_LENGTH", "8")), caller="+31612345671")
            status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
            stack.wallet.disclose(body["sessionPtr"], creds, proof_status="INVALID")
            stack.api("POST", f"/sessions/{body['session_id']}/complete")
            stack.sweep()
    finally:
        mp.undo()
    return calls


@pytest.mark.parametrize("function", ["session", "dtmf", "agent", "cleanup"])
def test_every_call_the_code_makes_is_allowed(recorded, resources, function):
    policy = FUNCTIONS[function.capitalize() + "Function"]
    grants = granted(resources, policy)
    calls = recorded[function]
    assert calls, f"the scenario made no AWS call from the {function} function"
    denied = sorted({(a, label) for a, label, _ in calls if not _allowed(grants, a, label)})
    assert denied == [], f"{function} function needs permissions its role lacks: {denied}"


def test_scenario_exercised_the_sensitive_paths(recorded):
    used = {(f, a) for f, calls in recorded.items() for a, _, _ in calls}
    assert ("session", "kms:GenerateDataKey") in used
    assert ("agent", "kms:Decrypt") in used
    assert ("dtmf", "dynamodb:TransactWriteItems") not in used  # recorded per item, not as one action
    assert {("dtmf", "dynamodb:PutItem"), ("cleanup", "dynamodb:DeleteItem"), ("cleanup", "dynamodb:Scan")} <= used
    assert not [a for f, a in used if f in ("dtmf", "cleanup") and a.startswith("kms:")]
    assert ("dtmf", "ssm:GetParameter") in used and ("session", "ssm:GetParameter") in used


def test_dtmf_reads_of_contact_pointers_stay_within_the_granted_attributes(recorded, resources):
    """The DTMF role may read a contact pointer only with a projection of the id attributes its policy
    names (dynamodb:Attributes + Select SPECIFIC_ATTRIBUTES): never a whole item."""
    (statement,) = [s for s in statements(resources, "DtmfFunctionPolicy") if s["Sid"] == "ReadContactPointer"]
    allowed = set(statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"])
    assert statement["Condition"]["StringEqualsIfExists"] == {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}
    reads = [(pk, attrs) for pk, attrs in PROJECTIONS.get("dtmf", []) if pk.startswith("CONTACT#")]
    assert reads, "the scenario's second code should have read the contact pointer"
    for pk, attrs in reads:
        assert attrs is not None and attrs <= allowed, (pk, attrs)


def test_policies_cover_nothing_but_what_a_role_has(resources):
    # sanity of the evaluator: a prefix the DTMF role lacks is refused
    grants = granted(resources, "DtmfFunctionPolicy")
    assert not _allowed(grants, "dynamodb:GetItem", "SESSION#abc")
    assert _allowed(grants, "dynamodb:GetItem", "DTMF#abc")
    assert statements(resources, "DtmfFunctionPolicy")
