"""What a person sees in a real browser: sign-up, host-bound login, team management and language.

Headless Debian Chromium drives the real ASGI server (`live_server_url`). That server is another
process, so everything created here is committed: every run uses fresh slugs and e-mails.
"""

import pytest
from django.utils import translation
from playwright.sync_api import Locator, Page, expect

from conftest import PASSWORD
from tests.browser.support import log_in, origin, screenshot, unique

pytestmark = pytest.mark.browser

SIGNUP_TIMEOUT_MS = 30_000  # creating a brokerage creates and migrates its schema
WRONG_CREDENTIALS = "Correo o contraseña incorrectos."


def fill_signup(page: Page, *, broker_name: str, slug: str, name: str, email: str) -> None:
    page.get_by_label("Nombre de la corredora").fill(broker_name)
    page.get_by_label("Subdominio").fill(slug)
    page.get_by_label("Tu nombre").fill(name)
    page.get_by_label("Tu correo").fill(email)
    page.get_by_label("Teléfono").fill("+56912345678")
    page.get_by_label("Contraseña", exact=True).fill(PASSWORD)
    page.get_by_label("Repite la contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Crear corredora").click()


def form_error(page: Page) -> Locator:
    return page.locator(".form-errors")


def member_row(page: Page, email: str) -> Locator:
    return page.get_by_role("row").filter(has_text=email)


