"""Presentation of a lead: its score breakdown to scale and its timeline entries in words."""

from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appointments.models import AppointmentType
from leads.models import Lead, LeadActivity
from leads.scoring import COMPONENT_LIMITS
from pipeline.models import Stage

register = template.Library()

COMPONENT_LABELS = {
    "base": gettext_lazy("Datos completos"),
    "financial": gettext_lazy("Situación financiera"),
    "engagement": gettext_lazy("Interacción"),
    "stage": gettext_lazy("Etapa"),
    "penalties": gettext_lazy("Penalizaciones"),
}
SCORE_REASONS = {
    "created": gettext_lazy("al crearse"),
    "fields_changed": gettext_lazy("por cambio de datos"),
    "recalculated": gettext_lazy("por recálculo"),
    "stage_changed": gettext_lazy("por cambio de etapa"),
    "nightly": gettext_lazy("por revisión diaria"),
    "merged": gettext_lazy("por fusión"),
}
ASSIGNMENT_MODES = {"round_robin": gettext_lazy("por turno"), "priority": gettext_lazy("por prioridad")}
APPOINTMENT_ACTIONS = {
    "booked": gettext_lazy("%(type)s agendada para el %(start)s"),
    "rescheduled": gettext_lazy("%(type)s reagendada: %(from)s → %(start)s"),
    "confirmed": gettext_lazy("%(type)s confirmada (%(start)s)"),
    "cancelled": gettext_lazy("%(type)s cancelada (%(start)s)"),
    "completed": gettext_lazy("%(type)s realizada (%(start)s)"),
    "no_show": gettext_lazy("%(type)s: el lead no asistió (%(start)s)"),
}


@register.filter
def score_parts(breakdown: dict[str, int]) -> list[dict[str, Any]]:
    """Each part of the score with its share of what that part can reach (`percent`, 0–100)."""
    parts = []
    for key, limit in COMPONENT_LIMITS.items():
        value = breakdown.get(key, 0)
        parts.append({"key": key, "label": COMPONENT_LABELS[key], "value": value, "limit": limit,
                      "percent": round(100 * min(1, value / limit)) if value else 0})
    return parts


def _field_label(name: str) -> str:
    """The verbose name of a lead field; encrypted values are kept in `<name>_encrypted`."""
    try:
        field = Lead._meta.get_field(name)
    except FieldDoesNotExist:
        field = Lead._meta.get_field(f"{name}_encrypted")
    return str(field.verbose_name)


def _stage_label(value: str) -> str:
    return str(Stage(value).label) if value in Stage.values else value


def _when(value: str | None) -> str:
    moment = parse_datetime(value or "")
    return date_format(timezone.localtime(moment), "j M Y H:i") if moment else ""


def _appointment_text(payload: dict[str, Any]) -> str:
    kind = payload.get("appointment_type")
    label = str(AppointmentType(kind).label) if kind in AppointmentType.values else _("Cita")
    template = APPOINTMENT_ACTIONS.get(payload.get("action"))
    if template is None:
        return label
    text = str(template) % {"type": label, "start": _when(payload.get("start")), "from": _when(payload.get("from"))}
    return f"{text} · {payload['reason']}" if payload.get("reason") else text


@register.filter
def activity_text(entry: LeadActivity) -> str:
    """One timeline entry in words ("Entrada → Perfilamiento · Nombre y contacto")."""
    payload, kind = entry.payload, entry.kind
    if kind == LeadActivity.Kind.FIELDS_CHANGED:
        return _("Datos actualizados: %(fields)s") % {"fields": ", ".join(_field_label(f) for f in payload["fields"])}
    if kind == LeadActivity.Kind.SCORE_CHANGED:
        reason = SCORE_REASONS.get(payload.get("reason"), payload.get("reason", ""))
        return _("Puntaje %(old)s → %(new)s %(reason)s") % {"old": payload["from"], "new": payload["to"],
                                                           "reason": reason}
    if kind == LeadActivity.Kind.STAGE_CHANGED:
        text = f"{_stage_label(payload['from'])} → {_stage_label(payload['to'])}"
        details = [payload.get("reason"), payload.get("close_reason")]
        if payload.get("automatic"):
            details.append(_("automático"))
        return " · ".join([text, *dict.fromkeys(detail for detail in details if detail)])
    if kind == LeadActivity.Kind.ASSIGNED:
        text = _("Asignado a %(name)s") % {"name": entry.assignee or _("una persona que ya no está")}
        mode = ASSIGNMENT_MODES.get(payload.get("mode"))
        return f"{text} · {mode}" if mode else text
    if kind == LeadActivity.Kind.CREATED:
        channel = payload.get("channel")
        label = Lead.Channel(channel).label if channel in Lead.Channel.values else channel
        return _("Lead creado · %(channel)s") % {"channel": label} if label else _("Lead creado")
    if kind == LeadActivity.Kind.NOTE:
        return payload["text"]
    if kind == LeadActivity.Kind.APPOINTMENT:
        return _appointment_text(payload)
    if kind == LeadActivity.Kind.MERGED:
        if "into" in payload:
            return _("Fusionado en el lead #%(id)s") % {"id": payload["into"]}
        return _("Se fusionó el lead #%(id)s en este") % {"id": payload["duplicate"]}
    return str(entry.get_kind_display())
