"""Leads benchmark: one brokerage with 100,000 leads — list, board, funnel, nightly rescoring, CSV import/export.

Run with `make bench`. It works in its own database (`crm_bench_leads`, dropped and re-created at
start), never in the development database named by DATABASE_URL. It prints numbers and asserts
nothing.

1. Setup: the platform, one brokerage (`bench`) with an ADMIN and five AGENTs, 100,000 leads and
   their stage transitions written with COPY (the encrypted columns hold real Fernet tokens).
2. Nightly rescoring (`lead_rescore_all`) over every lead, twice: first with every score changing
   (the leads are written with a score of 100 and an empty breakdown), then with nothing to change.
3. Requests through the full Django stack (django.test.Client, JWT for the API, a session for the
   pages): the list API and the list page with filters and searches, the board, the funnel, the
   home page; median and p95 per case and the SQL statements of one request, at two page sizes to
   show the count does not grow with the page.
4. A CSV import of 10,000 rows (half update existing leads) through `lead_import_run`, and a full
   CSV export streamed by the export API.
"""

import csv
import io
import os
import random
import statistics
import time
import unicodedata
from datetime import timedelta

from common import Timer, isolated_django, load_average, percentile, print_table
from common import log as common_log

BENCH_DATABASE = "crm_bench_leads"
LEADS = 100_000
AGENTS = 5
REQUESTS = 25  # per case, after WARMUP
WARMUP = 3
IMPORT_ROWS = 10_000
PASSWORD = "clave-segura-2026"
TARGET_REQUEST_P95_MS = 100.0
TARGET_RESCORE_PER_S = 5000.0
SEED = 20261128

FIRST_NAMES = ["Camila", "Valentina", "Javiera", "Catalina", "Fernanda", "Constanza", "Francisca", "Antonia",
               "Sofía", "Isidora", "Matías", "Benjamín", "Vicente", "Martín", "Sebastián", "Joaquín", "Tomás",
               "Diego", "Felipe", "Cristóbal", "Ignacio", "Nicolás", "José", "María", "Paula", "Andrés"]
LAST_NAMES = ["González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva", "Martínez",
              "Sepúlveda", "Morales", "Rodríguez", "López", "Fuentes", "Hernández", "Torres", "Araya", "Flores",
              "Espinoza", "Valenzuela", "Castillo", "Tapia", "Reyes", "Gutiérrez", "Castro", "Pizarro"]
COMUNAS = ["Ñuñoa", "Providencia", "Las Condes", "Maipú", "La Florida", "Santiago", "Puente Alto", "Vitacura",
           "San Miguel", "Macul", "Viña del Mar", "Concepción", "Temuco", "La Reina", "Peñalolén"]
STAGES = [("entrada", 30), ("perfilamiento", 25), ("calificacion_financiera", 15), ("potencial", 10),
          ("agendado", 5), ("ganado", 3), ("perdido", 12)]
CHANNELS = [("whatsapp", 50), ("webchat", 20), ("telegram", 10), ("voice", 5), ("manual", 10), ("import", 5)]
FUNNEL = ["entrada", "perfilamiento", "calificacion_financiera", "potencial", "agendado", "ganado"]


# --- database ---------------------------------------------------------------------------


def create_brokerage():
    """The platform, the `bench` brokerage with its ADMIN, and AGENTS agents."""
    from brokers import services
    from brokers.models import User

    broker = services.broker_register(name="Corredora Bench", slug="bench", admin_email="admin@bench.cl",
                                      admin_name="Admin Bench", password=PASSWORD)
    agents = [User.objects.create_user(f"agente{i}@bench.cl", PASSWORD, name=f"Agente {i}", role=User.Role.AGENT,
                                       broker=broker) for i in range(AGENTS)]
    return broker, agents


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFD", text.lower()).encode("ascii", "ignore").decode()


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in choices], weights=[weight for _, weight in choices])[0]


