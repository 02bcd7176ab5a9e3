"""What every browser test uses: Debian Chromium, the hosts of the live server, screenshots, logging in."""

import uuid
from pathlib import Path
from urllib.parse import urlsplit

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
