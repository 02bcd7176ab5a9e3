"""The brokerage's stock (tenant schema): projects and the units for sale in them, or loose units.

A unit carries a vector of its descriptive text (same embedder and bookkeeping as `knowledge.Chunk`)
for the assistant's hybrid search; only `available` units are ever offered.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from pgvector.django import HnswIndex, VectorField

from crm.models import TimeStampedModel
from knowledge.embeddings import EMBEDDING_DIMENSIONS

MAX_ROOMS = 20


class PropertyType(models.TextChoices):
    """The vocabulary of `Lead.property_type` (what `extract_fields` returns)."""

    DEPARTAMENTO = "departamento", _("Departamento")
    CASA = "casa", _("Casa")
    OFICINA = "oficina", _("Oficina")
    TERRENO = "terreno", _("Terreno")
    PARCELA = "parcela", _("Parcela")
    LOCAL = "local", _("Local comercial")
    BODEGA = "bodega", _("Bodega")


class Project(TimeStampedModel):
    """A development (or a building) with units; its comuna and address are the units' default."""

    name = models.CharField(_("nombre"), max_length=120, unique=True)
    developer = models.CharField(_("inmobiliaria"), max_length=120, blank=True)
    comuna = models.CharField(_("comuna"), max_length=120)
    address = models.CharField(_("dirección"), max_length=200, blank=True)
    description = models.TextField(_("descripción"), blank=True)
    delivery_date = models.DateField(_("fecha de entrega"), null=True, blank=True)
    subsidy_ds1 = models.BooleanField(_("acepta subsidio DS1"), default=False)
    subsidy_ds19 = models.BooleanField(_("acepta subsidio DS19"), default=False)

    class Meta:
        verbose_name = _("proyecto")
        verbose_name_plural = _("proyectos")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Unit(TimeStampedModel):
    """A property for sale. Both prices are stored: the one the brokerage gave (`price_currency`) and
    its equivalent at the configured UF value, so filters and sorting work on one column."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Disponible")
        RESERVED = "reserved", _("Reservada")
        SOLD = "sold", _("Vendida")

    class Currency(models.TextChoices):
        UF = "UF", "UF"
        CLP = "CLP", "CLP"

    project = models.ForeignKey(Project, verbose_name=_("proyecto"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="units")
    code = models.CharField(_("código"), max_length=40, unique=True)
    property_type = models.CharField(_("tipo"), max_length=20, choices=PropertyType.choices)
    bedrooms = models.PositiveSmallIntegerField(_("dormitorios"), default=0)
    bathrooms = models.PositiveSmallIntegerField(_("baños"), default=0)
    area_m2 = models.DecimalField(_("superficie (m²)"), max_digits=8, decimal_places=2, null=True, blank=True)
    price_uf = models.DecimalField(_("precio (UF)"), max_digits=12, decimal_places=2)
    price_clp = models.BigIntegerField(_("precio (CLP)"))
    price_currency = models.CharField(_("moneda del precio"), max_length=3, choices=Currency.choices,
                                      default=Currency.UF)
    status = models.CharField(_("estado"), max_length=10, choices=Status.choices, default=Status.AVAILABLE)
    comuna = models.CharField(_("comuna"), max_length=120)
    address = models.CharField(_("dirección"), max_length=200, blank=True)
    description = models.TextField(_("descripción"), blank=True)
    photo_urls = ArrayField(models.URLField(max_length=500), verbose_name=_("fotos (URL)"), default=list, blank=True)
    subsidy_ds1 = models.BooleanField(_("acepta subsidio DS1"), default=False)
    subsidy_ds19 = models.BooleanField(_("acepta subsidio DS19"), default=False)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    embedding_model = models.CharField(max_length=100, blank=True)
    embedded_text = models.TextField(blank=True, editable=False)  # what `embedding` is the vector of

    class Meta:
        verbose_name = _("unidad")
        verbose_name_plural = _("unidades")
        constraints = [
            models.CheckConstraint(condition=Q(price_uf__gte=0), name="unit_price_uf_not_negative"),
            models.CheckConstraint(condition=Q(price_clp__gte=0), name="unit_price_clp_not_negative"),
            models.CheckConstraint(condition=Q(bedrooms__lte=MAX_ROOMS), name="unit_bedrooms_at_most_20"),
            models.CheckConstraint(condition=Q(bathrooms__lte=MAX_ROOMS), name="unit_bathrooms_at_most_20"),
            models.CheckConstraint(condition=Q(area_m2__isnull=True) | Q(area_m2__gt=0), name="unit_area_positive"),
            models.CheckConstraint(condition=Q(status__in=["available", "reserved", "sold"]),
                                   name="unit_status_valid"),
        ]
        # The assistant searches available units only: partial indexes on what it filters by.
        indexes = [
            models.Index(fields=["comuna", "property_type", "bedrooms"], condition=Q(status="available"),
                         name="unit_available_filter_idx"),
            models.Index(fields=["price_uf"], condition=Q(status="available"), name="unit_available_price_idx"),
            models.Index(fields=["status", "-created_at"], name="unit_status_idx"),
            models.Index(fields=["project", "code"], name="unit_project_idx"),
            HnswIndex(name="unit_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["vector_cosine_ops"]),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def accepts_ds1(self) -> bool:
        return self.subsidy_ds1 or bool(self.project and self.project.subsidy_ds1)

    @property
    def accepts_ds19(self) -> bool:
        return self.subsidy_ds19 or bool(self.project and self.project.subsidy_ds19)
