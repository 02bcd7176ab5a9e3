"""Reads on the agenda: free slots (in a fixed number of queries, whatever the number of slots) and lists."""

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import BigIntegerField, Func, Q, QuerySet

from appointments.models import (
    ACTIVE_STATUSES,
    Appointment,
    Availability,
    AvailabilityBlock,
    BookingSettings,
    ExternalBusy,
    GoogleCalendarLink,
)
from brokers.models import User

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Slot:
    """A bookable time (in UTC); `agent_ids` are the agents free for it (any of them may take it)."""

    start: datetime
    end: datetime
    appointment_type: str
    agent_ids: tuple[int, ...]


def booking_settings_get() -> BookingSettings:
    """The current brokerage's booking rules (created with the defaults on first use)."""
    booking, _ = BookingSettings.objects.get_or_create(pk=1)
    return booking


def local_datetime(day: date, at: time, tz: ZoneInfo) -> datetime | None:
    """`day` at wall-clock `at` in `tz`, or None when that time does not exist (the hour skipped when
    clocks go forward). A repeated hour (clocks going back) gives its first occurrence."""
    candidate = datetime.combine(day, at, tzinfo=tz)
    if candidate.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return None
    return candidate


# Inside the computation every instant is a Unix timestamp (int seconds): parsing thousands of
# timestamptz values into datetimes, and comparing them, was most of its cost.
Interval = tuple[int, int]


class _Epoch(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)::bigint"
    output_field = BigIntegerField()


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


