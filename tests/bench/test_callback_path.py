"""What keeps the IRMA callback's cold start small, checked structurally (no timing; `make bench`
measures `cold_callback_ms`): the session handler answers callbacks and pulls without Powertools'
resolver, so importing it loads neither Powertools nor `requests` (nor PyJWT, loaded to verify)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_ON_THE_CALLBACK_PATH = ("aws_lambda_powertools", "requests", "jwt", "boto3")


def test_the_session_handler_imports_no_powertools_and_no_requests() -> None:
    code = (
        "import sys, json, idbellen.handlers.session; "
        f"print(json.dumps([m for m in {NOT_ON_THE_CALLBACK_PATH!r} if m in sys.modules]))"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_citizen_routes_still_get_powertools_resolver() -> None:
    code = (
        "import sys, json, idbellen.handlers.session as s; s._routes(); "
        "print(json.dumps('aws_lambda_powertools.event_handler' in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) is True
