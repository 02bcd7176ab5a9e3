"""CSV import of leads: column mapping, validation with a per-row error report, dedupe, all-or-nothing writes.

`lead_import_start` (the API) checks the file and the mapping and queues `lead_import_run` (a Celery
task), which:
1. reads and validates every row, committing `processed` as it goes so progress shows on a large file;
2. merges rows of the file that share a phone or e-mail, and matches existing leads by phone or e-mail
   (a match is updated, never duplicated; empty cells leave the existing value alone);
3. if any row is wrong, writes no lead and stores every problem as {row, field, message}; otherwise
   writes every lead in batches inside one transaction, with calificacion, stage and score computed
   as the services do, timeline entries and stage transitions included, all bulk inserted.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first lead row 2.
"""

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from brokers.models import BrokerLeadConfig, User
from conversations.extraction import extract_fields
from crm.csvfiles import csv_decode, csv_header, csv_records, money_parse
from crm.errors import ApplicationError
from crm.realtime.broadcast import broadcast
from crm.tenancy import enqueue_on_commit
from leads import tasks
from leads.models import Lead, LeadActivity, LeadImport
from leads.phones import phone_to_e164
from leads.scoring import lead_score_apply
from leads.services import budget_to_clp, lead_assignees_next
from pipeline.models import CLOSED_STAGES, Stage, StageTransition
from pipeline.services import automatic_next_stage, calificacion_compute

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_LISTED_ERRORS = 10_000  # the report lists this many problems; error_count counts them all
PROGRESS_EVERY = 1000  # rows validated between two progress commits
WRITE_BATCH = 1000
LOOKUP_BATCH = 5000
DEFAULT_SOURCE = "Importación CSV"

# Mapping targets: the lead fields a column may fill. `budget` is a text such as "3.500 UF" or "$95.000.000".
IMPORT_FIELDS = {
    "name": "nombre", "phone": "teléfono", "email": "correo", "location": "comuna o ciudad",
    "property_type": "tipo de propiedad", "bedrooms": "dormitorios", "budget": "presupuesto",
    "monthly_income": "renta mensual", "dicom_status": "DICOM", "debt_amount": "deuda", "notes": "notas",
    "source": "origen",
}
IDENTITY_FIELDS = ("phone", "email")
# Lead columns an import may write on an existing lead (with what scoring and the pipeline derive).
WRITTEN_COLUMNS = ["name", "phone", "email", "location", "property_type", "bedrooms", "budget_amount",
                   "budget_currency", "budget_clp", "monthly_income_encrypted", "dicom_status_encrypted",
                   "dicom_status_index", "debt_amount_encrypted", "notes", "source", "calificacion",
                   "pipeline_stage", "stage_entered_at", "close_reason", "lead_score", "status", "score_breakdown",
                   "updated_at"]

DICOM_VALUES = {
    "clean": Lead.Dicom.CLEAN, "limpio": Lead.Dicom.CLEAN, "limpia": Lead.Dicom.CLEAN, "no": Lead.Dicom.CLEAN,
    "sin deudas": Lead.Dicom.CLEAN, "sin deuda": Lead.Dicom.CLEAN, "sin dicom": Lead.Dicom.CLEAN,
    "has_debt": Lead.Dicom.HAS_DEBT, "si": Lead.Dicom.HAS_DEBT, "con deudas": Lead.Dicom.HAS_DEBT,
    "con deuda": Lead.Dicom.HAS_DEBT, "con dicom": Lead.Dicom.HAS_DEBT, "moroso": Lead.Dicom.HAS_DEBT,
}
UF_RANGE = (Decimal(5), Decimal(200_000))
CLP_BUDGET_RANGE = (Decimal(100_000), Decimal(100_000_000_000))
AMOUNT_MAX = 10_000_000_000


@dataclass(slots=True)
class _Row:
    """One valid row (or several merged rows of the same person): cleaned values by lead field."""

    row: int
    values: dict[str, Any]
    lead_id: int | None = None


def _fold(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text.strip().lower()) if not unicodedata.combining(ch))


# --- reading the file --------------------------------------------------------------------------


