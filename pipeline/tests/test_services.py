from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from brokers.models import BrokerLeadConfig
from crm.errors import ApplicationError
from crm.realtime.groups import broker_group
from leads.models import Lead, LeadActivity
from leads.tests.factories import config_of, lead_make
from pipeline import services
from pipeline.models import Calificacion, Stage, StageTransition
from pipeline.services import calificacion_compute, lead_advance_pipeline, lead_move_stage, lead_visit_booked

PROFILE = {"location": "Ñuñoa", "property_type": "departamento", "budget_amount": Decimal("3500"),
           "budget_currency": "UF"}


@pytest.fixture
def broadcasts(monkeypatch):
    sent = []
    monkeypatch.setattr(services, "broadcast", lambda event, data: sent.append((event, data)))
    return sent


@pytest.mark.parametrize(("income", "dicom", "debt", "expected"), [
    (1_000_000, "clean", None, Calificacion.CALIFICADO),
    (5_000_000, "clean", 0, Calificacion.CALIFICADO),
    (999_999, "clean", None, Calificacion.POTENCIAL),
    (500_000, "clean", None, Calificacion.POTENCIAL),
    (2_000_000, "clean", 1, Calificacion.POTENCIAL),  # any debt is above the default maximum (0)
    (499_999, "clean", None, Calificacion.NO_CALIFICADO),
    (3_000_000, "has_debt", None, Calificacion.NO_CALIFICADO),
    (None, "clean", None, Calificacion.PENDIENTE),
    (3_000_000, "", None, Calificacion.PENDIENTE),
])
def test_calificacion_rules(income, dicom, debt, expected):
    lead = Lead(monthly_income=income, dicom_status=dicom, debt_amount=debt)
    assert calificacion_compute(lead=lead, config=BrokerLeadConfig()) == expected


def test_calificacion_thresholds_are_per_brokerage():
    lead = Lead(monthly_income=800_000, dicom_status="clean", debt_amount=300_000)
    assert calificacion_compute(lead=lead, config=BrokerLeadConfig()) == Calificacion.POTENCIAL
    generous = BrokerLeadConfig(income_qualified_min=700_000, max_debt_clp=500_000)
    assert calificacion_compute(lead=lead, config=generous) == Calificacion.CALIFICADO
    strict = BrokerLeadConfig(income_potential_min=900_000)
    assert calificacion_compute(lead=lead, config=strict) == Calificacion.NO_CALIFICADO


def _advance(broker, **fields) -> Lead:
    lead = lead_make(**fields)
    lead_advance_pipeline(lead=lead, config=config_of(broker))
    return Lead.objects.get(pk=lead.pk)


def test_name_and_a_contact_move_entrada_to_perfilamiento(broker_a, broadcasts):
    with broker_a:
        assert _advance(broker_a, name="Ana", phone="").pipeline_stage == Stage.ENTRADA
        assert _advance(broker_a, phone="+56911112222").pipeline_stage == Stage.ENTRADA
        lead = _advance(broker_a, name="Ana", phone="", email="ana@example.cl")
        assert lead.pipeline_stage == Stage.PERFILAMIENTO
        move = StageTransition.objects.get(lead=lead)
        assert (move.from_stage, move.to_stage, move.automatic) == ("entrada", "perfilamiento", True)
        entry = LeadActivity.objects.get(lead=lead, kind="stage_changed")
        assert entry.payload["from"] == "entrada" and entry.payload["to"] == "perfilamiento"
        assert broadcasts == [("stage_changed", {"lead_id": lead.id, "from_stage": "entrada",
                                                 "to_stage": "perfilamiento", "assigned_to": None,
                                                 "automatic": True})]


def test_complete_profile_moves_to_calificacion_financiera(broker_a, broadcasts):
    with broker_a:
        partial = {**PROFILE, "property_type": ""}
        assert _advance(broker_a, pipeline_stage=Stage.PERFILAMIENTO, **partial).pipeline_stage == Stage.PERFILAMIENTO
        lead = _advance(broker_a, pipeline_stage=Stage.PERFILAMIENTO, **PROFILE)
        assert lead.pipeline_stage == Stage.CALIFICACION_FINANCIERA


@pytest.mark.parametrize(("income", "dicom", "stage", "calificacion"), [
    (1_500_000, "clean", Stage.POTENCIAL, Calificacion.CALIFICADO),
    (600_000, "clean", Stage.POTENCIAL, Calificacion.POTENCIAL),
    (600_000, "has_debt", Stage.PERDIDO, Calificacion.NO_CALIFICADO),
])
def test_income_and_dicom_decide_potencial_or_perdido(broker_a, broadcasts, income, dicom, stage, calificacion):
    with broker_a:
        lead = _advance(broker_a, pipeline_stage=Stage.CALIFICACION_FINANCIERA, monthly_income=income,
                        dicom_status=dicom)
        assert (lead.pipeline_stage, lead.calificacion) == (stage, calificacion)
        assert lead.close_reason == (services.NOT_QUALIFIED_REASON if stage == Stage.PERDIDO else "")


