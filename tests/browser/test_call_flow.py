"""A whole ID call through the pages of `make serve`, in real Chromium: citizen page → demo wallet →
flow → simulated agent workspace → widget → clear. Screenshots of every state go to
test-artifacts/screenshots/."""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import Route

from devstack.serve import ServeApp
from tests.browser.conftest import Canary, Session, shot
from tests.browser.flow import (
    PHONE_NUMBER,
    accept_next,
    citizen_status,
    clear_contact,
    eventually,
    open_workspace,
    panel_html,
    panel_state,
    start_citizen,
    verified_call_waiting,
    wallet_answer,
    wallet_dial,
)

CALL_KINDS = {"session", "dtmf", "secret", "contact"}


def _call_items(served: ServeApp) -> list[dict[str, object]]:
    return [i for i in served.stack.table_items() if i.get("kind") in CALL_KINDS]


def test_verified_call_end_to_end(web: Session, canary: Canary, served: ServeApp) -> None:
    before = {str(i["pk"]) for i in _call_items(served)}

    citizen = web.page("/citizen/index.html")
    citizen.locator("#call:enabled").wait_for()
    shot(citizen, "citizen-1-start")
    citizen.locator("#call").click()
    citizen_status(citizen, "PENDING")
    citizen.locator("#yivi-web-form canvas").wait_for()
    shot(citizen, "citizen-2-qr")
    assert citizen.locator("#dial").is_hidden(), "number and code only after disclosure"

    wallet = wallet_answer(web)
    citizen_status(citizen, "DISCLOSED")
    assert citizen.locator("#status-text").inner_text() == "Gelukt! De Yivi-app belt ons nu."
    assert citizen.locator(".dial-number").inner_text() == PHONE_NUMBER
    code = citizen.locator(".dial-code").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{6,12}", code)
    assert citizen.locator(".dial-link").get_attribute("href") == f"tel:{PHONE_NUMBER},{code}"
    shot(citizen, "citizen-3-disclosed")

    wallet_dial(wallet)
    citizen_status(citizen, "CALLED")
    assert citizen.locator("#dial").is_hidden(), "the code is gone once it has been used"
    shot(citizen, "citizen-4-in-queue")

    ccp, panel = open_workspace(web)
    panel_state(panel, "idle")
    shot(ccp.locator("#widget-frame"), "agent-1-idle")
    accept_next(ccp)
    panel_state(panel, "verified")
    banner = panel.locator(".banner-heading")
    assert banner.inner_text() == "Geïdentificeerd met Yivi"
    rows = panel.locator(".attribute")
    assert rows.count() == 2
    assert rows.nth(0).locator("dt").inner_text() == "BSN"
    assert rows.nth(0).locator(".attribute-value").inner_text() == canary.bsn
    assert rows.nth(1).locator("dt").inner_text() == "Naam"
    assert rows.nth(1).locator(".attribute-value").inner_text() == canary.name
    assert panel.locator(".purpose dd").inner_text() == "Demo: vraag over uw gegevens"
    shot(ccp.locator("#widget-frame"), "agent-2-verified")
    shot(ccp, "agent-2-verified-workspace")
    citizen_status(citizen, "CONNECTED")
    shot(citizen, "citizen-5-connected")

    # a page reload mid-call: the new app instance shows the same contact again
    ccp.locator("#reload").click()
    panel_state(panel, "verified")
    assert panel.locator(".attribute-value").first.inner_text() == canary.bsn

    # English on demand
    panel.locator(".lang-switch").click()
    assert banner.inner_text() == "Identified with Yivi"
    assert panel.locator(".attribute dt").nth(0).inner_text() == "Citizen service number (BSN)"
    shot(ccp.locator("#widget-frame"), "agent-3-verified-en")
    panel.locator(".lang-switch").click()
    assert banner.inner_text() == "Geïdentificeerd met Yivi"

    clear_contact(ccp, panel)
    html = panel_html(panel)
    for value in canary.values():
        assert value not in html, "the cleared panel still shows personal data"
    shot(ccp.locator("#widget-frame"), "agent-4-cleared")

    # nothing of the call is left in the table (widget clear + COMPLETED event)
    eventually(lambda: {str(i["pk"]) for i in _call_items(served)} <= before, "the call's records are deleted")
    citizen_status(citizen, "done")
    assert citizen.locator("#status-text").inner_text() == "Het gesprek is beëindigd. Bedankt voor het bellen."
    shot(citizen, "citizen-6-done")


