"""Visits and meetings of one brokerage (tenant schema): when people can be booked, and what was booked.

Times of day in `Availability` are wall-clock times in the brokerage's time zone
(`BookingSettings.time_zone`); everything else is an absolute instant (timestamptz).
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils.translation import gettext_lazy as _

from crm.encryption import EncryptedTextField
from crm.models import TimeStampedModel


class AppointmentType(models.TextChoices):
    PROPERTY_VISIT = "property_visit", _("Visita a propiedad")
    VIRTUAL_MEETING = "virtual_meeting", _("Reunión virtual")
    PHONE_CALL = "phone_call", _("Llamada telefónica")
    OFFICE_MEETING = "office_meeting", _("Reunión en oficina")


class AgentRule(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Por turnos")
    LEAST_LOADED = "least_loaded", _("Menos visitas próximas")
    PRIORITY = "priority", _("Orden de prioridad")


class BookingSettings(TimeStampedModel):
    """The brokerage's booking rules: one row per schema (pk 1, see `booking_settings_get`)."""

    time_zone = models.CharField(_("zona horaria"), max_length=40, default="America/Santiago")
    agent_rule = models.CharField(_("asignación de ejecutivo"), max_length=16, choices=AgentRule.choices,
                                  default=AgentRule.ROUND_ROBIN)
    # User ids, first preferred (only for the priority rule); agents not listed come after, by id.
    agent_priority = models.JSONField(_("orden de prioridad"), default=list, blank=True)
    chat_appointment_type = models.CharField(_("tipo de cita que ofrece el asistente"), max_length=20,
                                             choices=AppointmentType.choices, default=AppointmentType.PROPERTY_VISIT)
    min_notice_minutes = models.PositiveIntegerField(_("anticipación mínima (min)"), default=120)
    # Shown to the lead only when set: nothing is ever made up.
    office_address = models.CharField(_("dirección de la oficina"), max_length=200, blank=True)
    virtual_meeting_url = models.URLField(_("enlace de reunión virtual"), blank=True)
    what_to_bring = models.CharField(_("qué traer"), max_length=200, default="tu cédula de identidad")

    class Meta:
        verbose_name = _("configuración de agenda")
        verbose_name_plural = _("configuraciones de agenda")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="booking_settings_singleton")]


class Availability(TimeStampedModel):
    """A weekly window in which an agent (or, with no agent, every active agent) takes one type of
    appointment, cut into slots of `slot_minutes`.

    `capacity` caps how many appointments may share one slot of a brokerage-wide window (each with
    a different agent: an agent is never double-booked); empty means as many as there are free
    agents. An agent's own window holds one.
    """

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+", verbose_name=_("ejecutivo"))
    weekday = models.PositiveSmallIntegerField(_("día"), validators=[MaxValueValidator(6)])  # 0 = Monday
    start_time = models.TimeField(_("desde"))
    end_time = models.TimeField(_("hasta"))
    valid_from = models.DateField(_("vigente desde"), null=True, blank=True)
    valid_until = models.DateField(_("vigente hasta"), null=True, blank=True)
    appointment_type = models.CharField(_("tipo"), max_length=20, choices=AppointmentType.choices,
                                        default=AppointmentType.PROPERTY_VISIT)
    slot_minutes = models.PositiveSmallIntegerField(_("duración (min)"), default=60,
                                                    validators=[MinValueValidator(10), MaxValueValidator(480)])
    capacity = models.PositiveSmallIntegerField(_("capacidad"), null=True, blank=True,
                                                validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("disponibilidad")
        verbose_name_plural = _("disponibilidades")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="availability_weekday"),
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="availability_time_order"),
            models.CheckConstraint(condition=Q(slot_minutes__gte=10), name="availability_slot_minutes"),
            models.CheckConstraint(condition=Q(capacity__isnull=True) | Q(capacity=1)
                                   | (Q(capacity__gt=1) & Q(agent__isnull=True)), name="availability_capacity"),
            models.CheckConstraint(condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True)
                                   | Q(valid_until__gte=F("valid_from")), name="availability_valid_order"),
        ]
        indexes = [models.Index(fields=["appointment_type", "weekday"], name="availability_type_day")]

    def __str__(self) -> str:
        return f"{self.get_appointment_type_display()} {self.weekday} {self.start_time}-{self.end_time}"


