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


LAMBDA_ENV_LIMIT = 4096  # bytes, all variables of one function together
ARN_ALLOWANCE = 160  # a resolved ARN / URL / name from another resource


def _env_size(variables: dict[str, Any], params: dict[str, str]) -> int:
    import json

    size = 0
    for name, value in variables.items():
        if isinstance(value, str):
            resolved = value
        elif isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in params:
            resolved = params[value["Ref"]]
        elif isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            resolved = value["Fn::Sub"] + "x" * 8
        else:
            resolved = "x" * ARN_ALLOWANCE if len(json.dumps(value)) < 400 else json.dumps(value)
        size += len(name.encode()) + len(str(resolved).encode())
    return size


def test_function_environments_fit_lambdas_4_kb_with_the_samconfig_values(sam_venv, template):
    import json

    result = subprocess.run(
        [str(sam_venv / "bin" / "python"), "-c", _PARSE_OVERRIDES, str(ROOT / "iac" / "samconfig.toml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # a realistic production key rotation: two 2048-bit keys (the samconfig example leaves it empty)
    pem_escaped = ("-----BEGIN PUBLIC KEY-----\\n" + "A" * 392 + "\\n-----END PUBLIC KEY-----\\n") * 2
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    for env, (_, overrides) in json.loads(result.stdout).items():
        params = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
        params.update({k: str(v) for k, v in overrides.items()})
        params["IrmaJwtPublicKey"] = params["IrmaJwtPublicKey"] or pem_escaped
        for function in ("SessionFunction", "DtmfFunction", "AgentFunction", "CleanupFunction"):
            own = template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})
            size = _env_size({**globals_env, **own}, params)
            assert size < LAMBDA_ENV_LIMIT - 512, (env, function, size)
