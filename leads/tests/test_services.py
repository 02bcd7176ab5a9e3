from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brokers.models import User
from crm.errors import ApplicationError
from leads import services
from leads.models import Lead, LeadActivity
from leads.tests.factories import config_of, lead_make
from pipeline.models import Calificacion, Stage

PASSWORD = "clave-segura-2026"


@pytest.fixture
def broadcasts(monkeypatch):
    sent = []
    monkeypatch.setattr(services, "broadcast", lambda event, data: sent.append((event, data)))
    return sent


def test_create_computes_calificacion_stage_and_score(broker_a, admin_a, broadcasts):
    with broker_a:
        lead = services.lead_create(actor=admin_a, config=config_of(broker_a), data={
            "name": "Ana", "phone": "+56911112222", "location": "Ñuñoa", "property_type": "departamento",
            "budget_amount": Decimal("3500"), "budget_currency": "UF", "monthly_income": 1_500_000,
            "dicom_status": "clean",
        })
        lead.refresh_from_db()
        assert lead.calificacion == Calificacion.CALIFICADO
        assert lead.pipeline_stage == Stage.POTENCIAL
        assert lead.budget_clp == 3500 * 39500
        assert lead.lead_score == sum(lead.score_breakdown.values()) > 0
        assert lead.assigned_to_id is None
        kinds = list(lead.activities.order_by("id").values_list("kind", flat=True))
        assert kinds == ["created", "stage_changed", "stage_changed", "stage_changed", "score_changed"]
        assert broadcasts == [("lead_updated", {"lead_id": lead.id, "assigned_to": None, "created": True})]


def test_an_agent_creating_a_lead_gets_it(broker_a, agent_a, broadcasts):
    with broker_a:
        lead = services.lead_create(actor=agent_a, config=config_of(broker_a), data={"name": "Beto"})
        assert lead.assigned_to_id == agent_a.id


def test_duplicates_are_refused_with_the_existing_id(broker_a, admin_a, broadcasts):
    with broker_a:
        existing = lead_make(phone="+56911112222", email="ana@example.cl")
        for data in ({"phone": "+56911112222"}, {"email": "ana@example.cl"}):
            with pytest.raises(ApplicationError) as error:
                services.lead_create(actor=admin_a, config=config_of(broker_a), data=data)
            assert (error.value.code, error.value.status_code) == ("duplicate_lead", 409)
            assert error.value.details == {"lead_id": existing.id}


def test_budget_needs_a_currency(broker_a, admin_a, broadcasts):
    with broker_a, pytest.raises(ApplicationError) as error:
        services.lead_create(actor=admin_a, config=config_of(broker_a), data={"budget_amount": Decimal(100)})
    assert error.value.code == "budget_currency_required"


def test_update_logs_field_names_never_financial_values(broker_a, agent_a, broadcasts):
    with broker_a:
        lead = lead_make(name="Ana", assigned_to=agent_a)
        services.lead_update(lead=lead, actor=agent_a, config=config_of(broker_a),
                             data={"monthly_income": 2_345_678, "dicom_status": "clean", "name": "Ana"})
        entry = LeadActivity.objects.get(lead=lead, kind=LeadActivity.Kind.FIELDS_CHANGED)
        assert entry.payload == {"fields": ["dicom_status", "monthly_income"]}
        assert "2345678" not in str(list(LeadActivity.objects.filter(lead=lead).values_list("payload", flat=True)))
        assert Lead.objects.get(pk=lead.pk).lead_score > 0
        assert broadcasts[-1] == ("lead_updated", {"lead_id": lead.id, "assigned_to": agent_a.id,
                                                   "fields": ["dicom_status", "monthly_income"]})


def test_update_writes_only_what_changed_and_accepts_plain_numbers(broker_a, broadcasts):
    with broker_a:
        lead = lead_make(name="Ana")
        Lead.objects.filter(pk=lead.pk).update(messages_count=7)  # meanwhile, the conversation worker
        services.lead_update(lead=lead, actor=None, config=config_of(broker_a),
                             data={"budget_amount": 120_000_000.0, "budget_currency": "CLP", "dicom_status": "clean"})
        stored = Lead.objects.get(pk=lead.pk)
        assert (stored.messages_count, stored.budget_amount, stored.budget_clp) == (7, 120_000_000, 120_000_000)
        assert stored.dicom_status == "clean" and Lead.objects.filter(pk=lead.pk, dicom_status_index__gt="").exists()