def test_several_contacts_in_a_row(web: Session, canary: Canary, served: ServeApp) -> None:
    ccp, panel = open_workspace(web)
    first = canary.values()
    verified_call_waiting(web)
    accept_next(ccp)
    panel_state(panel, "verified")
    assert panel.locator(".attribute-value").first.inner_text() == canary.bsn
    clear_contact(ccp, panel)

    # the next caller has other data; the panel must never mix them
    served.credentials["pbdf.gemeente.personalData.bsn"] = "999991234"
    served.credentials["pbdf.gemeente.personalData.fullname"] = "Tweede Demo"
    verified_call_waiting(web)
    accept_next(ccp)
    panel_state(panel, "verified")
    html = panel_html(panel)
    assert "999991234" in html
    assert "Tweede Demo" in html
    for value in first:
        assert value not in html
    clear_contact(ccp, panel)

    # and an unverified call after verified ones shows no data at all
    ccp.locator("#call-unverified").click()
    accept_next(ccp)
    panel_state(panel, "not_verified")
    html = panel_html(panel)
    for value in [*first, "999991234", "Tweede Demo"]:
        assert value not in html
    clear_contact(ccp, panel)


def test_unverified_call(web: Session) -> None:
    ccp, panel = open_workspace(web)
    ccp.locator("#call-unverified").click()
    accept_next(ccp)
    panel_state(panel, "not_verified")
    assert panel.locator(".banner-heading").inner_text() == "Niet geïdentificeerd"
    assert panel.locator(".banner-help").inner_text() == "Identificeer de beller op de gebruikelijke manier."
    assert panel.locator(".attribute").count() == 0
    shot(ccp.locator("#widget-frame"), "agent-5-not-verified")
    clear_contact(ccp, panel)


def test_backend_error_then_retry(web: Session, canary: Canary) -> None:
    failing = {"mode": "500"}

    def disclosure(route: Route) -> None:
        if failing["mode"] == "500":
            route.fulfill(status=500, content_type="application/json", body=json.dumps({"message": "boom"}))
        elif failing["mode"] == "network":
            route.abort()
        else:
            route.continue_()

    web.context.route("**/agent/disclosure", disclosure)
    verified_call_waiting(web)
    ccp, panel = open_workspace(web)
    accept_next(ccp)
    panel_state(panel, "error")
    assert panel.locator(".banner-heading").inner_text() == "Gegevens konden niet worden opgehaald"
    assert "De idbellen-server gaf een fout" in panel.locator(".banner-help").inner_text()
    shot(ccp.locator("#widget-frame"), "agent-6-error")

    failing["mode"] = "network"
    panel.locator("button.retry").click()
    panel.get_by_text("Geen verbinding met de idbellen-server").wait_for()
    shot(ccp.locator("#widget-frame"), "agent-6-error-network")

    failing["mode"] = "ok"
    panel.locator("button.retry").click()
    panel_state(panel, "verified")
    assert panel.locator(".attribute-value").first.inner_text() == canary.bsn
    clear_contact(ccp, panel)


