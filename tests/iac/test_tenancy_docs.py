"""The joint-controller sections of docs/privacy.md and docs/dpia-bijlage.md cite tests that exist.

A citation is `tests/<file>.py::<test>` (or `::<test>` continuing the last file named). Every cited file
of this repository must exist and define every cited test; a file under tests/tenancy/ (the core of issue
14) may still be missing, and is then marked † in the table - once it exists, its cases must be named.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.iac.conftest import ROOT

SECTION = "## Joint controllers: hosting municipality and partners"


def _section(path: Path, heading: str) -> str:
    text = path.read_text(encoding="utf-8")
    assert heading in text, (path.name, heading)
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


def _citations(text: str) -> list[tuple[str, str | None, str]]:
    """(file, test or None, the table row) for every citation."""
    out = []
    for row in text.splitlines():
        current = None
        for match in re.finditer(r"`(tests/[A-Za-z0-9_/]+\.py)?(?:::([A-Za-z0-9_]+))?`", row):
            file, test = match.group(1), match.group(2)
            if file:
                current = file
            if current and (file or test):
                out.append((current, test, row))
    return out


def test_every_cited_test_exists_or_is_pinned_for_the_core():
    citations = _citations(_section(ROOT / "docs" / "privacy.md", SECTION))
    assert len(citations) >= 20
    missing_core = set()
    for file, test, row in citations:
        path = ROOT / file
        if not path.exists():
            assert file.startswith("tests/tenancy/"), file
            assert "†" in row, f"{file} does not exist yet: mark the row †"
            missing_core.add(file)
            continue
        if test:
            assert re.search(rf"^def {test}\(", path.read_text(encoding="utf-8"), re.M), f"{file}::{test}"
    # every † row names a core file that is really missing (drop the mark once it exists)
    for row in _section(ROOT / "docs" / "privacy.md", SECTION).splitlines():
        if row.startswith("|") and "†" in row:
            assert any(f in row for f in missing_core), (
                "a † file exists now: replace '† file (case)' by its `file::test` names and drop the †: " + row
            )


def test_the_dutch_annex_has_the_joint_controller_view_and_points_at_the_same_tests():
    text = _section(ROOT / "docs" / "dpia-bijlage.md", "## 13. Meerdere gemeenten op één omgeving")
    for needed in (
        "Wie ziet en mag wat?",
        "Wie beantwoordt een verzoek",
        "Waar staat het logboek",
        "tests/iac/test_tenant_template.py",
        "tests/tenancy/test_isolation.py",
    ):
        assert needed in text, needed
