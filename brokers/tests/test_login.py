import pytest
from django.core.cache import cache

from brokers import services
from conftest import PASSWORD


def login(client, email, password=PASSWORD):
    return client.post("/login/", {"email": email, "password": password})


@pytest.fixture(autouse=True)
def _forget_failed_logins():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_brokerage_user_logs_in_on_own_host_and_sees_home(cast, page_client):
    client = page_client("alfa.localhost")
    response = login(client, "admin@alfa.cl")
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "Corredora Alfa" in home.content.decode()


@pytest.mark.django_db
def test_brokerage_user_cannot_log_in_on_another_brokerage_host(cast, page_client):
    response = login(page_client("beta.localhost"), "admin@alfa.cl")
    assert response.status_code == 200
    assert "Correo o contraseña incorrectos." in response.content.decode()


@pytest.mark.django_db
def test_a_session_from_brokerage_a_is_dropped_on_brokerage_b(cast, admin_a, page_client):
    client = page_client("alfa.localhost", admin_a)
    assert client.get("/").status_code == 200
    response = client.get("/", HTTP_HOST="beta.localhost")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_superadmin_uses_admin_on_platform_host_only(cast, page_client):
    platform = page_client("localhost")
    response = platform.post("/admin/login/?next=/admin/", {"username": "root@corredora.local", "password": PASSWORD})
    assert response.status_code == 302
    assert platform.get("/admin/brokers/broker/").status_code == 200
    response = login(page_client("alfa.localhost"), "root@corredora.local")
    assert "Correo o contraseña incorrectos." in response.content.decode()


@pytest.mark.django_db
def test_brokerage_admin_cannot_use_platform_admin(cast, page_client):
    platform = page_client("localhost")
    platform.post("/admin/login/?next=/admin/", {"username": "admin@alfa.cl", "password": PASSWORD})
    assert platform.get("/admin/brokers/broker/").status_code == 302


@pytest.mark.django_db
def test_deactivated_user_is_locked_out_at_once(cast, admin_a, agent_a, page_client):
    client = page_client("alfa.localhost", agent_a)
    assert client.get("/").status_code == 200

    services.user_update(actor=admin_a, user=agent_a, is_active=False)

    assert client.get("/").status_code == 302
    assert "Correo o contraseña incorrectos." in login(page_client("alfa.localhost"), "agente@alfa.cl").content.decode()


@pytest.mark.django_db
def test_deactivated_brokerage_shows_suspended_page(cast, broker_a, admin_a, page_client):
    client = page_client("alfa.localhost", admin_a)
    services.broker_set_active(broker=broker_a, is_active=False)
    response = client.get("/")
    assert response.status_code == 403
    assert "Corredora desactivada" in response.content.decode()


@pytest.mark.django_db
def test_login_is_throttled_per_account(cast, settings, page_client):
    client = page_client("alfa.localhost")
    for _ in range(settings.LOGIN_THROTTLE["per_account"]):
        login(client, "admin@alfa.cl", "incorrecta")
    response = login(client, "admin@alfa.cl")  # right password, but too many failures first
    assert "Demasiados intentos fallidos" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_is_throttled_per_ip_across_accounts(cast, settings, page_client):
    client = page_client("alfa.localhost")
    for i in range(settings.LOGIN_THROTTLE["per_ip"]):
        login(client, f"nadie{i}@x.cl", "incorrecta")
    assert "Demasiados intentos fallidos" in login(client, "agente@alfa.cl").content.decode()


@pytest.mark.django_db
def test_unknown_host_gets_the_404_page(cast, page_client):
    response = page_client("noexiste.localhost").get("/")
    assert response.status_code == 404
    assert "No encontramos esta página" in response.content.decode()


@pytest.mark.django_db
def test_login_redirect_ignores_foreign_next_urls(cast, page_client):
    client = page_client("alfa.localhost")
    response = client.post("/login/?next=//evil.example/", {"email": "admin@alfa.cl", "password": PASSWORD})
    assert response["Location"] == "/"
