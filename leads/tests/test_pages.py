import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import host_of
from conversations.models import Conversation, Message
from leads.models import Lead, LeadActivity
from leads.tests.factories import lead_make
from pipeline.models import Stage

LIST = "/leads/"


@pytest.fixture
def admin(page_client, broker_a, admin_a):
    return page_client(host_of(broker_a), admin_a)


@pytest.fixture
def agent(page_client, broker_a, agent_a):
    return page_client(host_of(broker_a), agent_a)


@pytest.fixture
def three_leads(broker_a, agent_a):
    """Ana: the agent's, qualified, 4.000 UF. Bruno: cold, DICOM debts, $95.000.000. Carla: warm, old, webchat."""
    with broker_a:
        ana = lead_make(name="Ana Pérez", email="ana@example.cl", phone="+56911112222", assigned_to=agent_a,
                        channel="whatsapp", lead_score=80, status="qualified", pipeline_stage=Stage.POTENCIAL,
                        calificacion="calificado", dicom_status="clean", budget_amount=Decimal(4000),
                        budget_currency="UF", score_breakdown={"base": 30, "financial": 30, "engagement": 10,
                                                               "stage": 10, "penalties": 0})
        bruno = lead_make(name="Bruno Díaz", email="bruno@example.cl", phone="+56933334444", channel="telegram",
                          lead_score=10, status="cold", dicom_status="has_debt", calificacion="no_calificado",
                          budget_amount=Decimal(95_000_000), budget_currency="CLP")
        carla = lead_make(name="Carla Soto", phone="", email="carla@example.cl", channel="webchat", lead_score=35,
                          status="warm", pipeline_stage=Stage.PERFILAMIENTO)
        Lead.objects.filter(pk=carla.pk).update(created_at=timezone.now() - timedelta(days=40))
    return ana, bruno, carla


def listed(response) -> list[str]:
    """The lead names in the list's rows, in order."""
    assert response.status_code == 200
    return re.findall(r'class="cell-stack"><a href="/leads/\d+/">([^<]+)</a>', response.content.decode())


def test_list_shows_budgets_the_chilean_way_and_temperatures_in_spanish(admin, three_leads):
    response = admin.get(LIST)
    html = response.content.decode()
    assert listed(response) == ["Bruno Díaz", "Ana Pérez", "Carla Soto"]  # newest first
    assert "4.000 UF" in html and "$95.000.000" in html
    assert '<span class="score score-qualified"' in html and "Calificado" in html and "Frío" in html
    assert "Agente Corredora Alfa" in html and "Sin asignar" in html


@pytest.mark.parametrize(("query", "expected"), [
    ("stage=potencial", ["Ana Pérez"]),
    ("status=cold", ["Bruno Díaz"]),
    ("score_min=30&score_max=50", ["Carla Soto"]),
    ("dicom=has_debt", ["Bruno Díaz"]),
    ("calificacion=calificado", ["Ana Pérez"]),
    ("channel=webchat", ["Carla Soto"]),
    ("search=bru", ["Bruno Díaz"]),
    ("search=3333", ["Bruno Díaz"]),
    ("search=carla@", ["Carla Soto"]),
    ("stage=&status=&score_min=&search=&dicom=", ["Bruno Díaz", "Ana Pérez", "Carla Soto"]),  # an empty form
])
def test_list_filters_and_search(admin, three_leads, query, expected):
    assert listed(admin.get(f"{LIST}?{query}")) == expected


def test_list_filters_by_agent_and_creation_date(admin, three_leads, agent_a):
    today = timezone.localdate()
    assert listed(admin.get(f"{LIST}?agent={agent_a.id}")) == ["Ana Pérez"]
    assert listed(admin.get(f"{LIST}?created_to={today - timedelta(days=30):%Y-%m-%d}")) == ["Carla Soto"]
    assert listed(admin.get(f"{LIST}?created_from={today:%Y-%m-%d}")) == ["Bruno Díaz", "Ana Pérez"]


def test_the_csv_export_link_carries_the_filters_given(admin, three_leads):
    html = admin.get(f"{LIST}?status=cold&score_min=&search=bru&page=1").content.decode()
    assert 'href="/api/v1/leads/export/?status=cold&amp;search=bru" download>Exportar CSV</a>' in html
    export = admin.get("/api/v1/leads/export/?status=cold&search=bru")
    assert export.status_code == 200 and "Bruno Díaz" in b"".join(export.streaming_content).decode()


def test_an_invalid_filter_is_reported_and_not_applied(admin, three_leads):
    response = admin.get(f"{LIST}?score_min=mucho")
    assert len(listed(response)) == 3
    assert "Algunos filtros no son válidos" in response.content.decode()