def _mapping_validate(mapping: Any, header: list[str]) -> dict[str, str]:
    """{column of the file: lead field}; raises ApplicationError listing what is wrong."""
    if not isinstance(mapping, dict) or not mapping:
        raise ApplicationError("Indica qué columna del archivo va a qué campo del lead.", code="invalid_mapping",
                               details={"mapping": ["Un objeto JSON como {\"Celular\": \"phone\"}."]})
    problems: dict[str, list[str]] = {}
    targets = list(mapping.values())
    for column, target in mapping.items():
        if column.strip() not in header:
            problems.setdefault(column, []).append("El archivo no tiene esa columna.")
        if target not in IMPORT_FIELDS:
            problems.setdefault(column, []).append(f"Campo desconocido; usa uno de: {', '.join(IMPORT_FIELDS)}.")
        elif targets.count(target) > 1:
            problems.setdefault(column, []).append(f"Otra columna ya va al campo {target}.")
    if not set(IDENTITY_FIELDS) & set(targets):
        problems.setdefault("mapping", []).append("Falta una columna de teléfono o de correo (para no duplicar leads).")
    if problems:
        raise ApplicationError("Las columnas indicadas no calzan con el archivo.", code="invalid_mapping",
                               details=problems)
    return {column.strip(): target for column, target in mapping.items()}


# --- values ----------------------------------------------------------------------------------


def _budget(text: str) -> tuple[Decimal, str]:
    parsed = money_parse(text)
    if parsed is None:  # '120 millones', 'UF 3.500 aprox': the assistant's extractor reads these
        said = extract_fields(f"presupuesto {text}").get("budget")
        if said is None:
            raise ValueError("Presupuesto ilegible; usa por ejemplo 3.500 UF o $95.000.000.")
        parsed = Decimal(str(said["amount"])), said["currency"]
    amount, currency = parsed
    if currency is None:
        currency = "UF" if amount < 100_000 else "CLP"
    low, high = UF_RANGE if currency == "UF" else CLP_BUDGET_RANGE
    if not low <= amount <= high:
        raise ValueError(f"Presupuesto fuera de rango para {currency}.")
    return amount.quantize(Decimal("0.01")), currency


def _pesos(text: str) -> int:
    parsed = money_parse(text)
    if parsed is not None and parsed[1] != "UF":
        amount = parsed[0]
    elif (income := extract_fields(f"gano {text}").get("monthly_income")) is not None:
        amount = Decimal(income)
    else:
        raise ValueError("Monto ilegible; usa pesos, por ejemplo 1.200.000.")
    if not 0 <= amount <= AMOUNT_MAX:
        raise ValueError("Monto fuera de rango.")
    return int(amount)


def _text(limit: int) -> Any:
    def clean(text: str) -> str:
        text = " ".join(text.split())
        if len(text) > limit:
            raise ValueError(f"Máximo {limit} caracteres.")
        return text

    return clean


def _phone(text: str) -> str:
    try:
        return phone_to_e164(text)
    except ValueError:
        raise ValueError("Teléfono inválido; usa por ejemplo +56912345678 o 9 1234 5678.") from None


def _email(text: str) -> str:
    email = text.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValueError("Correo inválido.") from None
    return email


def _bedrooms(text: str) -> int:
    if not text.isdigit() or int(text) > 20:
        raise ValueError("Dormitorios: un número entre 0 y 20.")
    return int(text)


def _dicom(text: str) -> str:
    try:
        return DICOM_VALUES[_fold(text)]
    except KeyError:
        raise ValueError("DICOM: usa sí/no, limpio o con deudas.") from None


CLEANERS = {
    "name": _text(120), "phone": _phone, "email": _email, "location": _text(120),
    "property_type": lambda text: _text(30)(text).lower(), "bedrooms": _bedrooms, "budget": _budget,
    "monthly_income": _pesos, "dicom_status": _dicom, "debt_amount": _pesos, "notes": lambda text: text.strip(),
    "source": _text(60),
}


def _row_clean(number: int, cells: dict[str, str]) -> tuple[dict[str, Any], list[dict]]:
    """The lead fields of one row and its problems."""
    values: dict[str, Any] = {}
    errors = []
    for target, raw in cells.items():
        if not raw.strip():
            continue
        try:
            value = CLEANERS[target](raw.strip())
        except ValueError as exc:
            errors.append({"row": number, "field": target, "message": str(exc)})
            continue
        if target == "budget":
            values["budget_amount"], values["budget_currency"] = value
        else:
            values[target] = value
    if not errors and not any(values.get(key) for key in IDENTITY_FIELDS):
        errors.append({"row": number, "field": "phone", "message": "Falta teléfono o correo."})
    return values, errors


# --- the run ---------------------------------------------------------------------------------


def _progress_key(lead_import_id: int) -> str:
    return f"lead-import:{lead_import_id}:written"


@dataclass(frozen=True)
class ImportProgress:
    """Where a run stands: validating rows (`processed` of `total`), then writing leads (`written` of
    `to_write`, read from the cache: the write transaction cannot be seen from outside)."""

    phase: str
    written: int
    to_write: int | None
    percent: int


