"""Leads of one brokerage (tenant schema) and their append-only activity timeline."""

import hashlib
import hmac

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.encryption import EncryptedTextField
from crm.models import TimeStampedModel
from pipeline.models import Calificacion, Stage

e164_validator = RegexValidator(r"^\+[1-9]\d{7,14}$", _("Usa el formato internacional, por ejemplo +56912345678."))
ACTIVE = Q(is_deleted=False)


class PhoneTrigrams(models.Func):
    """The three-character pieces of a phone number (SQL function `lead_phone_trigrams`, migration 0006).

    pg_trgm is not available on the embedded PostgreSQL; a GIN index over these arrays finds the
    numbers holding every piece of a typed fragment, which `LIKE '%fragment%'` then confirms.
    """

    function = "lead_phone_trigrams"
    output_field = ArrayField(models.TextField())


def dicom_index(status: str) -> str:
    """A keyed digest of a DICOM status, so the list can filter on it while the column stays encrypted.

    Keyed with the oldest encryption key: rotation adds new keys in front and keeps the old ones,
    so the digests stay valid; whoever finally drops that key must re-save every lead's status.
    """
    if not status:
        return ""
    key = hashlib.sha256(b"lead-dicom-index:" + settings.FIELD_ENCRYPTION_KEYS[-1].encode()).digest()
    return hmac.new(key, status.encode(), hashlib.sha256).hexdigest()[:32]


