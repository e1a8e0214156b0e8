"""A simulated agent's desktop (widget/dev/ccp.html?agent=…&entry=…) as a person clicks it, and the
server-side facts the lifecycle tests compare with what the agent sees."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from idbellen.sessions import session_pk
from playwright.sync_api import FrameLocator, Locator, Page

from devstack.serve import ServeApp
from tests.browser.conftest import Session


class Desk:
    """One simulated agent working in one entry: "app" (agent workspace) or "streams" (Streams CCP)."""

    def __init__(self, web: Session, agent: str, entry: str, **extra: str) -> None:
        self.agent = agent
        self.entry = entry
        self.page: Page = web.page("/dev/ccp.html?" + urlencode({"agent": agent, "entry": entry, **extra}))
        self.page.locator("#agent-name", has_text=agent).wait_for()

    # -- what the agent sees -----------------------------------------------------------------------
    def row(self, contact_id: str) -> Locator:
        return self.page.locator(f"#mine li[data-contact='{contact_id}']")

    def frame_element(self, contact_id: str) -> Locator:
        if self.entry == "streams":
            return self.page.locator("#widget-frame")
        return self.page.locator(f"iframe.app-frame[data-contact='{contact_id}']")

    def panel(self, contact_id: str) -> FrameLocator:
        """The panel showing this contact: its app instance (workspace) or the one Streams page."""
        if self.entry == "streams":
            return self.page.frame_locator("#widget-frame")
        return self.page.frame_locator(f"iframe.app-frame[data-contact='{contact_id}']")

    def panel_state(self, contact_id: str, state: str) -> None:
        self.panel(contact_id).locator(f"#panel[data-state='{state}']").wait_for()

    def panel_html(self, contact_id: str) -> str:
        return str(self.panel(contact_id).locator("html").evaluate("e => e.outerHTML"))

    # -- what the agent (and Connect's routing) does ------------------------------------------------
    def _state(self, contact_id: str, state: str) -> None:
        self.page.locator(f"#mine li[data-contact='{contact_id}'][data-state='{state}']").wait_for()

    def _gone(self, contact_id: str) -> None:
        self.row(contact_id).wait_for(state="detached")

    def offer(self, contact_id: str) -> None:
        """Connect routes the queued contact to this agent: it rings."""
        self.page.locator(f"#queue li[data-contact='{contact_id}'] button.offer").click()
        self._state(contact_id, "offered")

    def ringing(self, contact_id: str) -> None:
        """A contact Connect routed here (a transfer): wait until it rings at this agent."""
        self._state(contact_id, "offered")

    def accept(self, contact_id: str) -> None:
        self.row(contact_id).locator("button.accept").click()
        self._state(contact_id, "connected")

    def reject(self, contact_id: str) -> None:
        self.row(contact_id).locator("button.reject").click()
        self._gone(contact_id)

    def miss(self, contact_id: str) -> None:
        self.row(contact_id).locator("button.miss").click()
        self._gone(contact_id)

    def hang_up(self, contact_id: str) -> None:
        self.row(contact_id).locator("button.hangup").click()
        self._state(contact_id, "acw")

    def finish(self, contact_id: str) -> None:
        """After-contact work done: the agent clears the contact."""
        self.row(contact_id).locator("button.complete").click()
        self._gone(contact_id)

    def transfer(self, contact_id: str, to: str, warm: bool = False) -> None:
        self.page.locator("#transfer-to").fill(to)
        self.row(contact_id).locator("button.consult" if warm else "button.transfer").click()
        if not warm:
            self._state(contact_id, "acw")

    def monitor(self, contact_id: str) -> None:
        self.page.locator(f"#others li[data-contact='{contact_id}'] button.monitor").click()
        self.page.locator(f"#mine li[data-contact='{contact_id}'][data-role='monitoring']").wait_for()

    def stop_monitoring(self, contact_id: str) -> None:
        self.row(contact_id).locator("button.unmonitor").click()
        self._gone(contact_id)

    def close_tab(self, contact_id: str) -> None:
        self.row(contact_id).locator("button.close-tab").click()
        self.frame_element(contact_id).wait_for(state="detached")

    def open_tab(self, contact_id: str) -> None:
        self.row(contact_id).locator("button.open-tab").click()
        self.frame_element(contact_id).wait_for(state="attached")

    def reload_panel(self) -> None:
        self.page.locator("#reload").click()


def queued_call(served: ServeApp) -> tuple[str, str]:
    """A verified call waiting in the queue (the citizen's steps done server side): (contact id, session pk)."""
    stack = served.stack
    status, body = stack.api("POST", "/sessions", {"purpose": "demo"})
    assert status == 201, body
    tel = stack.wallet.disclose(body["sessionPtr"], served.credentials)
    assert tel, "the demo wallet did not disclose"
    contact_id = served.place_call(tel.split(",", 1)[1])
    return contact_id, session_pk(body["session_id"])


def session_items(served: ServeApp, pk: str) -> list[dict[str, Any]]:
    """What is left in the table of this session: its own items and every pointer to it."""
    return [i for i in served.stack.table_items() if pk in (i.get("pk"), i.get("session_pk"))]


def agent_calls(served: ServeApp, agent: str, since: int = 0) -> list[str]:
    """The agent routes this simulated agent's panels called, in order."""
    return [path for who, path in served.dev.agent_calls[since:] if who == agent]