def generate_leads(broker, agents) -> tuple[float, int]:
    """LEADS leads and their stage transitions through COPY; (seconds, transitions)."""
    from django.db import connection
    from django.utils import timezone

    from crm.encryption import encrypt
    from leads.models import dicom_index

    started = time.perf_counter()
    rng = random.Random(SEED)
    now = timezone.now()
    # A handful of distinct values, each encrypted once: Fernet tokens are real, setup stays fast.
    incomes = {value: encrypt(str(value)) for value in (450_000, 700_000, 1_100_000, 1_800_000, 2_500_000, 4_000_000)}
    dicoms = {status: (encrypt(status), dicom_index(status)) for status in ("clean", "has_debt")}
    debts = {value: encrypt(str(value)) for value in (300_000, 2_000_000)}
    lead_columns = ["name", "phone", "email", "channel", "channel_user_id", "location", "property_type", "bedrooms",
                    "budget_amount", "budget_currency", "budget_clp", "monthly_income", "dicom_status",
                    "dicom_status_index", "debt_amount", "lead_score", "score_breakdown", "status", "pipeline_stage",
                    "stage_entered_at", "calificacion", "assigned_to_id", "tags", "notes", "source", "close_reason",
                    "messages_count", "opted_out", "last_contacted_at", "is_deleted", "created_at", "updated_at"]
    transitions = []
    connection.set_tenant(broker)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY leads_lead ({', '.join(lead_columns)}) FROM STDIN") as copy:
            for number in range(LEADS):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                stage = _weighted(rng, STAGES)
                created = now - timedelta(days=rng.uniform(0, 730))
                entered = created + (now - created) * rng.random()
                dicom = rng.choice(["", "", "clean", "clean", "has_debt"])
                income = rng.choice(list(incomes)) if rng.random() < 0.5 else None
                uf = rng.random() < 0.6
                budget = (rng.randrange(1500, 12000, 50) if uf else rng.randrange(60, 900) * 1_000_000)
                known = rng.random() < 0.7
                copy.write_row([
                    f"{first} {last}", f"+569{10_000_000 + number}",
                    f"{ascii_fold(first)}.{ascii_fold(last)}{number}@example.cl",
                    _weighted(rng, CHANNELS), "", rng.choice(COMUNAS) if known else "",
                    rng.choice(["departamento", "casa", "oficina", ""]), rng.choice([1, 2, 3, 4, None]),
                    budget if known else None, ("UF" if uf else "CLP") if known else "",
                    (budget * 39_500 if uf else budget) if known else None,
                    incomes[income] if income else "", dicoms[dicom][0] if dicom else "",
                    dicoms[dicom][1] if dicom else "",
                    debts[rng.choice(list(debts))] if dicom == "has_debt" else "",
                    100, "{}", rng.choice(["cold", "warm", "hot", "qualified"]), stage, entered,
                    rng.choice(["", "calificado", "potencial", "no_calificado"]),
                    rng.choice(agents).id if rng.random() < 0.8 else None, "{}", "", "bench",
                    "Compró" if stage == "ganado" else ("Sin respuesta" if stage == "perdido" else ""),
                    rng.randrange(0, 30), rng.random() < 0.02,
                    now - timedelta(days=rng.uniform(0, 60)) if rng.random() < 0.7 else None, False, created, created,
                ])
                reached = FUNNEL.index(stage) if stage in FUNNEL else rng.randrange(0, 3)
                path = FUNNEL[:reached + 1] + (["perdido"] if stage == "perdido" else [])
                transitions += [(number + 1, a, b, rng.randrange(3600, 30 * 86400), created)
                                for a, b in zip(path, path[1:], strict=False)]
        with cursor.copy("COPY pipeline_stagetransition (lead_id, from_stage, to_stage, seconds_in_stage, automatic,"
                         " reason, actor_id, created_at) FROM STDIN") as copy:
            for lead_id, source, target, seconds, created in transitions:
                copy.write_row([lead_id, source, target, seconds, True, "", None, created])
        cursor.execute("ANALYZE")
    connection.set_schema_to_public()
    return time.perf_counter() - started, len(transitions)


# --- measurements --------------------------------------------------------------------------


def log(message: str) -> None:
    common_log("leads", message)


def measure_rescoring(broker) -> list[list[str]]:
    from django.db import connection

    from brokers.models import BrokerLeadConfig
    from leads.scoring import lead_rescore_all

    rows = []
    connection.set_tenant(broker)
    config = BrokerLeadConfig.objects.get(broker=broker)
    for label in ("every score changes", "nothing changes"):
        started = time.perf_counter()
        seen = lead_rescore_all(config=config)
        seconds = time.perf_counter() - started
        rate = seen / seconds
        rows.append([label, f"{seen:,}", f"{seconds:.2f}", f"{rate:,.0f}",
                     f">= {TARGET_RESCORE_PER_S:,.0f}/s: {'ok' if rate >= TARGET_RESCORE_PER_S else 'MISSED'}"])
    connection.set_schema_to_public()
    return rows