def test_record_expired_in_a_long_queue(web: Session, canary: Canary, served: ServeApp) -> None:
    verified_call_waiting(web)
    served.stack.clock.advance(3601)  # the caller waited past the retention limit
    try:
        ccp, panel = open_workspace(web)
        accept_next(ccp)
        panel_state(panel, "expired")
        assert panel.locator(".banner-heading").inner_text() == "Gegevens niet meer beschikbaar"
        assert "gebruikelijke manier" in panel.locator(".banner-help").inner_text()
        html = panel_html(panel)
        for value in canary.values():
            assert value not in html
        shot(ccp.locator("#widget-frame"), "agent-7-expired")
        clear_contact(ccp, panel)
    finally:
        served.stack.clock.set(time.time())


def test_data_disappears_when_the_record_expires_on_screen(web: Session, canary: Canary) -> None:
    verified_call_waiting(web)
    ccp = web.context.new_page()
    ccp.clock.install()
    ccp.goto(web.base + "/dev/ccp.html")
    panel = ccp.frame_locator("#widget-frame")
    accept_next(ccp)
    panel_state(panel, "verified")
    ccp.clock.fast_forward("01:00:05")  # past expires_at (1 hour), without waiting for it
    panel_state(panel, "expired")
    html = panel_html(panel)
    for value in canary.values():
        assert value not in html
    clear_contact(ccp, panel)


def test_attribute_links_keep_values_out_of_queries(web: Session, canary: Canary) -> None:
    config = {
        "api_base": "",
        "language": "nl",
        "purposes": {},
        "links": [
            {
                "attribute": "pbdf.gemeente.personalData.bsn",
                "label": {"nl": "Zaaksysteem", "en": "Case system"},
                "url": "https://kcs.example.invalid/persoon#bsn={value}",
                "method": "fragment",
            },
            {  # unsafe: the value would land in a query string (history, logs, Referer) -> never rendered
                "attribute": "pbdf.gemeente.personalData.bsn",
                "label": {"nl": "Lek", "en": "Leak"},
                "url": "https://kcs.example.invalid/zoek?bsn={value}",
                "method": "fragment",
            },
            {
                "attribute": "pbdf.gemeente.personalData.fullname",
                "label": {"nl": "Klantbeeld", "en": "Customer view"},
                "url": "https://crm.example.invalid/handoff",
                "method": "post",
                "field": "naam",
            },
        ],
    }
    web.context.route(
        "**/agent/config.json", lambda r: r.fulfill(content_type="application/json", body=json.dumps(config))
    )
    verified_call_waiting(web)
    ccp, panel = open_workspace(web)
    accept_next(ccp)
    panel_state(panel, "verified")
    links = panel.locator("a.handoff-link")
    assert links.count() == 1
    assert links.first.get_attribute("href") == f"https://kcs.example.invalid/persoon#bsn={canary.bsn}"
    assert links.first.get_attribute("rel") == "noopener noreferrer"
    assert links.first.get_attribute("referrerpolicy") == "no-referrer"
    assert links.first.inner_text() == "Openen in Zaaksysteem"
    assert "zoek?" not in panel_html(panel)
    form = panel.locator("form.handoff")
    assert form.get_attribute("action") == "https://crm.example.invalid/handoff"
    assert form.get_attribute("method") == "post"
    assert form.locator("input[name=naam]").get_attribute("value") == canary.name
    shot(ccp.locator("#widget-frame"), "agent-8-verified-with-links")
    clear_contact(ccp, panel)
    assert panel.locator("a.handoff-link, form.handoff").count() == 0


def test_citizen_declines_in_the_app(web: Session) -> None:
    citizen = start_citizen(web)
    wallet_answer(web, decline=True)
    citizen_status(citizen, "FAILED")
    assert citizen.locator("#status-text").inner_text() == "Het identificeren is niet gelukt of is afgebroken."
    assert citizen.locator("#dial").is_hidden()
    assert citizen.locator("#again").is_visible()
    shot(citizen, "citizen-7-failed")
    citizen.locator("#again").click()
    citizen_status(citizen, "PENDING")


