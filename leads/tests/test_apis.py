from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import host_of
from leads.models import Lead, LeadActivity
from leads.tests.factories import lead_make
from pipeline.models import Stage

URL = "/api/v1/leads/"
LEAD_JSON_CONTRACT = {"id", "name", "phone", "email", "location", "budget_amount", "budget_currency",
                      "monthly_income", "dicom_status", "lead_score", "score_breakdown", "status", "pipeline_stage",
                      "calificacion", "assigned_to", "channel", "created_at", "last_contacted_at"}


@pytest.fixture
def admin(api_client, broker_a, admin_a):
    return api_client(host_of(broker_a), admin_a)


@pytest.fixture
def agent(api_client, broker_a, agent_a):
    return api_client(host_of(broker_a), agent_a)


@pytest.fixture
def two_leads(broker_a, agent_a):
    """Ana: the agent's, hot and qualified. Bruno: unassigned, cold, with DICOM debts."""
    with broker_a:
        ana = lead_make(name="Ana Pérez", email="ana@example.cl", phone="+56911112222", assigned_to=agent_a,
                        channel="whatsapp", lead_score=80, status="qualified", pipeline_stage=Stage.POTENCIAL,
                        calificacion="calificado", dicom_status="clean", monthly_income=2_000_000)
        bruno = lead_make(name="Bruno Díaz", email="bruno@example.cl", phone="+56933334444", channel="webchat",
                          lead_score=10, status="cold", dicom_status="has_debt", calificacion="no_calificado")
    return ana, bruno


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [lead["name"] for lead in response.json()["results"]]


