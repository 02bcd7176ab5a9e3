import pytest
from django.db import connection

from brokers.models import (
    Broker,
    BrokerChatConfig,
    BrokerLeadConfig,
    BrokerPromptConfig,
    BrokerVoiceConfig,
    Domain,
    User,
)
from conftest import PASSWORD

SIGNUP = {
    "broker_name": "Propiedades del Sur",
    "slug": "delsur",
    "name": "Carla Rojas",
    "email": "carla@delsur.cl",
    "phone": "+56987654321",
    "password": "una-clave-larga-2026",
    "password_confirm": "una-clave-larga-2026",
}


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


@pytest.mark.django_db
def test_signup_creates_isolated_brokerage_with_defaults_and_admin(cast, page_client):
    response = page_client("localhost").post("/registro/", SIGNUP)

    assert response.status_code == 302
    assert response["Location"] == "http://delsur.localhost/login/?registrada=1"
    broker = Broker.objects.get(slug="delsur")
    assert schema_exists(broker.schema_name)
    assert Domain.objects.get(tenant=broker).domain == "delsur.localhost"
    for config in (BrokerPromptConfig, BrokerLeadConfig, BrokerVoiceConfig, BrokerChatConfig):
        assert config.objects.filter(broker=broker).exists()
    admin = User.objects.get(email="carla@delsur.cl")
    assert (admin.broker, admin.role) == (broker, User.Role.ADMIN)
    assert BrokerLeadConfig.objects.get(broker=broker).income_qualified_min == 1_000_000


@pytest.mark.django_db
def test_signup_with_existing_slug_is_refused_and_never_joins_that_brokerage(cast, broker_a, page_client):
    response = page_client("localhost").post("/registro/", {**SIGNUP, "slug": "alfa", "email": "intruso@x.cl"})

    assert response.status_code == 200
    assert "Ya existe una corredora con ese subdominio" in response.context["form"].errors["slug"][0]
    assert not User.objects.filter(email="intruso@x.cl").exists()
    assert broker_a.users.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slug": "Mal Slug!"}, "slug"),
        ({"slug": "admin"}, "slug"),
        ({"email": "admin@alfa.cl"}, "email"),
        ({"password": "123", "password_confirm": "123"}, "password"),
        ({"password_confirm": "otra-cosa-distinta"}, "password_confirm"),
    ],
)
def test_signup_form_errors_are_shown_on_the_field(cast, page_client, changes, field):
    response = page_client("localhost").post("/registro/", {**SIGNUP, **changes})

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Broker.objects.filter(slug="delsur").exists()


@pytest.mark.django_db
def test_signup_page_only_exists_on_the_platform_host(cast, page_client):
    assert page_client("localhost").get("/registro/").status_code == 200
    assert page_client("alfa.localhost").get("/registro/").status_code == 404


@pytest.mark.django_db
def test_demo_password_is_refused_by_the_password_policy(cast, page_client):
    response = page_client("localhost").post("/registro/",
                                             {**SIGNUP, "password": "demo1234", "password_confirm": "demo1234"})
    assert response.context["form"].errors["password"]
    assert PASSWORD  # the cast's password passes the policy (it was created through the same service)
