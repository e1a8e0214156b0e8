"""Fold the contact flows of ``contact_flows/`` into ``iac/template.yaml`` and ``iac/tenant.yaml``.

The flow JSON keeps its ``${Placeholders}``; CloudFormation fills them: each flow becomes an
``AWS::Connect::ContactFlow`` (or ``ContactFlowModule``) whose ``Content`` is an ``Fn::Sub`` of the
flow rendered by ``contact_flows.render`` (purpose queues expanded, here: none - every ID call goes
to ``ConnectQueueArn``), with the placeholders mapped to the real ARNs of the function aliases,
queue, hours and sibling flows. So ``sam deploy`` needs no pre-rendering step, and the template
stays the one artifact ops deploy.

The same flows go into every tenant's own Connect instance through ``iac/tenant.yaml`` (one stack per
tenant next to the shared stack): there the placeholders name the shared stack's exported function
aliases and code length, and the tenant's own queue and hours. One source, two targets (``TARGETS``).

    python -m iac.flows            # rewrite the generated blocks of both templates
    python -m iac.flows --check    # exit 1 when a template is out of date (make test runs this)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from contact_flows import FLOWS
from contact_flows.render import placeholders, render, to_content

TEMPLATE = Path(__file__).resolve().parent / "template.yaml"
TENANT_TEMPLATE = Path(__file__).resolve().parent / "tenant.yaml"
BEGIN = "  # BEGIN GENERATED CONTACT FLOWS (python -m iac.flows; do not edit by hand)\n"
END = "  # END GENERATED CONTACT FLOWS\n"
SENTINEL = "@@cfn:{}@@"
SENTINEL_RE = re.compile(r"@@cfn:([A-Za-z][A-Za-z0-9_]*)@@")

# flow key -> (logical id, display name)
RESOURCES: dict[str, tuple[str, str]] = {
    "disconnect": ("IdDisconnectFlow", "ID call - disconnect"),
    "customer_whisper": ("IdCustomerWhisperFlow", "ID call - customer whisper"),
    "inbound": ("IdInboundFlow", "ID call - inbound"),
    "module": ("IdVerifyModule", "ID call - verify module"),
}

# placeholder -> CloudFormation value (YAML flow syntax)
VALUES: dict[str, str] = {
    "DtmfFunctionArn": "!Ref DtmfFunctionAliaslive",
    "CleanupFunctionArn": "!Ref CleanupFunctionAliaslive",
    "QueueArn": "!Ref ConnectQueueArn",
    "HoursOfOperationArn": "!Ref ConnectHoursOfOperationArn",
    "DisconnectFlowArn": "!GetAtt IdDisconnectFlow.ContactFlowArn",
    "CustomerWhisperFlowArn": "!GetAtt IdCustomerWhisperFlow.ContactFlowArn",
    "DtmfLength": "!Ref DtmfCodeLength",
}

# placeholder -> the resources a flow using it must wait for. Connect refuses (or a first call fails on)
# a flow that invokes a function it may not call yet: the Lambda permission for connect.amazonaws.com and
# the instance's integration association must exist before the flow that names the function.
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "DtmfFunctionArn": ("DtmfFunctionConnectPermission", "DtmfFunctionIntegration"),
    "CleanupFunctionArn": ("CleanupFunctionConnectPermission", "CleanupFunctionIntegration"),
}

# The tenant stack (iac/tenant.yaml): the shared stack's functions and code length by import, so a
# tenant's flows can never name another deployment's functions or expect another code length.
TENANT_VALUES: dict[str, str] = {
    **VALUES,
    "DtmfFunctionArn": '{"Fn::ImportValue": {"Fn::Sub": "${SharedStackName}-DtmfFunctionAliasArn"}}',
    "CleanupFunctionArn": '{"Fn::ImportValue": {"Fn::Sub": "${SharedStackName}-CleanupFunctionAliasArn"}}',
    "DtmfLength": '{"Fn::ImportValue": {"Fn::Sub": "${SharedStackName}-DtmfCodeLength"}}',
}

DESCRIPTIONS = {
    "disconnect": "Deletes the records of an ID call whose caller hung up before reaching an agent",
    "customer_whisper": "Plays to the caller when an agent accepts an ID call",
    "inbound": "Identity-verified call: DTMF code to contact-bound secret, then the queue",
    "module": "Reusable module: verify a DTMF code inside the municipality's own flows",
}


class FlowsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Target:
    """One template the flows are folded into.

    ``waits_for_condition``: the permission and association resources are conditional in this template
    (a tenant on an instance whose functions are already associated creates neither). DependsOn cannot
    name a resource that may not exist, so such a flow names them in its ``Metadata`` through
    ``Fn::If`` instead: a reference there is a dependency CloudFormation honours when the resource exists.
    """

    path: Path
    values: dict[str, str]
    waits_for_condition: str | None = None
    depends_on: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEPENDS_ON))


SHARED = Target(TEMPLATE, VALUES)
TENANT = Target(TENANT_TEMPLATE, TENANT_VALUES, waits_for_condition="OwnInstance")
TARGETS = (SHARED, TENANT)


def rendered_flows(values: dict[str, str] | None = None) -> dict[str, tuple[str, set[str]]]:
    """flow key -> (Content with ${Placeholders} for Fn::Sub, the placeholder names used)."""
    known = VALUES if values is None else values
    out: dict[str, tuple[str, set[str]]] = {}
    for key, spec in FLOWS.items():
        raw = json.loads(spec.path.read_text(encoding="utf-8"))
        names = placeholders(raw)
        unknown = names - set(known)
        if unknown:
            raise FlowsError(f"{spec.file}: no CloudFormation value for placeholder(s) {sorted(unknown)}")
        flow = render(raw, {n: SENTINEL.format(n) for n in names})
        content = to_content(flow)
        if "${" in content:
            raise FlowsError(f"{spec.file}: a literal '${{' would be taken for an Fn::Sub variable")
        content = SENTINEL_RE.sub(lambda m: "${" + m.group(1) + "}", content)
        out[key] = (content, names)
    return out


def generated_block(target: Target = SHARED) -> str:
    flows = rendered_flows(target.values)
    missing = set(FLOWS) - set(RESOURCES)
    if missing:
        raise FlowsError(f"flows without a CloudFormation resource: {sorted(missing)}")
    lines = [BEGIN]
    order = ["disconnect", "customer_whisper", "inbound", "module"]
    for key in order + sorted(set(flows) - set(order)):
        if key not in flows:
            continue
        logical, name = RESOURCES[key]
        spec = FLOWS[key]
        content, names = flows[key]
        module = spec.connect_type == "MODULE"
        lines.append(f"  {logical}:\n")
        lines.append(f"    Type: AWS::Connect::{'ContactFlowModule' if module else 'ContactFlow'}\n")
        depends = sorted({d for n in names for d in target.depends_on.get(n, ())})
        if depends and target.waits_for_condition is None:
            lines.append(f"    DependsOn: [{', '.join(depends)}]\n")
        elif depends:
            refs = ", ".join(f"!Ref {d}" for d in depends)
            lines.append("    Metadata:\n")
            lines.append(f"      WaitsFor: !If [{target.waits_for_condition}, [{refs}], []]\n")
        lines.append("    Properties:\n")
        lines.append("      InstanceArn: !Ref ConnectInstanceArn\n")
        lines.append(f'      Name: !Sub "${{AWS::StackName}} {name}"\n')
        lines.append(f"      Description: {json.dumps(DESCRIPTIONS.get(key, name))}\n")
        if not module:
            lines.append(f"      Type: {spec.connect_type}\n")
        lines.append("      State: ACTIVE\n")
        lines.append(f"      # source: contact_flows/{spec.file}\n")
        if names:
            lines.append("      Content: !Sub\n")
            lines.append(f"        - {json.dumps(content, ensure_ascii=False)}\n")
            lines.append("        - " + "\n          ".join(f"{n}: {target.values[n]}" for n in sorted(names)) + "\n")
        else:
            lines.append(f"      Content: {json.dumps(content, ensure_ascii=False)}\n")
    lines.append(END)
    return "".join(lines)


def splice(template: str, block: str) -> str:
    if BEGIN not in template or END not in template:
        raise FlowsError("the template has no generated contact-flow block markers")
    head, rest = template.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + block + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iac.flows")
    parser.add_argument("--check", action="store_true", help="fail when the template is out of date")
    args = parser.parse_args(argv)
    stale = 0
    for target in TARGETS:
        current = target.path.read_text(encoding="utf-8")
        updated = splice(current, generated_block(target))
        if updated == current:
            continue
        if args.check:
            sys.stderr.write(f"iac/{target.path.name}: contact flows out of date; run `make iac-flows`\n")
            stale += 1
        else:
            target.path.write_text(updated, encoding="utf-8")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