def test_create_returns_the_lead_contract(admin):
    response = admin.post(URL, {"name": "Carla", "phone": "+56 9 5555 6666", "email": "Carla@Example.CL",
                                "monthly_income": 1_200_000, "dicom_status": "clean"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert LEAD_JSON_CONTRACT <= set(body)
    assert (body["phone"], body["email"], body["monthly_income"]) == ("+56955556666", "carla@example.cl", 1_200_000)
    assert body["pipeline_stage"] == "perfilamiento" and body["calificacion"] == "calificado"
    assert body["lead_score"] == sum(body["score_breakdown"].values())


def test_create_validates_phone_and_refuses_duplicates(admin, two_leads):
    response = admin.post(URL, {"phone": "hola"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error" and "phone" in response.json()["error"]["details"]
    response = admin.post(URL, {"phone": "911112222"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == {"code": "duplicate_lead", "message": response.json()["error"]["message"],
                                        "details": {"lead_id": two_leads[0].id}}


def test_agent_sees_only_own_leads_admin_sees_all(admin, agent, two_leads):
    ana, bruno = two_leads
    assert sorted(names(admin.get(URL))) == ["Ana Pérez", "Bruno Díaz"]
    assert names(agent.get(URL)) == ["Ana Pérez"]
    assert agent.get(f"{URL}{ana.id}/").status_code == 200
    for response in (agent.get(f"{URL}{bruno.id}/"), agent.patch(f"{URL}{bruno.id}/", {"name": "x"}, format="json"),
                     agent.post(f"{URL}{bruno.id}/recalculate/"), agent.get(f"{URL}{bruno.id}/activities/")):
        assert response.status_code == 404


def test_list_filters_and_search(admin, two_leads, agent_a):
    today = timezone.localdate()
    cases = {
        "stage=potencial": ["Ana Pérez"], "stage=potencial,entrada": ["Ana Pérez", "Bruno Díaz"],
        "status=cold": ["Bruno Díaz"], "score_min=50": ["Ana Pérez"], "score_max=50": ["Bruno Díaz"],
        "score_min=20&score_max=70": [], "dicom=has_debt": ["Bruno Díaz"], "dicom=clean": ["Ana Pérez"],
        "calificacion=calificado": ["Ana Pérez"], f"agent={agent_a.id}": ["Ana Pérez"],
        "channel=webchat": ["Bruno Díaz"], f"created_from={today}": ["Ana Pérez", "Bruno Díaz"],
        f"created_to={today - timedelta(days=1)}": [],
        f"created_from={today}&created_to={today}": ["Ana Pérez", "Bruno Díaz"],
        "search=ana": ["Ana Pérez"], "search=Pér": ["Ana Pérez"], "search=díaz bru": ["Bruno Díaz"],
        "search=9 3333": ["Bruno Díaz"], "search=+5691111": ["Ana Pérez"], "search=bruno@ex": ["Bruno Díaz"],
        # Any part of the number, through the index of its three-digit pieces: the middle, the end, three digits.
        "search=1112 22": ["Ana Pérez"], "search=4444": ["Bruno Díaz"], "search=333": ["Bruno Díaz"],
        "search=569": ["Ana Pérez", "Bruno Díaz"], "search=2223": [],
        "search=zapato": [],
    }
    for query, expected in cases.items():
        assert sorted(names(admin.get(f"{URL}?{query}"))) == expected, query


def test_list_ordering_pagination_and_bad_filters(admin, two_leads):
    assert names(admin.get(f"{URL}?ordering=lead_score")) == ["Bruno Díaz", "Ana Pérez"]
    assert names(admin.get(f"{URL}?ordering=-lead_score")) == ["Ana Pérez", "Bruno Díaz"]
    page = admin.get(f"{URL}?page_size=1&ordering=name").json()
    assert set(page) == {"count", "count_capped", "next", "previous", "results"}
    assert (page["count"], page["count_capped"], len(page["results"]), page["previous"]) == (2, False, 1, None)
    assert page["next"]
    for bad in ("stage=nope", "score_min=101", "ordering=password", "created_from=ayer"):
        response = admin.get(f"{URL}?{bad}")
        assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error", bad


def test_the_count_stops_at_the_cap_and_says_so(admin, agent, two_leads, settings):
    """Past LIST_COUNT_CAP the list says "at least this many" instead of counting every match."""
    settings.LIST_COUNT_CAP = 1
    page = admin.get(f"{URL}?ordering=name").json()
    assert (page["count"], page["count_capped"], page["next"]) == (1, True, None)
    assert [lead["name"] for lead in page["results"]] == ["Ana Pérez"]  # the pages end at the cap
    mine = agent.get(URL).json()  # the agent's one lead: exactly the cap, nothing more
    assert (mine["count"], mine["count_capped"]) == (1, False)
    settings.LIST_COUNT_CAP = 2
    assert (admin.get(URL).json()["count"], admin.get(URL).json()["count_capped"]) == (2, False)


def test_agent_updates_own_lead_and_the_score_follows(agent, two_leads, broker_a):
    ana = two_leads[0]
    response = agent.patch(f"{URL}{ana.id}/", {"monthly_income": 3_500_000, "location": "Ñuñoa"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["monthly_income"] == 3_500_000 and body["score_breakdown"]["financial"] == 30
    with broker_a:
        assert Lead.objects.get(pk=ana.id).monthly_income == 3_500_000


def test_only_admin_deletes_and_deleted_leads_disappear(admin, agent, two_leads):
    ana = two_leads[0]
    assert agent.delete(f"{URL}{ana.id}/").status_code == 403
    assert admin.delete(f"{URL}{ana.id}/").status_code == 204
    assert admin.get(f"{URL}{ana.id}/").status_code == 404
    assert names(admin.get(URL)) == ["Bruno Díaz"]


def test_assign_manual_and_round_robin_admin_only(admin, agent, two_leads, agent_a, admin_a, admin_b):
    bruno = two_leads[1]
    assert agent.post(f"{URL}{bruno.id}/assign/", {"agent_id": agent_a.id}, format="json").status_code == 403
    response = admin.post(f"{URL}{bruno.id}/assign/", {"agent_id": admin_a.id}, format="json")
    assert response.status_code == 200 and response.json()["assigned_to"] == admin_a.id
    response = admin.post(f"{URL}{bruno.id}/assign/", {}, format="json")
    assert response.json()["assigned_to"] == agent_a.id and response.json()["assigned_to_name"] == agent_a.name
    response = admin.post(f"{URL}{bruno.id}/assign/", {"agent_id": admin_b.id}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_agent"


def test_recalculate_and_timeline(admin, two_leads):
    bruno = two_leads[1]
    response = admin.post(f"{URL}{bruno.id}/recalculate/")
    assert response.status_code == 200
    assert response.json()["lead_score"] == sum(response.json()["score_breakdown"].values())
    timeline = admin.get(f"{URL}{bruno.id}/activities/").json()
    assert timeline["count"] >= 1
    assert {entry["kind"] for entry in timeline["results"]} <= set(LeadActivity.Kind.values)


def test_another_brokerage_token_is_refused_everywhere(api_client, broker_b, admin_a, two_leads):
    foreign = api_client(host_of(broker_b), admin_a)
    lead_id = two_leads[0].id
    calls = [("get", URL), ("post", URL), ("get", f"{URL}{lead_id}/"), ("patch", f"{URL}{lead_id}/"),
             ("delete", f"{URL}{lead_id}/"), ("post", f"{URL}{lead_id}/assign/"),
             ("post", f"{URL}{lead_id}/recalculate/"), ("get", f"{URL}{lead_id}/activities/"),
             ("post", f"{URL}{lead_id}/merge/"), ("post", f"{URL}{lead_id}/notes/")]
    for method, url in calls:
        assert getattr(foreign, method)(url, {}, format="json").status_code == 401, (method, url)


def test_a_lead_id_of_another_brokerage_does_not_exist_here(api_client, broker_b, admin_b, two_leads):
    other = api_client(host_of(broker_b), admin_b)
    lead_id = two_leads[0].id
    assert other.get(URL).json()["count"] == 0
    calls = [("get", f"{URL}{lead_id}/"), ("patch", f"{URL}{lead_id}/"), ("delete", f"{URL}{lead_id}/"),
             ("post", f"{URL}{lead_id}/assign/"), ("post", f"{URL}{lead_id}/recalculate/"),
             ("get", f"{URL}{lead_id}/activities/"), ("post", f"{URL}{lead_id}/merge/"),
             ("post", f"{URL}{lead_id}/notes/")]
    for method, url in calls:
        assert getattr(other, method)(url, {}, format="json").status_code == 404, (method, url)


def test_list_and_detail_query_counts_are_constant(admin, broker_a, admin_a, django_assert_num_queries):
    with broker_a:
        leads = [lead_make(name=f"Lead {i}", assigned_to=admin_a, monthly_income=900_000) for i in range(30)]
    admin.get(URL)  # the host → brokerage lookup, memoized from then on
    # Every request: SET search_path, token → user, user's brokerage.
    with django_assert_num_queries(5):  # + count + page (assignees joined)
        assert len(names(admin.get(f"{URL}?status=cold&search=lead"))) == 25
    with django_assert_num_queries(4):  # + the lead (assignee joined)
        assert admin.get(f"{URL}{leads[0].id}/").json()["assigned_to_name"] == admin_a.name


def test_merge_the_lead_a_duplicate_error_points_to(admin, agent, two_leads):
    ana, bruno = two_leads
    refused = admin.post(URL, {"name": "Ana P.", "phone": ana.phone}, format="json")
    assert refused.status_code == 409
    existing_id = refused.json()["error"]["details"]["lead_id"]
    assert agent.post(f"{URL}{existing_id}/merge/", {"duplicate_id": bruno.id}, format="json").status_code == 403
    response = admin.post(f"{URL}{existing_id}/merge/", {"duplicate_id": bruno.id}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == ana.id and admin.get(f"{URL}{bruno.id}/").status_code == 404
    again = admin.post(f"{URL}{ana.id}/merge/", {"duplicate_id": bruno.id}, format="json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_duplicate"


def test_merge_with_a_lead_of_another_brokerage_is_refused(api_client, broker_b, admin_b, admin, two_leads):
    with broker_b:
        foreign = lead_make(name="Ajeno")
    response = admin.post(f"{URL}{two_leads[0].id}/merge/", {"duplicate_id": foreign.id}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_duplicate"
    assert api_client(host_of(broker_b), admin_b).get(f"{URL}{foreign.id}/").status_code == 200


def test_notes_on_own_leads_only_for_agents(admin, agent, two_leads):
    ana, bruno = two_leads
    response = agent.post(f"{URL}{ana.id}/notes/", {"text": "Prefiere WhatsApp"}, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["kind"], response.json()["payload"]) == ("note", {"text": "Prefiere WhatsApp"})
    assert agent.post(f"{URL}{bruno.id}/notes/", {"text": "x"}, format="json").status_code == 404
    assert admin.post(f"{URL}{bruno.id}/notes/", {"text": "x"}, format="json").status_code == 201
    assert admin.post(f"{URL}{bruno.id}/notes/", {"text": ""}, format="json").status_code == 400
    kinds = [entry["kind"] for entry in admin.get(f"{URL}{ana.id}/activities/").json()["results"]]
    assert kinds[0] == "note"


def test_the_schema_describes_the_capped_count(page_client, broker_a):
    schema = page_client(host_of(broker_a)).get("/api/schema/?format=json").json()
    listing = schema["paths"]["/api/v1/leads/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = schema["components"]["schemas"][listing["$ref"].rsplit("/", 1)[-1]]
    assert {"count", "count_capped", "next", "previous", "results"} <= set(page["properties"])
    assert page["properties"]["count_capped"]["type"] == "boolean"
