"""The page itself: self-contained (its CSP allows only its own style block), charts in colours that
meet WCAG 2.1 AA contrast, and a hidden count leaves no trace — not in its row, not in a percentage,
not in a chart's description."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime

from idbellen_report import catalogue as cat
from idbellen_report import charts
from idbellen_report.figures import Figures
from idbellen_report.model import build
from idbellen_report.periods import Month
from idbellen_report.render import CSS, render


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str = "#ffffff") -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_chart_colours_meet_wcag_aa() -> None:
    """1.4.3: text 4.5:1; 1.4.11: graphical objects 3:1 (bars and axis against the white page)."""
    assert _contrast(charts.INK) >= 4.5
    assert _contrast(charts.GRID) >= 3
    assert _contrast(charts.BAR) >= 3 and _contrast(charts.BAR_2) >= 3
    stacked = charts.horizontal("c", "t", [charts.Bar("a", 10, 10)], legend=("x", "y"))
    first, second = re.findall(r'<rect x="(\d+)" y="\d+" width="(\d+)" height="18"', stacked)
    assert int(second[0]) >= int(first[0]) + int(first[1]) + 2  # adjacent series never touch


def _figures() -> Figures:
    f = Figures("t", Month(2026, 11), "Europe/Amsterdam", datetime(2026, 12, 2, tzinfo=UTC), True, ["demo", "other"])
    f.totals = {m: 0.0 for m in cat.TOTALS}
    f.totals.update({cat.SESSIONS_STARTED: 40, cat.DISCLOSURE_ACCEPTED: 37, cat.DISCLOSURE_REJECTED: 3})
    f.by_purpose = {m: {"demo": 0.0, "other": 0.0} for m in (*cat.BY_PURPOSE, cat.DISCLOSURE_ACCEPTED)}
    f.by_purpose[cat.SESSIONS_STARTED]["demo"] = 40
    f.by_purpose[cat.DISCLOSURE_ACCEPTED]["demo"] = 37
    f.rejected = {"cancelled": 3}
    f.samples = {cat.TIME_TO_DISCLOSURE: 37}
    f.histograms = {cat.TIME_TO_DISCLOSURE: [30, 7, 0, 0, 0]}
    return f


def test_a_hidden_count_leaves_no_trace() -> None:
    report = build(_figures(), k=5)
    assert "rejected:cancelled" in report.decision.hidden and "rejected" in report.decision.hidden
    html = render(report)
    row = re.search(r"<tr><th scope=\"row\">Geannuleerd in de Yivi-app</th>(.*?)</tr>", html)
    assert row is not None
    assert "niet getoond" in row.group(1) and not re.search(r"\d", row.group(1))
    assert "Geannuleerd in de Yivi-app: niet getoond" in html  # the chart's description says so too
    assert "Niet gelukt in de app: 3" not in html and "Geannuleerd in de Yivi-app: 3" not in html


def test_the_page_loads_nothing_and_allows_only_its_own_style() -> None:
    html = render(build(_figures(), k=5))
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in html and "default-src 'none'" in html
    assert "<script" not in html and " src=" not in html and "<link" not in html
    assert 'lang="nl"' in html
