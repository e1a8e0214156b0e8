"""Two municipalities on one deployment (issue 14): nothing of one tenant can be read, cleared, limited,
deleted or counted through the other — on the real handlers, the dev stack's two tenants.

A = `default` (Gemeente Voorbeeld), B = `demodorp` (Gemeente Demodorp): each its own number, Connect
instance, IdP and agent group, KMS key and processing-log group (devstack/stack.py, DEV_TENANTS).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from idbellen import limits

from devstack import DevStack
from devstack.stack import SHARED_PROCESSING_LOG_GROUP
from tests.audit.helpers import emf_metrics

A, B = "default", "demodorp"
BSN = "pbdf.gemeente.personalData.bsn"
NAME = "pbdf.gemeente.personalData.fullname"
WALLET = {BSN: "999990019", NAME: "Demo Burger"}


@pytest.fixture
def stack() -> Iterator[DevStack]:
    with DevStack() as running:
        assert running.tenants == [A, B]
        yield running


def digits_for(stack: DevStack, tenant: str) -> str:
    """A disclosed session of `tenant`: the DTMF code its citizen page hands the app."""
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"}, tenant=tenant)
    assert status == 201, body
    tel = stack.wallet.disclose(body["sessionPtr"], WALLET)
    return tel.split(",", 1)[1]


def linked_call(stack: DevStack, tenant: str, caller: str = "+31612345678") -> Any:
    call = stack.call(digits_for(stack, tenant), caller=caller, tenant=tenant)
    assert call.lambda_result["result"] == "OK" and call.attributes["verified"] == "true"
    stack.assign(call.contact_id)
    return call


def read(stack: DevStack, tenant: str, secret: str, contact_id: str) -> tuple[int, Any]:
    return stack.api("POST", "/agent/disclosure", {"secret": secret, "contact_id": contact_id}, tenant=tenant)


def clear(stack: DevStack, tenant: str, secret: str, contact_id: str) -> tuple[int, Any]:
    return stack.api("POST", "/agent/clear", {"secret": secret, "contact_id": contact_id}, tenant=tenant)


def items_of(stack: DevStack, tenant: str) -> list[dict[str, Any]]:
    return [item for item in stack.table_items() if item.get("tenant") == tenant and item.get("kind") != "rate"]


def dtmf_event(stack: DevStack, tenant: str, digits: str, caller: str) -> dict[str, Any]:
    contact = str(uuid.uuid4())
    return stack.contact_flow_event(contact, contact, {"dtmf": digits}, caller=caller, tenant=tenant)


# -- codes ------------------------------------------------------------------------------------------
def test_a_code_of_b_dialled_at_a_is_not_found_there_and_still_works_at_b(stack: DevStack) -> None:
    digits = digits_for(stack, B)
    at_a = stack.call(digits, tenant=A)
    assert at_a.lambda_result["result"] == "NOT_FOUND"
    assert at_a.attributes["verified"] == "false" and at_a.queued  # still reaches A's queue, unverified
    at_b = stack.call(digits, tenant=B)
    assert at_b.lambda_result["result"] == "OK" and at_b.attributes["verified"] == "true"


def test_a_call_from_an_instance_of_no_tenant_is_unverified_without_a_lookup(stack: DevStack) -> None:
    digits = digits_for(stack, A)
    event = dtmf_event(stack, A, digits, "+31611111111")
    event["Details"]["ContactData"]["InstanceARN"] = event["Details"]["ContactData"]["InstanceARN"].replace(
        "-000000000000", "-000000000099"
    )
    before = stack.table_items()
    assert stack.invoke("dtmf", event) == {"result": "NOT_FOUND"}
    assert stack.table_items() == before  # nothing counted, nothing redeemed
    assert stack.call(digits, tenant=A).lambda_result["result"] == "OK"


# -- agents -----------------------------------------------------------------------------------------
def test_a_agent_with_b_secret_and_contact_gets_the_answer_for_an_unknown_one(stack: DevStack) -> None:
    call = linked_call(stack, B)
    secret = call.attributes["session_secret"]
    unknown = read(stack, A, secrets.token_urlsafe(32), str(uuid.uuid4()))
    assert unknown == (404, {"error": "not_found"})
    assert read(stack, A, secret, call.contact_id) == unknown
    # clear: the same 204 as for an unknown secret, and nothing of B's goes
    before = items_of(stack, B)
    assert len(before) >= 3  # session, code, secret, contact pointers
    assert clear(stack, A, secrets.token_urlsafe(32), str(uuid.uuid4())) == clear(stack, A, secret, call.contact_id)
    assert clear(stack, A, secret, call.contact_id)[0] == 204
    assert items_of(stack, B) == before
    status, body = read(stack, B, secret, call.contact_id)  # B's own agent still sees it
    assert status == 200 and {a["id"] for a in body["attributes"]} == {BSN, NAME}


def test_a_token_of_both_tenants_groups_is_refused(stack: DevStack) -> None:
    call = linked_call(stack, A)
    claims = stack.agent_claims(A)
    claims["cognito:groups"] = "[kcc-agents demodorp-agents]"
    claims["username"] = "someone-idp_x"  # neither tenant's IdP prefix: no way to tell which tenant
    status, body = stack.api(
        "POST",
        "/agent/disclosure",
        {"secret": call.attributes["session_secret"], "contact_id": call.contact_id},
        claims=claims,
    )
    assert (status, body) == (403, {"error": "forbidden"})
    # A's group with B's identity provider (or the reverse) is neither tenant's agent
    for group, provider in (("kcc-agents", "demodorp-idp"), ("demodorp-agents", "kcc-idp")):
        mixed = {**stack.agent_claims(A), "cognito:groups": f"[{group}]", "username": f"{provider}_x@example"}
        request = {"secret": call.attributes["session_secret"], "contact_id": call.contact_id}
        assert stack.api("POST", "/agent/disclosure", request, claims=mixed) == (403, {"error": "forbidden"})


# -- rate limits ------------------------------------------------------------------------------------
def test_a_flood_at_a_does_not_limit_b_callers(stack: DevStack) -> None:
    caller = "+31687654321"
    wrong = "1" * 8
    # the buckets are per window (10 minutes per number, a minute per tenant): every lookup of the flood
    # happens at the same moment, however slow the machine, so no window boundary splits it
    at = (int(stack.clock.now()) // 600 + 1) * 600 + 1

    def lookup(caller: str) -> str:
        stack.clock.set(at)
        return str(stack.invoke("dtmf", dtmf_event(stack, A, wrong, caller))["result"])

    results = [lookup(caller) for _ in range(11)]
    assert results[-1] == "RATE_LIMITED"  # this number is limited at A ...
    stack.clock.set(at)
    assert linked_call(stack, B, caller=caller).attributes["verified"] == "true"  # ... not at B
    # A's tenant-wide bucket: a minute's worth of lookups from many numbers
    for n in range(limits.TENANT_LOOKUPS_PER_MINUTE + 1):
        lookup(f"+3161{n:07d}")
    assert lookup("+31699999999") == "RATE_LIMITED"
    stack.clock.set(at)
    assert stack.call(digits_for(stack, B), caller="+31699999999", tenant=B).lambda_result["result"] == "OK"


# -- deletion ---------------------------------------------------------------------------------------
def test_a_contact_event_from_the_wrong_instance_deletes_nothing(stack: DevStack) -> None:
    call = linked_call(stack, A)
    before = items_of(stack, A)
    wrong = stack.tenant_config[B].instance_arn
    assert stack.contact_event(call.contact_id, "COMPLETED", instance_arn=wrong) == {"result": "OK", "deleted": "0"}
    assert items_of(stack, A) == before
    assert read(stack, A, call.attributes["session_secret"], call.contact_id)[0] == 200
    assert stack.contact_event(call.contact_id, "COMPLETED")["deleted"] != "0"  # from its own instance
    assert items_of(stack, A) == []


def test_the_sweep_deletes_every_tenant_expired_items(stack: DevStack) -> None:
    linked_call(stack, A)
    linked_call(stack, B)
    assert items_of(stack, A) and items_of(stack, B)
    stack.clock.advance(3601)
    stack.sweep()
    assert items_of(stack, A) == [] and items_of(stack, B) == []


# -- a disabled tenant ------------------------------------------------------------------------------
def test_a_disabled_tenant_calls_are_unverified_and_its_sessions_refused_b_unaffected(stack: DevStack) -> None:
    digits = digits_for(stack, B)
    document = stack.tenant_document(B)
    stack.put_tenant_document(B, {**document, "enabled": False})

    call = stack.call(digits, tenant=B)
    assert call.lambda_result["result"] == "NOT_FOUND"
    assert call.attributes["verified"] == "false" and call.queued  # still reaches an agent
    assert stack.api("POST", "/sessions", {"purpose": "demo"}, tenant=B) == (400, {"error": "unknown_tenant"})
    assert [t["id"] for t in stack.api("GET", "/tenants")[1]] == [A]

    a_call = linked_call(stack, A)
    assert read(stack, A, a_call.attributes["session_secret"], a_call.contact_id)[0] == 200

    stack.put_tenant_document(B, document)  # enabled again: the code (still in its window) works
    assert stack.call(digits, tenant=B).lambda_result["result"] == "OK"


def test_an_unknown_tenant_on_the_citizen_page_is_a_clear_400(stack: DevStack) -> None:
    for tenant in ("nowhere", "", 7, "../default"):
        status, body = stack.api("POST", "/sessions", {"purpose": "demo", "tenant": tenant})
        assert (status, body) == (400, {"error": "unknown_tenant"}), tenant
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})  # none named: the default tenant
    assert status == 201 and body["phone_number"] == stack.tenant_config[A].phone_number


def test_the_public_tenant_list_shows_names_and_purposes_only(stack: DevStack) -> None:
    status, body = stack.api("GET", "/tenants")
    assert status == 200
    assert [t["id"] for t in body] == [A, B]
    for entry in body:
        assert set(entry) == {"id", "display_name", "purposes"}
        assert "demo" in [p["id"] for p in entry["purposes"]]
        assert all(set(p) == {"id", "label"} for p in entry["purposes"])


# -- a disabled tenant key ---------------------------------------------------------------------------
def test_a_disabled_key_of_b_fails_b_closed_and_a_keeps_working(stack: DevStack) -> None:
    linked = linked_call(stack, B)
    digits = digits_for(stack, B)  # disclosed before the key goes
    stack.session.client("kms").disable_key(KeyId=stack.tenant_keys[B])

    # B's records cannot be opened: the agent gets the defined 503 `unavailable`, never data
    assert read(stack, B, linked.attributes["session_secret"], linked.contact_id) == (503, {"error": "unavailable"})
    assert stack.api("POST", "/sessions", {"purpose": "demo"}, tenant=B) == (503, {"error": "unavailable"})
    # the phone side never needs the key: B's caller still reaches an agent
    call = stack.call(digits, tenant=B)
    assert call.queued

    a_call = linked_call(stack, A)
    status, body = read(stack, A, a_call.attributes["session_secret"], a_call.contact_id)
    assert status == 200 and {a["value"] for a in body["attributes"]} == set(WALLET.values())


# -- processing log and metrics ---------------------------------------------------------------------
def full_call(stack: DevStack, tenant: str) -> None:
    call = linked_call(stack, tenant)
    assert read(stack, tenant, call.attributes["session_secret"], call.contact_id)[0] == 200
    stack.contact_event(call.contact_id, "COMPLETED")


def group_records(stack: DevStack, group: str) -> list[dict[str, Any]]:
    import json

    logs = stack.session.client("logs")
    events = logs.filter_log_events(logGroupName=group).get("events", [])
    return [json.loads(e["message"]) for e in events]


def test_each_tenant_processing_records_are_only_in_its_own_group() -> None:
    # as deployed: the shared stack's group (the hosting municipality, the default tenant's) is set
    with DevStack(settings={"IDBELLEN_PROCESSING_LOG_GROUP": SHARED_PROCESSING_LOG_GROUP}) as stack:
        stack.session.client("logs").create_log_group(logGroupName=SHARED_PROCESSING_LOG_GROUP)
        assert stack.tenants == [A, B]
        groups = stack.processing_log_groups
        assert groups[A] == SHARED_PROCESSING_LOG_GROUP and groups[B] == stack.tenant_config[B].processing_log_group
        full_call(stack, A)
        full_call(stack, B)
        full_call(stack, B)
        steps = ["session_started", "disclosed", "call_linked", "shown_to_agent", "deleted"]
        for tenant, calls in ((A, 1), (B, 2)):
            records = group_records(stack, groups[tenant])
            assert {r["tenant"] for r in records} == {tenant}
            assert sorted(r["step"] for r in records) == sorted(steps * calls)
            assert {r["executor"] for r in records} == {stack.tenant_config[tenant].oin}


def test_metrics_carry_the_tenant_of_the_call(stack: DevStack, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    full_call(stack, A)
    full_call(stack, B)
    full_call(stack, B)
    stack.call("1" * 8, tenant=B)  # one unverified call at B
    metrics = emf_metrics(capsys.readouterr().out)

    def total(name: str, tenant: str) -> float:
        return sum(
            m.value for m in metrics if m.name == name and m.dimensions == {"tenant": tenant, "service": "idbellen"}
        )

    assert (total("SessionsStarted", A), total("SessionsStarted", B)) == (1, 2)
    assert (total("CallsVerified", A), total("CallsVerified", B)) == (1, 2)
    assert (total("AgentReads", A), total("AgentReads", B)) == (1, 2)
    assert (total("SessionsDeleted", A), total("SessionsDeleted", B)) == (1, 2)
    assert (total("CallsUnverified", A), total("CallsUnverified", B)) == (0, 1)


# -- the single-tenant deployment stays as it was -----------------------------------------------------
def test_a_single_tenant_stack_serves_its_one_tenant_from_the_environment() -> None:
    import os

    with DevStack(tenants=1) as stack:
        assert stack.tenants == [A] and "IDBELLEN_TENANTS_PARAMETER_PATH" not in os.environ
        assert stack.api("GET", "/tenants") == (
            200,
            [
                {
                    "id": A,
                    "display_name": A,
                    "purposes": [
                        {"id": "demo", "label": stack.purposes["demo"]["label"]},
                        {"id": "belastingen", "label": stack.purposes["belastingen"]["label"]},
                    ],
                }
            ],
        )
        assert stack.api("POST", "/sessions", {"purpose": "demo", "tenant": B}) == (400, {"error": "unknown_tenant"})
        call = linked_call(stack, A)
        assert read(stack, A, call.attributes["session_secret"], call.contact_id)[0] == 200
        assert stack.contact_event(call.contact_id, "COMPLETED")["deleted"] != "0"
        assert stack.table_items() == []
