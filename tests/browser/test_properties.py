"""The Propiedades page in a real browser: an AGENT filters the catalogue by comuna and bedrooms."""

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from properties import services
from tests.browser.support import brokerage_with_agent, log_in, origin, screenshot

pytestmark = pytest.mark.browser

UNITS = [("NU-101", "departamento", "Ñuñoa", 2, 4000), ("NU-303", "departamento", "Ñuñoa", 3, 5200),
         ("LF-01", "casa", "La Florida", 3, 4500), ("PR-110", "departamento", "Providencia", 1, 3100)]


@pytest.fixture(scope="module")
def brokerage(cast, django_db_blocker):
    with django_db_blocker.unblock():
        broker = brokerage_with_agent(prefix="catalogo-", name="Propiedades Sur")[0]
        with broker:
            for code, kind, comuna, bedrooms, price in UNITS:
                services.unit_create(data={"code": code, "property_type": kind, "comuna": comuna,
                                           "bedrooms": bedrooms, "bathrooms": 2, "price": Decimal(price),
                                           "area_m2": Decimal(60 + 10 * bedrooms)})
    return broker


def test_an_agent_filters_the_catalogue(brokerage, live_server_url, page: Page):
    site = origin(live_server_url, brokerage.slug)
    log_in(page, site, f"agente@{brokerage.slug}.cl")
    page.get_by_role("link", name="Propiedades", exact=True).click()
    expect(page.locator("tr[data-unit]")).to_have_count(4)
    page.get_by_label("Comuna").fill("nunoa")
    page.get_by_label("Dormitorios").fill("3")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.locator("tr[data-unit]")).to_have_count(1)
    expect(page.locator("tr[data-unit='NU-303']")).to_contain_text("5.200 UF")
    screenshot(page, "properties-filtered")
    page.get_by_label("Comuna").fill("Arica")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.get_by_text("Ninguna unidad coincide con los filtros")).to_be_visible()