def clients(broker, admin, agent):
    from django.conf import settings
    from django.test import Client

    from brokers.auth import tokens_for

    host = f"{broker.slug}.{settings.BASE_DOMAIN}"
    api = {who: Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {tokens_for(user)['access']}")
           for who, user in (("admin", admin), ("agent", agent))}
    pages = {}
    for who, user in (("admin", admin), ("agent", agent)):
        pages[who] = Client(HTTP_HOST=host)
        pages[who].force_login(user, backend="brokers.auth.HostBoundBackend")
    return api, pages


def timed_requests(client, url: str) -> tuple[list[float], int, int, int]:
    """(ms per request, status, SQL statements of one request, SQL statements with ?page_size=100)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(url)
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    with CaptureQueriesContext(connection) as big_page:
        client.get(url + ("&" if "?" in url else "?") + "page_size=100")
    return times, response.status_code, len(queries), len(big_page)


LIST_CASES = [
    ("plain (newest first)", ""),
    ("stage=potencial", "stage=potencial"),
    ("status=hot,qualified by score", "status=hot,qualified&ordering=-lead_score"),
    ("score 40-80", "score_min=40&score_max=80"),
    ("dicom=has_debt", "dicom=has_debt"),
    ("dicom=clean + stage", "dicom=clean&stage=calificacion_financiera"),
    ("calificado + whatsapp", "calificacion=calificado&channel=whatsapp"),
    ("created in the last 30 days", "created_from={month_ago}"),
    ("search name 'camila'", "search=camila"),
    ("search full name 'camila rojas'", "search=camila%20rojas"),
    ("search name + dicom=clean", "search=camila&dicom=clean"),
    ("search phone '9100123'", "search=9100123"),
    ("search e-mail prefix", "search=camila.rojas1%40"),
    ("search rare name 'isidora pizarro' by score", "search=isidora%20pizarro&ordering=-lead_score"),
]


def measure_requests(api, pages) -> list[list[str]]:
    from django.utils import timezone

    month_ago = (timezone.localdate() - timedelta(days=30)).isoformat()
    cases = []
    for label, query in LIST_CASES:
        query = query.format(month_ago=month_ago)
        cases.append((f"list API, {label}", api["admin"], f"/api/v1/leads/?{query}"))
    for label, query in LIST_CASES[:1] + LIST_CASES[4:5] + LIST_CASES[8:9] + LIST_CASES[11:12]:
        cases.append((f"list page, {label}", pages["admin"], f"/leads/?{query}"))
    cases += [
        ("list API as AGENT, plain", api["agent"], "/api/v1/leads/"),
        ("list API as AGENT, search 'camila'", api["agent"], "/api/v1/leads/?search=camila"),
        ("list page as AGENT, dicom=clean", pages["agent"], "/leads/?dicom=clean"),
        ("board API", api["admin"], "/api/v1/pipeline/board/"),
        ("board API as AGENT", api["agent"], "/api/v1/pipeline/board/"),
        ("board page (kanban)", pages["admin"], "/pipeline/"),
        ("funnel API", api["admin"], "/api/v1/pipeline/funnel/"),
        ("funnel API as AGENT", api["agent"], "/api/v1/pipeline/funnel/"),
        ("home page (funnel + score charts)", pages["admin"], "/"),
    ]
    rows = []
    for label, client, url in cases:
        times, status, statements, statements_big = timed_requests(client, url)
        p95 = percentile(times, 95)
        verdict = "ok" if p95 < TARGET_REQUEST_P95_MS else "MISSED"
        target = f"< {TARGET_REQUEST_P95_MS:g} ms: {verdict}" if label.startswith(("list", "board")) else ""
        rows.append([label, str(status), f"{statistics.median(times):.1f}", f"{p95:.1f}",
                     f"{statements} / {statements_big}", target])
    return rows


def measure_import(broker, admin) -> list[str]:
    """IMPORT_ROWS rows, half of them phones of existing leads (updates), through the import service."""
    from django.db import connection

    from brokers.models import BrokerLeadConfig
    from leads import imports
    from leads.models import Lead

    connection.set_tenant(broker)
    rng = random.Random(SEED + 1)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["Nombre", "Celular", "Correo", "Comuna", "Presupuesto", "Renta", "DICOM"])
    for number in range(IMPORT_ROWS):
        phone = f"9{10_000_000 + number * 7}" if number % 2 else f"9 {50_000_000 + number}"
        writer.writerow([f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", phone,
                         "" if number % 2 else f"nuevo{number}@example.cl", rng.choice(COMUNAS),
                         rng.choice(["3.500 UF", "$95.000.000", "120 millones", "4200"]),
                         rng.choice(["1.200.000", "$800.000", ""]), rng.choice(["sí", "no", "limpio", ""])])
    mapping = {"Nombre": "name", "Celular": "phone", "Correo": "email", "Comuna": "location", "Presupuesto": "budget",
               "Renta": "monthly_income", "DICOM": "dicom_status"}
    before = Lead.objects.count()
    imports.enqueue_on_commit = lambda *args, **kwargs: None  # the bench runs the task itself, to time it
    lead_import = imports.lead_import_start(actor=admin, file_name="bench.csv", data=buffer.getvalue().encode(),
                                            mapping=mapping)
    started = time.perf_counter()
    lead_import = imports.lead_import_run(lead_import_id=lead_import.id,
                                          config=BrokerLeadConfig.objects.get(broker=broker))
    seconds = time.perf_counter() - started
    after = Lead.objects.count()
    connection.set_schema_to_public()
    return [f"{IMPORT_ROWS:,} rows", lead_import.status, f"{lead_import.leads_created:,}",
            f"{lead_import.leads_updated:,}", f"{after - before:,}", f"{seconds:.2f}", f"{IMPORT_ROWS / seconds:,.0f}"]


def measure_export(api) -> list[str]:
    import resource

    started = time.perf_counter()
    response = api["admin"].get("/api/v1/leads/export/")
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\r\n")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [f"{rows - 1:,} rows", f"{size / 1e6:.1f} MB", f"{seconds:.2f}", f"{(rows - 1) / seconds:,.0f}",
            f"{peak:.0f} MB"]


def main() -> None:
    started, load_at_start = time.perf_counter(), load_average()
    with Timer() as setup:
        isolated_django(BENCH_DATABASE)
    setup_seconds = setup.seconds
    from django.conf import settings

    from brokers.models import User

    clock = time.perf_counter()
    broker, agents = create_brokerage()
    brokerage_seconds = time.perf_counter() - clock
    log(f"database and brokerage ready; writing {LEADS:,} leads")
    generate_seconds, transitions = generate_leads(broker, agents)
    log("leads written; rescoring")
    rescoring = measure_rescoring(broker)
    log("rescored; timing requests")
    admin = User.objects.get(email="admin@bench.cl")
    api, pages = clients(broker, admin, agents[0])
    requests = measure_requests(api, pages)
    log("requests timed; exporting")
    export = measure_export(api)
    log("exported; importing")
    import_row = measure_import(broker, admin)

    print(f"\nCorredora CRM leads benchmark — database {BENCH_DATABASE}, {os.cpu_count()} CPUs, "
          f"DEBUG={settings.DEBUG}, load average at start {load_at_start}, at end {load_average()}")
    print(f"Fresh database + migrate_schemas --shared: {setup_seconds:.2f} s; brokerage + {AGENTS} agents: "
          f"{brokerage_seconds:.2f} s")
    print(f"{LEADS:,} leads and {transitions:,} stage transitions written with COPY: {generate_seconds:.2f} s "
          f"({LEADS / generate_seconds:,.0f} leads/s)")
    print_table("Nightly rescoring, lead_rescore_all over every lead",
                ["pass", "leads", "seconds", "leads/s", "target"], rescoring)
    print_table(f"Requests through the full Django stack, {REQUESTS} per case after {WARMUP} warm-up (ms)",
                ["case", "HTTP", "median", "p95", "SQL (25 / 100 per page)", "target (p95)"], requests)
    print("  SQL: statements of one request at the default page size / with ?page_size=100 (the same count: "
          "constant)")
    print_table("CSV export (GET /api/v1/leads/export/, ADMIN, every lead, streamed)",
                ["rows", "size", "seconds", "rows/s", "peak RSS of this process"], [export])
    print_table("CSV import (lead_import_run: validate, dedupe, write all-or-nothing, scores and stages)",
                ["file", "status", "created", "updated", "new leads", "seconds", "rows/s"], [import_row])
    print(f"\nTotal bench time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
