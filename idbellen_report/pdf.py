"""PDF from the HTML page with headless Chromium's print (Debian's chromium, driven by Playwright, as
the browser tests do). Optional: the HTML page is the report; the PDF is a convenience for archiving."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


def html_to_pdf(pages: list[Path]) -> list[Path]:
    """One PDF next to each HTML file (same name, .pdf). Offline: the pages load nothing."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(offline=True)
            for html in pages:
                page = context.new_page()
                page.goto(html.resolve().as_uri())
                target = html.with_suffix(".pdf")
                page.pdf(path=str(target), format="A4", print_background=True, prefer_css_page_size=True)
                page.close()
                out.append(target)
        finally:
            browser.close()
    return out
