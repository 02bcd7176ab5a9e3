"""Agenda data as tests need it, saved in the current schema exactly as given (no services run)."""

from datetime import datetime, time, timedelta
from itertools import count

from django.db import connection

from appointments.models import Appointment, AppointmentType, Availability
from brokers.models import User
from conftest import PASSWORD

_numbers = count(1)


def agent_make(**fields) -> User:
    """One more active AGENT of the brokerage in use."""
    number = next(_numbers)
    fields.setdefault("name", f"Ejecutivo {number}")
    return User.objects.create_user(f"ejecutivo{number}@{connection.tenant.slug}.cl", PASSWORD,
                                    role=User.Role.AGENT, broker_id=connection.tenant.id, **fields)


def every_day(start: time = time(9), end: time = time(18), **fields) -> list[Availability]:
    """The same window on all seven weekdays (brokerage-wide unless an agent is given)."""
    fields.setdefault("appointment_type", AppointmentType.PROPERTY_VISIT)
    return [Availability.objects.create(weekday=day, start_time=start, end_time=end, **fields) for day in range(7)]


def appointment_make(*, lead, agent_id: int, start: datetime, minutes: int = 60, **fields) -> Appointment:
    fields.setdefault("appointment_type", AppointmentType.PROPERTY_VISIT)
    return Appointment.objects.create(lead=lead, agent_id=agent_id, start_at=start,
                                      end_at=start + timedelta(minutes=minutes), **fields)