def test_update_without_changes_writes_nothing(broker_a, admin_a, broadcasts):
    with broker_a:
        lead = lead_make(name="Ana")
        with CaptureQueriesContext(connection) as queries:
            services.lead_update(lead=lead, actor=admin_a, config=config_of(broker_a), data={"name": "Ana"})
        assert [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE"))] == []
        assert broadcasts == []


def test_soft_delete_hides_and_frees_the_phone(broker_a, admin_a, broadcasts):
    with broker_a:
        lead = lead_make(phone="+56911112222")
        services.lead_delete(lead=lead, actor=admin_a)
        assert Lead.objects.get(pk=lead.pk).is_deleted
        services.lead_create(actor=admin_a, config=config_of(broker_a), data={"phone": "+56911112222"})


def test_recalculate_applies_new_brokerage_settings(broker_a, admin_a, broadcasts):
    with broker_a:
        config = config_of(broker_a)
        lead = lead_make(name="Ana", monthly_income=800_000, dicom_status="clean",
                         pipeline_stage=Stage.CALIFICACION_FINANCIERA)
        services.lead_recalculate(lead=lead, actor=admin_a, config=config)
        assert (lead.calificacion, lead.pipeline_stage) == (Calificacion.POTENCIAL, Stage.POTENCIAL)
        config.income_qualified_min = 700_000
        services.lead_recalculate(lead=lead, actor=admin_a, config=config)
        assert lead.calificacion == Calificacion.CALIFICADO


def _agent(broker, email, **fields):
    return User.objects.create_user(email, PASSWORD, name=email, role=User.Role.AGENT, broker=broker, **fields)


def test_round_robin_among_active_agents_only(broker_a, admin_a, agent_a, broadcasts):
    second = _agent(broker_a, "segundo@alfa.cl")
    _agent(broker_a, "inactivo@alfa.cl", is_active=False)
    with broker_a:
        leads = [lead_make() for _ in range(4)]
        for lead in leads:
            services.lead_assign(lead=lead, actor=admin_a)
        assert [lead.assigned_to_id for lead in leads] == [agent_a.id, second.id, agent_a.id, second.id]
        entry = LeadActivity.objects.filter(kind=LeadActivity.Kind.ASSIGNED).latest("id")
        assert entry.payload == {"from": None, "to": second.id, "mode": "round_robin"}
        assert broadcasts[-1] == ("lead_assigned", {"lead_id": leads[-1].id, "assigned_to": second.id,
                                                    "previous": None})


def test_manual_assignment_only_to_people_of_this_brokerage(broker_a, admin_a, agent_a, admin_b, broadcasts):
    with broker_a:
        lead = lead_make()
        services.lead_assign(lead=lead, actor=admin_a, agent=admin_a)
        assert Lead.objects.get(pk=lead.pk).assigned_to_id == admin_a.id
        with pytest.raises(ApplicationError) as error:
            services.lead_assign(lead=lead, actor=admin_a, agent=admin_b)
        assert error.value.code == "invalid_agent"


def test_round_robin_without_agents_fails_clearly(broker_a, agent_a, admin_a, broadcasts):
    User.objects.filter(pk=agent_a.pk).update(is_active=False)
    with broker_a, pytest.raises(ApplicationError) as error:
        services.lead_assign(lead=lead_make(), actor=admin_a)
    assert error.value.code == "no_active_agents"


def test_assign_many_counts_who_changed_hands_and_is_all_or_nothing(broker_a, admin_a, agent_a, admin_b,
                                                                    broadcasts):
    with broker_a:
        mine, free = lead_make(assigned_to=agent_a), lead_make()
        assert services.lead_assign_many(leads=[mine, free], actor=admin_a, agent=agent_a) == 1
        assert LeadActivity.objects.filter(kind=LeadActivity.Kind.ASSIGNED).count() == 1
        other = lead_make()
        with pytest.raises(ApplicationError):
            services.lead_assign_many(leads=[other, free], actor=admin_a, agent=admin_b)
        assert Lead.objects.get(pk=other.pk).assigned_to_id is None
