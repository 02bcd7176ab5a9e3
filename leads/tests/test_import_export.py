import csv
import io
import json
import time
from decimal import Decimal
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brokers.auth import tokens_for
from brokers.models import User
from conftest import committed_brokerage, host_of
from crm.celery import app as celery_app
from leads import imports
from leads.models import Lead, LeadActivity, LeadImport
from leads.tests.factories import config_of, lead_make
from pipeline.models import Stage, StageTransition

URL = "/api/v1/leads/"
MAPPING = {"Nombre": "name", "Celular": "phone", "Correo": "email", "Comuna": "location", "Tipo": "property_type",
           "Presupuesto": "budget", "Renta": "monthly_income", "DICOM": "dicom_status"}
HEADER = "Nombre;Celular;Correo;Comuna;Tipo;Presupuesto;Renta;DICOM;Ignorada"


@pytest.fixture
def eager_tasks():
    """Tasks run inline, inside the test's transaction (the real worker has its own test below)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def admin(api_client, broker_a, admin_a):
    return api_client(host_of(broker_a), admin_a)


@pytest.fixture
def agent(api_client, broker_a, agent_a):
    return api_client(host_of(broker_a), agent_a)


def csv_file(*lines: str, name: str = "leads.csv", encoding: str = "utf-8-sig") -> io.BytesIO:
    upload = io.BytesIO("\n".join(lines).encode(encoding))
    upload.name = name
    return upload


def upload(client, file: io.BytesIO, mapping: dict | None = None):
    return client.post(f"{URL}import/", {"file": file, "mapping": json.dumps(mapping or MAPPING)},
                       format="multipart")


def run_import(client, capture, *lines: str, mapping: dict | None = None) -> dict:
    """Upload, let the queued task run (eagerly, on commit), and return the import's progress body."""
    with capture(execute=True):
        response = upload(client, csv_file(HEADER, *lines), mapping)
    assert response.status_code == 202, response.json()
    return client.get(f"{URL}import/{response.json()['id']}/").json()


def test_a_good_file_is_imported_normalised_deduplicated_and_scored(admin, broker_a, admin_a, eager_tasks,
                                                                     django_capture_on_commit_callbacks):
    with broker_a:
        existing = lead_make(name="Ana", phone="+56911112222", email="", lead_score=0)
    body = run_import(
        admin, django_capture_on_commit_callbacks,
        "Ana Pérez;9 1111 2222;Ana@Example.cl;Ñuñoa;Departamento;3.500 UF;$1.500.000;limpio;x",
        "Bruno Díaz;+56 9 3333-4444;;Maipú;casa;$95.000.000;800.000;con deudas;",
        "Carla Soto;(+56) 9 5555.6666;carla@example.cl;;;120 millones;;;",
        ";;;;;;;;",  # an empty line is skipped
        "Carla Soto;;carla@example.cl;Providencia;;;;sí;",  # the same person again: merged into row 4
    )
    assert body["errors"] == []
    assert (body["status"], body["phase"], body["percent"], body["total"], body["processed"]) == (
        "done", "finished", 100, 5, 5)
    assert (body["leads_created"], body["leads_updated"], body["error_count"], body["errors"]) == (2, 1, 0, [])
    with broker_a:
        assert Lead.objects.count() == 3
        ana = Lead.objects.get(pk=existing.pk)
        assert (ana.name, ana.email, ana.location, ana.property_type) == ("Ana Pérez", "ana@example.cl", "Ñuñoa",
                                                                          "departamento")
        assert (ana.budget_amount, ana.budget_currency, ana.monthly_income, ana.dicom_status) == (
            Decimal("3500.00"), "UF", 1_500_000, "clean")
        assert (ana.calificacion, ana.pipeline_stage) == ("calificado", Stage.POTENCIAL)
        assert ana.lead_score == sum(ana.score_breakdown.values()) > 0
        bruno = Lead.objects.get(phone="+56933334444")
        assert (bruno.budget_clp, bruno.channel, bruno.source) == (95_000_000, "import", "Importación CSV")
        assert (bruno.calificacion, bruno.pipeline_stage, bruno.close_reason) == (
            "no_calificado", Stage.PERDIDO, "No califica financieramente")
        carla = Lead.objects.get(email="carla@example.cl")
        assert (carla.phone, carla.location, carla.dicom_status, carla.budget_amount) == (
            "+56955556666", "Providencia", "has_debt", Decimal("120000000.00"))
        kinds = set(LeadActivity.objects.filter(lead=bruno).values_list("kind", flat=True))
        assert kinds == {"created", "stage_changed", "score_changed"}
        assert LeadActivity.objects.get(lead=ana, kind="fields_changed").payload["fields"] == [
            "budget_amount", "budget_currency", "dicom_status", "email", "location", "monthly_income", "name",
            "property_type"]
        assert StageTransition.objects.filter(lead=bruno).count() == 3  # → perfilamiento → calif. → perdido
        assert LeadImport.objects.get().content == ""  # the file leaves with the run


