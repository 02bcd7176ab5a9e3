"""Free slots: wall-clock times across Santiago's DST changes, blocks, capacity, and a fixed query count."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Availability, AvailabilityBlock
from appointments.selectors import booking_settings_get, free_slots
from appointments.tests.factories import agent_make, appointment_make, every_day
from leads.tests.factories import lead_make

SCL = ZoneInfo("America/Santiago")
pytestmark = pytest.mark.django_db


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SCL)


def starts(slots) -> list[datetime]:
    return [slot.start for slot in slots]


def utc_hours(slots) -> list[tuple[int, int]]:
    return [(s.start.astimezone(UTC).day, s.start.astimezone(UTC).hour) for s in slots]


def test_slots_keep_the_wall_clock_when_clocks_go_back_in_april(broker_a, agent_a):
    with broker_a:
        every_day(time(10), time(12))
        slots = free_slots(days=4, appointment_type="property_visit", now=local(2026, 4, 3, 6))
    # 10:00 and 11:00 every day; Santiago leaves summer time (-03 → -04) on the night of 4-5 April.
    assert [s.start.astimezone(SCL).strftime("%d %H:%M") for s in slots] == [
        "03 10:00", "03 11:00", "04 10:00", "04 11:00", "05 10:00", "05 11:00", "06 10:00", "06 11:00"]
    assert utc_hours(slots) == [(3, 13), (3, 14), (4, 13), (4, 14), (5, 14), (5, 15), (6, 14), (6, 15)]
    assert all(s.end - s.start == timedelta(hours=1) for s in slots)
    assert {s.agent_ids for s in slots} == {(agent_a.id,)}


def test_slots_keep_the_wall_clock_when_clocks_go_forward_in_september(broker_a, agent_a):
    with broker_a:
        every_day(time(10), time(11))
        slots = free_slots(days=4, appointment_type="property_visit", now=local(2026, 9, 4, 6))
    assert utc_hours(slots) == [(4, 14), (5, 14), (6, 13), (7, 13)]


def test_a_time_skipped_by_the_clock_change_is_never_offered_and_a_repeated_one_once(broker_a, agent_a):
    with broker_a:
        Availability.objects.create(weekday=6, start_time=time(0), end_time=time(2))  # Sunday 6 September
        Availability.objects.create(weekday=5, start_time=time(23), end_time=time(23, 59), slot_minutes=20,
                                    valid_until=datetime(2026, 4, 30).date())  # Saturday 4 April
        september = free_slots(days=3, appointment_type="property_visit", now=local(2026, 9, 4, 12))
        april = free_slots(days=2, appointment_type="property_visit", now=local(2026, 4, 3, 12))
    assert [s.start.astimezone(SCL).strftime("%d %H:%M") for s in september] == ["06 01:00"]  # 00:00 never existed
    assert september[0].start == datetime(2026, 9, 6, 4, tzinfo=UTC)
    # 23:00 on Saturday 4 April happens twice; the slot is its first occurrence (still -03).
    assert starts(april) == [datetime(2026, 4, 5, 2, tzinfo=UTC), datetime(2026, 4, 5, 2, 20, tzinfo=UTC)]


def test_blocks_for_everybody_for_one_agent_and_every_week(broker_a, agent_a):
    with broker_a:
        other = agent_make()
        every_day(time(12), time(15))
        # Monday 6 April 2026 is a holiday for everyone in the morning… of another day: Tuesday 7 fully.
        AvailabilityBlock.objects.create(start_at=local(2026, 4, 7), end_at=local(2026, 4, 8), reason="Feriado")
        AvailabilityBlock.objects.create(agent=other, start_at=local(2026, 4, 6, 12), end_at=local(2026, 4, 6, 13))
        # Lunch at 13:00 every week, set up in March (summer time); it stays at 13:00 after the change.
        AvailabilityBlock.objects.create(agent=agent_a, start_at=local(2026, 3, 2, 13), end_at=local(2026, 3, 2, 14),
                                         recurring_weekly=True, reason="Almuerzo")
        slots = {s.start.astimezone(SCL).strftime("%d %H:%M"): s.agent_ids
                 for s in free_slots(days=3, appointment_type="property_visit", now=local(2026, 4, 6, 6))}
    assert slots == {
        "06 12:00": (agent_a.id,), "06 13:00": (other.id,), "06 14:00": tuple(sorted((agent_a.id, other.id))),
        # Tuesday 7: the holiday. Wednesday 8: no weekly block (it repeats on Mondays only).
        "08 12:00": tuple(sorted((agent_a.id, other.id))), "08 13:00": tuple(sorted((agent_a.id, other.id))),
        "08 14:00": tuple(sorted((agent_a.id, other.id))),
    }


def test_capacity_limits_a_brokerage_wide_slot_and_booked_agents_are_busy(broker_a, agent_a):
    with broker_a:
        second, third = agent_make(), agent_make()
        Availability.objects.create(weekday=0, start_time=time(10), end_time=time(12), capacity=2)
        lead = lead_make()
        appointment_make(lead=lead, agent_id=agent_a.id, start=local(2026, 4, 6, 10))
        appointment_make(lead=lead_make(), agent_id=second.id, start=local(2026, 4, 6, 10))
        appointment_make(lead=lead_make(), agent_id=third.id, start=local(2026, 4, 6, 11), status="cancelled",
                         cancel_reason="No puede")
        slots = free_slots(days=1, appointment_type="property_visit", now=local(2026, 4, 6, 6))
        assert [(s.start.astimezone(SCL).hour, s.agent_ids) for s in slots] == [
            (11, tuple(sorted((agent_a.id, second.id, third.id))))]  # 10:00 is full (2 of 2); cancelled is free

        Availability.objects.filter(weekday=0).update(capacity=3)
        slots = free_slots(days=1, appointment_type="property_visit", now=local(2026, 4, 6, 6))
    assert (slots[0].start.astimezone(SCL).hour, slots[0].agent_ids) == (10, (third.id,))


def test_an_agents_own_window_and_the_agent_filter(broker_a, agent_a, admin_a):
    with broker_a:
        Availability.objects.create(agent=admin_a, weekday=0, start_time=time(9), end_time=time(10))
        Availability.objects.create(weekday=0, start_time=time(10), end_time=time(11))
        Availability.objects.create(weekday=0, start_time=time(9), end_time=time(10),
                                    valid_until=datetime(2026, 4, 5).date())  # expired
        everyone = free_slots(days=1, appointment_type="property_visit", now=local(2026, 4, 6, 6))
        admin_only = free_slots(days=1, appointment_type="property_visit", now=local(2026, 4, 6, 6),
                                agent_id=admin_a.id)
        other_type = free_slots(days=1, appointment_type="phone_call", now=local(2026, 4, 6, 6))
    assert [(s.start.astimezone(SCL).hour, s.agent_ids) for s in everyone] == [(9, (admin_a.id,)), (10, (agent_a.id,))]
    assert [s.start.astimezone(SCL).hour for s in admin_only] == [9]
    assert other_type == []


def test_minimum_notice_hides_slots_starting_too_soon(broker_a, agent_a):
    with broker_a:
        every_day(time(9), time(18))
        slots = free_slots(days=1, appointment_type="property_visit", now=local(2026, 4, 6, 10, 30))
    assert slots[0].start == local(2026, 4, 6, 13)  # 120 minutes of notice by default


@pytest.mark.parametrize("days", [1, 14])
def test_free_slots_take_a_fixed_number_of_queries(broker_a, agent_a, days, django_assert_num_queries):
    with broker_a:
        agents = [agent_a] + [agent_make() for _ in range(4)]
        every_day(time(9), time(19))
        for agent in agents:
            every_day(time(19), time(21), agent=agent)
        AvailabilityBlock.objects.create(start_at=local(2026, 4, 8), end_at=local(2026, 4, 9))
        lead = lead_make()
        for day in range(days):
            for index, agent in enumerate(agents):
                appointment_make(lead=lead, agent_id=agent.id, start=local(2026, 4, 6 + day, 9 + index))
        booking_settings_get()
        with django_assert_num_queries(6):  # settings, people, windows, blocks, appointments, Google busy
            slots = free_slots(days=days, appointment_type="property_visit", now=local(2026, 4, 6, 6))
    assert slots
