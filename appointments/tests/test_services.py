"""Booking and the life of an appointment: agent rules, the lead's stage, live events, the database's guard."""

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction

from appointments import services
from appointments.models import AgentRule, Appointment, Availability, BookingSettings
from appointments.selectors import booking_settings_get
from appointments.tests.factories import agent_make, appointment_make, every_day
from conftest import committed_brokerage
from crm.errors import ApplicationError
from leads.models import Lead
from leads.tests.factories import lead_make

SCL = ZoneInfo("America/Santiago")
NOW = datetime(2026, 12, 1, 8, tzinfo=SCL)  # a Tuesday
TEN = datetime(2026, 12, 1, 10, tzinfo=SCL)


def rule(value: str, priority: list[int] | None = None) -> None:
    booking = booking_settings_get()
    booking.agent_rule, booking.agent_priority = value, priority or []
    booking.save()


@pytest.mark.django_db
def test_booking_moves_the_lead_to_agendado_and_announces_after_commit(broker_a, agent_a, admin_a,
                                                                        django_capture_on_commit_callbacks,
                                                                        monkeypatch):
    sent = []
    monkeypatch.setattr("crm.realtime.broadcast.publisher.publish", lambda groups, msg: sent.append(msg))
    with broker_a:
        every_day()
        lead = lead_make(name="Ana", pipeline_stage="potencial")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            appointment = services.appointment_book(lead=lead, start=TEN, appointment_type="property_visit",
                                                    actor=admin_a, now=NOW)
        assert sent == []  # nothing is announced before the commit
        for callback in callbacks:
            callback()
        lead.refresh_from_db()
    assert (appointment.agent_id, appointment.start_at) == (agent_a.id, TEN)
    assert appointment.end_at == TEN + timedelta(hours=1)
    assert (appointment.status, appointment.booked_by_id, appointment.location, appointment.meeting_url) == (
        "scheduled", admin_a.id, "", "")  # nothing invented: no address or link configured
    assert lead.pipeline_stage == "agendado"
    events = [m["payload"]["event"] for m in sent]
    assert "appointment_created" in events and "stage_changed" in events


@pytest.mark.django_db
def test_a_taken_or_unconfigured_time_is_refused(broker_a, agent_a):
    with broker_a:
        every_day()
        lead = lead_make()
        services.appointment_book(lead=lead, start=TEN, appointment_type="property_visit", now=NOW)
        for start in (TEN, TEN + timedelta(minutes=30), datetime(2026, 12, 1, 20, tzinfo=SCL)):
            with pytest.raises(ApplicationError) as error:
                services.appointment_book(lead=lead_make(), start=start, appointment_type="property_visit", now=NOW)
            assert error.value.code == "slot_unavailable"


@pytest.mark.django_db
def test_the_database_refuses_a_double_booking_whoever_writes_it(broker_a, agent_a):
    with broker_a:
        lead = lead_make()
        appointment_make(lead=lead, agent_id=agent_a.id, start=TEN)
        appointment_make(lead=lead, agent_id=agent_a.id, start=TEN + timedelta(hours=1))  # back to back is fine
        appointment_make(lead=lead, agent_id=agent_a.id, start=TEN, status="cancelled", cancel_reason="x")
        with pytest.raises(IntegrityError), transaction.atomic():
            appointment_make(lead=lead, agent_id=agent_a.id, start=TEN + timedelta(minutes=30), status="confirmed")


@pytest.mark.django_db
@pytest.mark.parametrize("agent_rule", [AgentRule.ROUND_ROBIN, AgentRule.LEAST_LOADED, AgentRule.PRIORITY])
def test_the_brokerage_rule_chooses_the_agent(broker_a, agent_a, agent_rule):
    with broker_a:
        second, third = agent_make(), agent_make()
        every_day()
        rule(agent_rule, priority=[third.id, agent_a.id])
        if agent_rule == AgentRule.LEAST_LOADED:  # agent_a and third already have visits this week
            appointment_make(lead=lead_make(), agent_id=agent_a.id, start=TEN + timedelta(days=1))
            appointment_make(lead=lead_make(), agent_id=third.id, start=TEN + timedelta(days=2))
        chosen = [services.appointment_book(lead=lead_make(), start=TEN + timedelta(hours=hour),
                                            appointment_type="property_visit", now=NOW).agent_id
                  for hour in range(4)]
    expected = {
        AgentRule.ROUND_ROBIN: [agent_a.id, second.id, third.id, agent_a.id],
        # loads (upcoming visits) 1/0/1 → the free one, then ties go to the lowest id
        AgentRule.LEAST_LOADED: [second.id, agent_a.id, second.id, third.id],
        AgentRule.PRIORITY: [third.id] * 4,
    }[agent_rule]
    assert chosen == expected