def test_bad_rows_are_all_reported_and_nothing_is_imported(admin, broker_a, eager_tasks,
                                                           django_capture_on_commit_callbacks):
    with broker_a:
        existing = lead_make(name="Ana", phone="+56911112222")
        fede = lead_make(name="Fede", phone="+56966667777")
        otro = lead_make(name="Otro", phone="+56977778888", email="otro@example.cl")
    body = run_import(
        admin, django_capture_on_commit_callbacks,
        "Ana Pérez;911112222;;;;;;;",  # fine on its own
        "Bruno;12;bruno@;;;;;quizás;",
        "Carla;;;;;mucho;no sé;;",
        "Dani;966667777;otro@example.cl;;;;;;",  # Fede's phone with Otro's e-mail
        "Ana Pérez;911112222;ana@example.cl;;;;;;",  # merges with row 2: fine
        "Eva;988887777;ana@example.cl;;;;;;",  # ana@ belongs to row 2, with another phone
    )
    assert (body["status"], body["leads_created"], body["leads_updated"]) == ("failed", 0, 0)
    assert body["errors"] == [
        {"row": 3, "field": "dicom_status", "message": "DICOM: usa sí/no, limpio o con deudas."},
        {"row": 3, "field": "email", "message": "Correo inválido."},
        {"row": 3, "field": "phone", "message": "Teléfono inválido; usa por ejemplo +56912345678 o 9 1234 5678."},
        {"row": 4, "field": "budget", "message": "Presupuesto ilegible; usa por ejemplo 3.500 UF o $95.000.000."},
        {"row": 4, "field": "monthly_income", "message": "Monto ilegible; usa pesos, por ejemplo 1.200.000."},
        {"row": 5, "field": "email", "message": f"El teléfono es del lead {fede.id} y el correo del lead {otro.id}."},
        {"row": 7, "field": "phone", "message": "Repite el lead de la fila 2 con otro teléfono."},
    ]
    assert body["error_count"] == 7
    with broker_a:
        assert Lead.objects.count() == 3 and Lead.objects.get(pk=existing.pk).name == "Ana"
        assert not LeadActivity.objects.exists() and not StageTransition.objects.exists()


def test_a_row_without_phone_or_email_is_an_error(admin, broker_a, eager_tasks, django_capture_on_commit_callbacks):
    body = run_import(admin, django_capture_on_commit_callbacks, "Solo Nombre;;;Ñuñoa;;;;;")
    assert body["errors"] == [{"row": 2, "field": "phone", "message": "Falta teléfono o correo."}]


