"""Writes on the catalogue: projects, units, status changes and the units' vectors.

A change to what describes a unit queues its re-embedding on commit (`properties.units_embed`);
search keeps the old vector meanwhile.
"""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from conversations.extraction import comuna_canonical
from crm.errors import ApplicationError
from crm.tenancy import enqueue_on_commit
from knowledge.embeddings import embedder_get
from leads.services import budget_to_clp, clp_to_uf
from properties.models import Project, Unit

PROJECT_FIELDS = frozenset({"name", "developer", "comuna", "address", "description", "delivery_date",
                            "subsidy_ds1", "subsidy_ds19"})
UNIT_FIELDS = frozenset({"project", "code", "property_type", "bedrooms", "bathrooms", "area_m2", "price",
                         "price_currency", "status", "comuna", "address", "description", "photo_urls",
                         "subsidy_ds1", "subsidy_ds19"})


def comuna_clean(name: str) -> str:
    """The canonical spelling when the comuna is known ("nunoa" → "Ñuñoa"), else the text as typed."""
    name = " ".join(name.split())
    return comuna_canonical(name) or name if name else ""


def unit_embedding_text(unit: Unit) -> str:
    """What a unit's vector says: type, place, rooms, size, project and description."""
    parts = [f"{unit.get_property_type_display()} en {unit.comuna}",
             f"{unit.bedrooms} dormitorios, {unit.bathrooms} baños"]
    if unit.area_m2:
        parts.append(f"{unit.area_m2.normalize():f} m²")
    if unit.project_id:
        parts.append(f"proyecto {unit.project.name}")
    return ". ".join(parts + [unit.description.strip()]).strip(". ")


def model_validate(instance: Project | Unit) -> None:
    try:
        instance.full_clean(exclude=["embedding"])
    except ValidationError as error:
        raise ApplicationError("Hay datos inválidos.", code="validation_error",
                               details=error.message_dict) from error


def _fields_check(data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ApplicationError("Campos no editables.", code="invalid_fields", details={"fields": sorted(unknown)})


@transaction.atomic
def project_create(*, data: dict[str, Any]) -> Project:
    _fields_check(data, PROJECT_FIELDS)
    project = Project(**{**data, "comuna": comuna_clean(data.get("comuna", ""))})
    model_validate(project)
    project.save()
    return project


@transaction.atomic
def project_update(*, project: Project, data: dict[str, Any]) -> Project:
    _fields_check(data, PROJECT_FIELDS)
    for name, value in data.items():
        setattr(project, name, comuna_clean(value) if name == "comuna" else value)
    model_validate(project)
    project.save()
    units = list(project.units.all())
    for unit in units:  # the project's name is part of every unit's vector
        _embed_if_changed(unit)
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    try:
        project.delete()
    except ProtectedError as error:
        raise ApplicationError("El proyecto tiene unidades; elimínalas o muévelas antes.", code="project_has_units",
                               status_code=409) from error


def _prices_set(unit: Unit, price: Decimal | None, currency: str | None) -> None:
    """The price in the currency given, and its equivalent at the configured UF value."""
    currency = currency or unit.price_currency or Unit.Currency.UF
    if price is None:
        price = unit.price_uf if currency == Unit.Currency.UF else unit.price_clp
    if price is None:
        raise ApplicationError("Indica el precio.", code="validation_error", details={"price": ["Obligatorio."]})
    if Decimal(price) < 0:
        raise ApplicationError("El precio no puede ser negativo.", code="validation_error",
                               details={"price": ["No puede ser negativo."]})
    unit.price_currency = currency
    if currency == Unit.Currency.UF:
        unit.price_uf = Decimal(price).quantize(Decimal("0.01"))
        unit.price_clp = budget_to_clp(amount=unit.price_uf, currency="UF")
    else:
        unit.price_clp = int(price)
        unit.price_uf = clp_to_uf(unit.price_clp)


def unit_values_set(unit: Unit, data: dict[str, Any]) -> None:
    _fields_check(data, UNIT_FIELDS)
    price, currency = data.get("price"), data.get("price_currency")
    for name, value in data.items():
        if name not in ("price", "price_currency"):
            setattr(unit, name, comuna_clean(value) if name == "comuna" else value)
    if unit.project_id and not unit.comuna:
        unit.comuna = unit.project.comuna
    if unit.project_id and not unit.address:
        unit.address = unit.project.address
    if price is not None or currency is not None or unit.price_uf is None:
        _prices_set(unit, price, currency)


def _embed_if_changed(unit: Unit) -> None:
    """Queue the unit's re-embedding when its text or the embedder changed."""
    if unit.embedded_text != unit_embedding_text(unit) or unit.embedding_model != embedder_get().model_id:
        from properties.tasks import units_embed_task

        enqueue_on_commit(units_embed_task, [unit.id])


@transaction.atomic
def unit_create(*, data: dict[str, Any]) -> Unit:
    unit = Unit()
    unit_values_set(unit, data)
    model_validate(unit)
    unit.save()
    _embed_if_changed(unit)
    return unit


@transaction.atomic
def unit_update(*, unit: Unit, data: dict[str, Any]) -> Unit:
    unit_values_set(unit, data)
    model_validate(unit)
    unit.save()
    _embed_if_changed(unit)
    return unit


@transaction.atomic
def unit_status_set(*, unit: Unit, status: str) -> Unit:
    """Available, reserved or sold; a unit that is not available is never offered from then on."""
    if status not in Unit.Status.values:
        raise ApplicationError("Estado desconocido.", code="validation_error", details={"status": [status]})
    Unit.objects.filter(pk=unit.pk).update(status=status)
    unit.status = status
    return unit


@transaction.atomic
def unit_delete(*, unit: Unit) -> None:
    unit.delete()


def units_embed(*, unit_ids: list[int]) -> int:
    """Embed the units whose vector is missing, outdated or from another model; how many were embedded.
    Idempotent: a unit already embedded from its current text is left alone."""
    embedder = embedder_get()
    units = list(Unit.objects.select_related("project").filter(pk__in=unit_ids))
    stale = [(unit, unit_embedding_text(unit)) for unit in units]
    stale = [(unit, text) for unit, text in stale
             if text != unit.embedded_text or unit.embedding_model != embedder.model_id]
    if not stale:
        return 0
    vectors = embedder.embed([text for _, text in stale])
    for (unit, text), vector in zip(stale, vectors, strict=True):
        # Only if the unit still says what was embedded (an edit meanwhile queued its own task).
        Unit.objects.filter(pk=unit.pk, updated_at=unit.updated_at).update(
            embedding=vector, embedding_model=embedder.model_id, embedded_text=text)
    return len(stale)
