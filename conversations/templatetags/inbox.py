"""Small presentation helpers for the inbox pages."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from leads.models import Lead

register = template.Library()


def _local(moment: datetime, *, today: str, earlier: str) -> str:
    local = timezone.localtime(moment)
    return date_format(local, today if local.date() == timezone.localdate() else earlier)


@register.filter
def inbox_time(moment: datetime | None) -> str:
    """Brokerage-local time ("14:05") today, the day ("27-11-2026") before."""
    return _local(moment, today="TIME_FORMAT", earlier="SHORT_DATE_FORMAT") if moment else ""


@register.filter
def bubble_time(moment: datetime) -> str:
    """Brokerage-local time ("14:05") today, day and time ("27-11-2026 14:05") before."""
    return _local(moment, today="TIME_FORMAT", earlier="SHORT_DATETIME_FORMAT")


@register.filter
def dicom_label(status: str) -> str:
    return Lead.Dicom(status).label if status in Lead.Dicom.values else status
