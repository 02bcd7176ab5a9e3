import json

import pytest
from django.core.cache import cache
from django.db import connection

from brokers.models import BrokerChatConfig, User
from conftest import PASSWORD


@pytest.fixture(autouse=True)
def _forget_failed_logins():
    cache.clear()


@pytest.mark.django_db
def test_token_pair_for_own_brokerage(cast, api_client):
    response = api_client("alfa.localhost").post("/auth/token/", {"email": "admin@alfa.cl", "password": PASSWORD})
    assert response.status_code == 200
    access = response.json()["access"]
    me = api_client("alfa.localhost")
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.get("/api/broker/me/").json()["email"] == "admin@alfa.cl"


@pytest.mark.django_db
def test_token_refused_on_other_brokerage_host(cast, admin_a, api_client):
    response = api_client("beta.localhost", admin_a).get("/api/broker/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


@pytest.mark.django_db
def test_token_obtain_refuses_other_brokerage_user_with_error_body(cast, api_client):
    response = api_client("beta.localhost").post("/auth/token/", {"email": "admin@alfa.cl", "password": PASSWORD})
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "invalid_credentials", "message": "Correo o contraseña incorrectos.",
                                         "details": {}}}


@pytest.mark.django_db
def test_token_obtain_validation_error_shape(cast, api_client):
    response = api_client("alfa.localhost").post("/auth/token/", {"email": "no-es-correo"}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert set(body["details"]) == {"email", "password"}


@pytest.mark.django_db
def test_token_obtain_is_throttled(cast, settings, api_client):
    client = api_client("alfa.localhost")
    for _ in range(settings.LOGIN_THROTTLE["per_account"]):
        client.post("/auth/token/", {"email": "admin@alfa.cl", "password": "mala"})
    response = client.post("/auth/token/", {"email": "admin@alfa.cl", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"


@pytest.mark.django_db
def test_deactivated_user_token_stops_working(cast, admin_a, agent_a, api_client):
    client = api_client("alfa.localhost", agent_a)
    assert client.get("/api/broker/me/").status_code == 200
    api_client("alfa.localhost", admin_a).patch(f"/api/broker/users/{agent_a.pk}/", {"is_active": False}, format="json")
    assert client.get("/api/broker/me/").status_code == 401


@pytest.mark.django_db
def test_admin_lists_only_own_brokerage_users(cast, admin_a, api_client):
    body = api_client("alfa.localhost", admin_a).get("/api/broker/users/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert sorted(u["email"] for u in body["results"]) == ["admin@alfa.cl", "agente@alfa.cl"]


@pytest.mark.django_db
def test_admin_creates_agent_and_changes_role(cast, admin_a, api_client):
    client = api_client("alfa.localhost", admin_a)
    created = client.post("/api/broker/users/", {"email": "Nuevo@Alfa.cl", "name": "Nuevo", "role": "AGENT",
                                                 "password": "otra-clave-segura-1"}, format="json")
    assert created.status_code == 201
    assert created.json()["email"] == "nuevo@alfa.cl"
    updated = client.patch(f"/api/broker/users/{created.json()['id']}/", {"role": "ADMIN"}, format="json")
    assert updated.json()["role"] == "ADMIN"


@pytest.mark.django_db
def test_weak_password_and_taken_email_are_clear_errors(cast, admin_a, api_client):
    client = api_client("alfa.localhost", admin_a)
    weak = client.post("/api/broker/users/", {"email": "x@alfa.cl", "name": "X", "role": "AGENT", "password": "123"},
                       format="json")
    assert weak.status_code == 400 and weak.json()["error"]["code"] == "weak_password"
    taken = client.post("/api/broker/users/", {"email": "admin@beta.cl", "name": "X", "role": "AGENT",
                                               "password": "otra-clave-segura-1"}, format="json")
    assert taken.status_code == 400 and taken.json()["error"]["code"] == "email_taken"


@pytest.mark.django_db
def test_agent_cannot_manage_users(cast, agent_a, api_client):
    client = api_client("alfa.localhost", agent_a)
    assert client.get("/api/broker/users/").status_code == 403
    denied = client.post("/api/broker/users/", {"email": "y@alfa.cl", "name": "Y", "role": "ADMIN",
                                                "password": "otra-clave-segura-1"}, format="json")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "permission_denied"


@pytest.mark.django_db
def test_admin_cannot_touch_users_of_another_brokerage(cast, admin_a, admin_b, api_client):
    client = api_client("alfa.localhost", admin_a)
    assert client.get(f"/api/broker/users/{admin_b.pk}/").status_code == 404
    assert client.patch(f"/api/broker/users/{admin_b.pk}/", {"is_active": False}, format="json").status_code == 404
    assert client.delete(f"/api/broker/users/{admin_b.pk}/").status_code == 404
    assert User.objects.get(pk=admin_b.pk).is_active


@pytest.mark.django_db
def test_last_admin_cannot_be_demoted(cast, admin_a, agent_a, api_client):
    response = api_client("alfa.localhost", admin_a).patch(f"/api/broker/users/{admin_a.pk}/", {"role": "AGENT"},
                                                            format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "self_lockout"


@pytest.mark.django_db
def test_config_read_by_agent_written_by_admin_only(cast, admin_a, agent_a, api_client):
    agent = api_client("alfa.localhost", agent_a)
    assert set(agent.get("/api/broker/config/").json()) == {"prompt", "lead", "voice", "chat"}
    assert agent.patch("/api/broker/config/", {"lead": {"cold_max": 10}}, format="json").status_code == 403
    admin = api_client("alfa.localhost", admin_a)
    response = admin.patch("/api/broker/config/", {"lead": {"cold_max": 10, "warm_max": 40}}, format="json")
    assert response.status_code == 200
    assert (response.json()["lead"]["cold_max"], response.json()["lead"]["warm_max"]) == (10, 40)


@pytest.mark.django_db
def test_config_rejects_unordered_thresholds_and_unknown_sections(cast, admin_a, api_client):
    admin = api_client("alfa.localhost", admin_a)
    bad = admin.patch("/api/broker/config/", {"lead": {"warm_max": 90}}, format="json")
    assert bad.status_code == 400 and "thresholds" in bad.json()["error"]["details"]
    assert admin.patch("/api/broker/config/", {"nope": {}}, format="json").status_code == 400


@pytest.mark.django_db
def test_chat_credentials_are_encrypted_and_never_shown_back(cast, broker_a, admin_a, api_client):
    admin = api_client("alfa.localhost", admin_a)
    response = admin.patch("/api/broker/config/", {"chat": {"telegram_bot_token": "123456:ABCDEF-secret-token"}},
                           format="json")
    assert response.json()["chat"]["telegram_bot_token"] == "••••oken"
    assert "ABCDEF" not in str(admin.get("/api/broker/config/").json())
    with connection.cursor() as cursor:
        cursor.execute("SELECT telegram_bot_token FROM brokers_brokerchatconfig WHERE broker_id = %s", [broker_a.pk])
        raw = cursor.fetchone()[0]
    assert "ABCDEF" not in raw
    assert BrokerChatConfig.objects.get(broker=broker_a).telegram_bot_token == "123456:ABCDEF-secret-token"
    # Sending the field blank keeps the stored secret.
    admin.patch("/api/broker/config/", {"chat": {"telegram_bot_token": "", "ai_enabled": False}}, format="json")
    assert BrokerChatConfig.objects.get(broker=broker_a).telegram_bot_token == "123456:ABCDEF-secret-token"


@pytest.mark.django_db
def test_config_api_reads_and_writes_the_hosts_brokerage_only(cast, admin_a, admin_b, api_client):
    api_client("beta.localhost", admin_b).patch("/api/broker/config/", {"prompt": {"assistant_name": "Beto"}},
                                                format="json")
    config = api_client("alfa.localhost", admin_a).get("/api/broker/config/").json()
    assert config["prompt"]["assistant_name"] == "Sofía"
    assert api_client("beta.localhost", admin_b).get("/api/broker/config/").json()["prompt"]["assistant_name"] == "Beto"


@pytest.mark.django_db
def test_api_on_platform_host_is_not_served(cast, superadmin, api_client):
    assert api_client("localhost").get("/api/broker/me/").status_code == 404


@pytest.mark.django_db
def test_openapi_schema_and_docs(cast, page_client):
    client = page_client("alfa.localhost")
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/broker/users/" in schema.content
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_config_sets_the_assignment_rule_and_priority_order(cast, admin_a, agent_a, api_client, page_client):
    admin = api_client("alfa.localhost", admin_a)
    response = admin.patch("/api/broker/config/", {"lead": {"assignment_rule": "priority",
                                                            "assignment_priority": [agent_a.pk, admin_a.pk]}},
                           format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["lead"]["assignment_rule"], response.json()["lead"]["assignment_priority"]) == (
        "priority", [agent_a.pk, admin_a.pk])
    bad = admin.patch("/api/broker/config/", {"lead": {"assignment_priority": ["ana"]}}, format="json")
    assert bad.status_code == 400 and "assignment_priority" in bad.json()["error"]["details"]
    page = page_client("alfa.localhost", admin_a).get("/configuracion/lead/").content.decode()
    assert 'name="assignment_rule"' in page and 'name="assignment_priority"' in page
    saved = page_client("alfa.localhost", admin_a).post("/configuracion/lead/", {
        **{key: value for key, value in response.json()["lead"].items() if key not in ("updated_at",)},
        "field_weights": json.dumps(response.json()["lead"]["field_weights"]),
        "field_priority": json.dumps(response.json()["lead"]["field_priority"]),
        "assignment_rule": "round_robin", "assignment_priority": "[]"})
    assert saved.status_code == 302
    assert admin.get("/api/broker/config/").json()["lead"]["assignment_rule"] == "round_robin"
