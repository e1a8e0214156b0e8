"""`python -m idbellen.tenant_admin` against a moto server over HTTP: nothing reaches the registry that
does not validate (schema and references), running functions pick a change up within the max age, and
a rollback restores an earlier version."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from idbellen import runtime, tenant_admin, tenants
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]
PATH = "/idbellen/test/tenants"
INSTANCE = "arn:aws:connect:eu-central-1:123456789012:instance/00000000-0000-4000-8000-000000000001"
PURPOSES = {"demo": {"label": "Demo", "disclose": [[["pbdf.gemeente.personalData.bsn"]]]}}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    requests.post(f"{url}/moto-api/reset", timeout=10)
    env = {
        "AWS_ENDPOINT_URL": url,
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        tenants.PATH_ENV: PATH,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    runtime.reset()
    session = boto3.session.Session()
    kms, logs = session.client("kms"), session.client("logs")
    keys = {t: kms.create_key(Description=t)["KeyMetadata"]["KeyId"] for t in ("alpha", "beta")}
    for tenant in ("alpha", "beta"):
        logs.create_log_group(logGroupName=f"/idbellen/test/{tenant}/processing")
    try:
        yield {"session": session, "keys": keys, "env": env}
    finally:
        runtime.reset()
        server.stop()


def document(aws: dict[str, Any], tenant: str = "alpha", **changes: Any) -> dict[str, Any]:
    doc = {
        "id": tenant,
        "display_name": f"Gemeente {tenant.title()}",
        "oin": "00000001001234567000",
        "enabled": True,
        "phone_numbers": ["+31141234567" if tenant == "alpha" else "+31142345678"],
        "connect_instance_arn": INSTANCE,
        "kms_key_id": aws["keys"][tenant],
        "processing_log_group": f"/idbellen/test/{tenant}/processing",
        "purposes": PURPOSES,
        "agents": {"idp": f"{tenant}-idp", "group": f"{tenant}-agents"},
    }
    doc.update(changes)
    return doc


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = tenant_admin.main(["--no-connect-check", *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def put(aws: dict[str, Any], tmp_path: Path, doc: dict[str, Any], command: str = "put") -> tuple[int, str, str]:
    path = tmp_path / f"{doc.get('id', 'x')}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return run(command, str(path))


def stored(aws: dict[str, Any], tenant: str) -> dict[str, Any] | None:
    try:
        value = aws["session"].client("ssm").get_parameter(Name=f"{PATH}/{tenant}")["Parameter"]["Value"]
    except Exception:
        return None
    return dict(json.loads(value))


def test_a_valid_document_is_put_listed_and_shown(aws: dict[str, Any], tmp_path: Path) -> None:
    assert put(aws, tmp_path, document(aws))[0] == 0
    assert stored(aws, "alpha") == document(aws)
    code, out, _ = run("list")
    assert code == 0 and out.splitlines() == ["alpha\tenabled\tGemeente Alpha"]
    code, out, _ = run("show", "alpha")
    assert code == 0 and out.startswith("# version 1\n") and json.loads(out.split("\n", 1)[1]) == document(aws)
    registry = tenants.registry()
    assert registry is not None and list(registry.tenants) == ["alpha"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"kms_key_id": "00000000-0000-4000-8000-00000000dead"}, "kms_key_id names no key"),
        ({"processing_log_group": "/idbellen/test/nowhere/processing"}, "processing_log_group does not exist"),
        ({"oin": "123"}, "oin must be a 20-digit OIN"),
        ({"purposes": {"demo": {"disclose": []}}}, "purposes"),
        ({"agents": {"idp": "alpha-idp"}}, "agents must name a group or a scope"),
        ({"extra": 1}, "unknown fields"),
    ],
)
def test_validation_rejects_bad_documents_and_references(
    aws: dict[str, Any], tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    for command in ("validate", "put"):
        code, _, err = put(aws, tmp_path, document(aws, **change), command)
        assert code == 1 and reason in err, err
    assert stored(aws, "alpha") is None


def test_a_disabled_key_is_rejected(aws: dict[str, Any], tmp_path: Path) -> None:
    aws["session"].client("kms").disable_key(KeyId=aws["keys"]["alpha"])
    code, _, err = put(aws, tmp_path, document(aws))
    assert code == 1 and "not enabled" in err
    assert stored(aws, "alpha") is None


def test_a_number_claimed_by_another_tenant_is_rejected(aws: dict[str, Any], tmp_path: Path) -> None:
    assert put(aws, tmp_path, document(aws, "alpha"))[0] == 0
    code, _, err = put(aws, tmp_path, document(aws, "beta", phone_numbers=["+31141234567"]))
    assert code == 1 and "already claimed by tenant alpha" in err and "+3114" not in err
    assert stored(aws, "beta") is None


def test_a_change_is_picked_up_within_the_max_age(
    aws: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(tenants, "clock", lambda: now[0])
    monkeypatch.setenv(tenants.MAX_AGE_ENV, "300")
    assert put(aws, tmp_path, document(aws))[0] == 0
    registry = tenants.registry()
    assert registry is not None and registry.tenants["alpha"].display_name == "Gemeente Alpha"
    assert put(aws, tmp_path, document(aws, display_name="Gemeente Alfa"))[0] == 0
    now[0] += 299
    assert tenants.registry().tenants["alpha"].display_name == "Gemeente Alpha"  # type: ignore[union-attr]
    now[0] += 2
    assert tenants.registry().tenants["alpha"].display_name == "Gemeente Alfa"  # type: ignore[union-attr]


def test_rollback_restores_the_previous_version(aws: dict[str, Any], tmp_path: Path) -> None:
    assert put(aws, tmp_path, document(aws))[0] == 0
    assert put(aws, tmp_path, document(aws, display_name="Gemeente Alfa"))[0] == 0
    code, out, _ = run("rollback", "alpha")
    assert code == 0 and "to version 1: now version 3" in out
    assert stored(aws, "alpha") == document(aws)
    code, out, _ = run("rollback", "alpha", "--version", "2")
    assert code == 0 and stored(aws, "alpha") == document(aws, display_name="Gemeente Alfa")
    code, _, err = run("rollback", "alpha", "--version", "99")
    assert code == 1 and "no earlier version" in err


def test_disable_always_works_enable_checks_references(aws: dict[str, Any], tmp_path: Path) -> None:
    assert put(aws, tmp_path, document(aws))[0] == 0
    aws["session"].client("kms").disable_key(KeyId=aws["keys"]["alpha"])  # the reason to disable
    assert run("disable", "alpha")[0] == 0
    assert stored(aws, "alpha") == document(aws, enabled=False)
    code, _, err = run("enable", "alpha")
    assert code == 1 and "not enabled" in err
    assert stored(aws, "alpha") == document(aws, enabled=False)
    aws["session"].client("kms").enable_key(KeyId=aws["keys"]["alpha"])
    assert run("enable", "alpha")[0] == 0 and stored(aws, "alpha") == document(aws)
    assert run("disable", "nobody")[0] == 1


def test_the_module_runs_as_a_command(aws: dict[str, Any], tmp_path: Path) -> None:
    assert put(aws, tmp_path, document(aws))[0] == 0
    env = {**os.environ, **aws["env"], "PYTHONPATH": f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}"}
    result = subprocess.run(
        [sys.executable, "-m", "idbellen.tenant_admin", "list"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["alpha\tenabled\tGemeente Alpha"]
    usage = subprocess.run(
        [sys.executable, "-m", "idbellen.tenant_admin", "--path", "not a path", "list"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert usage.returncode == 2
