"""Fixtures for the template tests: the template as data, and the SAM-transformed template.

The transformed template comes from aws-sam-translator in its own venv (.venv-sam, built on demand
from requirements/sam.lock by `make sam-venv`), so these tests need no AWS account and no network
once that venv exists.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devstack.template_resources import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "iac" / "template.yaml"
TENANT_TEMPLATE = ROOT / "iac" / "tenant.yaml"
SAM_VENV = ROOT / ".venv-sam"


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


@pytest.fixture(scope="session")
def tenant_template() -> dict[str, Any]:
    return load_template(TENANT_TEMPLATE)


@pytest.fixture(scope="session")
def tenant_resources(tenant_template: dict[str, Any]) -> dict[str, Any]:
    return tenant_template["Resources"]


@pytest.fixture(scope="session")
def sam_venv() -> Path:
    """The aws-sam-cli venv; `make sam-venv` (idempotent) creates it from the hash-pinned lock."""
    import fcntl
    import tempfile

    # one builder at a time, also under pytest-xdist
    with open(Path(tempfile.gettempdir()) / "idbellen-sam-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(["make", "-s", "-C", str(ROOT), "sam-venv"], check=True, timeout=900)
    assert (SAM_VENV / "bin" / "sam").exists()
    return SAM_VENV


@pytest.fixture(scope="session")
def transformed(sam_venv: Path) -> dict[str, Any]:
    out = subprocess.run(
        [str(sam_venv / "bin" / "python"), str(ROOT / "iac" / "translate.py"), str(TEMPLATE)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def load_iac_module(name: str) -> Any:
    """A module of iac/ by path (`tests/iac` shadows the top-level `iac` package name here)."""
    import importlib.util
    import sys

    qualified = f"idbellen_iac_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, ROOT / "iac" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def statements(resources: dict[str, Any], policy_logical_id: str) -> list[dict[str, Any]]:
    """A policy's statements; a conditional statement (`Fn::If`) counts with its granting branch."""
    out = []
    for statement in resources[policy_logical_id]["Properties"]["PolicyDocument"]["Statement"]:
        if set(statement) == {"Fn::If"}:
            _, when_true, when_false = statement["Fn::If"]
            out += [b for b in (when_true, when_false) if b != {"Ref": "AWS::NoValue"}]
        else:
            out.append(statement)
    return out


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