def test_citizen_backend_error(web: Session) -> None:
    web.context.route(
        "**/sessions",
        lambda r: r.fulfill(status=503, content_type="application/json", body='{"message":"Service Unavailable"}'),
    )
    citizen = web.page("/citizen/index.html")
    citizen.locator("#call:enabled").click()
    citizen_status(citizen, "start_error")
    assert "Het starten is niet gelukt" in citizen.locator("#status-text").inner_text()
    assert citizen.locator("#status-help").inner_text() == "Bellen zonder Yivi: +31 14 1234567"
    assert citizen.locator("#yivi-web-form").is_hidden()
    shot(citizen, "citizen-8-start-error")


def test_agent_signs_in_before_any_data_is_fetched(web: Session, canary: Canary, served: ServeApp) -> None:
    """auth.mode "oidc": code + PKCE in a popup (devstack.serve's fake provider), token in memory only."""
    config = {
        "api_base": "",
        "purposes": {},
        "auth": {
            "mode": "oidc",
            "authorize_url": served.url + "/dev/oidc/authorize",
            "token_url": served.url + "/dev/oidc/token",
            "client_id": "agent-widget",
            "redirect_uri": served.url + "/agent/sim.html",
            "scope": "openid",
        },
    }
    web.context.route(
        "**/agent/config.json", lambda r: r.fulfill(content_type="application/json", body=json.dumps(config))
    )
    before = len(served.dev.agent_requests)
    verified_call_waiting(web)
    ccp, panel = open_workspace(web)
    accept_next(ccp)
    panel_state(panel, "signin")
    assert len(served.dev.agent_requests) == before, "no API call without a token"
    shot(ccp.locator("#widget-frame"), "agent-9-sign-in")
    with web.context.expect_page() as popup_info:
        panel.locator("button.signin").click()
    popup_info.value.wait_for_event("close")
    panel_state(panel, "verified")
    assert panel.locator(".attribute-value").first.inner_text() == canary.bsn
    assert served.dev.agent_requests[before:] == ["valid"]
    clear_contact(ccp, panel)
    eventually(lambda: served.dev.agent_requests[before:] == ["valid", "valid"], "the clear request carries the token")


def test_citizen_page_pulls_the_result_when_the_irma_callback_is_lost(web: Session, served: ServeApp) -> None:
    """yivi-frontend sees DONE at the IRMA server; the page's POST /sessions/{id}/complete pulls the result."""
    served.stack.irma.send_callbacks = False
    try:
        citizen = start_citizen(web)
        wallet_answer(web)
        citizen_status(citizen, "DISCLOSED")
        assert citizen.locator(".dial-number").inner_text() == PHONE_NUMBER
    finally:
        served.stack.irma.send_callbacks = True


def test_agent_sees_whether_the_caller_uses_the_proven_mobile_number(
    web: Session, canary: Canary, served: ServeApp
) -> None:
    """Purpose `belastingen` discloses the mobile number; the API says whether the caller's number matches."""
    ccp, panel = open_workspace(web)
    verified_call_waiting(web, purpose="belastingen")
    accept_next(ccp)
    panel_state(panel, "verified")
    assert panel.locator(".attribute").count() == 3
    assert panel.locator(".purpose dd").inner_text() == "Gemeentelijke belastingen"
    assert panel.locator(".caller-match").inner_text() == "De beller belt vanaf het aangetoonde mobiele nummer."
    assert panel.locator(".caller-mismatch").count() == 0
    shot(ccp.locator("#widget-frame"), "agent-10-caller-match")
    clear_contact(ccp, panel)

    original = served.caller
    served.caller = "+31687654321"  # someone else's phone: the phished-QR risk of DESIGN.md
    try:
        verified_call_waiting(web, purpose="belastingen")
        accept_next(ccp)
        panel_state(panel, "verified")
        assert panel.locator(".caller-mismatch").inner_text().startswith("Let op: de beller belt niet vanaf")
        assert panel.locator(".caller-match").count() == 0
        shot(ccp.locator("#widget-frame"), "agent-11-caller-mismatch")
        clear_contact(ccp, panel)
    finally:
        served.caller = original
