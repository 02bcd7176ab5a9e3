"""CSV import of units: columns recognised by their Spanish (or English) headers, every row checked,
all-or-nothing with a per-row report {row, field, message}, like the lead import.

A row whose `código` exists updates that unit; a `proyecto` that does not exist is created with the
row's comuna and address. Rows are numbered as a spreadsheet shows them (the header is row 1).
Catalogues are small (MAX_ROWS), so the import runs in the request, in one transaction; the units'
vectors are computed afterwards by a task.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from conversations.extraction import PROPERTY_TYPE_RE, fold
from crm.csvfiles import csv_decode, csv_header, csv_records, money_parse, number_parse
from crm.errors import ApplicationError
from crm.tenancy import enqueue_on_commit
from properties.models import MAX_ROOMS, Project, Unit
from properties.services import comuna_clean, model_validate, unit_values_set

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

# Header (folded: lower case, no accents, only letters and digits) → unit field.
HEADERS = {
    "codigo": "code", "cod": "code", "code": "code", "unidad": "code", "id": "code",
    "proyecto": "project", "project": "project",
    "tipo": "property_type", "tipo de propiedad": "property_type", "tipo propiedad": "property_type",
    "property type": "property_type",
    "dormitorios": "bedrooms", "dormitorio": "bedrooms", "dorm": "bedrooms", "dorms": "bedrooms",
    "habitaciones": "bedrooms", "piezas": "bedrooms", "bedrooms": "bedrooms",
    "banos": "bathrooms", "bano": "bathrooms", "bathrooms": "bathrooms",
    "m2": "area_m2", "superficie": "area_m2", "superficie m2": "area_m2", "superficie util": "area_m2",
    "metros": "area_m2", "metros cuadrados": "area_m2", "area": "area_m2", "area m2": "area_m2",
    "precio": "price", "valor": "price", "price": "price",
    "precio uf": "price_uf", "valor uf": "price_uf", "uf": "price_uf", "price uf": "price_uf",
    "precio clp": "price_clp", "precio pesos": "price_clp", "valor clp": "price_clp", "clp": "price_clp",
    "price clp": "price_clp",
    "estado": "status", "disponibilidad": "status", "status": "status",
    "comuna": "comuna", "direccion": "address", "address": "address",
    "descripcion": "description", "detalle": "description", "description": "description",
    "fotos": "photo_urls", "foto": "photo_urls", "imagenes": "photo_urls", "photos": "photo_urls",
    "ds1": "subsidy_ds1", "subsidio ds1": "subsidy_ds1", "ds19": "subsidy_ds19", "subsidio ds19": "subsidy_ds19",
    "subsidio": "subsidy", "subsidios": "subsidy",
}
STATUSES = {"disponible": "available", "available": "available", "reservada": "reserved", "reservado": "reserved",
            "reserved": "reserved", "vendida": "sold", "vendido": "sold", "sold": "sold"}
YES = {"si", "s", "x", "1", "true", "yes"}
NO = {"no", "n", "0", "false", ""}
_URL = URLValidator(schemes=["http", "https"])


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def _header_key(column: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(column).replace("²", "2")))


def _rooms(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_ROOMS:
        raise ValueError(f"Un número entero entre 0 y {MAX_ROOMS}.")
    return int(text)


def _decimal(text: str) -> Decimal:
    try:
        value = number_parse(text.lower().replace("m2", "").replace("m²", "").strip())
    except InvalidOperation:
        raise ValueError("Número ilegible; usa por ejemplo 55,5.") from None
    if value <= 0:
        raise ValueError("Debe ser mayor que cero.")
    return value


def _price(text: str, currency: str | None) -> tuple[Decimal, str]:
    parsed = money_parse(text)
    if parsed is None:
        raise ValueError("Precio ilegible; usa por ejemplo 4.000 UF o $95.000.000.")
    amount, written = parsed
    currency = currency or written or ("UF" if amount < 100_000 else "CLP")
    return amount, currency


def _property_type(text: str) -> str:
    match = PROPERTY_TYPE_RE.search(fold(text))
    if match is None:
        raise ValueError("Tipo desconocido; usa departamento, casa, oficina, terreno, parcela, local o bodega.")
    return match.lastgroup


def _status(text: str) -> str:
    try:
        return STATUSES[fold(text)]
    except KeyError:
        raise ValueError("Estado: disponible, reservada o vendida.") from None


def _flag(text: str) -> bool:
    value = fold(text)
    if value in YES | NO:
        return value in YES
    raise ValueError("Usa sí o no.")


def _photos(text: str) -> list[str]:
    urls = [url for url in re.split(r"[\s,|]+", text) if url]
    for url in urls:
        try:
            _URL(url)
        except ValidationError:
            raise ValueError(f"URL inválida: {url[:80]}") from None
    return urls


def _row_values(cells: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The unit data of one row (service terms) and its problems by field."""
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    cleaners = {
        "code": lambda t: t[:40], "property_type": _property_type, "bedrooms": _rooms, "bathrooms": _rooms,
        "area_m2": _decimal, "status": _status, "comuna": comuna_clean, "address": lambda t: t[:200],
        "description": str, "photo_urls": _photos, "subsidy_ds1": _flag, "subsidy_ds19": _flag,
    }
    for name, raw in cells.items():
        text = " ".join(raw.split())
        if not text:
            continue
        try:
            if name in cleaners:
                data[name] = cleaners[name](text)
            elif name in ("price", "price_uf", "price_clp"):
                currency = {"price_uf": "UF", "price_clp": "CLP"}.get(name)
                data["price"], data["price_currency"] = _price(text, currency)
            elif name == "subsidy":
                folded = fold(text)
                data["subsidy_ds1"] = bool(re.search(r"\bds\s?1\b", folded))
                data["subsidy_ds19"] = bool(re.search(r"\bds\s?19\b", folded))
            elif name == "project":
                data["project"] = text[:120]
        except ValueError as error:
            problems[name] = str(error)
    for required in ("code", "property_type"):
        if required not in data and required not in problems:
            problems[required] = "Obligatorio."
    return data, problems


