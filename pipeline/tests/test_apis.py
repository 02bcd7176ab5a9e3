from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import host_of
from leads.models import Lead
from leads.tests.factories import config_of, lead_make
from pipeline.models import Stage
from pipeline.services import lead_advance_pipeline, lead_move_stage

URL = "/api/v1/pipeline/"


@pytest.fixture
def admin(api_client, broker_a, admin_a):
    return api_client(host_of(broker_a), admin_a)


@pytest.fixture
def agent(api_client, broker_a, agent_a):
    return api_client(host_of(broker_a), agent_a)


def test_board_counts_every_stage_and_shows_the_best_leads_first(admin, agent, broker_a, agent_a,
                                                                  django_assert_num_queries):
    with broker_a:
        for score in range(12):
            lead_make(name=f"P{score}", pipeline_stage=Stage.POTENCIAL, lead_score=score * 5,
                      assigned_to=agent_a if score % 2 else None)
        lead_make(name="Nuevo")
        lead_make(name="Borrado", is_deleted=True)
    # 2 × SET search_path, host → brokerage, token → user, user's brokerage, counts, first leads per stage
    with django_assert_num_queries(7):
        board = admin.get(f"{URL}board/?per_stage=5").json()
    assert [column["stage"] for column in board] == list(Stage.values)
    columns = {column["stage"]: column for column in board}
    assert columns["potencial"]["count"] == 12
    assert [lead["name"] for lead in columns["potencial"]["leads"]] == ["P11", "P10", "P9", "P8", "P7"]
    assert columns["entrada"]["count"] == 1 and columns["ganado"] == {"stage": "ganado", "label": "Ganado",
                                                                       "count": 0, "leads": []}
    mine = {column["stage"]: column for column in agent.get(f"{URL}board/").json()}
    assert mine["potencial"]["count"] == 6 and mine["entrada"]["count"] == 0
    assert {lead["assigned_to"] for lead in mine["potencial"]["leads"]} == {agent_a.id}
    assert admin.get(f"{URL}board/?per_stage=0").status_code == 400


def test_agent_moves_own_lead_back_and_closing_needs_a_reason(agent, broker_a, agent_a):
    with broker_a:
        lead = lead_make(name="Ana", pipeline_stage=Stage.AGENDADO, assigned_to=agent_a)
        other = lead_make(name="Otro", pipeline_stage=Stage.AGENDADO)
    move = f"{URL}leads/{lead.id}/move/"
    response = agent.post(move, {"stage": "perfilamiento", "reason": "Pidió más opciones"}, format="json")
    assert response.status_code == 200 and response.json()["pipeline_stage"] == "perfilamiento"
    response = agent.post(move, {"stage": "perdido"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "close_reason_required"
    response = agent.post(move, {"stage": "perdido", "close_reason": "Sin respuesta"}, format="json")
    assert response.json()["close_reason"] == "Sin respuesta"
    response = agent.post(move, {"stage": "potencial", "reason": "Reapareció"}, format="json")
    assert (response.json()["pipeline_stage"], response.json()["close_reason"]) == ("potencial", "")
    assert agent.post(move, {"stage": "volando"}, format="json").status_code == 400
    assert agent.post(f"{URL}leads/{other.id}/move/", {"stage": "entrada"}, format="json").status_code == 404
    with broker_a:
        assert Lead.objects.get(pk=other.pk).pipeline_stage == Stage.AGENDADO


def test_funnel_counts_conversion_days_in_stage_and_losses(admin, broker_a, admin_a):
    now = timezone.now()
    with broker_a:
        config = config_of(broker_a)
        profiled = lead_make(name="Ana", stage_entered_at=now - timedelta(days=3))
        lead_advance_pipeline(lead=profiled, config=config)  # entrada → perfilamiento after 3 days
        won = lead_make(name="Bea", location="Ñuñoa", property_type="casa", budget_amount=5000, budget_currency="UF",
                        monthly_income=2_000_000, dicom_status="clean", stage_entered_at=now - timedelta(days=1))
        lead_advance_pipeline(lead=won, config=config)  # … → potencial
        lead_move_stage(lead=won, stage=Stage.GANADO, actor=admin_a, config=config, close_reason="Compró")
        lost = lead_make(name="Cata", stage_entered_at=now - timedelta(days=2))
        lead_move_stage(lead=lost, stage=Stage.PERDIDO, actor=admin_a, config=config, close_reason="Sin respuesta")
        lead_make(name="Dani", stage_entered_at=now - timedelta(days=20))  # idle in entrada
    funnel = admin.get(f"{URL}funnel/").json()
    stages = {row["stage"]: row for row in funnel["stages"]}
    assert {stage: row["count"] for stage, row in stages.items() if row["count"]} == {
        "entrada": 1, "perfilamiento": 1, "ganado": 1, "perdido": 1}
    assert stages["entrada"]["idle"] == 1 and stages["perfilamiento"]["idle"] == 0
    assert [stages[s]["reached"] for s in ("entrada", "perfilamiento", "calificacion_financiera", "potencial",
                                           "agendado", "ganado")] == [4, 2, 1, 1, 1, 1]
    assert stages["perdido"]["reached"] is None
    assert [row["rate"] for row in funnel["conversion"]] == [0.5, 0.5, 1.0, 1.0, 1.0]
    assert stages["entrada"]["avg_days_in_stage"] == pytest.approx(2.0, abs=0.01)  # (3 + 1 + 2) / 3
    assert stages["agendado"]["avg_days_in_stage"] is None
    assert funnel["losses"] == [{"reason": "Sin respuesta", "count": 1}]


def test_another_brokerage_token_is_refused_everywhere(api_client, broker_a, broker_b, admin_a):
    with broker_a:
        lead = lead_make()
    foreign = api_client(host_of(broker_b), admin_a)
    for method, url in (("get", f"{URL}board/"), ("get", f"{URL}funnel/"), ("post", f"{URL}leads/{lead.id}/move/")):
        assert getattr(foreign, method)(url, {"stage": "entrada"}, format="json").status_code == 401, url


def test_a_lead_of_another_brokerage_cannot_be_moved_or_seen(api_client, broker_a, broker_b, admin_b):
    with broker_a:
        lead = lead_make(pipeline_stage=Stage.POTENCIAL)
    other = api_client(host_of(broker_b), admin_b)
    assert other.post(f"{URL}leads/{lead.id}/move/", {"stage": "entrada"}, format="json").status_code == 404
    assert {column["stage"]: column["count"] for column in other.get(f"{URL}board/").json()}["potencial"] == 0
    assert {row["stage"]: row["count"] for row in other.get(f"{URL}funnel/").json()["stages"]}["potencial"] == 0
