"""The DPIA annex's statements that had no test of their own, and the check that keeps docs/privacy.md's
statement table and docs/dpia-bijlage.md's statement list in step.

- flow logging off before the code is read, and the code never a contact attribute: on a real call of the
  dev stack (the flow linter proves it for the flow files themselves);
- the sweep runs every 5 minutes in every deployed environment: the schedule each samconfig environment
  deploys (its override, else the template's default), not just an allowed value;
- the region: every samconfig section that names a region names eu-central-1 (Frankfurt);
- every test privacy.md cites exists, and every annex statement (§11) quotes the annex and names a row.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack import DevStack
from tests.privacy import canary

ROOT = Path(__file__).resolve().parents[2]
PRIVACY = ROOT / "docs" / "privacy.md"
ANNEX = ROOT / "docs" / "dpia-bijlage.md"
SAMCONFIG = ROOT / "iac" / "samconfig.toml"
TEMPLATE = ROOT / "iac" / "template.yaml"


# -- flow logging and the code ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with DevStack() as stack:
        yield stack


def test_a_call_disables_flow_logging_first_and_sets_no_code_attribute(stack: DevStack) -> None:
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201
    code = stack.wallet.disclose(body["sessionPtr"], canary.DEMO_CREDENTIALS).split(",", 1)[1]
    for digits, verified in ((code, "true"), ("0" * len(code), "false")):
        call = stack.call(digits)
        assert call.attributes["verified"] == verified
        assert call.path[0] == "DisableFlowLogging", call.path
        assert call.path.index("DisableFlowLogging") < call.path.index("StoreCallCode")
        assert call.path.index("StoreCallCode") < call.path.index("RedeemCallCode")
        assert set(call.attributes) <= {"verified", "purpose", "session_secret"}
        assert not any(digits in str(value) for value in call.attributes.values())
        assert not any(digits in prompt for prompt in call.prompts)


# -- the deployed sweep schedule and the region -------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """CloudFormation's short-form tags (!Ref, !Sub, ...) as plain values: only Parameters are read here."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_Loader)


def _overrides(parameters: dict[str, Any]) -> dict[str, str]:
    raw = parameters.get("parameter_overrides", [])
    items = raw if isinstance(raw, list) else re.findall(r'(\w+=(?:"[^"]*"|\S+))', raw)
    return {k: v.strip('"') for k, v in (o.split("=", 1) for o in items)}


def _deploy_environments() -> dict[str, dict[str, Any]]:
    config = tomllib.loads(SAMCONFIG.read_text(encoding="utf-8"))
    return {
        env: sections["deploy"]["parameters"]
        for env, sections in config.items()
        if isinstance(sections, dict) and "deploy" in sections
    }


def test_the_deployed_sweep_runs_every_five_minutes() -> None:
    template = _template()
    rule = template["Resources"]["ExpirySweepRule"]["Properties"]
    assert rule["State"] == "ENABLED"
    assert rule["ScheduleExpression"] is None  # `!Ref SweepSchedule`: the deployed value is the parameter's
    rule_text = TEMPLATE.read_text(encoding="utf-8").split("ExpirySweepRule:", 1)[1].split("Targets:")[0]
    assert "ScheduleExpression: !Ref SweepSchedule" in rule_text
    default = template["Parameters"]["SweepSchedule"]["Default"]
    environments = _deploy_environments()
    assert {"test", "production"} <= set(environments)
    for env, parameters in environments.items():
        deployed = _overrides(parameters).get("SweepSchedule", default)
        assert deployed == "rate(5 minutes)", f"{env} deploys the sweep as {deployed!r}"


def test_every_deployment_is_in_frankfurt() -> None:
    config = tomllib.loads(SAMCONFIG.read_text(encoding="utf-8"))
    regions: list[tuple[str, str]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "region":
                    regions.append((where, value))
                walk(value, f"{where}.{key}")

    walk(config, "samconfig")
    assert {w.split(".")[1] for w, _ in regions} >= {"default", "test", "production"}
    assert all(region == "eu-central-1" for _, region in regions), regions
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--region eu-central-1" in makefile and not re.search(r"--region (?!eu-central-1)", makefile)


# -- the two documents in step ------------------------------------------------------------------------------
def _table(text: str, heading: str) -> list[list[str]]:
    """The rows (cells) of the first table under `heading`, header and rule excluded."""
    section = text.split(heading, 1)[1]
    rows = []
    started = False
    for line in section.splitlines():
        if line.startswith("|"):
            started = True
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            rows.append(cells)
        elif started:
            break
    return rows[2:]


def _privacy_rows() -> dict[str, str]:
    return {cells[0]: cells[1] for cells in _table(PRIVACY.read_text(encoding="utf-8"), "## Statements and the tests")}


def _citations(cell: str) -> Iterator[tuple[str, str | None]]:
    """(file, test or None) per backticked citation; `::name` continues the previous file."""
    current = ""
    for cited in re.findall(r"`([^`]+)`", cell):
        if cited.startswith("::"):
            yield current, cited[2:]
        elif cited.startswith("tests/"):
            path, _, name = cited.partition("::")
            current = path
            yield path, name or None


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_cited_test_exists() -> None:
    rows = _privacy_rows()
    assert len(rows) >= 30
    missing = []
    cited = 0
    for statement, cell in rows.items():
        citations = list(_citations(cell))
        assert citations, f"no test cited for: {statement}"
        for path, name in citations:
            cited += 1
            file = ROOT / path
            if not file.is_file() or (name is not None and name.split("[")[0] not in _test_names(file)):
                missing.append(f"{path}::{name}" if name else path)
    assert missing == []
    assert cited >= 89


def test_the_citation_check_sees_a_missing_test() -> None:
    cell = "`tests/privacy/test_privacy_expiry.py::test_no_such_test`, `::test_expires_at_is_creation_plus_lifetime`"
    (first, second) = list(_citations(cell))
    names = _test_names(ROOT / first[0])
    assert first[1] not in names and second[1] in names


def test_every_annex_statement_maps_to_a_row() -> None:
    annex = ANNEX.read_text(encoding="utf-8")
    body, _, proof = annex.partition("## 11. Bewijs")
    rest = proof.split("\n## ", 1)[1] if "\n## " in proof else ""
    flat = " ".join((body + rest).split())
    rows = _privacy_rows()
    statements = _table(annex, "## 11. Bewijs")
    assert len(statements) >= 15
    for quote, row in statements:
        assert " ".join(quote.split()) in flat, f"not a statement of the annex: {quote}"
        assert row in rows, f"no such row in privacy.md: {row}"
    # the statements the issue found without a row are covered
    quoted = " ".join(q for q, _ in statements)
    for claim in ("Frankfurt", "elke 5 minuten een opruimronde", "flow-logging van Connect uit"):
        assert claim in quoted
