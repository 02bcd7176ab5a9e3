"""Browser fixtures: one headless Debian Chromium per module, a fresh profile per page."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser):
    """new_page(): a page in a fresh browser profile (no cookies), Spanish like most of our users."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(locale="es-CL", viewport={"width": 1280, "height": 860})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    return new_page()
