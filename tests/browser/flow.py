"""Steps of a call as a person does them in the three pages of `make serve`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import FrameLocator, Page

from tests.browser.conftest import WAIT_MS, Session

PHONE_NUMBER = "+31141234567"  # devstack.stack.PHONE_NUMBER


def eventually(check: Callable[[], Any], what: str, limit_s: float = WAIT_MS / 1000) -> Any:
    """Waits (bounded) for a backend-side condition that follows a browser action asynchronously."""
    end = time.monotonic() + limit_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.1)


def citizen_status(page: Page, status: str) -> None:
    page.locator(f"body[data-status='{status}']").wait_for()


def start_citizen(web: Session, purpose: str | None = None) -> Page:
    page = web.page("/citizen/index.html" + (f"?purpose={purpose}" if purpose else ""))
    page.locator("#call:enabled").click()
    citizen_status(page, "PENDING")
    page.locator("#yivi-web-form canvas").wait_for()
    return page


def wallet_answer(web: Session, decline: bool = False) -> Page:
    wallet = web.page("/dev/wallet.html")
    wallet.locator("#sessions li").first.locator("button.decline" if decline else "button.disclose").click()
    if decline:
        wallet.get_by_text("Geweigerd").wait_for()
    else:
        wallet.locator("#dial").wait_for(state="visible")
    return wallet


def wallet_dial(wallet: Page) -> None:
    wallet.locator("#dial").click()
    wallet.get_by_text("Gebeld").wait_for()


def open_workspace(web: Session) -> tuple[Page, FrameLocator]:
    ccp = web.page("/dev/ccp.html")
    return ccp, ccp.frame_locator("#widget-frame")


def panel_state(panel: FrameLocator, state: str) -> None:
    panel.locator(f"#panel[data-state='{state}']").wait_for()


def accept_next(ccp: Page) -> None:
    ccp.locator("#queue button.accept").first.click()
    ccp.locator("body:not([data-current-contact=''])").wait_for()


def clear_contact(ccp: Page, panel: FrameLocator) -> None:
    ccp.locator("#clear").click()
    panel_state(panel, "cleared")
    ccp.locator("body[data-current-contact='']").wait_for()


def verified_call_waiting(web: Session, purpose: str | None = None) -> tuple[Page, Page]:
    """Citizen starts, the demo wallet discloses and dials: the call waits in the queue."""
    citizen = start_citizen(web, purpose)
    wallet = wallet_answer(web)
    citizen_status(citizen, "DISCLOSED")
    wallet_dial(wallet)
    citizen_status(citizen, "CALLED")
    return citizen, wallet


def panel_html(panel: FrameLocator) -> str:
    return str(panel.locator("html").evaluate("e => e.outerHTML"))
