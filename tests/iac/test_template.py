"""The DPIA promises and the DESIGN.md contracts, read off iac/template.yaml."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.iac.conftest import ROOT, load_iac_module
from tests.iac.eventpattern import matches

HANDLERS = {
    "SessionFunction": "idbellen.handlers.session.handler",
    "DtmfFunction": "idbellen.handlers.dtmf.handler",
    "AgentFunction": "idbellen.handlers.agent.handler",
    "CleanupFunction": "idbellen.handlers.cleanup.handler",
}
INSTANCE = "arn:aws:connect:eu-central-1:123456789012:instance/11111111-2222-4333-8444-555555555555"


def of_type(resources: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == resource_type}


# ------------------------------------------------------------------------------------------- data
def test_one_table_on_demand_keyed_on_pk(resources):
    tables = of_type(resources, "AWS::DynamoDB::Table")
    assert list(tables) == ["Table"]
    props = tables["Table"]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["DeletionProtectionEnabled"] is True


def test_table_ttl_sse_kms_no_pitr_no_streams_no_indexes(resources):
    props = resources["Table"]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]},
    }
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    for forbidden in (
        "StreamSpecification",
        "KinesisStreamSpecification",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "ImportSourceSpecification",
        "Replicas",
        "ContributorInsightsSpecification",
    ):
        assert forbidden not in props


def test_no_copies_of_the_data(resources):
    types = {v["Type"] for v in resources.values()}
    for forbidden in (
        "AWS::Backup::BackupPlan",
        "AWS::Backup::BackupSelection",
        "AWS::DynamoDB::GlobalTable",
        "AWS::Pipes::Pipe",
        "AWS::KinesisFirehose::DeliveryStream",
        "AWS::Kinesis::Stream",
    ):
        assert forbidden not in types


def test_key_rotates_and_ttl_parameter_capped(template, resources):
    key = resources["DataKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    assert template["Parameters"]["RecordTtlSeconds"]["MaxValue"] == 3600
    assert template["Parameters"]["CallWindowSeconds"]["MaxValue"] <= 3600


# -------------------------------------------------------------------------------------- functions
@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_functions_match_design(resources, function):
    props = resources[function]["Properties"]
    assert props["Handler"] == HANDLERS[function]
    assert props["CodeUri"] == "../lambdas/"
    assert props["AutoPublishAlias"] == "live"
    module = ROOT / "lambdas" / (props["Handler"].rsplit(".", 1)[0].replace(".", "/") + ".py")
    assert re.search(r"^def handler\(", module.read_text(encoding="utf-8"), re.M), module


def test_runtime_architecture_and_hardened_logging(template, resources):
    glob = template["Globals"]["Function"]
    assert glob["Runtime"] == "python3.12"
    assert glob["Architectures"] == ["arm64"]
    env = glob["Environment"]["Variables"]
    assert env["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"
    assert env["POWERTOOLS_DEV"] == "false"
    assert env["POWERTOOLS_DEBUG"] == "false"
    for function in HANDLERS:
        props = resources[function]["Properties"]
        assert "Runtime" not in props and "Architectures" not in props
        assert props["LoggingConfig"]["ApplicationLogLevel"] in ("INFO", "WARN", "ERROR")
        assert "Layers" not in props  # Powertools is bundled from the hash-pinned lock


def test_dtmf_fits_128_mb_and_connect_timeout(resources):
    props = resources["DtmfFunction"]["Properties"]
    assert props["MemorySize"] == 128
    assert props["Timeout"] <= 8


def test_every_function_logs_to_its_own_group_with_retention(resources):
    groups = of_type(resources, "AWS::Logs::LogGroup")
    for function in HANDLERS:
        ref = resources[function]["Properties"]["LoggingConfig"]["LogGroup"]
        assert ref == {"Ref": function + "LogGroup"}
    for name, group in groups.items():
        assert "RetentionInDays" in group["Properties"], name
    assert groups["ProcessingLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "ProcessingLogRetentionDays"}


def test_processing_log_outlives_operational_logs(template):
    params = template["Parameters"]
    assert params["ProcessingLogRetentionDays"]["Default"] > params["LogRetentionDays"]["Default"]


def test_environment_variables_are_ones_the_code_reads(resources, template):
    config = (ROOT / "lambdas" / "idbellen" / "config.py").read_text(encoding="utf-8")
    known = {"IDBELLEN_" + n for n in re.findall(r'_(?:env|int|switch)\("([A-Z_]+)"', config)}
    names = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for function in HANDLERS:
        names |= set(resources[function]["Properties"].get("Environment", {}).get("Variables", {}))
    ours = {n for n in names if n.startswith("IDBELLEN_")} - TENANCY_ENV
    assert ours <= known, sorted(ours - known)
    assert {"IDBELLEN_TABLE", "IDBELLEN_HASH_KEY_PARAM", "IDBELLEN_KMS_KEY_ID"} <= ours


# The registry's two settings, pinned between the IaC and the core of issue 14 (read by the registry
# module, lambdas/idbellen/tenants.py, rather than by config.py).
TENANCY_ENV = {"IDBELLEN_TENANTS_PARAMETER_PATH", "IDBELLEN_TENANTS_MAX_AGE"}


def test_tenancy_environment_is_read_by_the_code(template):
    names = set(template["Globals"]["Function"]["Environment"]["Variables"])
    assert names >= TENANCY_ENV
    package = ROOT / "lambdas" / "idbellen"
    if not (package / "tenants.py").exists():
        pytest.skip("the tenant registry (lambdas/idbellen/tenants.py, issue 14 core) is not merged yet")
    code = "\n".join(p.read_text(encoding="utf-8") for p in package.rglob("*.py"))
    for name in TENANCY_ENV:
        assert name in code or f'"{name.removeprefix("IDBELLEN_")}"' in code, name


def test_kms_key_only_given_to_session_and_agent(resources):
    for function in HANDLERS:
        env = resources[function]["Properties"].get("Environment", {}).get("Variables", {})
        assert ("IDBELLEN_KMS_KEY_ID" in env) == (function in ("SessionFunction", "AgentFunction"))


def test_runtime_lock_is_hash_pinned_without_boto3():
    lock = (ROOT / "lambdas" / "requirements.txt").read_text(encoding="utf-8")
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==", lock, re.M)
    assert "aws-lambda-powertools" in pins
    assert not {"boto3", "botocore"} & {p.lower() for p in pins}
    for block in re.split(r"\n(?=[A-Za-z])", lock.split("\n", 2)[-1]):
        if "==" in block:
            assert "--hash=sha256:" in block, block.splitlines()[0]


# ------------------------------------------------------------------------------------------ API
def test_routes_and_authorization(resources):
    routes = {
        v["Properties"]["RouteKey"]: v["Properties"] for v in of_type(resources, "AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {
        "POST /sessions",
        "GET /sessions/{session_id}",
        "POST /sessions/{session_id}/complete",
        "POST /irma/callback/{callback_id+}",  # greedy: irmago appends a slash to the callbackUrl
        "POST /agent/disclosure",
        "POST /agent/clear",
    }
    for key, route in routes.items():
        if key.startswith("POST /agent/"):
            assert route["AuthorizationType"] == "JWT"
            assert route["AuthorizerId"] == {"Ref": "AgentJwtAuthorizer"}
            assert route["Target"] == {"Fn::Sub": "integrations/${AgentIntegration}"}
        else:
            assert route["AuthorizationType"] == "NONE"
            assert route["Target"] == {"Fn::Sub": "integrations/${SessionIntegration}"}
        # no secrets in paths: the status-only session handle, and the IRMA callback's own random id
        # (no secret either: irmago logs it, and it grants nothing without the signed result)
        assert set(re.findall(r"\{([^}]+)\}", key)) <= {"session_id", "callback_id+"}


def test_integrations_use_aliases_and_payload_v2(resources):
    for name in ("SessionIntegration", "AgentIntegration"):
        props = resources[name]["Properties"]
        assert props["PayloadFormatVersion"] == "2.0"
        assert props["IntegrationUri"]["Ref"].endswith("FunctionAliaslive")


def test_jwt_authorizer_always_configured(template, resources):
    auth = resources["AgentJwtAuthorizer"]["Properties"]
    assert auth["AuthorizerType"] == "JWT"
    assert auth["IdentitySource"] == ["$request.header.Authorization"]
    rule = template["Rules"]["AgentRoutesAlwaysAuthenticated"]
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AgentJwtIssuer"}, ""]}]}
    env = resources["AgentFunction"]["Properties"]["Environment"]["Variables"]
    assert env["IDBELLEN_AGENT_AUTH"] == "jwt"


def test_cors_and_throttling(resources):
    api = resources["HttpApi"]["Properties"]
    assert api["CorsConfiguration"]["AllowOrigins"] == {"Ref": "AllowedOrigins"}
    assert api["CorsConfiguration"]["AllowCredentials"] is False
    stage = resources["HttpApiStage"]["Properties"]
    assert stage["RouteSettings"]["POST /sessions"]["ThrottlingRateLimit"] == {"Ref": "SessionsRateLimit"}
    assert stage["RouteSettings"]["POST /sessions"]["ThrottlingBurstLimit"] == {"Ref": "SessionsBurstLimit"}
    assert "ThrottlingRateLimit" in stage["DefaultRouteSettings"]


def test_access_log_has_no_bodies_paths_or_addresses(resources):
    fmt = json.loads(resources["HttpApiStage"]["Properties"]["AccessLogSettings"]["Format"])
    used = " ".join(fmt.values())
    for forbidden in (
        "$context.path",
        "$context.identity.sourceIp",
        "$context.identity.userAgent",
        "$input",
        "$request",
        "$context.integrationErrorMessage",
        "$context.error.message",
    ):
        assert forbidden not in used
    assert "$context.routeKey" in used


def test_api_invoke_permissions_are_scoped(resources):
    perms = [
        v["Properties"]
        for v in of_type(resources, "AWS::Lambda::Permission").values()
        if v["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    assert len(perms) == 3
    for perm in perms:
        assert "${HttpApi}/" in perm["SourceArn"]["Fn::Sub"]


# -------------------------------------------------------------------------------------- Connect
def test_connect_may_invoke_dtmf_and_cleanup_aliases_only(resources):
    perms = {
        v["Properties"]["FunctionName"]["Ref"]: v["Properties"]
        for v in of_type(resources, "AWS::Lambda::Permission").values()
        if v["Properties"]["Principal"] == "connect.amazonaws.com"
    }
    assert set(perms) == {"DtmfFunctionAliaslive", "CleanupFunctionAliaslive"}
    for perm in perms.values():
        assert perm["SourceArn"] == {"Ref": "ConnectInstanceArn"}
        assert perm["SourceAccount"] == {"Ref": "AWS::AccountId"}
        assert perm["Action"] == "lambda:InvokeFunction"
    assocs = {
        v["Properties"]["IntegrationArn"]["Ref"]: v["Properties"]
        for v in of_type(resources, "AWS::Connect::IntegrationAssociation").values()
    }
    assert set(assocs) == {"DtmfFunctionAliaslive", "CleanupFunctionAliaslive"}
    for assoc in assocs.values():
        assert assoc["InstanceId"] == {"Ref": "ConnectInstanceArn"}
        assert assoc["IntegrationType"] == "LAMBDA_FUNCTION"


def test_contact_flows_are_deployed_from_contact_flows_dir(resources):
    from contact_flows import FLOWS

    flows = {**of_type(resources, "AWS::Connect::ContactFlow"), **of_type(resources, "AWS::Connect::ContactFlowModule")}
    assert len(flows) == len(FLOWS)
    inbound = resources["IdInboundFlow"]["Properties"]
    content, variables = inbound["Content"]["Fn::Sub"]
    assert variables["DtmfFunctionArn"] == {"Ref": "DtmfFunctionAliaslive"}
    assert variables["DisconnectFlowArn"] == {"Fn::GetAtt": ["IdDisconnectFlow", "ContactFlowArn"]}
    flow = json.loads(content)
    assert flow["Version"] == "2019-10-30"
    assert len(content) <= 256_000


def test_flows_in_template_are_up_to_date():
    flows = load_iac_module("flows")
    current = flows.TEMPLATE.read_text(encoding="utf-8")
    assert flows.splice(current, flows.generated_block()) == current, "run `make iac-flows`"


# -------------------------------------------------------------------------------- deletion events
def _rule_pattern(resources: dict[str, Any]) -> dict[str, Any]:
    pattern = json.loads(json.dumps(resources["ContactEventsRule"]["Properties"]["EventPattern"]))
    assert pattern["detail"]["instanceArn"] == [{"Ref": "ConnectInstanceArn"}]
    pattern["detail"]["instanceArn"] = [INSTANCE]
    return pattern


def _event(event_type: str, method: str = "INBOUND", instance: str = INSTANCE, **extra: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6f2c2d3e-0000-4000-8000-000000000000",
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "account": "123456789012",
        "time": "2026-11-28T12:00:00Z",
        "region": "eu-central-1",
        "resources": [instance, f"{instance}/contact/aaaaaaaa-0000-4000-8000-000000000001"],
        "detail": {
            "initiationTimestamp": "2026-11-28T11:55:00.000Z",
            "contactId": "aaaaaaaa-0000-4000-8000-000000000001",
            "channel": "VOICE",
            "instanceArn": instance,
            "initiationMethod": method,
            "eventType": event_type,
            **extra,
        },
    }


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_event("COMPLETED"), True),
        (_event("COMPLETED", method="TRANSFER", agentInfo={"agentArn": "arn:x"}), True),
        (_event("INITIATED", method="TRANSFER"), True),
        (_event("INITIATED", method="QUEUE_TRANSFER"), True),
        (_event("INITIATED"), False),
        (_event("INITIATED", method="OUTBOUND"), False),
        (_event("DISCONNECTED"), False),
        (_event("CONNECTED_TO_AGENT"), False),
        (_event("QUEUED", method="TRANSFER"), False),
        (_event("COMPLETED", instance=INSTANCE.replace("1111", "9999")), False),
        ({**_event("COMPLETED"), "source": "aws.other"}, False),
        ({**_event("COMPLETED"), "detail-type": "Amazon Connect Agent Event"}, False),
    ],
)
def test_contact_event_rule_pattern(resources, event, expected):
    assert matches(_rule_pattern(resources), event) is expected


def test_rules_have_retries_and_an_encrypted_dlq(template, resources):
    queue = resources["EventsDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True or "KmsMasterKeyId" in queue
    assert queue["MessageRetentionPeriod"] <= 3600
    for rule in ("ContactEventsRule", "ExpirySweepRule"):
        (target,) = resources[rule]["Properties"]["Targets"]
        assert target["Arn"] == {"Ref": "CleanupFunctionAliaslive"}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    sweep = resources["ExpirySweepRule"]["Properties"]
    assert json.loads(sweep["Targets"][0]["Input"]) == {"idbellen_action": "sweep"}
    assert sweep["ScheduleExpression"] == {"Ref": "SweepSchedule"}
    assert "rate(5 minutes)" in template["Parameters"]["SweepSchedule"]["AllowedValues"]
    perms = {
        v["Properties"]["SourceArn"]["Fn::GetAtt"][0]
        for v in of_type(resources, "AWS::Lambda::Permission").values()
        if v["Properties"]["Principal"] == "events.amazonaws.com"
    }
    assert perms == {"ContactEventsRule", "ExpirySweepRule"}


# --------------------------------------------------------------------------- alarms and dashboard
def test_alarms_cover_the_brief(resources):
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    metrics = set()
    for alarm in alarms.values():
        props = alarm["Properties"]
        if "MetricName" in props:
            metrics.add((props["Namespace"], props["MetricName"]))
        for m in props.get("Metrics", []):
            if "MetricStat" in m:
                metrics.add((m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"]))
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Lambda", "Duration"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("idbellen", "CallsUnverified"),
        ("idbellen", "CallsVerified"),
        ("idbellen", "IrmaErrors"),
    } <= metrics
    for function in HANDLERS:
        assert f"{function}ErrorsAlarm" in alarms and f"{function}ThrottlesAlarm" in alarms


def test_metric_names_exist_in_the_code():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "lambdas" / "idbellen").rglob("*.py"))
    for name in ("SessionsStarted", "DisclosureAccepted", "DisclosureRejected", "CallsUnverified", "RecordsDeleted"):
        assert f'"{name}"' in source, name


def test_dashboard_shows_only_idbellen_and_service_metrics(resources):
    body, _ = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    namespaces = set(re.findall(r'\["(idbellen|AWS/[A-Za-z]+)"', body))
    assert namespaces <= {"idbellen", "AWS/Lambda", "AWS/SQS"}


def test_samconfig_has_test_and_production_in_an_eu_region():
    import tomllib

    config = tomllib.loads(Path(ROOT / "iac" / "samconfig.toml").read_text(encoding="utf-8"))
    for env in ("test", "production"):
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["region"].startswith("eu-")
        overrides = dict(o.split("=", 1) for o in deploy["parameter_overrides"])  # parsed for real in test_tools
        assert overrides["Stage"] == env
        assert int(overrides["RecordTtlSeconds"]) <= 3600
        assert "irma-requestor-token" in overrides["IrmaTokenParameterName"]
    assert config["default"]["global"]["parameters"]["region"] == "eu-central-1"


def test_processing_log_reaches_its_own_group_and_no_operational_one(resources, template):
    """Every function writes processing records straight into the processing log group (its name in
    the environment, PutLogEvents on it); nothing subscribes to or copies from the operational groups."""
    assert not of_type(resources, "AWS::Logs::SubscriptionFilter")
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["IDBELLEN_PROCESSING_LOG_GROUP"] == {"Ref": "ProcessingLogGroup"}
    for function in HANDLERS:
        own = resources[function]["Properties"].get("Environment", {}).get("Variables", {})
        assert "IDBELLEN_PROCESSING_LOG_GROUP" not in own, function
    group = resources["ProcessingLogGroup"]
    assert group["DeletionPolicy"] == "Retain"
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["ProcessingLogKey", "Arn"]}
    assert group["Properties"]["LogGroupName"] == {"Fn::Sub": "/idbellen/${AWS::StackName}/processing-log"}
    audit = (ROOT / "lambdas" / "idbellen" / "audit.py").read_text(encoding="utf-8")
    assert "processing_log.sink.write(" in audit


def test_irma_reachability_alarm_counts_logged_irma_errors(resources):
    metric_filter = resources["IrmaErrorsMetricFilter"]["Properties"]
    assert metric_filter["LogGroupName"] == {"Ref": "SessionFunctionLogGroup"}
    assert '"IrmaError"' in metric_filter["FilterPattern"]
    errors = (ROOT / "lambdas" / "idbellen" / "errors.py").read_text(encoding="utf-8")
    assert "class IrmaError(" in errors and '"irma_unavailable"' in errors


def test_optional_trail_audits_table_items(resources):
    trail = resources["AuditTrail"]
    assert trail["Condition"] == "DataEventsTrail"
    selectors = trail["Properties"]["AdvancedEventSelectors"]
    fields = {f["Field"]: f["Equals"] for f in selectors[0]["FieldSelectors"]}
    assert fields == {
        "eventCategory": ["Data"],
        "resources.type": ["AWS::DynamoDB::Table"],
        "resources.ARN": [{"Fn::GetAtt": ["Table", "Arn"]}],
    }
    assert trail["Properties"]["EnableLogFileValidation"] is True


@pytest.fixture(scope="module")
def cleanup_stack() -> Any:
    from devstack import DevStack

    with DevStack() as stack:
        yield stack


@pytest.mark.parametrize(
    ("event_type", "method"),
    [
        ("COMPLETED", "INBOUND"),
        ("INITIATED", "TRANSFER"),
        ("INITIATED", "QUEUE_TRANSFER"),
        ("INITIATED", "INBOUND"),
        ("DISCONNECTED", "INBOUND"),
        ("CONNECTED_TO_AGENT", "INBOUND"),
    ],
)
def test_rule_and_cleanup_handler_agree(resources, template, cleanup_stack, event_type, method):
    """What the rule delivers, the cleanup function acts on; what it filters out, the function ignores. The
    function is run for real on the dev stack against a live linked call: it acted when the table changed."""
    from devstack.stack import INSTANCE_ARN
    from tests.privacy import canary

    stack = cleanup_stack
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201
    code = stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS).split(",", 1)[1]
    call = stack.call(code)
    assert call.attributes["verified"] == "true"
    # a transfer's event names a new segment of this call; the others name the call's own contact
    contact_id = f"{call.contact_id[:-4]}beef" if event_type == "INITIATED" else call.contact_id
    event = _event(event_type, method=method, instance=INSTANCE_ARN)
    event["detail"].update(contactId=contact_id, initialContactId=call.initial_contact_id)
    event["resources"] = [INSTANCE_ARN, f"{INSTANCE_ARN}/contact/{contact_id}"]
    before = stack.table_items()
    answer = stack.invoke("cleanup", event)
    after = stack.table_items()
    assert answer["result"] == "OK"
    acted = before != after
    # the rule as deployed with this file's instance parameter: the same event, for that instance
    delivered = _event(event_type, method=method)
    delivered["detail"].update(contactId=contact_id, initialContactId=call.initial_contact_id)
    assert matches(_rule_pattern(resources), delivered) is acted, (answer, acted)
    if event_type == "COMPLETED":
        assert int(answer["deleted"]) >= 4 and not [i for i in after if i.get("kind") != "rate"]
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["IDBELLEN_CONNECT_INSTANCE_ARN"] == {"Ref": "ConnectInstanceArn"}
    stack.contact_event(call.contact_id, "COMPLETED")  # the next case starts from an empty table
