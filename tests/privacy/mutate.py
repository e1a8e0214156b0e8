"""`make mutate`: mutation testing of the privacy- and security-critical modules with mutmut 3.

mutmut 3 names a mutant after its module path with only a leading `src.` stripped, and our package lives in
`lambdas/`, so every group runs in its own staging directory (`build/mutate/<group>/`) that holds a copy of
`lambdas/idbellen` as `src/idbellen`, the test tree and what the tests read (devstack, flows, template),
and a pyproject whose `[tool.mutmut]` names only that group's modules and only the tests that matter for
them. Inside a group mutmut runs, per mutant, only the selected tests that reached the mutated function.

Every survivor must be killed by a test or listed, with a one-line reason, in
`tests/privacy/equivalent_mutants.txt` (`<mutant name>  # <reason>`). The run prints a summary per group,
writes `build/mutate/summary.json`, and exits non-zero on any unexplained survivor (or a mutant that is
listed as equivalent but was killed: the list must not go stale).

    python -m tests.privacy.mutate                 # every group
    python -m tests.privacy.mutate redaction       # one group
    python -m tests.privacy.mutate --fast          # the groups `make test` runs (redaction, binding)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "build" / "mutate"
EQUIVALENT = ROOT / "tests" / "privacy" / "equivalent_mutants.txt"
# Tests that cannot run under mutmut stay out of the selections: ones that start a fresh Python on
# `lambdas/` (the staging copy has none) and ones that assert a log line's `location`, which mutmut's
# trampoline shifts by one frame.
# What the tests read from the repository besides the package itself.
COPY_DIRS = ("tests", "devstack", "contact_flows", "iac", "bench")


@dataclass(frozen=True)
class Group:
    name: str
    modules: tuple[str, ...]  # under lambdas/idbellen/
    tests: tuple[str, ...]  # pytest selection (files or node ids)
    fast: bool = False  # part of `make test`


GROUPS: tuple[Group, ...] = (
    Group(
        "redaction",
        ("redaction.py", "observability.py", "observability_lite.py"),
        (
            "tests/privacy/test_redaction_rules.py",
            "tests/bench/test_dtmf_path.py::test_lite_metrics_have_the_shape_of_powertools_metrics",
        ),
        fast=True,
    ),
    Group(
        "binding",
        ("agents.py", "connect_contacts.py"),
        ("tests/unit/test_agents.py", "tests/privacy/test_binding_rules.py"),
        fast=True,
    ),
    Group(
        "store",
        ("store.py",),
        (
            "tests/privacy/test_store_rules.py",
            "tests/unit/test_store_marshalling.py",
            "tests/integration/test_store.py",
            "tests/integration/test_dynamodb_conformance.py",
        ),
    ),
    Group(
        "irma",
        ("irma.py",),
        (
            "tests/privacy/test_irma_rules.py",
            "tests/privacy/test_irma_client_rules.py",
            "tests/unit/test_irma_results.py",
            "tests/integration/test_irma_client.py",
        ),
    ),
    Group(
        "redemption",
        ("redemption.py",),
        ("tests/privacy/test_redemption_rules.py",),
    ),
    Group(
        "disclosure",
        ("disclosure.py",),
        ("tests/privacy/test_disclosure_rules.py",),
    ),
    Group(
        "cleanup",
        ("cleanup.py",),
        ("tests/privacy/test_cleanup_rules.py",),
    ),
)


def _pyproject(group: Group) -> str:
    def toml_list(items: tuple[str, ...] | list[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    return f"""[tool.pytest.ini_options]
pythonpath = ["src", "."]
testpaths = ["tests"]
timeout = 300
markers = ["browser: drives real Chromium", "slow: longer-running tests"]
addopts = "-p no:cacheprovider -p no:randomly"
filterwarnings = ["ignore:No application metrics to publish:UserWarning"]

