"""The bundle ships bytecode Lambda will use: unchecked-hash .pyc files (PEP 552), so a cold start does
not compile the package from source in the read-only /var/task (bench: cold_callback_ms)."""

from __future__ import annotations

import importlib.util
import marshal
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# iac/artifact.py by path: inside tests/, the name `iac` is this test package
_spec = importlib.util.spec_from_file_location("idbellen_iac_artifact", ROOT / "iac" / "artifact.py")
assert _spec is not None and _spec.loader is not None
artifact = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(artifact)
FUNCTIONS, main = artifact.FUNCTIONS, artifact.main


def test_every_module_gets_an_unchecked_hash_pyc_that_loads_without_its_source_times(tmp_path: Path) -> None:
    build = tmp_path / "build"
    for function in FUNCTIONS:
        shutil.copytree(ROOT / "lambdas" / "idbellen", build / function / "idbellen")
    out = tmp_path / "bundle.zip"
    assert main(["artifact", str(build), str(out)]) == 0

    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        sources = [n for n in names if n.endswith(".py") and "__pycache__" not in n]
        assert sources
        for source in sources:
            folder, _, name = source.rpartition("/")
            pyc = f"{folder}/__pycache__/{name[:-3]}.cpython-312.pyc"
            assert pyc in names, source
        data = zf.read("idbellen/__pycache__/config.cpython-312.pyc")
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b01  # hash-based, not checked against the source
    assert marshal.loads(data[16:]).co_filename == "/var/task/idbellen/config.py"

    # unpacked with every file time reset (as a zip does), the interpreter uses the bytecode: it
    # runs even with the source made unreadable for the compiler (garbage in place of the code)
    task = tmp_path / "task"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(task)
    (task / "idbellen" / "clock.py").write_text("this is not python\n")
    probe = subprocess.run(
        [sys.executable, "-B", "-c", "import idbellen.clock as c; print(callable(c.now))"],
        cwd=task,
        env={"PYTHONPATH": str(task), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert probe.stdout.strip() == "True", probe.stderr[-1000:]
