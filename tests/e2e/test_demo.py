"""`make demo` is a README promise: it must run both municipalities' calls and fail loudly when a step
does not do what it says (devstack/demo.py checks each step)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack import demo
from devstack.stack import DEV_TENANTS

ROOT = Path(__file__).resolve().parents[2]


def test_make_demo_runs_both_municipalities_and_leaves_nothing() -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}"}
    run = subprocess.run(  # our own module, as `make demo` runs it
        [sys.executable, "-m", "devstack.demo"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    for tenant in DEV_TENANTS.values():
        assert tenant.display_name in run.stdout and tenant.phone_number in run.stdout
    assert DEV_TENANTS["demodorp"].processing_log_group in run.stdout
    assert "Personal data left in the table: 0 items." in run.stdout
    assert "(404 " in run.stdout  # the other municipality's agent got the answer for an unknown secret


def test_the_demo_fails_when_a_step_does_not_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    # a demo that cannot fail proves nothing: with nothing in the wallet there is no tel: URL to dial
    monkeypatch.setattr(demo, "DEMO_WALLET", {})
    assert demo.main() == 1