def test_signup_creates_a_brokerage_whose_admin_logs_in_to_an_empty_dashboard(page, live_server_url):
    slug = unique("corredora-")
    broker_name = f"Propiedades {slug[-8:].upper()}"
    email = f"duena@{slug}.cl"
    brokerage = origin(live_server_url, slug)

    page.goto(f"{origin(live_server_url)}/registro/")
    expect(page.get_by_role("heading", name="Crea tu corredora")).to_be_visible()
    screenshot(page, "signup-form")
    fill_signup(page, broker_name=broker_name, slug=slug, name="Daniela Rojas", email=email)

    expect(page).to_have_url(f"{brokerage}/login/?registrada=1", timeout=SIGNUP_TIMEOUT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text(broker_name)
    expect(page.get_by_role("status")).to_have_text(
        "¡Tu corredora está lista! Inicia sesión con el correo y la contraseña que elegiste."
    )
    screenshot(page, "login-after-signup")

    log_in(page, brokerage, email)
    expect(page).to_have_url(f"{brokerage}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hola, Daniela Rojas")
    expect(page).to_have_title(f"Inicio · {broker_name}")
    sidebar = page.get_by_role("navigation", name="Navegación principal")
    expect(sidebar.get_by_role("link", name=broker_name, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Aún no tienes leads")).to_be_visible()
    expect(page.locator("[data-stat=leads]")).to_have_text("0")
    expect(page.locator("[data-stat=team]")).to_have_text("1")
    screenshot(page, "home-zero-state")


def test_signup_with_a_taken_slug_shows_the_error_and_creates_nothing(page, live_server_url):
    email = f"{unique('intruso-')}@example.cl"
    signup_url = f"{origin(live_server_url)}/registro/"

    page.goto(signup_url)
    fill_signup(page, broker_name="Corredora Impostora", slug="alfa", name="Iván Impostor", email=email)

    expect(page).to_have_url(signup_url)
    slug_field = page.locator(".field", has=page.get_by_label("Subdominio"))
    expect(slug_field.get_by_role("alert")).to_have_text("Ya existe una corredora con ese subdominio. Elige otro.")
    expect(page.get_by_role("alert")).to_have_count(1)
    expect(page.get_by_label("Tu correo")).to_have_value(email)
    screenshot(page, "signup-slug-taken")

    # alfa is untouched, and the e-mail was not given an account there...
    log_in(page, origin(live_server_url, "alfa"), email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Corredora Alfa")
    expect(form_error(page)).to_have_text(WRONG_CREDENTIALS)
    # ...nor anywhere: it is still free to open a brokerage with.
    fresh_slug = unique("libre-")
    page.goto(signup_url)
    fill_signup(page, broker_name="Corredora Libre", slug=fresh_slug, name="Iván Impostor", email=email)
    expect(page).to_have_url(f"{origin(live_server_url, fresh_slug)}/login/?registrada=1", timeout=SIGNUP_TIMEOUT_MS)


def test_login_works_only_on_the_users_own_brokerage_host(page, live_server_url):
    alfa, beta = origin(live_server_url, "alfa"), origin(live_server_url, "beta")
    log_in(page, alfa, "admin@alfa.cl")
    expect(page).to_have_url(f"{alfa}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hola, Admin Corredora Alfa")
    screenshot(page, "home-alfa")

    log_in(page, beta, "admin@alfa.cl")
    expect(page).to_have_url(f"{beta}/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Corredora Beta")
    expect(form_error(page)).to_have_text(WRONG_CREDENTIALS)
    screenshot(page, "login-refused-on-beta")


def test_admin_adds_an_agent_then_deactivates_them_after_confirming(new_page, live_server_url):
    alfa = origin(live_server_url, "alfa")
    agent_name, agent_email = "Tomás Fuentes", f"{unique('agente-')}@alfa.cl"
    admin = new_page()
    log_in(admin, alfa, "admin@alfa.cl")
    admin.get_by_role("link", name="Equipo").click()
    add_form = admin.locator("section", has=admin.get_by_role("heading", name="Agregar persona"))
    add_form.get_by_label("Nombre").fill(agent_name)
    add_form.get_by_label("Correo").fill(agent_email)
    add_form.get_by_label("Rol").select_option(label="Agente")
    add_form.get_by_label("Contraseña inicial").fill(PASSWORD)
    add_form.get_by_role("button", name="Crear cuenta").click()

    expect(admin.get_by_role("status")).to_have_text(f"Se creó la cuenta de {agent_name}.")
    row = member_row(admin, agent_email)
    expect(row).to_contain_text(agent_name)
    expect(row).to_contain_text("Agente")
    expect(row).to_contain_text("Activo")
    screenshot(admin, "team-agent-created")

    agent = new_page()
    log_in(agent, alfa, agent_email)
    expect(agent.get_by_role("heading", level=1)).to_have_text(f"Hola, {agent_name}")

    row.get_by_role("button", name="Desactivar").click()
    dialog = admin.get_by_role("dialog")
    expect(dialog).to_contain_text(f"¿Desactivar a {agent_name}? Perderá el acceso de inmediato.")
    screenshot(admin, "team-confirm-dialog")
    dialog.get_by_role("button", name="Cancelar").click()
    expect(dialog).to_have_count(0)
    admin.reload()
    expect(member_row(admin, agent_email)).to_contain_text("Activo")

    member_row(admin, agent_email).get_by_role("button", name="Desactivar").click()
    admin.get_by_role("dialog").get_by_role("button", name="Confirmar").click()
    expect(admin.get_by_role("status")).to_have_text(f"Se actualizó a {agent_name}.")
    row = member_row(admin, agent_email)
    expect(row.locator(".badge")).to_have_text("Inactivo")
    expect(row.get_by_role("button", name="Reactivar")).to_be_visible()
    screenshot(admin, "team-agent-deactivated")

    agent.reload()
    expect(agent).to_have_url(f"{alfa}/login/?next=/")
    log_in(agent, alfa, agent_email)
    expect(form_error(agent)).to_have_text(WRONG_CREDENTIALS)


def english(text: str) -> str:
    """What the English catalog says for a Spanish source text (the text itself while untranslated)."""
    with translation.override("en"):
        return translation.gettext(text)


def test_language_switch_reloads_the_page_in_english_and_back(page, live_server_url):
    login_url = f"{origin(live_server_url, 'alfa')}/login/"
    page.goto(login_url)
    expect(page.locator("html")).to_have_attribute("lang", "es-CL")

    page.get_by_label("Idioma").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(login_url)
    expect(page.get_by_role("button", name=english("Entrar"))).to_be_visible()
    screenshot(page, "login-english")

    page.goto(login_url)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label(english("Idioma")).select_option("es")
    expect(page.locator("html")).to_have_attribute("lang", "es-CL")