def test_financial_data_alone_waits_in_calificacion_financiera(broker_a, broadcasts):
    with broker_a:
        lead = _advance(broker_a, pipeline_stage=Stage.CALIFICACION_FINANCIERA, monthly_income=1_500_000)
        assert (lead.pipeline_stage, lead.calificacion) == (Stage.CALIFICACION_FINANCIERA, Calificacion.PENDIENTE)


def test_a_complete_lead_walks_every_automatic_step_in_one_go(broker_a, broadcasts):
    with broker_a:
        lead = _advance(broker_a, name="Ana", **PROFILE, monthly_income=1_500_000, dicom_status="clean")
        assert lead.pipeline_stage == Stage.POTENCIAL
        steps = list(StageTransition.objects.filter(lead=lead).order_by("id").values_list("from_stage", "to_stage"))
        assert steps == [("entrada", "perfilamiento"), ("perfilamiento", "calificacion_financiera"),
                         ("calificacion_financiera", "potencial")]
        assert [event for event, _ in broadcasts] == ["stage_changed"] * 3


def test_automatic_advancement_never_touches_manual_stages(broker_a, broadcasts):
    with broker_a:
        for stage in (Stage.AGENDADO, Stage.GANADO):
            lead = _advance(broker_a, name="Ana", pipeline_stage=stage, close_reason="Compró", **PROFILE,
                            monthly_income=100, dicom_status="has_debt")
            assert lead.pipeline_stage == stage
        assert broadcasts == []


def test_booked_visit_moves_to_agendado_once(broker_a, broadcasts):
    with broker_a:
        lead = lead_make(name="Ana", pipeline_stage=Stage.POTENCIAL)
        lead_visit_booked(lead=lead, config=config_of(broker_a))
        assert Lead.objects.get(pk=lead.pk).pipeline_stage == Stage.AGENDADO
        assert Lead.objects.get(pk=lead.pk).score_breakdown["stage"] == 15
        lead_visit_booked(lead=lead, config=config_of(broker_a))
        assert StageTransition.objects.filter(lead=lead).count() == 1
        won = lead_make(pipeline_stage=Stage.GANADO, close_reason="Compró")
        lead_visit_booked(lead=won, config=config_of(broker_a))
        assert Lead.objects.get(pk=won.pk).pipeline_stage == Stage.GANADO


def test_manual_backward_move_then_lose_then_reopen(broker_a, agent_a, broadcasts):
    with broker_a:
        config = config_of(broker_a)
        lead = lead_make(name="Ana", pipeline_stage=Stage.POTENCIAL, assigned_to=agent_a)
        lead_move_stage(lead=lead, stage=Stage.PERFILAMIENTO, actor=agent_a, config=config, reason="Cambió de comuna")
        with pytest.raises(ApplicationError) as error:
            lead_move_stage(lead=lead, stage=Stage.PERDIDO, actor=agent_a, config=config, close_reason="  ")
        assert error.value.code == "close_reason_required"
        lead_move_stage(lead=lead, stage=Stage.PERDIDO, actor=agent_a, config=config, close_reason="Compró con otro")
        assert Lead.objects.get(pk=lead.pk).close_reason == "Compró con otro"
        lead_move_stage(lead=lead, stage=Stage.POTENCIAL, actor=agent_a, config=config, reason="Volvió a escribir")
        stored = Lead.objects.get(pk=lead.pk)
        assert (stored.pipeline_stage, stored.close_reason) == (Stage.POTENCIAL, "")
        assert stored.score_breakdown["stage"] == 10
        moves = list(StageTransition.objects.filter(lead=lead).order_by("id")
                     .values_list("from_stage", "to_stage", "automatic", "actor_id"))
        assert moves == [("potencial", "perfilamiento", False, agent_a.id),
                         ("perfilamiento", "perdido", False, agent_a.id),
                         ("perdido", "potencial", False, agent_a.id)]
        timeline = list(LeadActivity.objects.filter(lead=lead, kind="stage_changed").order_by("id")
                        .values_list("payload__reason", flat=True))
        assert timeline == ["Cambió de comuna", "", "Volvió a escribir"]
        assert [data["to_stage"] for _, data in broadcasts] == ["perfilamiento", "perdido", "potencial"]


def test_moving_to_the_same_stage_is_a_no_op(broker_a, agent_a, broadcasts):
    with broker_a:
        lead = lead_make(pipeline_stage=Stage.POTENCIAL)
        lead_move_stage(lead=lead, stage=Stage.POTENCIAL, actor=agent_a, config=config_of(broker_a))
        assert not StageTransition.objects.filter(lead=lead).exists() and broadcasts == []


def test_a_move_is_announced_to_the_brokerage_dashboards_once_committed(broker_a, agent_a,
                                                                         django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(broker_group(broker_a.id), channel)
    with broker_a:
        lead = lead_make(pipeline_stage=Stage.POTENCIAL, assigned_to=agent_a)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            lead_move_stage(lead=lead, stage=Stage.AGENDADO, actor=agent_a, config=config_of(broker_a))
    assert len(callbacks) == 1
    message = async_to_sync(layer.receive)(channel)
    assert message["payload"]["event"] == "stage_changed"
    assert message["payload"]["data"] == {"lead_id": lead.id, "from_stage": "potencial", "to_stage": "agendado",
                                          "assigned_to": agent_a.id, "automatic": False}