def _columns(header: list[str]) -> tuple[dict[int, str], list[str]]:
    columns, ignored = {}, []
    for index, column in enumerate(header):
        target = HEADERS.get(_header_key(column))
        if target is None or target in columns.values():
            ignored.append(column)
        else:
            columns[index] = target
    missing = [name for name in ("code", "property_type") if name not in columns.values()]
    if not {"price", "price_uf", "price_clp"} & set(columns.values()):
        missing.append("price")
    if missing:
        raise ApplicationError("Faltan columnas en el archivo.", code="invalid_file",
                               details={"missing_columns": missing, "ignored_columns": ignored})
    return columns, ignored


def units_import(*, data: bytes) -> ImportResult:
    """Create or update every unit of the file, or none (then `errors` lists every problem)."""
    if len(data) > MAX_FILE_BYTES:
        raise ApplicationError("El archivo supera los 2 MB.", code="file_too_large")
    text = csv_decode(data)
    columns, ignored = _columns(csv_header(text))
    result = ImportResult(ignored_columns=ignored)
    records = csv_records(text)
    next(records, None)
    with transaction.atomic():
        projects = {project.name.lower(): project for project in Project.objects.all()}
        existing = {unit.code: unit for unit in Unit.objects.select_related("project")}
        seen: dict[str, int] = {}
        saved: list[Unit] = []
        for number, cells in enumerate(records, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            result.rows += 1
            if result.rows > MAX_ROWS:
                raise ApplicationError(f"El archivo supera las {MAX_ROWS} filas; divídelo en partes.",
                                       code="file_too_large")
            values, problems = _row_values({name: cells[index] if index < len(cells) else ""
                                            for index, name in columns.items()})
            code = values.get("code")
            if code and code in seen:
                problems["code"] = f"El código se repite en la fila {seen[code]}."
            if problems:
                result.errors += [{"row": number, "field": name, "message": message}
                                  for name, message in sorted(problems.items())]
                continue
            seen[code] = number
            if "project" in values:
                name = values.pop("project")
                project = projects.get(name.lower())
                if project is None:
                    project = Project(name=name, comuna=values.get("comuna", ""), address=values.get("address", ""))
                    try:
                        model_validate(project)
                    except ApplicationError as error:
                        result.errors += [{"row": number, "field": "project", "message": " ".join(messages)}
                                          for messages in error.details.values()]
                        continue
                    project.save()
                    projects[name.lower()] = project
                values["project"] = project
            unit = existing.get(code) or Unit()
            try:
                unit_values_set(unit, values)
                model_validate(unit)
            except ApplicationError as error:
                result.errors += [{"row": number, "field": name, "message": " ".join(messages)}
                                  for name, messages in (error.details or {"": [error.message]}).items()]
                continue
            if unit.pk is None:
                result.created += 1
            else:
                result.updated += 1
            unit.save()
            saved.append(unit)
        if result.rows == 0:
            raise ApplicationError("El archivo no tiene filas de unidades.", code="invalid_file")
        if result.errors:
            transaction.set_rollback(True)  # all or nothing: no unit (nor project) of the file is kept
            result.created = result.updated = 0
            return result
        from properties.tasks import units_embed_task

        enqueue_on_commit(units_embed_task, [unit.id for unit in saved])
    return result