def test_columns_sort_both_ways_and_keep_the_filters(admin, three_leads):
    response = admin.get(f"{LIST}?ordering=-lead_score&channel=")
    assert listed(response) == ["Ana Pérez", "Carla Soto", "Bruno Díaz"]
    html = response.content.decode()
    header = '<th scope="col" aria-sort="descending"><a class="sort-link" href="?ordering=lead_score&amp;channel="'
    assert header in html
    assert listed(admin.get(f"{LIST}?ordering=lead_score")) == ["Bruno Díaz", "Carla Soto", "Ana Pérez"]
    assert listed(admin.get(f"{LIST}?ordering=name")) == ["Ana Pérez", "Bruno Díaz", "Carla Soto"]


def test_list_paginates(admin, broker_a):
    with broker_a:
        for i in range(27):
            lead_make(name=f"Lead {i:02d}", lead_score=i)
    first, second = admin.get(f"{LIST}?ordering=-lead_score"), admin.get(f"{LIST}?ordering=-lead_score&page=2")
    assert len(listed(first)) == 25 and listed(second) == ["Lead 01", "Lead 00"]
    assert "Página 1 de 2" in first.content.decode()
    assert 'href="?ordering=-lead_score&amp;page=2"' in first.content.decode()


def test_past_the_count_cap_the_list_says_more_than(admin, three_leads, settings):
    settings.LIST_COUNT_CAP = 2
    response = admin.get(f"{LIST}?ordering=name")
    assert listed(response) == ["Ana Pérez", "Bruno Díaz"]
    assert "Más de 2 leads (se listan los primeros 2; acota con los filtros o la búsqueda)" in response.content.decode()
    settings.LIST_COUNT_CAP = 3
    assert "3 leads" in admin.get(LIST).content.decode()


def test_agent_sees_only_own_leads_and_cannot_bulk_assign(agent, three_leads):
    ana, bruno, _ = three_leads
    response = agent.get(LIST)
    assert listed(response) == ["Ana Pérez"]
    assert "data-bulk" not in response.content.decode() and 'name="agent"' not in response.content.decode()
    assert agent.get(f"{LIST}{ana.id}/").status_code == 200
    assert agent.get(f"{LIST}{bruno.id}/").status_code == 404
    assert agent.post(f"{LIST}{bruno.id}/etapa/", {"stage": "agendado"}).status_code == 404
    assert agent.post(f"{LIST}asignar/", {"leads": [bruno.id]}).status_code == 403
    assert agent.post(f"{LIST}{ana.id}/asignar/", {"agent": ""}).status_code == 403


def test_empty_states(admin, three_leads, page_client, broker_b, admin_b):
    assert "Aún no tienes leads" in page_client(host_of(broker_b), admin_b).get(LIST).content.decode()
    response = admin.get(f"{LIST}?search=nadie")
    assert listed(response) == [] and "Ningún lead coincide con los filtros" in response.content.decode()


