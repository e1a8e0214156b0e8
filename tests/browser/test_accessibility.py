"""WCAG 2.1 AA checks with axe-core (npm, pinned) injected into both pages in each of their states, and
keyboard-only use. axe is injected with bypass_csp (our CSP forbids injected scripts, as it should); the
CSP itself is exercised by the other browser tests."""

from __future__ import annotations

from playwright.sync_api import Frame, Page

from devstack.serve import ServeApp
from tests.browser.conftest import Session, run_axe
from tests.browser.flow import (
    accept_next,
    citizen_status,
    clear_contact,
    open_workspace,
    panel_state,
    start_citizen,
    verified_call_waiting,
    wallet_answer,
)


def _widget_frame(ccp: Page) -> Frame:
    frame = ccp.frame(url=lambda u: "/agent/sim.html" in u)
    assert frame is not None
    return frame


def _assert_no_violations(target: Page | Frame, where: str) -> None:
    violations = run_axe(target)
    assert violations == [], f"{where}: {violations}"


def test_axe_harness_reports_violations(axe_web: Session) -> None:
    """The checks above can fail: a low-contrast, unlabelled control is reported."""
    page = axe_web.page("/citizen/index.html")
    page.locator("#call:enabled").wait_for()
    page.evaluate(
        """() => { const b = document.getElementById('call'); b.textContent = '';
                   b.style.color = '#777'; b.style.background = '#888'; }"""
    )
    ids = {v["id"] for v in run_axe(page)}
    assert "button-name" in ids


def test_citizen_page_meets_wcag21_aa(axe_web: Session) -> None:
    page = axe_web.page("/citizen/index.html")
    page.locator("#call:enabled").wait_for()
    _assert_no_violations(page, "citizen start")
    page = start_citizen(axe_web)
    _assert_no_violations(page, "citizen QR")
    wallet_answer(axe_web)
    citizen_status(page, "DISCLOSED")
    page.locator(".dial-code").wait_for()
    _assert_no_violations(page, "citizen disclosed")


def test_agent_panel_meets_wcag21_aa(axe_web: Session, served: ServeApp) -> None:
    ccp, panel = open_workspace(axe_web)
    panel_state(panel, "idle")
    _assert_no_violations(_widget_frame(ccp), "panel idle")

    verified_call_waiting(axe_web)
    accept_next(ccp)
    panel_state(panel, "verified")
    _assert_no_violations(_widget_frame(ccp), "panel verified")
    panel.locator(".lang-switch").click()
    _assert_no_violations(_widget_frame(ccp), "panel verified, English")
    clear_contact(ccp, panel)
    _assert_no_violations(_widget_frame(ccp), "panel cleared")

    ccp.locator("#call-unverified").click()
    accept_next(ccp)
    panel_state(panel, "not_verified")
    _assert_no_violations(_widget_frame(ccp), "panel not verified")
    clear_contact(ccp, panel)

    axe_web.context.route("**/agent/disclosure", lambda r: r.fulfill(status=502, body="{}"))
    verified_call_waiting(axe_web)
    accept_next(ccp)
    panel_state(panel, "error")
    _assert_no_violations(_widget_frame(ccp), "panel error")
    clear_contact(ccp, panel)

    axe_web.context.route("**/agent/disclosure", lambda r: r.fulfill(status=404, body='{"error":"not_found"}'))
    verified_call_waiting(axe_web)
    accept_next(ccp)
    panel_state(panel, "expired")
    _assert_no_violations(_widget_frame(ccp), "panel expired")
    clear_contact(ccp, panel)


def _focused(target: Page | Frame) -> str:
    return str(
        target.evaluate(
            "() => { const e = document.activeElement; return e ? (e.id || e.className || e.tagName) : ''; }"
        )
    )


def _has_focus_ring(target: Page | Frame) -> bool:
    return bool(
        target.evaluate(
            """() => { const s = getComputedStyle(document.activeElement);
                       return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"""
        )
    )


def test_citizen_page_by_keyboard_only(web: Session) -> None:
    page = web.page("/citizen/index.html")
    page.locator("#call:enabled").wait_for()
    # two municipalities in the dev stack: the municipality and purpose choices come first (issue 14;
    # tests/browser/test_tenant_picker.py), each with a visible focus ring
    for control in ("tenant", "purpose"):
        page.keyboard.press("Tab")
        assert _focused(page) == control
        assert _has_focus_ring(page)
    page.keyboard.press("Tab")
    assert _focused(page) == "call"
    assert _has_focus_ring(page)
    page.keyboard.press("Enter")
    citizen_status(page, "PENDING")
    assert _focused(page) == "status-text", "focus moves to the status the page now shows"
    wallet_answer(web, decline=True)
    citizen_status(page, "FAILED")
    page.locator("#again").focus()
    page.keyboard.press("Enter")
    citizen_status(page, "PENDING")


def test_agent_panel_by_keyboard_only(web: Session) -> None:
    web.context.route("**/agent/disclosure", lambda r: r.fulfill(status=500, body="{}"))
    verified_call_waiting(web)
    ccp, panel = open_workspace(web)
    accept_next(ccp)
    panel_state(panel, "error")
    frame = _widget_frame(ccp)
    web.context.unroute("**/agent/disclosure")
    ccp.locator("#reload").focus()  # the workspace's last control before the panel
    ccp.keyboard.press("Tab")
    assert "lang-switch" in _focused(frame), "Tab goes from the workspace into the panel"
    assert _has_focus_ring(frame)
    frame.page.keyboard.press("Enter")
    assert panel.locator(".banner-heading").inner_text() == "Could not fetch the data"
    frame.page.keyboard.press("Tab")
    assert "retry" in _focused(frame)
    assert _has_focus_ring(frame)
    frame.page.keyboard.press("Enter")
    panel_state(panel, "verified")
    clear_contact(ccp, panel)
