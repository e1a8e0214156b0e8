"""Fold the contact flows of ``contact_flows/`` into ``iac/template.yaml``.

The flow JSON keeps its ``${Placeholders}``; CloudFormation fills them: each flow becomes an
``AWS::Connect::ContactFlow`` (or ``ContactFlowModule``) whose ``Content`` is an ``Fn::Sub`` of the
flow rendered by ``contact_flows.render`` (purpose queues expanded, here: none - every ID call goes
to ``ConnectQueueArn``), with the placeholders mapped to the real ARNs of the function aliases,
queue, hours and sibling flows. So ``sam deploy`` needs no pre-rendering step, and the template
stays the one artifact ops deploy.

    python -m iac.flows            # rewrite the generated block of iac/template.yaml
    python -m iac.flows --check    # exit 1 when the template is out of date (make test runs this)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from contact_flows import FLOWS
from contact_flows.render import placeholders, render, to_content

TEMPLATE = Path(__file__).resolve().parent / "template.yaml"
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

DESCRIPTIONS = {
    "disconnect": "Deletes the records of an ID call whose caller hung up before reaching an agent",
    "customer_whisper": "Plays to the caller when an agent accepts an ID call",
    "inbound": "Identity-verified call: DTMF code to contact-bound secret, then the queue",
    "module": "Reusable module: verify a DTMF code inside the municipality's own flows",
}


class FlowsError(RuntimeError):
    pass


def rendered_flows() -> dict[str, tuple[str, set[str]]]:
    """flow key -> (Content with ${Placeholders} for Fn::Sub, the placeholder names used)."""
    out: dict[str, tuple[str, set[str]]] = {}
    for key, spec in FLOWS.items():
        raw = json.loads(spec.path.read_text(encoding="utf-8"))
        names = placeholders(raw)
        unknown = names - set(VALUES)
        if unknown:
            raise FlowsError(f"{spec.file}: no CloudFormation value for placeholder(s) {sorted(unknown)}")
        flow = render(raw, {n: SENTINEL.format(n) for n in names})
        content = to_content(flow)
        if "${" in content:
            raise FlowsError(f"{spec.file}: a literal '${{' would be taken for an Fn::Sub variable")
        content = SENTINEL_RE.sub(lambda m: "${" + m.group(1) + "}", content)
        out[key] = (content, names)
    return out


def generated_block() -> str:
    flows = rendered_flows()
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
        depends = sorted({d for n in names for d in DEPENDS_ON.get(n, ())})
        if depends:
            lines.append(f"    DependsOn: [{', '.join(depends)}]\n")
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
            lines.append("        - " + "\n          ".join(f"{n}: {VALUES[n]}" for n in sorted(names)) + "\n")
        else:
            lines.append(f"      Content: {json.dumps(content, ensure_ascii=False)}\n")
    lines.append(END)
    return "".join(lines)


def splice(template: str, block: str) -> str:
    if BEGIN not in template or END not in template:
        raise FlowsError("iac/template.yaml has no generated contact-flow block markers")
    head, rest = template.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + block + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iac.flows")
    parser.add_argument("--check", action="store_true", help="fail when the template is out of date")
    args = parser.parse_args(argv)
    current = TEMPLATE.read_text(encoding="utf-8")
    updated = splice(current, generated_block())
    if args.check:
        if updated != current:
            sys.stderr.write("iac/template.yaml: contact flows out of date; run `make iac-flows`\n")
            return 1
        return 0
    if updated != current:
        TEMPLATE.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