class AvailabilityBlock(TimeStampedModel):
    """Time nobody (or one agent) can be booked: a holiday, an absence, or a weekly lunch break
    (`recurring_weekly`: the same local weekday and hours every week from `start_at` on)."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+", verbose_name=_("ejecutivo"))
    start_at = models.DateTimeField(_("desde"))
    end_at = models.DateTimeField(_("hasta"))
    reason = models.CharField(_("motivo"), max_length=120, blank=True)
    recurring_weekly = models.BooleanField(_("se repite cada semana"), default=False)

    class Meta:
        verbose_name = _("bloqueo")
        verbose_name_plural = _("bloqueos")
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=F("start_at")), name="block_time_order"),
            # A weekly block longer than a week would cover everything: that is not a block, it is closing.
            models.CheckConstraint(condition=Q(recurring_weekly=False)
                                   | Q(end_at__lte=F("start_at") + Value(timedelta(days=7))),
                                   name="block_weekly_within_week"),
        ]

    def __str__(self) -> str:
        return f"{self.reason or 'bloqueo'} {self.start_at:%Y-%m-%d %H:%M}"


ACTIVE_STATUSES = ("scheduled", "confirmed")


class GoogleSync(models.TextChoices):
    PENDING = "pending", _("Pendiente")
    SYNCED = "synced", _("Sincronizada")
    FAILED = "failed", _("Error")
    REMOVED = "removed", _("Eliminada en Google")  # the agent deleted the event on Google; the visit stands


class Appointment(TimeStampedModel):
    """A lead's visit or meeting with one agent. An agent never has two active appointments that
    overlap: PostgreSQL refuses it (exclusion constraint), whoever writes the row."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Agendada")
        CONFIRMED = "confirmed", _("Confirmada")
        CANCELLED = "cancelled", _("Cancelada")
        COMPLETED = "completed", _("Realizada")
        NO_SHOW = "no_show", _("No asistió")

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="appointments")
    # Users live in the public schema (on every tenant's search_path): a join works, a constraint cannot.
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                              related_name="+", verbose_name=_("ejecutivo"))
    appointment_type = models.CharField(_("tipo"), max_length=20, choices=AppointmentType.choices)
    start_at = models.DateTimeField(_("inicio"))
    end_at = models.DateTimeField(_("término"))
    status = models.CharField(_("estado"), max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    cancel_reason = models.CharField(_("motivo de cancelación"), max_length=200, blank=True)
    # Only what the brokerage configured or an agent typed: never a generated address or link.
    location = models.CharField(_("dirección"), max_length=200, blank=True)
    meeting_url = models.URLField(_("enlace de reunión"), blank=True)
    notes = models.TextField(_("notas"), blank=True)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                                  db_constraint=False, related_name="+")  # None: the assistant booked it
    reminder_24h_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_1h_sent_at = models.DateTimeField(null=True, blank=True)
    # The event on the agent's Google Calendar (`google_event_agent`: whose calendar holds it).
    google_event_id = models.CharField(_("evento en Google"), max_length=64, blank=True)
    google_event_agent_id = models.BigIntegerField(null=True, blank=True)
    google_sync_status = models.CharField(_("sincronización con Google"), max_length=8,
                                          choices=GoogleSync.choices, blank=True)
    google_sync_error = models.CharField(_("error de sincronización"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("cita")
        verbose_name_plural = _("citas")
        ordering = ["start_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=F("start_at")), name="appointment_time_order"),
            models.CheckConstraint(condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                                   name="appointment_cancel_has_reason"),
            # `agent_id WITH =` would need btree_gist, which the embedded PostgreSQL lacks; a one-point
            # range [agent, agent] overlaps another exactly when the ids are equal, with core GiST only.
            ExclusionConstraint(
                name="appointment_no_double_booking",
                expressions=[
                    (Func(F("agent_id"), F("agent_id"), Value("[]"), function="int8range"), RangeOperators.OVERLAPS),
                    (Func(F("start_at"), F("end_at"), Value("[)"),
                          function="tstzrange"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
        ]
        indexes = [
            models.Index(fields=["start_at"], condition=Q(status__in=ACTIVE_STATUSES), name="appointment_active_start"),
            models.Index(fields=["lead", "-start_at"], name="appointment_lead"),
            models.Index(fields=["agent", "start_at"], name="appointment_agent_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_appointment_type_display()} {self.start_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class SlotOffer(models.Model):
    """The slots the assistant last offered a lead, in order, so "la segunda" means what the lead saw."""

    lead = models.OneToOneField("leads.Lead", on_delete=models.CASCADE, related_name="slot_offer")
    appointment_type = models.CharField(max_length=20, choices=AppointmentType.choices)
    slots = models.JSONField(default=list)  # [[start ISO, end ISO], ...]
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.lead_id}: {len(self.slots)} horarios"


def feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(TimeStampedModel):
    """An agent's secret calendar URL (`/calendario/<token>.ics`); a new token revokes the old URL."""

    agent = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                                 related_name="+")
    token = models.CharField(max_length=64, unique=True, default=feed_token)

    class Meta:
        verbose_name = _("calendario suscrito")
        verbose_name_plural = _("calendarios suscritos")


class GoogleCalendarLink(TimeStampedModel):
    """An agent's Google Calendar, connected with OAuth: appointments are pushed to it and its busy
    times (freeBusy) keep slots from being offered. The refresh token is encrypted at rest."""

    agent = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                                 related_name="+", verbose_name=_("ejecutivo"))
    refresh_token = EncryptedTextField()
    access_token = EncryptedTextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    busy_synced_at = models.DateTimeField(_("ocupado leído"), null=True, blank=True)
    # The last failure that needs a person (Google refused the grant, or gave up after retries).
    error = models.CharField(_("último error"), max_length=300, blank=True)
    error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Google Calendar conectado")
        verbose_name_plural = _("Google Calendar conectados")

    def __str__(self) -> str:
        return f"Google Calendar {self.agent_id}"


class ExternalBusy(models.Model):
    """A time an agent is busy on their Google Calendar (freeBusy), other than their own appointments.
    Replaced wholesale by every sync, so an event deleted on Google frees its time at the next one."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                              related_name="+", verbose_name=_("ejecutivo"))
    start_at = models.DateTimeField(_("desde"))
    end_at = models.DateTimeField(_("hasta"))

    class Meta:
        verbose_name = _("ocupado en Google")
        verbose_name_plural = _("ocupados en Google")
        constraints = [models.CheckConstraint(condition=Q(end_at__gt=F("start_at")), name="external_busy_time_order")]
        indexes = [models.Index(fields=["start_at"], name="external_busy_start")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.start_at:%Y-%m-%d %H:%M}"