[tool.mutmut]
source_paths = ["src"]
only_mutate = {toml_list([f"src/idbellen/{m}" for m in group.modules])}
also_copy = {toml_list(list(COPY_DIRS))}
pytest_add_cli_args_test_selection = {toml_list(group.tests)}
pytest_add_cli_args = ["-x", "-q", "-p", "no:cacheprovider"]
use_git_change_detection = false
"""


def _stage(group: Group) -> Path:
    stage = WORK / group.name
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "src").mkdir(parents=True)
    shutil.copytree(ROOT / "lambdas" / "idbellen", stage / "src" / "idbellen")
    for name in COPY_DIRS:
        shutil.copytree(ROOT / name, stage / name, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    (stage / "pyproject.toml").write_text(_pyproject(group))
    return stage


def load_equivalent() -> dict[str, str]:
    """`<mutant name>  # <reason>` per line; blank lines and lines starting with # are ignored."""
    listed: dict[str, str] = {}
    for line in EQUIVALENT.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, reason = line.partition("#")
        if not reason.strip():
            raise SystemExit(f"{EQUIVALENT.name}: no reason for {name.strip()}")
        listed[name.strip()] = reason.strip()
    return listed


def _results(stage: Path, env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=stage,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    status: dict[str, str] = {}
    for line in out.stdout.splitlines():
        name, sep, state = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            status[name] = state
    return status


def run_group(group: Group, children: int) -> dict[str, object]:
    stage = _stage(group)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(children)],
        cwd=stage,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL if not os.environ.get("MUTATE_VERBOSE") else None,
    )
    seconds = round(time.monotonic() - started)
    status = _results(stage, env)
    equivalent = load_equivalent()
    # a timeout (a mutant that loops) or a segfault is detected, like a failing test
    killed = sorted(n for n, s in status.items() if s in {"killed", "timeout", "segfault", "caught by type check"})
    survived = sorted(n for n, s in status.items() if s in {"survived", "no tests", "suspicious"})
    listed = [n for n in survived if n in equivalent]
    unexplained = [n for n in survived if n not in equivalent]
    stale = [n for n in killed if n in equivalent]
    prefixes = tuple(f"idbellen.{m.removesuffix('.py')}." for m in group.modules)
    other = sorted(n for n in status if n not in killed and n not in survived)
    return {
        "group": group.name,
        "modules": list(group.modules),
        "tests": list(group.tests),
        "mutants": len(status),
        "killed": len(killed),
        "equivalent": len(listed),
        "unexplained": unexplained,
        "stale_equivalent": stale,
        "not_run": other,
        "seconds": seconds,
        "in_scope": all(n.startswith(prefixes) for n in status),
        "states": {n: status[n] for n in unexplained},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("groups", nargs="*", help="group names (default: all)")
    parser.add_argument("--fast", action="store_true", help="only the groups `make test` runs")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    chosen = [g for g in GROUPS if (not args.groups or g.name in args.groups) and (g.fast or not args.fast)]
    if not chosen:
        parser.error(f"no such group; known: {', '.join(g.name for g in GROUPS)}")
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    summary = []
    for group in chosen:
        result = run_group(group, args.children)
        summary.append(result)
        print(
            f"{group.name:11} mutants {result['mutants']:4}  killed {result['killed']:4}  "
            f"equivalent {result['equivalent']:3}  unexplained {len(result['unexplained']):3}  "  # type: ignore[arg-type]
            f"{result['seconds']} s",
            flush=True,
        )
        for name in result["unexplained"]:  # type: ignore[attr-defined]
            print(f"    survived: {name} ({result['states'][name]})")  # type: ignore[index]
        if result["not_run"]:
            print(f"    not run: {len(result['not_run'])} mutants (see {WORK / group.name})")  # type: ignore[arg-type]
        for name in result["stale_equivalent"]:  # type: ignore[attr-defined]
            print(f"    listed as equivalent but killed: {name}")
    total = round(time.monotonic() - started)
    (WORK / "summary.json").write_text(json.dumps({"groups": summary, "seconds": total}, indent=2) + "\n")
    print(f"total {total} s")
    bad = any(r["unexplained"] or r["stale_equivalent"] or r["not_run"] or r["mutants"] == 0 for r in summary)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
