"""Superadmins browse one brokerage's data at a time; nobody else gets in."""

import pytest

from conversations.models import Conversation
from leads.models import Lead


@pytest.fixture
def leads(broker_a, broker_b):
    with broker_a:
        Lead.objects.create(name="Lead de Alfa", phone="+56911111111")
    with broker_b:
        Lead.objects.create(name="Lead de Beta", phone="+56922222222")


@pytest.mark.django_db
def test_superadmin_chooses_a_brokerage_and_sees_only_its_leads(cast, superadmin, broker_a, broker_b, leads,
                                                                 page_client):
    client = page_client("localhost", superadmin)
    assert client.get("/admin/corredora/leads/lead/")["Location"].endswith("/admin/corredora/elegir/")

    client.post("/admin/corredora/elegir/", {"broker": broker_a.pk})
    page = client.get("/admin/corredora/leads/lead/").content.decode()
    assert "Lead de Alfa" in page and "Lead de Beta" not in page and "Corredora Alfa" in page

    client.post("/admin/corredora/elegir/", {"broker": broker_b.pk})
    page = client.get("/admin/corredora/leads/lead/").content.decode()
    assert "Lead de Beta" in page and "Lead de Alfa" not in page


@pytest.mark.django_db
def test_every_tenant_model_has_a_working_changelist(cast, superadmin, broker_a, leads, page_client):
    from crm.tenant_admin import tenant_admin_site

    client = page_client("localhost", superadmin)
    client.post("/admin/corredora/elegir/", {"broker": broker_a.pk})
    for model in tenant_admin_site._registry:
        url = f"/admin/corredora/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url
    assert Conversation in tenant_admin_site._registry


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["admin_a", "agent_a"])
def test_brokerage_people_cannot_use_the_tenant_admin(cast, request, page_client, who):
    user = request.getfixturevalue(who)
    for host in ("localhost", "alfa.localhost"):
        response = page_client(host, user).get("/admin/corredora/leads/lead/")
        assert response.status_code in (302, 404)
        assert "Lead de" not in response.content.decode()