def test_admin_bulk_assigns_the_selected_leads(admin, three_leads, admin_a, agent_a, broker_a):
    ana, bruno, carla = three_leads
    response = admin.post(f"{LIST}asignar/", {"leads": [bruno.id, carla.id, ana.id], "agent": agent_a.id,
                                              "next": f"{LIST}?status=cold"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?status=cold"
    with broker_a:
        assert set(Lead.objects.values_list("assigned_to_id", flat=True)) == {agent_a.id}
        assert LeadActivity.objects.filter(kind=LeadActivity.Kind.ASSIGNED).count() == 2  # Ana already was
    assert "Se asignaron 2 de 3 leads." in admin.get(LIST).content.decode()


def test_bulk_assignment_refuses_a_person_of_another_brokerage_and_an_empty_selection(admin, three_leads,
                                                                                      admin_b, broker_a):
    bruno = three_leads[1]
    admin.post(f"{LIST}asignar/", {"leads": [bruno.id], "agent": admin_b.id})
    assert '<p class="msg msg-error">' in admin.get(LIST).content.decode()
    admin.post(f"{LIST}asignar/", {"agent": ""})
    assert "Selecciona al menos un lead." in admin.get(LIST).content.decode()
    with broker_a:
        assert Lead.objects.get(pk=bruno.pk).assigned_to_id is None


def test_detail_shows_the_lead_its_score_breakdown_and_timeline(admin, three_leads, broker_a, admin_a, agent_a):
    ana = three_leads[0]
    with broker_a:
        LeadActivity.objects.create(lead=ana, kind=LeadActivity.Kind.ASSIGNED, actor=admin_a,
                                    payload={"from": None, "to": agent_a.id, "mode": "manual"})
        LeadActivity.objects.create(lead=ana, kind=LeadActivity.Kind.STAGE_CHANGED,
                                    payload={"from": "entrada", "to": "perfilamiento", "reason": "Nombre y contacto",
                                             "automatic": True, "close_reason": ""})
    html = admin.get(f"{LIST}{ana.id}/").content.decode()
    for text in ("Ana Pérez", "+56911112222", "4.000 UF", "Sin deudas", "Calificado", "Potencial",
                 "Situación financiera", "30<span class=\"muted\"> / 30</span>", "width: 100%",
                 "Asignado a Agente Corredora Alfa", "Entrada → Perfilamiento · Nombre y contacto · automático",
                 "Este lead aún no tiene conversaciones"):
        assert text in html, text


def test_detail_shows_the_latest_messages_and_links_the_conversation(admin, three_leads, broker_a):
    ana = three_leads[0]
    with broker_a:
        conversation = Conversation.objects.create(lead=ana, channel="telegram", channel_user_id="77",
                                                   last_message_at=timezone.now())
        for i in range(8):
            Message.objects.create(conversation=conversation, channel="telegram", direction="in", sender="lead",
                                   text=f"mensaje {i}", status="processed")
    html = admin.get(f"{LIST}{ana.id}/").content.decode()
    assert f'href="/conversaciones/{conversation.id}/"' in html
    assert "mensaje 7" in html and "mensaje 2" in html and "mensaje 1" not in html


def test_editing_goes_through_the_service(admin, three_leads, broker_a, admin_a):
    bruno = three_leads[1]
    url = f"{LIST}{bruno.id}/"
    form = {"name": "Bruno Díaz", "phone": "9 3333 4444", "email": "bruno@example.cl", "budget_amount": "3.500",
            "budget_currency": "UF", "monthly_income": "1.500.000", "dicom_status": "clean", "tags": "inversión, ",
            "notes": "Llamar en la tarde"}
    response = admin.post(url, form)
    assert response.status_code == 302 and response["Location"] == url
    with broker_a:
        stored = Lead.objects.get(pk=bruno.pk)
        assert (stored.budget_amount, stored.budget_currency, stored.monthly_income) == (3500, "UF", 1_500_000)
        assert (stored.phone, stored.tags, stored.calificacion) == ("+56933334444", ["inversión"], "calificado")
        entry = LeadActivity.objects.get(lead=bruno, kind=LeadActivity.Kind.FIELDS_CHANGED)
        assert entry.payload["fields"] == ["budget_amount", "budget_currency", "dicom_status", "monthly_income",
                                           "notes", "tags"]


def test_the_edit_form_shows_amounts_the_chilean_way(admin, three_leads):
    html = admin.get(f"{LIST}{three_leads[1].id}/").content.decode()
    assert 'name="budget_amount" value="95.000.000"' in html


def test_editing_shows_refusals_on_the_form(admin, three_leads, broker_a):
    ana, bruno, _ = three_leads
    response = admin.post(f"{LIST}{bruno.id}/", {"name": "Bruno", "phone": ana.phone, "email": "bruno@example.cl"})
    html = response.content.decode()
    assert response.status_code == 200 and "Ya existe un lead con ese teléfono" in html
    assert "<h1>Bruno Díaz</h1>" in html  # the page shows what is stored, the form what was typed
    response = admin.post(f"{LIST}{bruno.id}/", {"phone": "hola"})
    assert "Teléfono inválido" in response.content.decode()
    with broker_a:
        assert Lead.objects.get(pk=bruno.pk).name == "Bruno Díaz"


def test_moving_the_stage_and_closing_needs_a_reason(agent, three_leads, broker_a):
    ana = three_leads[0]
    url = f"{LIST}{ana.id}/etapa/"
    agent.post(url, {"stage": "ganado"})
    assert "Para cerrar un lead indica el motivo de cierre." in agent.get(f"{LIST}{ana.id}/").content.decode()
    agent.post(url, {"stage": "ganado", "close_reason": "Compró en Ñuñoa"})
    with broker_a:
        stored = Lead.objects.get(pk=ana.pk)
        assert (stored.pipeline_stage, stored.close_reason) == ("ganado", "Compró en Ñuñoa")
    agent.post(url, {"stage": "agendado", "reason": "Se cayó el crédito"})
    html = agent.get(f"{LIST}{ana.id}/").content.decode()
    assert "Ganado → Agendado · Se cayó el crédito" in html


def test_admin_assigns_from_the_detail(admin, three_leads, broker_a, admin_a):
    bruno = three_leads[1]
    response = admin.post(f"{LIST}{bruno.id}/asignar/", {"agent": admin_a.id})
    assert response.status_code == 302
    with broker_a:
        assert Lead.objects.get(pk=bruno.pk).assigned_to_id == admin_a.id
    assert "Lead asignado a Admin Corredora Alfa." in admin.get(f"{LIST}{bruno.id}/").content.decode()


def test_a_lead_of_another_brokerage_does_not_exist_here(page_client, broker_b, admin_b, three_leads):
    other = page_client(host_of(broker_b), admin_b)
    lead_id = three_leads[0].id
    assert listed(other.get(LIST)) == []
    assert other.get(f"{LIST}{lead_id}/").status_code == 404
    assert other.post(f"{LIST}{lead_id}/").status_code == 404
    assert other.post(f"{LIST}{lead_id}/etapa/", {"stage": "agendado"}).status_code == 404
    assert other.post(f"{LIST}{lead_id}/asignar/", {"agent": admin_b.id}).status_code == 404
    other.post(f"{LIST}asignar/", {"leads": [lead_id], "agent": admin_b.id})
    with broker_b:
        assert not Lead.objects.exists()


def test_pages_need_a_login(page_client, broker_a, three_leads):
    anonymous = page_client(host_of(broker_a))
    response = anonymous.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_list_and_detail_query_counts_are_constant(admin, broker_a, admin_a, agent_a, django_assert_num_queries):
    with broker_a:
        leads = [lead_make(name=f"Lead {i}", assigned_to=agent_a if i % 2 else admin_a, status="warm")
                 for i in range(30)]
        for lead in leads[:5]:
            LeadActivity.objects.create(lead=lead, kind=LeadActivity.Kind.ASSIGNED, actor=admin_a,
                                        payload={"to": agent_a.id})
        conversation = Conversation.objects.create(lead=leads[0], channel="telegram", channel_user_id="1")
        Message.objects.create(conversation=conversation, channel="telegram", direction="in", sender="lead",
                               text="hola", status="processed")
    admin.get(LIST)  # the host → brokerage lookup, memoized from then on
    # Every page: SET search_path, session, user.
    with django_assert_num_queries(6):  # + count, page (assignees joined), people of the brokerage
        assert len(listed(admin.get(f"{LIST}?status=warm&search=lead"))) == 25
    # + the lead, timeline, assignees' names, conversations, messages, people (assign form), possible duplicates
    with django_assert_num_queries(10):
        assert admin.get(f"{LIST}{leads[0].id}/").status_code == 200


def test_detail_offers_merging_possible_duplicates_and_merges(admin, agent, broker_a, three_leads):
    ana = three_leads[0]
    with broker_a:
        twin = lead_make(name="ana pérez", phone="")
    page = admin.get(f"{LIST}{ana.id}/").content.decode()
    assert "Fusionar con…" in page and f'name="duplicate_id" value="{twin.id}"' in page and "data-confirm" in page
    assert "Fusionar con…" not in agent.get(f"{LIST}{ana.id}/").content.decode()
    assert agent.post(f"{LIST}{ana.id}/fusionar/", {"duplicate_id": twin.id}).status_code in (302, 403)
    with broker_a:
        assert not Lead.objects.get(pk=twin.pk).is_deleted
    response = admin.post(f"{LIST}{ana.id}/fusionar/", {"duplicate_id": twin.id}, follow=True)
    assert "fusionado en este" in response.content.decode()
    with broker_a:
        assert Lead.objects.get(pk=twin.pk).is_deleted
    response = admin.post(f"{LIST}{ana.id}/fusionar/", {"duplicate_id": 999_999}, follow=True)
    assert "No existe un lead con ese número." in response.content.decode()


def test_a_note_from_the_detail_page_shows_on_the_timeline(agent, broker_a, three_leads):
    ana, bruno = three_leads[0], three_leads[1]
    response = agent.post(f"{LIST}{ana.id}/nota/", {"text": "Llamar <b>el lunes</b>"}, follow=True)
    page = response.content.decode()
    assert "Nota agregada." in page and "Llamar &lt;b&gt;el lunes&lt;/b&gt;" in page
    assert agent.post(f"{LIST}{bruno.id}/nota/", {"text": "x"}).status_code == 404


def test_merge_and_note_pages_of_another_brokerage_lead_are_404(page_client, broker_b, admin_b, three_leads):
    other = page_client(host_of(broker_b), admin_b)
    ana, bruno = three_leads[0], three_leads[1]
    assert other.post(f"{LIST}{ana.id}/fusionar/", {"duplicate_id": bruno.id}).status_code == 404
    assert other.post(f"{LIST}{ana.id}/nota/", {"text": "x"}).status_code == 404