class Lead(TimeStampedModel):
    """A person who might buy or rent through the brokerage.

    Income, DICOM status and debt are encrypted at rest; the typed properties
    (`monthly_income`, `dicom_status`, `debt_amount`) are what code reads and writes.
    """

    class Channel(models.TextChoices):
        WHATSAPP = "whatsapp", "WhatsApp"
        TELEGRAM = "telegram", "Telegram"
        WEBCHAT = "webchat", _("Chat web")
        VOICE = "voice", _("Llamada")
        MANUAL = "manual", _("Ingreso manual")
        IMPORT = "import", _("Importación")

    class Currency(models.TextChoices):
        UF = "UF", "UF"
        CLP = "CLP", "CLP"

    class Dicom(models.TextChoices):
        UNKNOWN = "", _("Sin información")
        CLEAN = "clean", _("Sin deudas")
        HAS_DEBT = "has_debt", _("Con deudas")

    class Status(models.TextChoices):
        COLD = "cold", _("Frío")
        WARM = "warm", _("Tibio")
        HOT = "hot", _("Caliente")
        QUALIFIED = "qualified", _("Calificado")

    name = models.CharField(_("nombre"), max_length=120, blank=True)
    phone = models.CharField(_("teléfono"), max_length=16, blank=True, validators=[e164_validator])
    email = models.EmailField(_("correo"), blank=True)
    channel = models.CharField(_("canal"), max_length=16, choices=Channel.choices, default=Channel.MANUAL)
    channel_user_id = models.CharField(_("id en el canal"), max_length=128, blank=True)
    location = models.CharField(_("comuna o ciudad"), max_length=120, blank=True)
    property_type = models.CharField(_("tipo de propiedad"), max_length=30, blank=True)
    bedrooms = models.PositiveSmallIntegerField(_("dormitorios"), null=True, blank=True,
                                                validators=[MaxValueValidator(20)])
    budget_amount = models.DecimalField(_("presupuesto"), max_digits=16, decimal_places=2, null=True, blank=True)
    budget_currency = models.CharField(_("moneda"), max_length=3, choices=Currency.choices, blank=True)
    budget_clp = models.BigIntegerField(_("presupuesto en CLP"), null=True, blank=True)
    monthly_income_encrypted = EncryptedTextField(_("renta mensual (CLP)"), db_column="monthly_income", blank=True)
    dicom_status_encrypted = EncryptedTextField(_("situación DICOM"), db_column="dicom_status", blank=True)
    dicom_status_index = models.CharField(max_length=32, blank=True, editable=False)
    debt_amount_encrypted = EncryptedTextField(_("deuda (CLP)"), db_column="debt_amount", blank=True)
    lead_score = models.PositiveSmallIntegerField(_("puntaje"), default=0, validators=[MaxValueValidator(100)])
    score_breakdown = models.JSONField(_("detalle del puntaje"), default=dict, blank=True)
    status = models.CharField(_("temperatura"), max_length=10, choices=Status.choices, default=Status.COLD)
    pipeline_stage = models.CharField(_("etapa"), max_length=32, choices=Stage.choices, default=Stage.ENTRADA)
    stage_entered_at = models.DateTimeField(_("en la etapa desde"), default=timezone.now)
    calificacion = models.CharField(_("calificación"), max_length=16, choices=Calificacion.choices, blank=True)
    # Users live in the public schema (on every tenant's search_path): a join works, a constraint cannot.
    # Indexed by lead_assigned_idx and lead_agent_board_idx (both lead with it), not on its own.
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("ejecutivo"), null=True, blank=True,
                                    on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                                    db_index=False)
    tags = ArrayField(models.CharField(max_length=40), verbose_name=_("etiquetas"), default=list, blank=True)
    notes = models.TextField(_("notas"), blank=True)
    source = models.CharField(_("origen"), max_length=60, blank=True)
    close_reason = models.CharField(_("motivo de cierre"), max_length=200, blank=True)
    messages_count = models.PositiveIntegerField(_("mensajes recibidos"), default=0)
    opted_out = models.BooleanField(_("pidió no ser contactado"), default=False)
    last_contacted_at = models.DateTimeField(_("último contacto"), null=True, blank=True)
    is_deleted = models.BooleanField(_("eliminado"), default=False)
    # Word-prefix search on name and e-mail, kept by PostgreSQL itself whoever writes the row. Stored, so
    # that a plan that walks the list order and filters stays cheap per row (nothing is re-parsed).
    search_vector = models.GeneratedField(expression=SearchVector("name", "email", config="simple"),
                                          output_field=SearchVectorField(), db_persist=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            models.UniqueConstraint(fields=["phone"], condition=ACTIVE & ~Q(phone=""), name="lead_unique_phone"),
            models.UniqueConstraint(fields=["email"], condition=ACTIVE & ~Q(email=""), name="lead_unique_email"),
            models.UniqueConstraint(fields=["channel", "channel_user_id"], condition=ACTIVE & ~Q(channel_user_id=""),
                                    name="lead_unique_channel_identity"),
            models.CheckConstraint(condition=Q(lead_score__lte=100), name="lead_score_at_most_100"),
            models.CheckConstraint(condition=Q(budget_amount__isnull=True) | ~Q(budget_currency=""),
                                   name="lead_budget_has_currency"),
            models.CheckConstraint(condition=~Q(pipeline_stage__in=[Stage.GANADO, Stage.PERDIDO])
                                   | ~Q(close_reason=""), name="lead_closed_has_reason"),
        ]
        # Partial indexes: the list never shows deleted leads, so they need not be indexed.
        indexes = [
            models.Index(fields=["pipeline_stage", "-created_at"], condition=ACTIVE, name="lead_stage_idx"),
            models.Index(fields=["pipeline_stage", "-lead_score", "id"], condition=ACTIVE, name="lead_board_idx"),
            models.Index(fields=["status", "-created_at"], condition=ACTIVE, name="lead_status_idx"),
            models.Index(fields=["-lead_score", "-id"], condition=ACTIVE, name="lead_score_order_idx"),
            models.Index(fields=["assigned_to", "-created_at"], condition=ACTIVE, name="lead_assigned_idx"),
            # An agent's board: counts per stage and each stage's best leads, from the index alone.
            models.Index(fields=["assigned_to", "pipeline_stage", "-lead_score", "id"], condition=ACTIVE,
                         name="lead_agent_board_idx"),
            models.Index(fields=["channel", "-created_at"], condition=ACTIVE, name="lead_channel_idx"),
            models.Index(fields=["calificacion", "-created_at"], condition=ACTIVE, name="lead_calificacion_idx"),
            models.Index(fields=["dicom_status_index", "-created_at"], condition=ACTIVE, name="lead_dicom_idx"),
            models.Index(fields=["-created_at", "-id"], condition=ACTIVE, name="lead_created_idx"),
            GinIndex(fields=["search_vector"], condition=ACTIVE, name="lead_search_idx"),
            models.Index(fields=["email"], opclasses=["varchar_pattern_ops"], condition=ACTIVE,
                         name="lead_email_prefix_idx"),
            GinIndex(PhoneTrigrams("phone"), condition=ACTIVE, name="lead_phone_trigram_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.phone or self.email or f"Lead {self.pk}"

    @property
    def monthly_income(self) -> int | None:
        return int(self.monthly_income_encrypted) if self.monthly_income_encrypted else None

    @monthly_income.setter
    def monthly_income(self, value: int | None) -> None:
        self.monthly_income_encrypted = "" if value is None else str(int(value))

    @property
    def debt_amount(self) -> int | None:
        return int(self.debt_amount_encrypted) if self.debt_amount_encrypted else None

    @debt_amount.setter
    def debt_amount(self, value: int | None) -> None:
        self.debt_amount_encrypted = "" if value is None else str(int(value))

    @property
    def dicom_status(self) -> str:
        return self.dicom_status_encrypted or ""

    @dicom_status.setter
    def dicom_status(self, value: str | None) -> None:
        self.dicom_status_encrypted = value or ""
        self.dicom_status_index = dicom_index(value or "")


class LeadActivity(models.Model):
    """One entry of a lead's timeline. Append-only: entries are never edited or deleted."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Creado")
        FIELDS_CHANGED = "fields_changed", _("Datos actualizados")
        SCORE_CHANGED = "score_changed", _("Puntaje actualizado")
        STAGE_CHANGED = "stage_changed", _("Cambio de etapa")
        ASSIGNED = "assigned", _("Asignado")
        DELETED = "deleted", _("Eliminado")
        MERGED = "merged", _("Fusionado")
        NOTE = "note", _("Nota")
        APPOINTMENT = "appointment", _("Cita")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    payload = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("actividad")
        verbose_name_plural = _("actividades")
        indexes = [
            models.Index(fields=["lead", "-id"], name="activity_lead_idx"),
            models.Index(fields=["kind", "-id"], name="activity_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind}"


class LeadImport(TimeStampedModel):
    """A CSV file of leads imported all-or-nothing by a Celery task, with its progress and error report.

    `processed` counts the rows validated (committed as the pass goes, so it shows while a large
    file is read); the write phase then runs in one transaction and reports through the cache.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("En cola")
        RUNNING = "running", _("Procesando")
        DONE = "done", _("Terminada")
        FAILED = "failed", _("Con errores")

    file_name = models.CharField(_("archivo"), max_length=255)
    # The uploaded text, kept only until the import ends: it holds income and DICOM data, hence encrypted.
    content = EncryptedTextField(blank=True)
    mapping = models.JSONField(_("columnas"), default=dict)
    status = models.CharField(_("estado"), max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(_("filas"), null=True, blank=True)
    processed = models.PositiveIntegerField(_("filas revisadas"), default=0)
    leads_created = models.PositiveIntegerField(_("leads creados"), default=0)
    leads_updated = models.PositiveIntegerField(_("leads actualizados"), default=0)
    error_count = models.PositiveIntegerField(_("errores"), default=0)
    errors = models.JSONField(_("reporte de errores"), default=list, blank=True)  # [{row, field, message}]
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING,
                                   db_constraint=False, related_name="+")
    finished_at = models.DateTimeField(_("terminada"), null=True, blank=True)

    class Meta:
        verbose_name = _("importación de leads")
        verbose_name_plural = _("importaciones de leads")
        constraints = [
            models.CheckConstraint(condition=Q(total__isnull=True) | Q(processed__lte=models.F("total")),
                                   name="lead_import_processed_within_total"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"
