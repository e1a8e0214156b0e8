"""The production entry points load under the strict CSP without errors, even outside Connect: the
workspace app (agent/index.html, @amazon-connect/app) and the Streams page (agent/streams.html)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Session


@pytest.mark.parametrize("path", ["/agent/index.html", "/agent/streams.html"])
def test_production_agent_entry_loads_cleanly(web: Session, path: str) -> None:
    page = web.page(path)
    page.locator("#panel[data-state='idle']").wait_for()
    assert page.locator(".banner-heading").inner_text() == "Geen gesprek"
    assert page.locator(".lang-switch").is_visible()


@pytest.mark.parametrize("path", ["/agent/sim.html", "/agent/sim-streams.html"])
def test_simulation_entry_on_its_own_stays_idle(web: Session, path: str) -> None:
    page = web.page(path)  # no simulated desktop around it
    page.locator("#panel[data-state='idle']").wait_for()
