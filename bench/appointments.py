"""Appointments benchmark: free slots for 20 agents over 14 days with 2,000 appointments booked.

Run with `python -m crm.devstack exec -- python bench/appointments.py`. It works in its own database
(`crm_bench_appointments`, dropped and re-created at start), never in the development database. It
prints numbers and asserts nothing.

Setup: one brokerage, 20 AGENTs, a brokerage-wide property-visit window Monday–Saturday 09:00–19:00
(60-minute slots, no capacity cap: every free agent counts), an evening window of its own for every
fifth agent, a holiday for everyone, a weekly lunch block for half of the agents, 2,000 active
appointments on distinct (agent, slot) pairs of the next 14 days, and 60 days of Google Calendar busy
times (`ExternalBusy`, two a day) for every agent, as the free/busy sync stores them. Then `free_slots`
(the selector the assistant and the API call) for every agent together and for one agent, over 1, 7
and 14 days: time per call and SQL statements per call.
Target: under 50 ms for 14 days, and the same number of statements whatever the range. The machine
may be shared: the header prints the load average, and each row the CPU time of this process alone
(the rest of the wall time is waiting for PostgreSQL).
"""

import os
import random
import statistics
import time
from datetime import datetime, timedelta
from datetime import time as clock

from common import isolated_django, percentile, row

DATABASE = "crm_bench_appointments"
AGENTS = 20
DAYS = 14
APPOINTMENTS = 2000
RUNS = 50
WARMUP = 5
TARGET_MS = 50.0
SEED = 20261128
PASSWORD = "clave-segura-2026"


def setup() -> tuple[object, datetime]:
    from zoneinfo import ZoneInfo

    from appointments.models import Appointment, Availability, AvailabilityBlock, ExternalBusy
    from brokers.models import User
    from brokers.services import broker_register
    from leads.models import Lead

    broker = broker_register(name="Corredora Bench", slug="agenda", admin_email="admin@agenda.cl",
                             admin_name="Admin", password=PASSWORD, validate=False)
    tz = ZoneInfo("America/Santiago")
    now = datetime.now(tz).replace(hour=7, minute=0, second=0, microsecond=0)
    with broker:
        agents = [User.objects.create_user(f"agente{n}@agenda.cl", PASSWORD, name=f"Agente {n}", role="AGENT",
                                           broker=broker) for n in range(AGENTS)]
        Availability.objects.bulk_create(
            [Availability(weekday=day, start_time=clock(9), end_time=clock(19)) for day in range(6)]
            + [Availability(agent=agent, weekday=day, start_time=clock(19), end_time=clock(21))
               for agent in agents[::5] for day in range(5)])
        holiday = (now + timedelta(days=9)).replace(hour=0)
        AvailabilityBlock.objects.create(start_at=holiday, end_at=holiday + timedelta(days=1), reason="Feriado")
        AvailabilityBlock.objects.bulk_create(
            [AvailabilityBlock(agent=agent, start_at=now.replace(hour=13) - timedelta(days=14),
                               end_at=now.replace(hour=14) - timedelta(days=14), recurring_weekly=True,
                               reason="Almuerzo") for agent in agents[::2]])
        cells = [(agent.id, (now + timedelta(days=day)).replace(hour=hour))
                 for agent in agents for day in range(1, DAYS) for hour in range(9, 19)
                 if (now + timedelta(days=day)).weekday() < 6]
        random.Random(SEED).shuffle(cells)
        leads = Lead.objects.bulk_create([Lead(name=f"Lead {n}", phone=f"+5699{n:07d}")
                                          for n in range(APPOINTMENTS)])
        Appointment.objects.bulk_create([
            Appointment(lead=lead, agent_id=agent_id, appointment_type="property_visit", start_at=start,
                        end_at=start + timedelta(hours=1))
            for lead, (agent_id, start) in zip(leads, cells[:APPOINTMENTS], strict=True)])
        # Google busy times start at :30 so they overlap slots without coinciding with appointments.
        ExternalBusy.objects.bulk_create([
            ExternalBusy(agent=agent, start_at=(now + timedelta(days=day)).replace(hour=hour, minute=30),
                         end_at=(now + timedelta(days=day)).replace(hour=hour + 1))
            for agent in agents for day in range(60) for hour in (8, 19)])
    return broker, now


def measure(label: str, call) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        call()
    seconds, cpu = [], []
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        slots = call()
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    with CaptureQueriesContext(connection) as queries:
        call()
    ms = [s * 1000 for s in seconds]
    row(label, f"p50 {statistics.median(ms):6.2f} ms  p95 {percentile(ms, 95):6.2f} ms  "
               f"(this process's CPU p50 {statistics.median(cpu) * 1000:5.2f} ms)  "
               f"{len(queries):2d} queries  {len(slots):4d} slots",
        f"target < {TARGET_MS:.0f} ms" if "14" in label else "")


def main() -> None:
    started = time.perf_counter()
    isolated_django(DATABASE)
    broker, now = setup()
    print(f"load average at start {os.getloadavg()[0]:.1f} (machine shared: compare runs at similar load)")
    print(f"setup {time.perf_counter() - started:.1f} s: {AGENTS} agents, {APPOINTMENTS} appointments, "
          f"{DAYS} days, database {DATABASE}")
    from appointments.models import Appointment
    from appointments.selectors import booking_settings_get, free_slots

    with broker:
        print(f"appointments stored: {Appointment.objects.count()}")
        booking_settings_get()
        one_agent = Appointment.objects.values_list("agent_id", flat=True).first()
        for days in (1, 7, DAYS):
            measure(f"free_slots, every agent, {days:2d} days",
                    lambda d=days: free_slots(days=d, appointment_type="property_visit", now=now))
        measure(f"free_slots, one agent, {DAYS} days",
                lambda: free_slots(days=DAYS, appointment_type="property_visit", now=now, agent_id=one_agent))


if __name__ == "__main__":
    main()