def test_mapping_and_file_are_checked_at_upload(admin, broker_a):
    response = upload(admin, csv_file(HEADER, "Ana;911112222;;;;;;;"), {"Celu": "phone", "Nombre": "edad"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_mapping" and set(error["details"]) == {"Celu", "Nombre"}
    response = upload(admin, csv_file(HEADER, "Ana;911112222;;;;;;;"), {"Nombre": "name"})
    assert response.json()["error"]["details"] == {
        "mapping": ["Falta una columna de teléfono o de correo (para no duplicar leads)."]}
    response = upload(admin, csv_file(HEADER), MAPPING)
    assert response.json()["error"]["code"] == "invalid_file"
    with broker_a:
        assert not LeadImport.objects.exists()


def test_comma_separated_windows_1252_files_are_read(admin, broker_a, eager_tasks,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin, csv_file("Nombre,Celular", '"Pérez, Ana",+56911112222', encoding="cp1252"),
                          {"Nombre": "name", "Celular": "phone"})
    assert admin.get(f"{URL}import/{response.json()['id']}/").json()["status"] == "done"
    with broker_a:
        assert Lead.objects.get().name == "Pérez, Ana"


def test_progress_is_visible_before_and_while_the_task_runs(admin, broker_a, admin_a, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    response = upload(admin, csv_file(HEADER, *[f"Lead {i};+5699000{i:04d};;;;;;;" for i in range(7)]))
    body = response.json()
    assert (body["status"], body["phase"], body["total"], body["processed"], body["percent"]) == (
        "pending", "pending", 7, 0, 0)
    progress = f"{URL}import/{body['id']}/"

    # The validation pass commits its count as it goes; the write phase reports through the cache.
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 3)
    seen = []
    real_write = imports._write

    def write(lead_import, rows, config):
        seen.append(admin.get(progress).json())
        return real_write(lead_import, rows, config)

    monkeypatch.setattr(imports, "_write", write)
    with broker_a, CaptureQueriesContext(connection) as queries:
        imports.lead_import_run(lead_import_id=body["id"], config=config_of(broker_a))
    counts = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "leads_leadimport" SET "processed"')]
    assert [sql.split("= ")[1].split(" ")[0] for sql in counts] == ["3", "6", "7"]
    assert (seen[0]["status"], seen[0]["phase"], seen[0]["processed"], seen[0]["percent"]) == (
        "running", "writing", 7, 50)
    with broker_a:
        cache.set(imports._progress_key(body["id"]), (3, 6))
        LeadImport.objects.filter(pk=body["id"]).update(status="running", processed=4)
    assert {key: admin.get(progress).json()[key] for key in ("phase", "percent")} == {
        "phase": "validating", "percent": 28}
    with broker_a:
        LeadImport.objects.filter(pk=body["id"]).update(processed=7)
    assert {key: admin.get(progress).json()[key] for key in ("phase", "written", "to_write", "percent")} == {
        "phase": "writing", "written": 3, "to_write": 6, "percent": 75}


def test_a_finished_import_is_not_run_again(admin, broker_a, eager_tasks, django_capture_on_commit_callbacks):
    body = run_import(admin, django_capture_on_commit_callbacks, "Ana;911112222;;;;;;;")
    with broker_a:
        imports.lead_import_run(lead_import_id=body["id"], config=config_of(broker_a))
        assert Lead.objects.count() == 1 and LeadActivity.objects.filter(kind="created").count() == 1


def test_an_agent_cannot_import_nor_see_imports(agent, broker_a):
    assert upload(agent, csv_file(HEADER, "Ana;911112222;;;;;;;")).status_code == 403
    assert agent.get(f"{URL}import/1/").status_code == 403
    with broker_a:
        assert not LeadImport.objects.exists()


def test_an_import_of_another_brokerage_does_not_exist_here(api_client, admin, broker_a, broker_b, admin_b):
    with broker_b:
        other = LeadImport.objects.create(file_name="b.csv", mapping=MAPPING, total=1)
    assert admin.get(f"{URL}import/{other.id}/").status_code == 404
    assert api_client(host_of(broker_b), admin_b).get(f"{URL}import/{other.id}/").status_code == 200
    assert api_client(host_of(broker_a), admin_b).get(f"{URL}import/{other.id}/").status_code == 401
    response = api_client(host_of(broker_a), admin_b).post(f"{URL}import/", {"file": csv_file(HEADER, "x;1")})
    assert response.status_code == 401


# --- export -------------------------------------------------------------------------------------


@pytest.fixture
def exported_leads(broker_a, agent_a):
    with broker_a:
        ana = lead_make(name="Ana Pérez", email="ana@example.cl", assigned_to=agent_a, pipeline_stage=Stage.POTENCIAL,
                        lead_score=80, status="qualified", monthly_income=2_000_000, dicom_status="clean",
                        budget_amount=Decimal("3500.50"), budget_currency="UF", budget_clp=138_269_750)
        bruno = lead_make(name="Bruno Díaz", dicom_status="has_debt", monthly_income=600_000)
        lead_make(name="Borrado", is_deleted=True)
    return ana, bruno


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8" and response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def test_export_respects_filters_and_shows_financial_data_to_admins(admin, exported_leads):
    rows = read_csv(admin.get(f"{URL}export/?ordering=name"))
    assert [row["Nombre"] for row in rows] == ["Ana Pérez", "Bruno Díaz"]
    ana = rows[0]
    assert (ana["Renta mensual"], ana["DICOM"], ana["Presupuesto"], ana["Moneda"], ana["Etapa"]) == (
        "2000000", "limpio", "3500,5", "UF", "Potencial")
    assert rows[1]["DICOM"] == "con deudas"
    assert [row["Nombre"] for row in read_csv(admin.get(f"{URL}export/?dicom=has_debt"))] == ["Bruno Díaz"]
    assert [row["Nombre"] for row in read_csv(admin.get(f"{URL}export/?search=ana"))] == ["Ana Pérez"]
    assert [row["Nombre"] for row in read_csv(admin.get(f"{URL}export/?stage=entrada"))] == ["Bruno Díaz"]
    assert admin.get(f"{URL}export/?stage=volando").status_code == 400


def test_export_for_an_agent_has_only_own_leads_and_no_financial_columns(agent, exported_leads):
    response = agent.get(f"{URL}export/")
    rows = read_csv(response)
    assert [row["Nombre"] for row in rows] == ["Ana Pérez"]
    assert not {"Renta mensual", "DICOM", "Deuda"} & set(rows[0])
    assert response["Content-Disposition"].startswith('attachment; filename="leads-alfa-')


def test_export_reads_through_a_cursor_in_constant_queries(admin, broker_a, monkeypatch):
    with broker_a:
        for i in range(7):
            lead_make(name=f"Lead {i}")
    monkeypatch.setattr("leads.exports.FETCH_SIZE", 3)
    monkeypatch.setattr("leads.exports.ROWS_PER_CHUNK", 2)
    response = admin.get(f"{URL}export/")
    with CaptureQueriesContext(connection) as queries:
        chunks = list(response.streaming_content)
    assert len(chunks) == 4  # 2 + 2 + 2 + 1 rows, the header with the first two
    assert len([q for q in queries if "leads_lead" in q["sql"]]) == 1


def test_export_on_another_brokerage_host_is_refused(api_client, broker_b, admin_a, exported_leads):
    assert api_client(host_of(broker_b), admin_a).get(f"{URL}export/").status_code == 401


# --- through the real worker and the ASGI server -----------------------------------------------


@pytest.fixture(scope="module")
def import_broker(cast, django_db_blocker):
    """A brokerage of its own (committed: the server and the worker are other processes)."""
    with django_db_blocker.unblock():
        return committed_brokerage("imp", "Corredora Import", admin_name="Admin Import")


@pytest.mark.worker
def test_import_through_the_real_worker_then_export_streamed_by_the_asgi_server(
        import_broker, live_server_url, celery_worker_process, django_db_blocker):
    with django_db_blocker.unblock():
        admin_user = User.objects.get(email=f"admin@{import_broker.slug}.cl")
    server = urlsplit(live_server_url)
    headers = {"Host": f"{host_of(import_broker)}:{server.port}",
               "Authorization": f"Bearer {tokens_for(admin_user)['access']}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10, headers=headers) as client:
        lines = [HEADER] + [f"Lead {i};+5699100{i:04d};lead{i}@example.cl;Ñuñoa;casa;3.000 UF;1.200.000;no;"
                            for i in range(300)]
        response = client.post(f"{URL}import/", files={"file": ("leads.csv", "\n".join(lines).encode("utf-8-sig"))},
                               data={"mapping": json.dumps(MAPPING)})
        assert response.status_code == 202, response.text
        progress = f"{URL}import/{response.json()['id']}/"
        deadline = time.monotonic() + 30
        while (body := client.get(progress).json())["status"] in ("pending", "running"):
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
        assert (body["status"], body["leads_created"], body["percent"]) == ("done", 300, 100), body

        with client.stream("GET", f"{URL}export/?search=lead1&ordering=name") as export:
            assert export.headers["content-type"] == "text/csv; charset=utf-8"
            text = b"".join(export.iter_bytes()).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert len(rows) == 111  # lead1, lead10–19, lead100–199
    assert (rows[0]["Correo"], rows[0]["Comuna o ciudad"], rows[0]["DICOM"], rows[0]["Etapa"]) == (
        "lead1@example.cl", "Ñuñoa", "limpio", "Potencial")


def test_imported_leads_are_assigned_per_the_brokerage_rule(admin, broker_a, agent_a, eager_tasks,
                                                            django_capture_on_commit_callbacks):
    config = config_of(broker_a)
    config.assignment_rule, config.assignment_priority = "priority", [agent_a.id]
    config.save()
    run_import(admin, django_capture_on_commit_callbacks, "Ana;911112222;;;;;;;", "Beto;933334444;;;;;;;")
    with broker_a:
        assert set(Lead.objects.values_list("assigned_to_id", flat=True)) == {agent_a.id}
        assert LeadActivity.objects.filter(kind="assigned", payload__mode="priority").count() == 2
