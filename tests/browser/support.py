"""What every browser test uses: Debian Chromium, the hosts of the live server, screenshots, logging in."""

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx2 as httpx
from playwright.sync_api import Page

from brokers.models import BrokerLeadConfig, User
from conftest import PASSWORD, committed_brokerage

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def origin(live_server_url: str, slug: str | None = None) -> str:
    """The platform host's origin, or a brokerage's (`<slug>.localhost:PORT`) when `slug` is given."""
    server = urlsplit(live_server_url)
    host = f"{slug}.{server.hostname}" if slug else server.hostname
    return f"{server.scheme}://{host}:{server.port}"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def log_in(page: Page, brokerage: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{brokerage}/login/")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()


def brokerage_with_agent(*, prefix: str, name: str):
    """A new brokerage (call it inside `django_db_blocker.unblock()`): its ADMIN Daniela Rojas and an
    AGENT Pablo Vera. Returns (broker, admin, agent, lead config)."""
    broker = committed_brokerage(prefix, name, admin_name="Daniela Rojas")
    admin = User.objects.get(email=f"admin@{broker.slug}.cl")
    agent = User.objects.create_user(f"agente@{broker.slug}.cl", PASSWORD, name="Pablo Vera", role=User.Role.AGENT,
                                     broker=broker)
    return broker, admin, agent, BrokerLeadConfig.objects.get(broker=broker)


def in_another_thread(work):
    """`work()` run on another thread: Playwright's event loop owns this one, and Django's ORM refuses
    to run in a thread with an event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def cookie_header(page: Page, site: str) -> str:
    """The page's cookies for `site`, as a Cookie header (for `fetch_as`)."""
    return "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies(site))


def fetch_as(site: str, path: str, cookies: str) -> str:
    """GET `path` on `site` with a page's `cookie_header`, from Python (any thread); its HTML. Through
    127.0.0.1 with the site's Host: only Chromium resolves *.localhost."""
    server = urlsplit(site)
    return httpx.get(f"http://127.0.0.1:{server.port}{path}", headers={"Host": server.netloc, "Cookie": cookies},
                     timeout=10).text


def serve_first_from(page: Page, pattern: str, html: str) -> list[str]:
    """The first request of the page matching the regular expression `pattern` gets `html` (say, what the
    server rendered before a change); later ones reach the server. Returns the URLs served so."""
    served = []

    def handle(route):
        if served:
            route.continue_()
        else:
            served.append(route.request.url)
            route.fulfill(status=200, body=html, content_type="text/html; charset=utf-8")

    page.route(re.compile(pattern), handle)
    return served

