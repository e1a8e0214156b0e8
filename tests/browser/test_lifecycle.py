"""The contact lifecycle as Amazon Connect produces it, driven in Chromium through the simulated desktop
(widget/dev/ccp.html) against both panel entries: the agent workspace app (per-contact instances,
@amazon-connect/app + contact event names) and the Streams CCP page (amazon-connect-streams contact
events). Each test asserts what each agent sees, which agent routes each agent's panel called, and what
is left in the table. The server side of the same sequences: tests/e2e/test_lifecycle.py.

Connect's COMPLETED contact events are switched off in most tests (`served.contact_events`), so that what
the table shows after a clear is the panel's own doing: the clear of this agent's segment, bound to the
contact and the agent.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.serve import ServeApp
from tests.browser.conftest import Canary, Session, shot
from tests.browser.desk import Desk, agent_calls, queued_call, session_items
from tests.browser.flow import eventually

AGENT = "agent.een@gemeente.example"
OTHER = "agent.twee@gemeente.example"
SUPERVISOR = "teamleider@gemeente.example"
ENTRIES = ["app", "streams"]


@pytest.fixture
def no_contact_events(served: ServeApp) -> Iterator[None]:
    served.contact_events = False
    try:
        yield
    finally:
        served.contact_events = True


def _no_values(desk: Desk, contact_id: str, canary: Canary) -> None:
    html = desk.panel_html(contact_id)
    for value in canary.values():
        assert value not in html


def _shows(desk: Desk, contact_id: str, canary: Canary) -> None:
    desk.panel_state(contact_id, "verified")
    values = desk.panel(contact_id).locator(".attribute-value")
    assert values.nth(0).inner_text() == canary.bsn
    assert values.nth(1).inner_text() == canary.name


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("how", ["missed", "rejected"])
def test_an_offer_that_is_not_taken_shows_nothing_and_changes_nothing(
    web: Session, canary: Canary, served: ServeApp, entry: str, how: str
) -> None:
    desk = Desk(web, AGENT, entry)
    contact, pk = queued_call(served)
    start = len(served.dev.agent_calls)
    desk.offer(contact)
    desk.panel_state(contact, "idle")  # ringing: nothing fetched, nothing shown
    shot(desk.page, f"lifecycle-{entry}-offer")
    desk.miss(contact) if how == "missed" else desk.reject(contact)
    assert agent_calls(served, AGENT, start) == []  # no read, and no clear either
    assert len(session_items(served, pk)) == 4
    # the caller is back in the queue; the next agent takes it and sees the data
    other = Desk(web, OTHER, entry)
    other.page.locator(f"#queue li[data-contact='{contact}'] button.accept").click()
    _shows(other, contact, canary)
    desk.panel_state(contact, "idle")
    _no_values(desk, contact, canary)


@pytest.mark.parametrize("entry", ENTRIES)
def test_offer_accepted_after_contact_work_cleared(
    web: Session, canary: Canary, served: ServeApp, entry: str, no_contact_events: None
) -> None:
    desk = Desk(web, AGENT, entry)
    contact, pk = queued_call(served)
    start = len(served.dev.agent_calls)
    desk.offer(contact)
    desk.panel_state(contact, "idle")
    desk.accept(contact)
    _shows(desk, contact, canary)
    shot(desk.page, f"lifecycle-{entry}-accepted")
    desk.hang_up(contact)  # after-contact work: the data stays for the agent's notes
    _shows(desk, contact, canary)
    assert len(session_items(served, pk)) == 4
    desk.finish(contact)
    desk.panel_state(contact, "cleared")
    _no_values(desk, contact, canary)
    # no COMPLETED event was sent: the panel's clear ended the call's only segment
    eventually(lambda: session_items(served, pk) == [], "the panel's clear deleted the session")
    assert agent_calls(served, AGENT, start) == ["/agent/disclosure", "/agent/clear"]


@pytest.mark.parametrize("entry", ENTRIES)
def test_cold_transfer_to_another_agent(
    web: Session, canary: Canary, served: ServeApp, entry: str, no_contact_events: None
) -> None:
    first, second = Desk(web, AGENT, entry), Desk(web, OTHER, entry)
    contact, pk = queued_call(served)
    start = len(served.dev.agent_calls)
    first.offer(contact)
    first.accept(contact)
    _shows(first, contact, canary)
    first.transfer(contact, OTHER)  # the first agent leaves at once: after-contact work
    segment = second.page.locator("#mine li[data-state='offered']").first.get_attribute("data-contact")
    assert segment and segment != contact
    second.panel_state(segment, "idle")  # ringing at the second agent: nothing yet
    first.finish(contact)  # the first agent's segment ends
    first.panel_state(contact, "cleared")
    assert len(session_items(served, pk)) == 4  # the caller is still on the line
    second.accept(segment)
    _shows(second, segment, canary)
    shot(second.page, f"lifecycle-{entry}-transferred")
    second.hang_up(segment)
    second.finish(segment)
    second.panel_state(segment, "cleared")
    eventually(lambda: session_items(served, pk) == [], "the last segment's clear deleted the session")
    assert agent_calls(served, AGENT, start) == ["/agent/disclosure", "/agent/clear"]
    assert agent_calls(served, OTHER, start) == ["/agent/disclosure", "/agent/clear"]


@pytest.mark.parametrize("entry", ENTRIES)
def test_warm_transfer_both_agents_on_the_call(
    web: Session, canary: Canary, served: ServeApp, entry: str, no_contact_events: None
) -> None:
    first, second = Desk(web, AGENT, entry), Desk(web, OTHER, entry)
    contact, pk = queued_call(served)
    first.offer(contact)
    first.accept(contact)
    _shows(first, contact, canary)
    first.transfer(contact, OTHER, warm=True)  # consult: the first agent stays on the call
    segment = second.page.locator("#mine li[data-state='offered']").first.get_attribute("data-contact")
    assert segment
    second.accept(segment)
    _shows(second, segment, canary)
    _shows(first, contact, canary)  # both see it while both are on the call
    first.hang_up(contact)
    first.finish(contact)
    first.panel_state(contact, "cleared")
    assert len(session_items(served, pk)) == 4
    _shows(second, segment, canary)
    second.hang_up(segment)
    second.finish(segment)
    eventually(lambda: session_items(served, pk) == [], "the last segment's clear deleted the session")


def test_app_tab_closed_and_reopened(web: Session, canary: Canary, served: ServeApp) -> None:
    """Closing the app's tab is not the end of the contact: nothing is sent, nothing deleted; the
    reopened tab (a new app instance) shows the data again."""
    desk = Desk(web, AGENT, "app")
    contact, pk = queued_call(served)
    desk.offer(contact)
    desk.accept(contact)
    _shows(desk, contact, canary)
    start = len(served.dev.agent_calls)
    desk.close_tab(contact)
    assert agent_calls(served, AGENT, start) == []
    assert len(session_items(served, pk)) == 4
    desk.open_tab(contact)
    _shows(desk, contact, canary)
    assert agent_calls(served, AGENT, start) == ["/agent/disclosure"]
    desk.hang_up(contact)
    desk.finish(contact)
    eventually(lambda: session_items(served, pk) == [], "cleared")


def test_streams_page_reloaded_mid_call(web: Session, canary: Canary, served: ServeApp) -> None:
    """The Streams equivalent: the page reloads, Streams re-delivers the connected contact (INIT, then
    CONNECTED) and the panel shows it again; nothing was cleared meanwhile."""
    desk = Desk(web, AGENT, "streams")
    contact, pk = queued_call(served)
    desk.offer(contact)
    desk.accept(contact)
    _shows(desk, contact, canary)
    start = len(served.dev.agent_calls)
    desk.reload_panel()
    _shows(desk, contact, canary)
    assert agent_calls(served, AGENT, start) == ["/agent/disclosure"]
    assert len(session_items(served, pk)) == 4
    desk.hang_up(contact)
    desk.finish(contact)
    eventually(lambda: session_items(served, pk) == [], "cleared")


@pytest.mark.parametrize("entry", ENTRIES)
def test_supervisor_monitoring_sees_nothing_and_ends_nothing(
    web: Session, canary: Canary, served: ServeApp, entry: str
) -> None:
    desk, supervisor = Desk(web, AGENT, entry), Desk(web, SUPERVISOR, entry)
    contact, pk = queued_call(served)
    start = len(served.dev.agent_calls)
    desk.offer(contact)
    desk.accept(contact)
    _shows(desk, contact, canary)
    supervisor.monitor(contact)
    supervisor.panel_state(contact, "idle")
    _no_values(supervisor, contact, canary)
    supervisor.stop_monitoring(contact)
    assert agent_calls(served, SUPERVISOR, start) == []  # no read, no clear
    assert len(session_items(served, pk)) == 4
    _shows(desk, contact, canary)


@pytest.mark.parametrize("fail", ["client", "attributes"])
def test_a_failure_in_on_create_does_not_close_the_app(
    web: Session, canary: Canary, served: ServeApp, fail: str
) -> None:
    """The workspace closes an app whose onCreate throws (LifecycleManager, isFatal): the panel catches
    every failure there and shows the contact error instead."""
    desk = Desk(web, AGENT, "app", fail=fail)
    contact, pk = queued_call(served)
    desk.offer(contact)
    desk.accept(contact)
    desk.panel_state(contact, "error")
    assert desk.page.locator("#widget-host").get_attribute("data-apps-closed-by-workspace") is None
    assert desk.frame_element(contact).count() == 1
    _no_values(desk, contact, canary)
    assert len(session_items(served, pk)) == 4
