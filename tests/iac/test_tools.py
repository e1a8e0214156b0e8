"""The offline validators: cfn-lint (eu-central-1), `sam validate --lint`, and the SAM transform,
whose output is linted again and checked for dangling references (cfn-lint 1.x validates SAM
templates without transforming them, so generated names like `DtmfFunctionAliaslive` are only
proven to exist here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.iac.conftest import ROOT, TEMPLATE

PSEUDO = {
    "AWS::AccountId",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::URLSuffix",
    "AWS::NotificationARNs",
}


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--regions",
            "eu-central-1",
            "--include-checks",
            "I",
            "--",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_cfn_lint_clean_for_eu_central_1():
    result = _cfn_lint(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_catches_a_broken_template(tmp_path):
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text(encoding="utf-8").replace("BillingMode: PAY_PER_REQUEST", "BillingMode: FREE"))
    assert _cfn_lint(broken).returncode != 0


def test_sam_validate_lint_offline(sam_venv):
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "PATH": f"{sam_venv / 'bin'}:{os.environ.get('PATH', '')}",
    }
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(key, None)
    result = subprocess.run(
        [str(sam_venv / "bin" / "sam"), "validate", "--lint", "--region", "eu-central-1"],
        cwd=ROOT / "iac",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                local = set(value[1]) if isinstance(value, list) else set()
                import re

                for name in re.findall(r"\$\{([A-Za-z0-9_:]+)(?:\.[A-Za-z.]+)?\}", text):
                    if name not in local:
                        found.add(name)
                found |= _refs(value[1]) if isinstance(value, list) else set()
            else:
                found |= _refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _refs(item)
    return found


def test_transformed_template_has_no_dangling_references(transformed):
    known = set(transformed["Resources"]) | set(transformed.get("Parameters", {})) | PSEUDO
    dangling = _refs(transformed["Resources"]) | _refs(transformed.get("Outputs", {}))
    assert dangling - known == set()
    for function in ("Session", "Dtmf", "Agent", "Cleanup"):
        alias = transformed["Resources"][f"{function}FunctionAliaslive"]
        assert alias["Type"] == "AWS::Lambda::Alias"
        assert alias["Properties"]["Name"] == "live"


def test_transformed_template_is_cfn_lint_clean(transformed, tmp_path):
    import json

    out = tmp_path / "transformed.json"
    out.write_text(json.dumps(transformed))
    result = _cfn_lint(out)
    assert result.returncode == 0, result.stdout + result.stderr


_PARSE_OVERRIDES = """
import json, sys, tomllib
from samcli.cli.types import CfnParameterOverridesType
cfg = tomllib.load(open(sys.argv[1], "rb"))
out = {}
for env in ("test", "production"):
    values = cfg[env]["deploy"]["parameters"]["parameter_overrides"]
    out[env] = [len(values), CfnParameterOverridesType().convert(values, None, None)]
print(json.dumps(out))
"""


def test_samconfig_overrides_parse_as_sam_cli_parses_them(sam_venv, template):
    import json

    from idbellen.config import parse_purposes

    result = subprocess.run(
        [str(sam_venv / "bin" / "python"), "-c", _PARSE_OVERRIDES, str(ROOT / "iac" / "samconfig.toml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    parameters = template["Parameters"]
    required = {name for name, spec in parameters.items() if "Default" not in spec}
    for env, (count, overrides) in json.loads(result.stdout).items():
        assert len(overrides) == count, f"{env}: an override was lost or merged"
        assert set(overrides) <= set(parameters), sorted(set(overrides) - set(parameters))
        assert required <= set(overrides), (env, sorted(required - set(overrides)))
        assert parse_purposes(overrides["Purposes"])
        for name, value in overrides.items():
            spec = parameters[name]
            if "AllowedValues" in spec:
                assert str(value) in [str(v) for v in spec["AllowedValues"]], (env, name)
            if "AllowedPattern" in spec and spec["Type"] == "String":
                import re

                assert re.fullmatch(spec["AllowedPattern"], value), (env, name)
