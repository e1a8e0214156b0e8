"""Browser tests: `make serve`'s composition (DevStack + devstack.serve) driven by Playwright in Debian's
Chromium. Every test page is watched: console messages are collected, and after each test every
browser storage is checked for the canary values the demo wallet disclosed.

Needs /usr/bin/chromium (`make system-deps`) and widget/dist (`make widget-build`); `make test` runs both.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Frame, Page, sync_playwright

from devstack import DevStack
from devstack.serve import ServeApp

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"
WAIT_MS = 45_000  # an upper bound for things to appear, never an assertion about speed


@pytest.fixture(scope="package")  # closed before other test packages start their own DevStack
def served() -> Iterator[ServeApp]:
    missing = [p for p in (Path(CHROMIUM), ROOT / "widget" / "dist" / "csp.json", AXE) if not p.exists()]
    if missing:
        pytest.fail(f"browser test prerequisites missing: {missing}; run `make system-deps widget-build`")
    with DevStack() as stack:
        app = ServeApp(stack).start()
        try:
            yield app
        finally:
            app.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Canary:
    """Unique fake attribute values for one test, so that any leak of them can be found."""

    bsn: str
    name: str

    def values(self) -> list[str]:
        return [self.bsn, self.name]


CANARY = pytest.StashKey["Canary"]()


@pytest.fixture
def canary(served: ServeApp, request: pytest.FixtureRequest) -> Canary:
    c = Canary(bsn=f"99999{secrets.randbelow(10_000):04d}", name=f"Kanarie {secrets.token_hex(4)}")
    served.credentials["pbdf.gemeente.personalData.bsn"] = c.bsn
    served.credentials["pbdf.gemeente.personalData.fullname"] = c.name
    request.node.stash[CANARY] = c  # read by the `web` fixture's checks after the test
    return c


@dataclass
class Session:
    """A browser context for one test, with everything the pages wrote to the console."""

    context: BrowserContext
    base: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def page(self, path: str) -> Page:
        page = self.context.new_page()
        page.on("console", self._on_console)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.goto(self.base + path)
        return page

    def _on_console(self, msg: ConsoleMessage) -> None:
        self.console.append(f"{msg.type}: {msg.text}")


def _storage_dump(frame: Frame) -> dict[str, Any]:
    return frame.evaluate(
        """async () => {
            const dump = {local: {}, session: {}, cookie: document.cookie, idb: [], caches: []};
            for (let i = 0; i < localStorage.length; i++) {
                const k = localStorage.key(i); dump.local[k] = localStorage.getItem(k);
            }
            for (let i = 0; i < sessionStorage.length; i++) {
                const k = sessionStorage.key(i); dump.session[k] = sessionStorage.getItem(k);
            }
            if (indexedDB.databases) dump.idb = (await indexedDB.databases()).map(d => d.name);
            if (self.caches) dump.caches = await caches.keys();
            dump.url = location.href;
            return dump;
        }"""
    )


def assert_nothing_kept(session: Session, canary: Canary | None) -> None:
    """No browser storage of any kind is used, and no canary is in the console or in a URL."""
    assert session.context.cookies() == []
    for page in session.context.pages:
        for frame in page.frames:
            if frame.url.startswith(("about:", "data:")) or not frame.url:
                continue
            dump = _storage_dump(frame)
            assert dump["local"] == {}, f"localStorage used by {frame.url}"
            assert dump["session"] == {}, f"sessionStorage used by {frame.url}"
            assert dump["cookie"] == "", f"cookies set by {frame.url}"
            assert dump["idb"] == [], f"IndexedDB used by {frame.url}"
            assert dump["caches"] == [], f"Cache Storage used by {frame.url}"
            if canary:
                for value in canary.values():
                    assert value not in dump["url"]
    if canary:
        for line in session.console:
            for value in canary.values():
                assert value not in line, "a canary value reached the console"
    csp = [line for line in session.console if "Content Security Policy" in line]
    assert csp == [], f"CSP violations: {csp}"
    assert session.errors == [], f"uncaught page errors: {session.errors}"


@pytest.fixture
def web(served: ServeApp, browser: Browser, request: pytest.FixtureRequest) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="nl-NL")
    context.set_default_timeout(WAIT_MS)
    session = Session(context, served.url)
    yield session
    for contact in served.queue():  # a failed test must not leave calls for the next one
        served.complete(contact["contact_id"])
    try:
        assert_nothing_kept(session, request.node.stash.get(CANARY, None))
    finally:
        context.close()


@pytest.fixture
def axe_web(served: ServeApp, browser: Browser) -> Iterator[Session]:
    """A context that lets the test inject axe-core (bypass_csp only for this injection)."""
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="nl-NL", bypass_csp=True)
    context.set_default_timeout(WAIT_MS)
    try:
        yield Session(context, served.url)
    finally:
        context.close()


def shot(target: Page | Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if isinstance(target, Page):
        target.screenshot(path=str(path), full_page=True)
    else:
        target.screenshot(path=str(path))
    return path


def run_axe(frame: Page | Frame) -> list[dict[str, Any]]:
    """axe-core (npm, pinned in widget/package.json) against WCAG 2.1 A + AA; returns the violations."""
    frame.add_script_tag(path=str(AXE))
    result = frame.evaluate(
        """async () => (await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
        })).violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                  nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
    return list(result)
