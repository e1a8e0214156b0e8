"""Several municipalities in `make serve` (issue 14): the citizen page picks the municipality it calls
(`GET /tenants`, `POST /sessions {purpose, tenant}`), the demo wallet's call arrives on that tenant's
number, and the simulated desktop of each tenant's dev agent (signed in at that tenant's dev IdP,
`?tenant=`) shows only the contacts on its own tenant's instance. The agent API sees only the claims
that IdP's token carries; the server-side isolation proofs are tests/tenancy/test_isolation.py.

The `web` fixture checks after each test that no canary value reached a URL, the console or any
browser storage.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from devstack.connect_standin import instance_id
from devstack.serve import ServeApp
from tests.browser.conftest import Canary, Session, run_axe, shot
from tests.browser.desk import Desk, agent_calls
from tests.browser.flow import citizen_status, eventually, wallet_answer, wallet_dial

POLLS_MS = 1_500  # three of the desktop's 500 ms polls: long enough for a wrongly routed contact to show


def _other(served: ServeApp, tenant: str) -> str:
    return next(t for t in served.stack.tenants if t != tenant)


def _pick(page: Page, served: ServeApp, tenant: str) -> None:
    """The citizen chooses the municipality by its name, as a person would."""
    page.get_by_label("Gemeente").select_option(label=served.stack.tenant_config[tenant].display_name)
    page.locator(f"body[data-tenant='{tenant}']").wait_for()


@pytest.mark.parametrize(
    ("tenant", "preselected"),
    [("demodorp", None), ("default", "demodorp")],  # picked from the default; the reverse after a ?tenant=
)
def test_a_call_reaches_only_the_chosen_municipality(
    web: Session, canary: Canary, served: ServeApp, tenant: str, preselected: str | None
) -> None:
    stack = served.stack
    other = _other(served, tenant)
    name = stack.tenant_config[tenant].display_name
    number = stack.tenant_config[tenant].phone_number

    # both municipalities' agents are signed in at their own IdP and waiting
    own = Desk(web, stack.dev_agents[tenant], "app", tenant=tenant)
    foreign = Desk(web, stack.dev_agents[other], "app", tenant=other)
    own.page.locator("#tenant-name", has_text=name).wait_for()
    start = len(served.dev.agent_calls)

    citizen = web.page("/citizen/index.html" + (f"?tenant={preselected}" if preselected else ""))
    citizen.locator("#call:enabled").wait_for()
    assert citizen.locator("#choice").is_visible(), "two municipalities: the page asks which one"
    assert citizen.locator("#tenant").input_value() == (preselected or stack.tenants[0])
    _pick(citizen, served, tenant)
    assert citizen.locator("#calling").inner_text() == f"U belt met {name}"
    assert citizen.get_by_label("Waar gaat uw vraag over?").input_value() == "demo"
    shot(citizen, f"tenant-{tenant}-1-picked")
    citizen.locator("#call").click()
    citizen_status(citizen, "PENDING")
    citizen.locator("#yivi-web-form canvas").wait_for()
    assert citizen.locator("#tenant").is_disabled(), "the choice is fixed while the session runs"

    wallet = wallet_answer(web)
    assert number in wallet.locator("#dial-out").inner_text(), "the app dials the chosen municipality"
    citizen_status(citizen, "DISCLOSED")
    assert citizen.locator(".dial-tenant").inner_text() == name
    assert citizen.locator(".dial-number").inner_text() == number, "the number of the chosen municipality"
    code = citizen.locator(".dial-code").inner_text().replace(" ", "")
    assert citizen.locator(".dial-link").get_attribute("href") == f"tel:{number},{code}"
    shot(citizen, f"tenant-{tenant}-2-disclosed")
    wallet_dial(wallet)
    citizen_status(citizen, "CALLED")

    # the call arrived on the chosen tenant's number and instance
    contact = eventually(lambda: [c for c in served.queue() if c["state"] == "queued"], "the call is queued")
    assert len(contact) == 1 and contact[0]["tenant"] == tenant
    contact_id = contact[0]["contact_id"]
    assert stack.contact_tenants[contact_id] == tenant
    assert stack.connect.instances[contact_id] == instance_id(stack.tenant_config[tenant].instance_arn)
    # Connect routes within the instance: the other tenant's agent cannot be offered it
    assert not served.act(contact_id, "offer", stack.dev_agents[other])

    own.page.locator(f"#queue li[data-contact='{contact_id}']").wait_for()
    own.offer(contact_id)
    own.accept(contact_id)
    own.panel_state(contact_id, "verified")
    values = own.panel(contact_id).locator(".attribute-value")
    assert values.nth(0).inner_text() == canary.bsn
    assert values.nth(1).inner_text() == canary.name
    citizen_status(citizen, "CONNECTED")
    shot(own.page, f"tenant-{tenant}-3-own-desk")

    # the other municipality's desktop never saw it: not queued, not offered, not a colleague's call
    foreign.page.wait_for_timeout(POLLS_MS)
    assert foreign.page.locator(f"[data-contact='{contact_id}']").count() == 0
    assert foreign.page.locator("#queue li").count() == 0
    assert foreign.page.locator("#others li").count() == 0
    for value in canary.values():
        assert value not in foreign.page.content()
    foreign.page.frame_locator("#widget-frame").locator("#panel[data-state='idle']").wait_for()
    shot(foreign.page, f"tenant-{tenant}-4-other-desk")
    # only the own tenant's agent read the disclosure; the other one made no agent request at all
    assert agent_calls(served, stack.dev_agents[tenant], start) == ["/agent/disclosure"]
    assert agent_calls(served, stack.dev_agents[other], start) == []

    own.hang_up(contact_id)
    own.finish(contact_id)
    own.panel_state(contact_id, "cleared")
    citizen_status(citizen, "done")


def test_the_agent_desktop_signs_in_at_the_chosen_municipality(web: Session, served: ServeApp) -> None:
    """The desktop's picker signs in that tenant's dev agent; its "call without Yivi" dials its number."""
    stack = served.stack
    ccp = web.page("/dev/ccp.html")
    ccp.locator("#agent-name", has_text=stack.dev_agents[stack.tenants[0]]).wait_for()
    choice = ccp.get_by_label("Aanmelden als agent van")
    choice.wait_for()
    for tenant in stack.tenants[1:]:
        choice.select_option(tenant)
        ccp.locator("#tenant-switch").click()
        ccp.locator("#agent-name", has_text=stack.dev_agents[tenant]).wait_for()
        ccp.locator(f"body[data-tenant='{tenant}']").wait_for()
        assert "agent=" not in ccp.url  # a new sign-in: that tenant's dev agent, no name carried over
        assert ccp.get_by_label("Aanmelden als agent van").input_value() == tenant
        ccp.locator("#call-unverified").click()
        row = ccp.locator("#queue li").first
        row.wait_for()
        contact_id = str(row.get_attribute("data-contact"))
        assert stack.contact_tenants[contact_id] == tenant
        served.complete(contact_id)


def test_municipality_choice_by_keyboard_with_labels(web: Session, served: ServeApp) -> None:
    stack = served.stack
    page = web.page("/citizen/index.html")
    page.locator("#call:enabled").wait_for()
    # every control has a visible label that names it (WCAG 1.3.1, 2.4.6, 4.1.2)
    assert page.get_by_label("Gemeente").get_attribute("id") == "tenant"
    assert page.get_by_label("Waar gaat uw vraag over?").get_attribute("id") == "purpose"
    assert page.get_by_role("group", name="Wie wilt u bellen?").is_visible()
    options = page.locator("#tenant option")
    assert options.all_inner_texts() == [stack.tenant_config[t].display_name for t in stack.tenants]
    assert page.locator("#purpose option").all_inner_texts() == [
        "Demo: vraag over uw gegevens",
        "Gemeentelijke belastingen",
    ]

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "tenant"
    page.keyboard.press("ArrowDown")  # a closed <select> changes its value with the arrow keys
    page.locator("body[data-tenant='demodorp']").wait_for()
    assert page.locator("#calling").inner_text() == f"U belt met {stack.tenant_config['demodorp'].display_name}"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "purpose"
    page.keyboard.press("ArrowDown")
    assert page.locator("#purpose").input_value() == "belastingen"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "call"
    page.keyboard.press("Enter")
    citizen_status(page, "PENDING")
    wallet = web.page("/dev/wallet.html")
    request = wallet.locator("#sessions li").first
    request.wait_for()
    assert "Gemeente Demodorp" in request.inner_text() and "belastingen" in request.inner_text()
    wallet_answer(web, decline=True)
    citizen_status(page, "FAILED")
    assert page.locator("#tenant").is_enabled(), "starting again may be for another municipality"

    # English labels too
    english = web.page("/citizen/index.html?lang=en&tenant=demodorp")
    english.locator("#call:enabled").wait_for()
    assert english.get_by_label("Municipality").input_value() == "demodorp"
    assert english.get_by_label("What is your question about?").input_value() == "demo"
    assert english.locator("#calling").inner_text() == "You are calling Gemeente Demodorp"


def test_municipality_choice_meets_wcag21_aa(axe_web: Session) -> None:
    page = axe_web.page("/citizen/index.html?tenant=demodorp")
    page.locator("#call:enabled").wait_for()
    page.locator("#choice").wait_for()
    violations = run_axe(page)
    assert violations == [], violations
