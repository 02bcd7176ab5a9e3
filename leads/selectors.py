"""Reads on leads. An AGENT sees only the leads assigned to them; an ADMIN sees every lead."""

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Least
from django.utils import timezone

from brokers.models import BrokerLeadConfig, User
from leads.models import Lead, LeadActivity, PhoneTrigrams, dicom_index
from leads.phones import phone_compact

ORDERINGS = ("-created_at", "created_at", "-lead_score", "lead_score", "name", "-name",
             "-last_contacted_at", "last_contacted_at", "stage_entered_at", "-stage_entered_at")


def lead_config_get() -> BrokerLeadConfig:
    """The current brokerage's scoring and qualification settings."""
    return BrokerLeadConfig.objects.get(broker_id=connection.tenant.id)


def lead_visible(*, user: User) -> QuerySet[Lead]:
    leads = Lead.objects.filter(is_deleted=False)
    if not user.is_broker_admin:
        leads = leads.filter(assigned_to_id=user.id)
    return leads


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _lead_search(leads: QuerySet[Lead], text: str) -> QuerySet[Lead]:
    """An e-mail prefix, part of a phone number, or the beginnings of words of the name or e-mail.

    Each kind has its own index (pg_trgm, which would serve one "contains" for all three, is not
    available on the embedded PostgreSQL); a phone fragment goes through the index of the numbers'
    three-digit pieces (leads.models.PhoneTrigrams), then `contains` keeps the real matches.
    """
    if "@" in text:
        return leads.filter(email__startswith=text.lower())
    compact = phone_compact(text)
    if re.fullmatch(r"\+?\d{3,}", compact):
        return leads.alias(phone_trigrams=PhoneTrigrams("phone")).filter(
            phone_trigrams__contains=PhoneTrigrams(Value(compact)), phone__contains=compact)
    terms = re.findall(r"\w+", text.lower())
    if not terms:
        return leads
    query = SearchQuery(" & ".join(f"{term}:*" for term in terms), search_type="raw", config="simple")
    return leads.filter(search_vector=query)


def lead_list(*, user: User, filters: dict[str, Any]) -> QuerySet[Lead]:
    """Filters (all optional): stage and status (lists), score_min, score_max, dicom, calificacion,
    agent (user id), channel, created_from, created_to (dates, inclusive), search, ordering."""
    leads = lead_visible(user=user).select_related("assigned_to")
    if filters.get("stage"):
        leads = leads.filter(pipeline_stage__in=filters["stage"])
    if filters.get("status"):
        leads = leads.filter(status__in=filters["status"])
    if filters.get("score_min") is not None:
        leads = leads.filter(lead_score__gte=filters["score_min"])
    if filters.get("score_max") is not None:
        leads = leads.filter(lead_score__lte=filters["score_max"])
    if filters.get("dicom"):
        leads = leads.filter(dicom_status_index=dicom_index(filters["dicom"]))
    if filters.get("calificacion"):
        leads = leads.filter(calificacion=filters["calificacion"])
    if filters.get("agent") is not None:
        leads = leads.filter(assigned_to_id=filters["agent"])
    if filters.get("channel"):
        leads = leads.filter(channel=filters["channel"])
    if filters.get("created_from"):
        leads = leads.filter(created_at__gte=_day_start(filters["created_from"]))
    if filters.get("created_to"):
        leads = leads.filter(created_at__lt=_day_start(filters["created_to"] + timedelta(days=1)))
    if search := filters.get("search", "").strip():
        leads = _lead_search(leads, search)
    ordering = filters.get("ordering") or "-created_at"
    # The tiebreaker runs the same way as the ordering, so that one (column, id) index serves both directions.
    return leads.order_by(ordering, "-id" if ordering.startswith("-") else "id")


def lead_get(*, user: User, lead_id: int) -> Lead | None:
    """A lead this user may see, or None (another agent's lead and a deleted one do not exist here)."""
    return lead_visible(user=user).select_related("assigned_to").filter(pk=lead_id).first()


def lead_get_many(*, user: User, lead_ids: list[int]) -> list[Lead]:
    """The leads among `lead_ids` this user may see (the others are silently left out)."""
    return list(lead_visible(user=user).filter(pk__in=lead_ids).order_by("id"))


def lead_possible_duplicates(*, lead: Lead, limit: int = 5) -> list[Lead]:
    """Other leads in the lists with the same phone, e-mail or name (the name case-insensitively): what a
    person may want to merge into this one."""
    same = Q()
    if lead.phone:
        same |= Q(phone=lead.phone)
    if lead.email:
        same |= Q(email=lead.email)
    if lead.name:
        same |= Q(name__iexact=lead.name)
    if not same:
        return []
    return list(Lead.objects.filter(same, is_deleted=False).exclude(pk=lead.pk).order_by("-created_at")[:limit])


def lead_activity_list(*, lead: Lead) -> QuerySet[LeadActivity]:
    return lead.activities.select_related("actor").order_by("-id")


def lead_timeline(*, lead: Lead, limit: int = 50) -> list[LeadActivity]:
    """The latest `limit` entries, newest first; an assignment also gets `assignee` (its new owner's name)."""
    entries = list(lead_activity_list(lead=lead)[:limit])
    assigned = {entry.payload.get("to") for entry in entries if entry.kind == LeadActivity.Kind.ASSIGNED}
    names = dict(User.objects.filter(id__in=assigned).values_list("id", "name")) if assigned else {}
    for entry in entries:
        entry.assignee = names.get(entry.payload.get("to")) if entry.kind == LeadActivity.Kind.ASSIGNED else None
    return entries


def lead_conversations(*, lead: Lead) -> QuerySet:
    """The lead's conversations (one per channel), the most recently active first."""
    return lead.conversations.order_by(F("last_message_at").desc(nulls_last=True), "-id")


def lead_score_histogram(*, user: User, buckets: int = 10) -> list[int]:
    """How many visible leads score in each of `buckets` equal ranges of 0–100 (one query); 100 counts in the last."""
    width = 100 // buckets
    rows = (lead_visible(user=user).annotate(bucket=Least(F("lead_score") / width, Value(buckets - 1)))
            .values("bucket").annotate(count=Count("id")).order_by())
    counts = [0] * buckets
    for row in rows:
        counts[row["bucket"]] = row["count"]
    return counts