class _Busy:
    """Busy intervals (appointments, blocks) merged into disjoint sorted ones: does [start, end)
    touch any of them? One binary search."""

    def __init__(self, intervals: list[Interval]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_right(self.ends, start)  # the first interval ending after `start`
        return i < len(self.starts) and self.starts[i] < end


class _TypeLoad:
    """Active appointments of one type (any agent): how many overlap [start, end)?"""

    def __init__(self, intervals: list[Interval]) -> None:
        intervals.sort()
        self.intervals = intervals
        self.starts = [s for s, _ in intervals]
        self.longest = max((e - s for s, e in intervals), default=0)

    def count(self, start: int, end: int) -> int:
        first, last = bisect_left(self.starts, start - self.longest), bisect_left(self.starts, end)
        return sum(1 for _, e in self.intervals[first:last] if e > start)


def _block_intervals(blocks: list[AvailabilityBlock], *, window_start: datetime, window_end: datetime,
                     tz: ZoneInfo) -> dict[int | None, list[Interval]]:
    """Blocks by agent id (None: everybody), weekly ones expanded over the window in wall-clock time."""
    by_agent: dict[int | None, list[Interval]] = defaultdict(list)
    for block in blocks:
        if not block.recurring_weekly:
            by_agent[block.agent_id].append((_ts(block.start_at), _ts(block.end_at)))
            continue
        first = block.start_at.astimezone(tz).replace(tzinfo=None)
        length = int((block.end_at - block.start_at).total_seconds())
        week = max(0, (window_start - block.start_at) // WEEK - 1)
        while True:
            start = (first + week * WEEK).replace(tzinfo=tz)
            if start >= window_end:
                break
            if start + timedelta(seconds=length) > window_start:
                by_agent[block.agent_id].append((_ts(start), _ts(start) + length))
            week += 1
    return by_agent


def _slot_starts(day: date, window: Availability, tz: ZoneInfo) -> list[int]:
    """The window's slot starts on `day` by the wall clock, skipping a time the clock change removed."""
    length = timedelta(minutes=window.slot_minutes)
    wall, last = datetime.combine(day, window.start_time), datetime.combine(day, window.end_time) - length
    starts = []
    while wall <= last:
        start = local_datetime(day, wall.time(), tz)
        if start is not None:
            starts.append(_ts(start))
        wall += length
    return starts


def slots_between(*, first_day: date, last_day: date, appointment_type: str, booking: BookingSettings,
                  earliest: datetime, agent_id: int | None = None,
                  exclude_appointment_id: int | None = None) -> list[Slot]:
    """Free slots on the local days first_day..last_day starting at or after `earliest`.

    Six queries: people, availability, blocks, appointments, busy times read from Google Calendar
    (`ExternalBusy`, as fresh as the last sync); the rest is arithmetic in memory.
    """
    tz = ZoneInfo(booking.time_zone)
    window_start = datetime.combine(first_day, time.min, tzinfo=tz)
    window_end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=tz)

    people = dict(User.objects.filter(broker_id=connection.tenant.id, is_active=True).values_list("id", "role"))
    team = sorted(uid for uid, role in people.items() if role == User.Role.AGENT)
    windows = Availability.objects.filter(appointment_type=appointment_type)
    if agent_id is not None:
        windows = windows.filter(Q(agent_id=agent_id) | Q(agent__isnull=True))
    by_weekday: dict[int, list[Availability]] = defaultdict(list)
    for window in windows:
        by_weekday[window.weekday].append(window)
    blocks = _block_intervals(
        list(AvailabilityBlock.objects.filter(Q(recurring_weekly=True, start_at__lt=window_end)
                                              | Q(start_at__lt=window_end, end_at__gt=window_start))),
        window_start=window_start, window_end=window_end, tz=tz,
    )
    # One row per (agent, type) with its times as two integer arrays: a few dozen rows, not thousands.
    booked = (Appointment.objects.filter(status__in=ACTIVE_STATUSES, start_at__lt=window_end, end_at__gt=window_start)
              .exclude(pk=exclude_appointment_id).order_by().values("agent_id", "appointment_type")
              .annotate(starts=ArrayAgg(_Epoch("start_at")), ends=ArrayAgg(_Epoch("end_at")))
              .values_list("agent_id", "appointment_type", "starts", "ends"))
    agent_busy: dict[int, list[Interval]] = defaultdict(list)
    type_busy: list[Interval] = []
    for booked_agent, booked_type, starts, ends in booked:
        intervals = list(zip(starts, ends, strict=True))
        agent_busy[booked_agent] += intervals
        if booked_type == appointment_type:
            type_busy += intervals
    for uid, intervals in blocks.items():
        if uid is not None:
            agent_busy[uid] += intervals
    external = (ExternalBusy.objects.filter(start_at__lt=window_end, end_at__gt=window_start).order_by()
                .values("agent_id").annotate(starts=ArrayAgg(_Epoch("start_at")), ends=ArrayAgg(_Epoch("end_at")))
                .values_list("agent_id", "starts", "ends"))
    for uid, starts, ends in external:
        agent_busy[uid] += zip(starts, ends, strict=True)
    busy = {uid: _Busy(intervals) for uid, intervals in agent_busy.items()}
    load = _TypeLoad(type_busy)
    closed, earliest_ts = _Busy(blocks.get(None, [])), _ts(earliest)

    found: dict[Interval, set[int]] = defaultdict(set)
    day = first_day
    while day <= last_day:
        for window in by_weekday.get(day.weekday(), []):
            if (window.valid_from and day < window.valid_from) or (window.valid_until and day > window.valid_until):
                continue
            if window.agent_id is None:
                agents = team if agent_id is None else [uid for uid in team if uid == agent_id]
            else:
                agents = [window.agent_id] if window.agent_id in people else []
            length = window.slot_minutes * 60
            for start in _slot_starts(day, window, tz) if agents else []:
                end = start + length
                if start < earliest_ts or closed.overlaps(start, end):
                    continue
                free = [uid for uid in agents if uid not in busy or not busy[uid].overlaps(start, end)]
                if free and window.capacity is not None and load.count(start, end) >= window.capacity:
                    continue
                if free:
                    found[(start, end)].update(free)
        day += timedelta(days=1)
    return [Slot(start=datetime.fromtimestamp(start, UTC), end=datetime.fromtimestamp(end, UTC),
                 appointment_type=appointment_type, agent_ids=tuple(sorted(agents)))
            for (start, end), agents in sorted(found.items())]


def free_slots(*, days: int, appointment_type: str, now: datetime, agent_id: int | None = None,
               booking: BookingSettings | None = None) -> list[Slot]:
    """Free slots for the next `days` local days (today included), honouring the minimum notice."""
    booking = booking or booking_settings_get()
    today = now.astimezone(ZoneInfo(booking.time_zone)).date()
    return slots_between(first_day=today, last_day=today + timedelta(days=days - 1),
                         appointment_type=appointment_type, booking=booking, agent_id=agent_id,
                         earliest=now + timedelta(minutes=booking.min_notice_minutes))


def appointment_visible(*, user: User) -> QuerySet[Appointment]:
    """An ADMIN sees every appointment; an AGENT their own and those of the leads assigned to them."""
    appointments = Appointment.objects.select_related("lead").filter(lead__is_deleted=False)
    if not user.is_broker_admin:
        appointments = appointments.filter(Q(agent_id=user.id) | Q(lead__assigned_to_id=user.id))
    return appointments


def appointment_list(*, user: User, filters: dict[str, Any]) -> QuerySet[Appointment]:
    appointments = appointment_visible(user=user)
    if filters.get("status"):
        appointments = appointments.filter(status__in=filters["status"])
    for field in ("agent_id", "lead_id", "appointment_type"):
        if filters.get(field):
            appointments = appointments.filter(**{field: filters[field]})
    if filters.get("start_from"):
        appointments = appointments.filter(start_at__gte=filters["start_from"])
    if filters.get("start_to"):
        appointments = appointments.filter(start_at__lt=filters["start_to"])
    return appointments.order_by("start_at", "id")


def appointment_get(*, user: User, appointment_id: int) -> Appointment | None:
    return appointment_visible(user=user).filter(pk=appointment_id).first()


def agent_names(agent_ids: set[int]) -> dict[int, str]:
    return dict(User.objects.filter(pk__in=agent_ids).values_list("id", "name"))


def google_link_get(*, agent: User) -> GoogleCalendarLink | None:
    """The agent's connected Google Calendar in the brokerage in use, if any."""
    return GoogleCalendarLink.objects.filter(agent_id=agent.id).first()
