"""Compile the one code bundle `sam build` produced to bytecode, zip it and report its size.

`sam build` builds the four functions from the same CodeUri once per function; the directories
are identical (this checks it), so one deterministic zip is the artifact `sam deploy` uploads.

Bytecode: Lambda's /var/task is read-only, so a bundle without `.pyc` files is compiled from source
at every cold start (~0.3 s of the IRMA callback's 4.2 s at a 512 MB CPU share, `make bench`). So
every `.py` in the build directories gets an *unchecked-hash* `.pyc` (PEP 552) before `sam deploy`
zips them: used whatever the file times say (zips reset them), compiled by the build's Python, which
must be the functions' runtime (3.12), with `/var/task` as the file name tracebacks would show.

    python -m iac.artifact .aws-sam/build build/idbellen-lambdas.zip
"""

from __future__ import annotations

import compileall
import hashlib
import py_compile
import sys
import zipfile
from pathlib import Path

FUNCTIONS = ("SessionFunction", "DtmfFunction", "AgentFunction", "CleanupFunction")
EPOCH = (1980, 1, 1, 0, 0, 0)
RUNTIME = (3, 12)  # iac/template.yaml Globals: python3.12
SHIPS_BYTECODE = True  # bench/coldstart.py emulates the bundle this builds


def compile_bytecode(root: Path) -> bool:
    """Unchecked-hash `.pyc` for every `.py` under `root` (existing ones are rewritten)."""
    if sys.version_info[:2] != RUNTIME:
        sys.stderr.write(f"artifact: compile with Python {RUNTIME[0]}.{RUNTIME[1]}, the functions' runtime\n")
        return False
    return bool(
        compileall.compile_dir(
            root,
            ddir="/var/task",
            force=True,
            quiet=1,
            workers=1,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    )


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def main(argv: list[str]) -> int:
    build_dir, out = Path(argv[1]), Path(argv[2])
    dirs = [build_dir / f for f in FUNCTIONS]
    missing = [d for d in dirs if not (d / "idbellen" / "handlers").is_dir()]
    if missing:
        sys.stderr.write(f"artifact: no build output for {[d.name for d in missing]}\n")
        return 1
    if not all(compile_bytecode(d) for d in dirs):
        sys.stderr.write("artifact: bytecode compilation failed\n")
        return 1
    digests = {tree_digest(d) for d in dirs}
    if len(digests) != 1:
        sys.stderr.write("artifact: the functions' bundles differ; expected one code bundle\n")
        return 1
    root = dirs[0]
    files = sorted(p for p in root.rglob("*") if p.is_file())
    unpacked = sum(p.stat().st_size for p in files)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            info = zipfile.ZipInfo(str(path.relative_to(root)), date_time=EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    packages = sorted(
        {p.relative_to(root).parts[0] for p in files if p.relative_to(root).parts[0].endswith(".dist-info")}
    )
    print(
        f"artifact: {out} {out.stat().st_size / 1e6:.2f} MB zipped, {unpacked / 1e6:.2f} MB unpacked "
        f"(Lambda limit 250 MB unpacked), {len(files)} files"
    )
    print("artifact: bundled " + ", ".join(p.removesuffix(".dist-info") for p in packages))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
