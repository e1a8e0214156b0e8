"""Rendering: placeholders filled from deployment values, and refused when one is left unfilled."""

from __future__ import annotations

import json

import pytest

from contact_flows import FLOWS
from contact_flows.render import (
    PLACEHOLDER,
    RenderError,
    main,
    placeholders,
    render,
    render_all,
    to_content,
)
from tests.flows.helpers import SAMPLE_VALUES_FILE, action, sample_values, template


def test_every_template_uses_placeholders_for_deployment_values() -> None:
    used = set().union(*(placeholders(template(key)) for key in FLOWS))
    assert used == {
        "DtmfFunctionArn",
        "CleanupFunctionArn",
        "QueueArn",
        "HoursOfOperationArn",
        "DisconnectFlowArn",
        "CustomerWhisperFlowArn",
        "DtmfLength",
    }


def test_render_fills_every_placeholder() -> None:
    flows = render_all(sample_values())
    assert set(flows) == set(FLOWS)
    for flow in flows.values():
        assert not PLACEHOLDER.search(json.dumps(flow))
    invoke = action(flows["inbound"], "RedeemCallCode")
    assert invoke["Parameters"]["LambdaFunctionARN"] == sample_values()["DtmfFunctionArn"]
    store = action(flows["inbound"], "StoreCallCode")
    assert store["Parameters"]["InputValidation"]["CustomValidation"]["MaximumLength"] == "8"


def test_render_refuses_an_unfilled_placeholder() -> None:
    values = sample_values()
    del values["QueueArn"]
    with pytest.raises(RenderError, match="QueueArn"):
        render(template("inbound"), values)


@pytest.mark.parametrize("bad", ["", "${Other}", True, 1.5, None, ["x"]])
def test_render_refuses_bad_values(bad: object) -> None:
    with pytest.raises(RenderError):
        render(template("inbound"), sample_values(QueueArn=bad))


def test_integer_code_length_is_stringified() -> None:
    flow = render(template("module"), sample_values(DtmfLength=10))
    params = action(flow, "StoreCallCode")["Parameters"]
    assert params["InputValidation"]["CustomValidation"]["MaximumLength"] == "10"


def test_render_does_not_touch_the_template() -> None:
    original = template("inbound")
    before = json.dumps(original)
    render(original, sample_values())
    assert json.dumps(original) == before


def test_purpose_queues_become_conditions() -> None:
    queue = "arn:aws:connect:eu-central-1:111122223333:instance/i/queue/taxes"
    flow = render(template("inbound"), sample_values(PurposeQueues={"belastingen": queue, "demo": queue + "2"}))
    chooser = action(flow, "ChoosePurposeQueue")
    operands = [c["Condition"]["Operands"] for c in chooser["Transitions"]["Conditions"]]
    assert operands == [["belastingen"], ["demo"]]
    set_queue = action(flow, "SetQueue-belastingen")
    assert set_queue["Type"] == "UpdateContactTargetQueue"
    assert set_queue["Parameters"]["QueueId"] == queue
    assert set_queue["Transitions"]["NextAction"] == "TransferToQueue"
    assert set_queue["Transitions"]["Errors"][0]["NextAction"] == "SetDefaultQueue"


def test_purpose_queue_identifiers_stay_short_and_unique() -> None:
    long_purpose = "x" * 80
    flow = render(
        template("inbound"),
        sample_values(PurposeQueues={long_purpose: "arn:q1", long_purpose + "y": "arn:q2", "a b": "arn:q3"}),
    )
    idents = [a["Identifier"] for a in flow["Actions"]]
    assert len(idents) == len(set(idents))
    assert all(len(i) <= 50 for i in idents)
    assert "SetQueue-a-b" in idents


def test_no_purpose_queues_removes_the_chooser_and_rewires() -> None:
    flow = render(template("inbound"), sample_values(PurposeQueues={}))
    idents = {a["Identifier"] for a in flow["Actions"]}
    assert "ChoosePurposeQueue" not in idents
    assert action(flow, "SetCustomerWhisperFlow")["Transitions"]["NextAction"] == "SetDefaultQueue"
    assert "ChoosePurposeQueue" not in json.dumps(flow)


def test_content_is_compact_json() -> None:
    content = to_content(render_all(sample_values())["inbound"])
    assert "\n" not in content
    assert json.loads(content)["Version"] == "2019-10-30"


def test_cli_renders_one_flow(tmp_path) -> None:
    out = tmp_path / "inbound.json"
    assert main(["--values", str(SAMPLE_VALUES_FILE), str(FLOWS["inbound"].path), "-o", str(out)]) == 0
    assert json.loads(out.read_text())["StartAction"] == "DisableFlowLogging"


def test_cli_renders_every_flow(tmp_path) -> None:
    assert main(["--values", str(SAMPLE_VALUES_FILE), "--out-dir", str(tmp_path / "flows")]) == 0
    assert sorted(p.name for p in (tmp_path / "flows").iterdir()) == sorted(s.file for s in FLOWS.values())


def test_cli_refuses_unfilled_placeholders(tmp_path, capsys) -> None:
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"DtmfLength": "8"}))
    assert main(["--values", str(values), str(FLOWS["inbound"].path)]) == 1
    assert "unfilled placeholder" in capsys.readouterr().err


def test_keep_leaves_named_placeholders_for_fn_sub() -> None:
    values = sample_values()
    del values["DisconnectFlowArn"]
    flow = render(template("inbound"), values, keep={"DisconnectFlowArn"})
    hooks = action(flow, "SetDisconnectFlow")["Parameters"]["EventHooks"]
    assert hooks == {"CustomerRemaining": "${DisconnectFlowArn}"}
    assert placeholders(flow) == {"DisconnectFlowArn"}
    del values["QueueArn"]
    with pytest.raises(RenderError, match="QueueArn"):
        render(template("inbound"), values, keep={"DisconnectFlowArn"})


def test_cli_keep(tmp_path) -> None:
    values = sample_values()
    del values["CleanupFunctionArn"]
    path = tmp_path / "values.json"
    path.write_text(json.dumps(values))
    out = tmp_path / "disconnect.json"
    args = ["--values", str(path), "--keep", "CleanupFunctionArn", "--compact", "-o", str(out)]
    assert main([*args, str(FLOWS["disconnect"].path)]) == 0
    assert "${CleanupFunctionArn}" in out.read_text()