def lead_import_get(*, lead_import_id: int) -> LeadImport | None:
    """An import of the current brokerage (its schema holds no other brokerage's imports)."""
    return LeadImport.objects.filter(pk=lead_import_id).first()


def lead_import_progress(*, lead_import: LeadImport) -> ImportProgress:
    """Validation is the first half of the percentage and writing the second."""
    status, total = lead_import.status, lead_import.total or 0
    if status == LeadImport.Status.PENDING:
        return ImportProgress(phase="pending", written=0, to_write=None, percent=0)
    if status != LeadImport.Status.RUNNING:
        return ImportProgress(phase="finished", written=lead_import.leads_created + lead_import.leads_updated,
                              to_write=None, percent=100)
    if lead_import.processed < total:
        return ImportProgress(phase="validating", written=0, to_write=None,
                              percent=50 * lead_import.processed // max(total, 1))
    written, to_write = cache.get(_progress_key(lead_import.id), (0, None))
    return ImportProgress(phase="writing", written=written, to_write=to_write,
                          percent=50 + 50 * written // max(to_write or 1, 1))


def _validate(lead_import: LeadImport, text: str) -> tuple[list[_Row], list[dict]]:
    records = csv_records(text)
    header = [column.strip() for column in next(records, [])]
    columns = {target: header.index(column) for column, target in lead_import.mapping.items()}
    rows: list[_Row] = []
    errors: list[dict] = []
    processed = 0
    for processed, cells in enumerate(records, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        number = processed + 1
        values, problems = _row_clean(number, {target: cells[index] if index < len(cells) else ""
                                               for target, index in columns.items()})
        if problems:
            errors += problems
        else:
            rows.append(_Row(row=number, values=values))
        if processed % PROGRESS_EVERY == 0:
            LeadImport.objects.filter(pk=lead_import.pk).update(processed=processed)
    LeadImport.objects.filter(pk=lead_import.pk).update(processed=processed)
    return rows, errors


def _merge_within_file(rows: list[_Row]) -> tuple[list[_Row], list[dict]]:
    """Rows sharing a phone or e-mail become one lead (later cells win); a row that would give that lead
    a second phone or e-mail, or that matches two different earlier rows, is an error."""
    merged: list[_Row] = []
    owner: dict[tuple[str, str], _Row] = {}
    errors = []
    for row in rows:
        matches = {id(owner[key]): owner[key] for key in _identities(row.values) if key in owner}
        if len(matches) > 1:
            first, second = sorted(match.row for match in matches.values())
            errors.append({"row": row.row, "field": "phone",
                           "message": f"El teléfono es de la fila {first} y el correo de la fila {second}."})
            continue
        if not matches:
            merged.append(row)
            owner.update(dict.fromkeys(_identities(row.values), row))
            continue
        target = next(iter(matches.values()))
        clash = next((key for key in IDENTITY_FIELDS
                      if row.values.get(key) and target.values.get(key) not in (None, row.values[key])), None)
        if clash:
            errors.append({"row": row.row, "field": clash,
                           "message": f"Repite el lead de la fila {target.row} con otro {IMPORT_FIELDS[clash]}."})
            continue
        target.values.update(row.values)
        owner.update(dict.fromkeys(_identities(row.values), target))
    return merged, errors


def _identities(values: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key, values[key]) for key in IDENTITY_FIELDS if values.get(key)]


def _match_existing(rows: list[_Row]) -> list[dict]:
    """Point each row at the existing lead with its phone or e-mail; an error when those are two leads."""
    found: dict[tuple[str, str], int] = {}
    for key in IDENTITY_FIELDS:
        wanted = sorted({row.values[key] for row in rows if row.values.get(key)})
        for start in range(0, len(wanted), LOOKUP_BATCH):
            chunk = wanted[start:start + LOOKUP_BATCH]
            for lead_id, value in Lead.objects.filter(is_deleted=False, **{f"{key}__in": chunk}).values_list("id", key):
                found[(key, value)] = lead_id
    errors = []
    for row in rows:
        ids = sorted({found[identity] for identity in _identities(row.values) if identity in found})
        if len(ids) > 1:
            errors.append({"row": row.row, "field": "email",
                           "message": f"El teléfono es del lead {ids[0]} y el correo del lead {ids[1]}."})
        row.lead_id = ids[0] if ids else None
    return errors


def _fail(lead_import: LeadImport, errors: list[dict]) -> None:
    errors.sort(key=lambda error: (error["row"] or 0, error["field"]))
    lead_import.status, lead_import.finished_at, lead_import.content = LeadImport.Status.FAILED, timezone.now(), ""
    lead_import.error_count, lead_import.errors = len(errors), errors[:MAX_LISTED_ERRORS]
    lead_import.save(update_fields=["status", "finished_at", "content", "error_count", "errors", "updated_at"])


def _lead_values_set(lead: Lead, values: dict[str, Any]) -> list[str]:
    """Put the row's values on the lead; the names of the fields that changed."""
    changed = sorted(name for name, value in values.items() if getattr(lead, name) != value)
    for name in changed:
        setattr(lead, name, values[name])
    if {"budget_amount", "budget_currency"} & set(changed):
        lead.budget_clp = budget_to_clp(amount=lead.budget_amount, currency=lead.budget_currency)
    return changed


@dataclass
class _Timeline:
    """Rows written after the leads: timeline entries and stage transitions."""

    activities: list[LeadActivity] = field(default_factory=list)
    transitions: list[StageTransition] = field(default_factory=list)


def _lead_refresh(lead: Lead, *, config: BrokerLeadConfig, actor_id: int | None, now: datetime,
                  timeline: _Timeline) -> None:
    """lead_advance_pipeline and lead_rescore on an unsaved lead, collecting what they would write."""
    lead.calificacion = calificacion_compute(lead=lead, config=config)
    while (step := automatic_next_stage(lead)) is not None:
        stage, reason = step
        close_reason = reason if stage == Stage.PERDIDO else ""
        timeline.transitions.append(StageTransition(
            lead=lead, from_stage=lead.pipeline_stage, to_stage=stage, automatic=True, reason=reason,
            seconds_in_stage=max(0, int((now - lead.stage_entered_at).total_seconds()))))
        timeline.activities.append(LeadActivity(
            lead=lead, kind=LeadActivity.Kind.STAGE_CHANGED,
            payload={"from": lead.pipeline_stage, "to": stage, "reason": reason, "automatic": True,
                     "close_reason": close_reason}))
        lead.pipeline_stage, lead.stage_entered_at = stage, now
        lead.close_reason = close_reason if stage in CLOSED_STAGES else ""
    activity = lead_score_apply(lead=lead, config=config, reason="import", actor_id=actor_id, now=now)
    if activity is not None:
        timeline.activities.append(activity)


def _write(lead_import: LeadImport, rows: list[_Row], config: BrokerLeadConfig) -> tuple[int, int]:
    """Create and update the leads in batches (inside the caller's transaction); (created, updated)."""
    now, actor_id = timezone.now(), lead_import.created_by_id
    created = updated = written = 0
    for start in range(0, len(rows), WRITE_BATCH):
        batch = rows[start:start + WRITE_BATCH]
        timeline = _Timeline()
        existing = Lead.objects.in_bulk([row.lead_id for row in batch if row.lead_id])
        new_leads, changed_leads, notes = [], [], []
        for row in batch:
            if row.lead_id is None:
                lead = Lead(channel=Lead.Channel.IMPORT, source=DEFAULT_SOURCE, stage_entered_at=now)
                _lead_values_set(lead, row.values)
                _lead_refresh(lead, config=config, actor_id=actor_id, now=now, timeline=timeline)
                new_leads.append(lead)
                continue
            lead = existing[row.lead_id]
            changed = _lead_values_set(lead, row.values)
            if changed:
                _lead_refresh(lead, config=config, actor_id=actor_id, now=now, timeline=timeline)
                changed_leads.append(lead)
                notes.append(LeadActivity(lead=lead, kind=LeadActivity.Kind.FIELDS_CHANGED, actor_id=actor_id,
                                          payload={"fields": changed, "import_id": lead_import.id}))
        for lead, agent in zip(new_leads, lead_assignees_next(config=config, count=len(new_leads)), strict=False):
            lead.assigned_to = agent
        Lead.objects.bulk_create(new_leads)
        for lead in changed_leads:
            lead.updated_at = now
        _leads_update(changed_leads)
        notes += [LeadActivity(lead=lead, kind=LeadActivity.Kind.CREATED, actor_id=actor_id,
                               payload={"channel": lead.channel, "source": lead.source, "import_id": lead_import.id})
                  for lead in new_leads]
        # In the order given, so the next round-robin turn starts after the last of them.
        notes += [LeadActivity(lead=lead, kind=LeadActivity.Kind.ASSIGNED, actor_id=actor_id,
                               payload={"from": None, "to": lead.assigned_to_id, "mode": config.assignment_rule})
                  for lead in new_leads if lead.assigned_to_id]
        LeadActivity.objects.bulk_create(notes + timeline.activities, batch_size=2000)
        StageTransition.objects.bulk_create(timeline.transitions, batch_size=2000)
        created, updated, written = created + len(new_leads), updated + len(changed_leads), written + len(batch)
        cache.set(_progress_key(lead_import.id), (written, len(rows)), timeout=24 * 3600)
    return created, updated


def _leads_update(leads: list[Lead]) -> None:
    """WRITTEN_COLUMNS of `leads` in one UPDATE fed by one JSON document.

    What bulk_update does, without its CASE per row and column, whose building costs more
    than everything else an import does (see leads.scoring._scores_write for the same idea).
    """
    if not leads:
        return
    fields = [Lead._meta.get_field(name) for name in WRITTEN_COLUMNS]
    rows = [{"id": lead.pk, **{field.column: field.get_db_prep_save(getattr(lead, field.attname), connection)
                                 for field in fields if not isinstance(field, JSONField)},
             **{field.column: getattr(lead, field.attname) for field in fields if isinstance(field, JSONField)}}
            for lead in leads]
    types = ", ".join(f"{connection.ops.quote_name(field.column)} {field.db_type(connection)}" for field in fields)
    assignments = ", ".join(f"{name} = v.{name}" for name in (connection.ops.quote_name(f.column) for f in fields))
    # Column names and types come from the model, never from the file; the values travel as a parameter.
    sql = f"UPDATE leads_lead AS lead SET {assignments} FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, {types})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql + " WHERE lead.id = v.id", [json.dumps(rows, cls=DjangoJSONEncoder)])


def lead_import_run(*, lead_import_id: int, config: BrokerLeadConfig) -> LeadImport:
    """Run a queued import to the end (the Celery task); idempotent: a finished import is left alone."""
    lead_import = LeadImport.objects.get(pk=lead_import_id)
    if lead_import.status in (LeadImport.Status.DONE, LeadImport.Status.FAILED):
        return lead_import
    # Committed at once (autocommit in the worker), so the progress endpoint sees the run start.
    lead_import.status, lead_import.processed = LeadImport.Status.RUNNING, 0
    lead_import.save(update_fields=["status", "processed", "updated_at"])
    cache.delete(_progress_key(lead_import.id))  # from an earlier attempt that died mid-write
    try:
        rows, errors = _validate(lead_import, lead_import.content)
        rows, merge_errors = _merge_within_file(rows)
        errors += merge_errors + _match_existing(rows)
        if errors:
            _fail(lead_import, errors)
            return lead_import
        with transaction.atomic():
            locked = LeadImport.objects.select_for_update().get(pk=lead_import.pk)
            if locked.status != LeadImport.Status.RUNNING:  # a redelivered task finished it meanwhile
                return locked
            lead_import.leads_created, lead_import.leads_updated = _write(lead_import, rows, config)
            lead_import.status, lead_import.finished_at, lead_import.content = (
                LeadImport.Status.DONE, timezone.now(), "")
            lead_import.processed = lead_import.total
            lead_import.save(update_fields=["status", "finished_at", "content", "processed", "leads_created",
                                            "leads_updated", "updated_at"])
            broadcast("leads_imported", {"import_id": lead_import.id, "created": lead_import.leads_created,
                                         "updated": lead_import.leads_updated})
    except IntegrityError:
        # Someone created a lead with one of these phones or e-mails while the file was being read.
        _fail(lead_import, [{"row": None, "field": "",
                             "message": "Otro lead con el mismo teléfono o correo se creó durante la importación; "
                                        "vuelve a subir el archivo."}])
    except Exception:
        _fail(lead_import, [{"row": None, "field": "", "message": "Error interno; el archivo no se importó."}])
        raise
    return lead_import


@transaction.atomic
def lead_import_start(*, actor: User, file_name: str, data: bytes, mapping: Any) -> LeadImport:
    """Check the file and the mapping, store the import and queue its task once this commits."""
    if len(data) > MAX_FILE_BYTES:
        raise ApplicationError("El archivo supera los 20 MB.", code="file_too_large")
    text = csv_decode(data)
    header = csv_header(text)
    total = sum(1 for _ in csv_records(text)) - 1
    if not any(header) or total < 1:
        raise ApplicationError("El archivo no tiene filas de leads.", code="invalid_file")
    if total > MAX_ROWS:
        raise ApplicationError("El archivo supera las 100.000 filas; divídelo en partes.", code="file_too_large")
    lead_import = LeadImport.objects.create(file_name=file_name[:255], content=text, created_by=actor, total=total,
                                            mapping=_mapping_validate(mapping, header))
    enqueue_on_commit(tasks.leads_import_run, lead_import.id)
    return lead_import