@pytest.mark.django_db
def test_reschedule_confirm_cancel_complete_and_no_show(broker_a, agent_a):
    with broker_a:
        every_day()
        appointment = services.appointment_book(lead=lead_make(), start=TEN, appointment_type="property_visit",
                                                now=NOW)
        Appointment.objects.filter(pk=appointment.pk).update(reminder_24h_sent_at=NOW)
        appointment.refresh_from_db()
        # Moving by half an hour overlaps the old time: the appointment does not conflict with itself.
        Availability.objects.update(slot_minutes=30)
        moved = services.appointment_reschedule(appointment=appointment, start=TEN + timedelta(minutes=30), now=NOW)
        assert (moved.start_at, moved.reminder_24h_sent_at) == (TEN + timedelta(minutes=30), None)
        assert services.appointment_confirm(appointment=moved).status == "confirmed"
        with pytest.raises(ApplicationError, match="motivo"):
            services.appointment_cancel(appointment=moved, reason=" ")
        with pytest.raises(ApplicationError) as early:
            services.appointment_complete(appointment=moved, now=NOW)
        assert early.value.code == "appointment_not_started"
        assert services.appointment_complete(appointment=moved, now=TEN + timedelta(hours=1)).status == "completed"
        with pytest.raises(ApplicationError) as closed:
            services.appointment_cancel(appointment=moved, reason="Cambio de planes")
        assert closed.value.code == "appointment_closed"

        other = services.appointment_book(lead=lead_make(), start=TEN + timedelta(hours=3),
                                          appointment_type="property_visit", now=NOW)
        assert services.appointment_no_show(appointment=other, now=TEN + timedelta(hours=4)).status == "no_show"
        third = services.appointment_book(lead=lead_make(), start=TEN + timedelta(hours=4),
                                          appointment_type="property_visit", now=NOW)
        cancelled = services.appointment_cancel(appointment=third, reason="El cliente no puede")
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "El cliente no puede")


@pytest.mark.django_db
def test_an_office_meeting_carries_the_configured_address(broker_a, agent_a):
    with broker_a:
        every_day(appointment_type="office_meeting")
        BookingSettings.objects.update_or_create(pk=1, defaults={"office_address": "Av. Providencia 1234, of. 501"})
        appointment = services.appointment_book(lead=lead_make(), start=TEN, appointment_type="office_meeting",
                                                now=NOW)
    assert appointment.location == "Av. Providencia 1234, of. 501"


@pytest.fixture
def committed_agenda(cast, django_db_blocker):
    """A brokerage whose data is committed for real: each thread below has its own connection."""
    with django_db_blocker.unblock():
        broker = committed_brokerage("ag", "Corredora Agenda")
        with broker:
            agent_make()
            every_day()
            leads = [Lead.objects.create(name=f"Lead {n}", phone=f"+5698888000{n}") for n in range(2)]
        yield broker, leads
        with broker:
            Appointment.objects.all().delete()
        connection.set_schema_to_public()


def test_two_bookings_of_the_same_slot_at_once_only_one_wins(committed_agenda, django_db_blocker):
    broker, leads = committed_agenda
    barrier, outcomes = threading.Barrier(2), []

    def book(lead: Lead) -> None:
        with django_db_blocker.unblock():
            try:
                with broker:
                    barrier.wait()
                    services.appointment_book(lead=lead, start=TEN, appointment_type="property_visit", now=NOW)
                outcomes.append("booked")
            except ApplicationError as error:
                outcomes.append(error.code)
            finally:
                connection.close()

    threads = [threading.Thread(target=book, args=(lead,)) for lead in leads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["booked", "slot_unavailable"]
    with django_db_blocker.unblock(), broker:
        assert Appointment.objects.filter(start_at=TEN.astimezone(UTC)).count() == 1
