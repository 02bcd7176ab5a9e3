from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment
from brokers.models import User
from conversations.models import Conversation
from crm.errors import ApplicationError
from leads import services
from leads.models import Lead, LeadActivity
from leads.tests.factories import config_of, lead_make
from pipeline.models import Calificacion, Stage, StageTransition

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


def _config(broker, **fields):
    config = config_of(broker)
    for name, value in fields.items():
        setattr(config, name, value)
    config.save()
    return config


def test_priority_gives_new_leads_to_the_least_loaded_listed_person_first_in_order(broker_a, admin_a, agent_a,
                                                                                    broadcasts):
    second = _agent(broker_a, "prioridad@alfa.cl")
    gone = _agent(broker_a, "se-fue@alfa.cl", is_active=False)
    config = _config(broker_a, assignment_rule="priority", assignment_priority=[gone.id, second.id, agent_a.id])
    with broker_a:
        lead_make(assigned_to=second)
        lead_make(assigned_to=second, pipeline_stage=Stage.PERDIDO, close_reason="x")  # closed: not a load
        assert services.lead_assignees_next(config=config, count=3) == [agent_a, second, agent_a]
        lead = services.lead_assign_new(lead=lead_make(), config=config)
        assert lead.assigned_to_id == agent_a.id
        entry = LeadActivity.objects.get(lead=lead, kind=LeadActivity.Kind.ASSIGNED)
        assert (entry.actor_id, entry.payload) == (None, {"from": None, "to": agent_a.id, "mode": "priority"})


def test_new_leads_stay_unassigned_under_the_manual_rule_or_without_anyone(broker_a, agent_a, broadcasts):
    with broker_a:
        assert services.lead_assign_new(lead=lead_make(), config=config_of(broker_a)).assigned_to_id is None
        config = _config(broker_a, assignment_rule="priority", assignment_priority=[999_999])
        assert services.lead_assignees_next(config=config, count=2) == []


def test_round_robin_rule_continues_the_turn(broker_a, admin_a, agent_a, broadcasts):
    second = _agent(broker_a, "turno@alfa.cl")
    config = _config(broker_a, assignment_rule="round_robin")
    with broker_a:
        services.lead_assign(lead=lead_make(), actor=admin_a)
        assert services.lead_assign_new(lead=lead_make(), config=config).assigned_to_id == second.id
        assert services.lead_assignees_next(config=config, count=2) == [agent_a, second]


def test_merge_moves_everything_fills_blanks_and_deletes_the_duplicate(broker_a, admin_a, agent_a, broadcasts):
    with broker_a:
        primary = lead_make(name="Ana Pérez", phone="+56911112222", location="", messages_count=2)
        duplicate = lead_make(name="Ana", phone="+56933334444", email="ana@example.cl", location="Ñuñoa",
                              channel="telegram", channel_user_id="77", messages_count=3, tags=["web"])
        conversation = Conversation.objects.create(lead=duplicate, channel="telegram", channel_user_id="77")
        LeadActivity.objects.create(lead=duplicate, kind=LeadActivity.Kind.CREATED)
        StageTransition.objects.create(lead=duplicate, from_stage=Stage.ENTRADA, to_stage=Stage.PERFILAMIENTO,
                                       seconds_in_stage=5)
        start = timezone.now() + timedelta(days=2)
        visit = Appointment.objects.create(lead=duplicate, agent_id=agent_a.id, appointment_type="property_visit",
                                           start_at=start, end_at=start + timedelta(hours=1))
        services.lead_merge(primary=primary, duplicate=duplicate, actor=admin_a, config=config_of(broker_a))
        primary.refresh_from_db()
        duplicate.refresh_from_db()
        assert duplicate.is_deleted
        assert (primary.name, primary.phone) == ("Ana Pérez", "+56911112222")  # known values kept
        assert (primary.email, primary.location, primary.channel, primary.channel_user_id, primary.tags) == (
            "ana@example.cl", "Ñuñoa", "telegram", "77", ["web"])
        assert primary.messages_count == 5
        assert Conversation.objects.get(pk=conversation.pk).lead_id == primary.id
        assert Appointment.objects.get(pk=visit.pk).lead_id == primary.id
        assert StageTransition.objects.filter(lead=primary, to_stage=Stage.PERFILAMIENTO, seconds_in_stage=5).exists()
        assert LeadActivity.objects.filter(lead=primary, kind=LeadActivity.Kind.CREATED).exists()
        merged = LeadActivity.objects.get(lead=primary, kind=LeadActivity.Kind.MERGED)
        assert merged.payload == {"duplicate": duplicate.id,
                                  "fields": ["channel", "channel_user_id", "email", "location", "tags"]}
        assert list(duplicate.activities.values_list("kind", "payload")) == [("merged", {"into": primary.id})]
        assert LeadActivity.objects.filter(lead=primary, kind="score_changed", payload__reason="merged").exists()
        assert primary.lead_score == sum(primary.score_breakdown.values())


def test_merge_is_refused_to_agents_and_for_the_same_lead(broker_a, admin_a, agent_a, broadcasts):
    with broker_a:
        one, other = lead_make(assigned_to=agent_a), lead_make(assigned_to=agent_a)
        for actor, duplicate, code in ((agent_a, other, "permission_denied"), (admin_a, one, "invalid_duplicate")):
            with pytest.raises(ApplicationError) as error:
                services.lead_merge(primary=one, duplicate=duplicate, actor=actor, config=config_of(broker_a))
            assert error.value.code == code
        assert not Lead.objects.filter(is_deleted=True).exists()


def test_merge_is_all_or_nothing(broker_a, admin_a, broadcasts, monkeypatch):
    with broker_a:
        primary, duplicate = lead_make(email=""), lead_make(email="x@example.cl")
        monkeypatch.setattr(services, "_lead_refresh", lambda **kwargs: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            services.lead_merge(primary=primary, duplicate=duplicate, actor=admin_a, config=config_of(broker_a))
        assert not Lead.objects.get(pk=duplicate.pk).is_deleted
        assert Lead.objects.get(pk=primary.pk).email == ""


def test_notes_by_the_owner_agent_or_an_admin(broker_a, admin_a, agent_a, broadcasts):
    with broker_a:
        mine, other = lead_make(assigned_to=agent_a), lead_make()
        note = services.lead_note_add(lead=mine, actor=agent_a, text="  Llamar el lunes  ")
        assert (note.kind, note.payload, note.actor_id) == ("note", {"text": "Llamar el lunes"}, agent_a.id)
        assert services.lead_note_add(lead=other, actor=admin_a, text="Revisar").lead_id == other.id
        for text, code in (("Hola", "permission_denied"), ("   ", "invalid_note")):
            with pytest.raises(ApplicationError) as error:
                services.lead_note_add(lead=other if code == "permission_denied" else mine, actor=agent_a, text=text)
            assert error.value.code == code
