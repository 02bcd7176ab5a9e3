"""CSV export of leads: the list's filters and visibility, streamed a chunk of rows at a time.

The format is chosen for Excel as brokerages in Chile use it: fields separated by `;` (with a Spanish
locale Excel's list separator is `;`, the comma being its decimal mark), UTF-8 with a BOM (without it
Excel reads the file as Windows-1252 and mangles accents), numbers without thousands separators and
with a decimal comma, so Excel takes them as numbers. Income, DICOM and debt columns are for ADMIN
users only; for anyone else those columns are not even read from the database.
"""

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from django.utils import timezone

from leads.models import Lead
from pipeline.models import Calificacion, Stage

DELIMITER = ";"
BOM = "\ufeff"
ROWS_PER_CHUNK = 500  # rows per piece sent to the client
FETCH_SIZE = 2000  # rows per round trip of the server-side cursor
FINANCIAL_COLUMNS = ["monthly_income_encrypted", "dicom_status_encrypted", "debt_amount_encrypted"]
DICOM_WORDS = {Lead.Dicom.CLEAN: "limpio", Lead.Dicom.HAS_DEBT: "con deudas"}


def _number(value: int | Decimal | None) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f").replace(".", ",")
    return "" if value is None else str(value)


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


Column = tuple[str, Callable[[Lead], Any]]


def _columns(*, with_financial: bool) -> list[Column]:
    """Header and value of each column. Choice labels are looked up once per export: Django's
    get_FOO_display hashes every lazy label on each call, which costs more than the rest of a row."""
    channels, statuses, stages, verdicts = (
        {key: str(label) for key, label in choices} for choices in
        (Lead.Channel.choices, Lead.Status.choices, Stage.choices, Calificacion.choices))
    columns: list[Column] = [
        ("ID", lambda lead: lead.id),
        ("Nombre", lambda lead: lead.name),
        ("Teléfono", lambda lead: lead.phone),
        ("Correo", lambda lead: lead.email),
        ("Canal", lambda lead: channels.get(lead.channel, lead.channel)),
        ("Comuna o ciudad", lambda lead: lead.location),
        ("Tipo de propiedad", lambda lead: lead.property_type),
        ("Dormitorios", lambda lead: _number(lead.bedrooms)),
        ("Presupuesto", lambda lead: _number(lead.budget_amount)),
        ("Moneda", lambda lead: lead.budget_currency),
        ("Presupuesto CLP", lambda lead: _number(lead.budget_clp)),
    ]
    if with_financial:
        columns += [
            ("Renta mensual", lambda lead: _number(lead.monthly_income)),
            ("DICOM", lambda lead: DICOM_WORDS.get(lead.dicom_status, "")),
            ("Deuda", lambda lead: _number(lead.debt_amount)),
        ]
    return columns + [
        ("Puntaje", lambda lead: lead.lead_score),
        ("Temperatura", lambda lead: statuses.get(lead.status, lead.status)),
        ("Etapa", lambda lead: stages.get(lead.pipeline_stage, lead.pipeline_stage)),
        ("Calificación", lambda lead: verdicts[lead.calificacion] if lead.calificacion else ""),
        ("Ejecutivo", lambda lead: lead.assigned_to.name if lead.assigned_to else ""),
        ("Etiquetas", lambda lead: ", ".join(lead.tags)),
        ("Origen", lambda lead: lead.source),
        ("Creado", lambda lead: _when(lead.created_at)),
        ("Último contacto", lambda lead: _when(lead.last_contacted_at)),
    ]


def lead_csv_chunks(*, leads: QuerySet[Lead], with_financial: bool) -> Iterator[str]:
    """The CSV text of `leads` (in their order), in pieces of ROWS_PER_CHUNK rows, BOM and header first.

    The rows come through a server-side cursor, so memory holds one fetch whatever the number of leads.
    """
    columns = _columns(with_financial=with_financial)
    leads = leads.defer("score_breakdown", "notes", "search_vector",
                        *([] if with_financial else FINANCIAL_COLUMNS))
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([header for header, _ in columns])
    for count, lead in enumerate(leads.iterator(chunk_size=FETCH_SIZE), start=1):
        writer.writerow([value(lead) for _, value in columns])
        if count % ROWS_PER_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


async def as_async(chunks: Iterable[str]) -> AsyncIterator[str]:
    """The pieces for an ASGI server: each is produced in the request's thread (where its database
    connection and schema are), so nothing is buffered whole, as Django does with a sync iterator."""
    iterator = iter(chunks)
    next_chunk = sync_to_async(lambda: next(iterator, None), thread_sensitive=True)
    while (chunk := await next_chunk()) is not None:
        yield chunk
