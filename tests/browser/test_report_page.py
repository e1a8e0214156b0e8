"""The evaluation report (idbellen_report) in Chromium: it renders offline under its own
Content-Security-Policy, every chart is an image with a name and a description and has its numbers
in a table too, hidden counts read as "niet getoond", axe finds no WCAG 2.1 A/AA violation, and it
prints to PDF. The page is built from figures with small cells, so suppression is on the page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser

from idbellen_report import catalogue as cat
from idbellen_report.figures import Figures
from idbellen_report.model import build
from idbellen_report.periods import Month
from idbellen_report.render import render
from tests.browser.conftest import AXE, CHROMIUM, SCREENSHOTS, run_axe

CHARTS = 7  # funnel, drop-off, per purpose, two durations, deletion reasons, age at deletion


def _figures() -> Figures:
    f = Figures(
        tenant="demodorp",
        month=Month(2026, 11),
        zone="Europe/Amsterdam",
        generated_at=datetime(2026, 12, 2, 8, tzinfo=UTC),
        complete=True,
        purposes=["demo", "belastingen", "other"],
    )
    f.totals = {
        cat.SESSIONS_STARTED: 146,
        cat.DISCLOSURE_ACCEPTED: 124,
        cat.DISCLOSURE_REJECTED: 22,
        cat.CALLS_VERIFIED: 87,
        cat.CALLS_UNVERIFIED: 36,
        cat.CALLS_OUTSIDE_HOURS: 12,
        cat.SESSIONS_SHOWN: 82,
        cat.SESSIONS_DELETED: 146,
    }
    f.by_purpose = {
        cat.SESSIONS_STARTED: {"demo": 110, "belastingen": 36, "other": 0},
        cat.DISCLOSURE_ACCEPTED: {"demo": 90, "belastingen": 34, "other": 0},
        cat.CALLS_VERIFIED: {"demo": 67, "belastingen": 20, "other": 0},
        cat.SESSIONS_SHOWN: {"demo": 63, "belastingen": 19, "other": 0},
    }
    f.rejected = {
        "cancelled": 8,
        "timeout": 10,
        "invalid_proof": 4,
        "missing_attributes": 0,
        "result_expired": 0,
        "other": 0,
    }
    f.unverified = {"invalid_input": 30, "not_found": 3, "not_verified": 3, "rate_limited": 0, "other": 0}
    f.deleted = {"completed": 64, "cleared": 18, "hung_up": 5, "expired": 59, "other": 0}
    f.histograms = {
        cat.TIME_TO_DISCLOSURE: [34, 53, 25, 12, 0],
        cat.TIME_TO_CALL: [47, 25, 9, 6, 0],
        cat.RECORD_AGE: [10, 72, 5, 0, 59],
    }
    f.samples = {cat.TIME_TO_DISCLOSURE: 124, cat.TIME_TO_CALL: 87, cat.RECORD_AGE: 146}
    f.max_age = 3840
    return f


def test_the_report_page_renders_accessibly(browser: Browser, tmp_path: Path) -> None:
    missing = [p for p in (Path(CHROMIUM), AXE) if not p.exists()]
    assert not missing, f"browser test prerequisites missing: {missing}; run `make system-deps widget-deps`"
    report = build(_figures(), k=5)
    assert report.decision.hidden, "small cells expected on this page"
    page_file = tmp_path / "demodorp-2026-11.html"
    page_file.write_text(render(report), encoding="utf-8")

    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="nl-NL", offline=True)
    try:
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.goto(page_file.as_uri())
        assert console == []  # no CSP violation, no error: the page needs nothing it does not carry

        charts = page.locator("figure svg[role=img]")
        assert charts.count() == CHARTS
        for i in range(CHARTS):
            chart = charts.nth(i)
            title_id, desc_id = (chart.get_attribute("aria-labelledby") or "").split()
            title = (chart.locator(f"title#{title_id}").text_content() or "").strip()
            desc = (chart.locator(f"desc#{desc_id}").text_content() or "").strip()
            assert title and desc.endswith(".")
            assert page.get_by_role("img", name=title).count() == 1  # the browser's accessible name
            box = chart.bounding_box()
            assert box is not None and box["width"] > 400 and box["height"] > 80  # drawn, not collapsed
            assert chart.locator("rect").count() >= 1
        assert page.locator("figure figcaption").count() == CHARTS
        assert page.locator("table caption").count() >= 8  # the charts' numbers as text
        assert page.get_by_text("niet getoond", exact=True).count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.locator("h1").inner_text() == "Evaluatie ID-bellen met Yivi"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF")
    finally:
        context.close()

    # axe-core needs script injection, which the page's own CSP forbids: a context that bypasses it.
    axe_context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="nl-NL", bypass_csp=True)
    try:
        page = axe_context.new_page()
        page.goto(page_file.as_uri())
        assert run_axe(page) == []
        page.set_viewport_size({"width": 390, "height": 800})  # a phone: charts scale, tables wrap
        assert run_axe(page) == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        axe_context.close()
