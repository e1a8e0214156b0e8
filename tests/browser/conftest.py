"""Browser tests: `make serve`'s composition (DevStack + devstack.serve) driven by Playwright in Debian's
Chromium. Every test page is watched: console messages are collected, and after each test every
browser storage is checked for the canary values the demo wallet disclosed. Every request any page of
any test makes is logged for the whole run (`RequestLog`): after each test and once more at the end of
the run, no URL may hold a session id, a DTMF code or a secret our API handed out, or a canary value.

Needs /usr/bin/chromium (`make system-deps`) and widget/dist (`make widget-build`); `make test` runs both.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Frame,
    Page,
    Request,
    Response,
    sync_playwright,
)

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
class RequestLog:
    """Every URL every page of the run requested, and the values our API handed out that must never be
    in a URL: session ids and DTMF codes (from our API's answers), secrets (from the panel's requests)."""

    urls: list[tuple[str, str]] = field(default_factory=list)  # (test, url)
    values: dict[str, set[str]] = field(default_factory=lambda: {"session_id": set(), "dtmf": set(), "secret": set()})
    canaries: set[str] = field(default_factory=set)
    test: str = ""

    def watch(self, context: BrowserContext, api_base: str) -> None:
        self.api_base = api_base
        context.on("request", self._on_request)
        context.on("response", lambda response: self._on_response(response, api_base))

    def _on_request(self, request: Request) -> None:
        self.urls.append((self.test, request.url))
        body = request.post_data
        if body and body.startswith("{"):
            try:
                secret = json.loads(body).get("secret")
            except (ValueError, AttributeError):
                secret = None
            if isinstance(secret, str) and secret:
                self.values["secret"].add(secret)

    def _on_response(self, response: Response, api_base: str) -> None:
        if not response.url.startswith(api_base) or "json" not in (response.headers.get("content-type") or ""):
            return
        try:
            data = response.json()
        except Exception:  # a body the page never read, or not JSON after all
            return
        if isinstance(data, dict):
            for key, kind in (("session_id", "session_id"), ("dtmf", "dtmf")):
                value = data.get(key)
                if isinstance(value, str) and value:
                    self.values[kind].add(value)

    api_base: str = ""

    def _allowed(self, kind: str, value: str, url: str) -> bool:
        """A session id is the status handle of our own API: in the path of `/sessions/{id}` (and its
        `/complete`), nowhere else (never a query, a page URL or another origin). Codes, secrets and
        canaries: nowhere."""
        if kind != "session_id" or not url.startswith(self.api_base):
            return False
        parts = urlsplit(url)
        in_path = parts.path in (f"/sessions/{value}", f"/sessions/{value}/complete")
        return in_path and value not in parts.query and value not in parts.fragment

    def leaks(self, only_test: str | None = None) -> list[str]:
        found = []
        forbidden = [(kind, v) for kind, vs in self.values.items() for v in vs] + [("canary", c) for c in self.canaries]
        for test, url in self.urls:
            if only_test is not None and test != only_test:
                continue
            found += [
                f"{kind} in {url} ({test})"
                for kind, value in forbidden
                if value in url and not self._allowed(kind, value, url)
            ]
        return found


REQUESTS = RequestLog()


@pytest.fixture(scope="package", autouse=True)
def request_log() -> Iterator[RequestLog]:
    """The run-wide request log; its final check runs once every browser test is done."""
    yield REQUESTS
    assert REQUESTS.leaks() == [], "a value reached a URL"
    # not blind: what the run did, the log saw
    if any(url.endswith("/sessions") for _, url in REQUESTS.urls):
        assert REQUESTS.values["session_id"], "sessions were started but no session id was seen"
    if any(url.endswith("/agent/disclosure") for _, url in REQUESTS.urls):
        assert REQUESTS.values["secret"], "the panel read a disclosure but no secret was seen"
        assert REQUESTS.values["dtmf"], "a call was verified but no citizen status view showed a code"


@pytest.fixture(autouse=True)
def _request_log_test(request: pytest.FixtureRequest) -> None:
    REQUESTS.test = request.node.nodeid


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
    REQUESTS.canaries.update(c.values())
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
    REQUESTS.watch(context, served.url)
    session = Session(context, served.url)
    yield session
    for contact in served.queue():  # a failed test must not leave calls for the next one
        served.complete(contact["contact_id"])
    try:
        assert_nothing_kept(session, request.node.stash.get(CANARY, None))
        assert REQUESTS.leaks(only_test=request.node.nodeid) == [], "a value reached a URL"
    finally:
        context.close()


@pytest.fixture
def axe_web(served: ServeApp, browser: Browser) -> Iterator[Session]:
    """A context that lets the test inject axe-core (bypass_csp only for this injection)."""
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="nl-NL", bypass_csp=True)
    context.set_default_timeout(WAIT_MS)
    REQUESTS.watch(context, served.url)
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
