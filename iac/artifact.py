"""Zip the one code bundle `sam build` produced and report its size.

`sam build` builds the four functions from the same CodeUri once per function; the directories
are identical (this checks it), so one deterministic zip is the artifact `sam deploy` uploads.

    python -m iac.artifact .aws-sam/build build/idbellen-lambdas.zip
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

FUNCTIONS = ("SessionFunction", "DtmfFunction", "AgentFunction", "CleanupFunction")
EPOCH = (1980, 1, 1, 0, 0, 0)


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
    digests = {tree_digest(d) for d in dirs}
    if len(digests) != 1:
        sys.stderr.write("artifact: the functions' bundles differ; expected one code bundle\n")
        return 1
    root = dirs[0]
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
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
