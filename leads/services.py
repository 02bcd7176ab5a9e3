"""Writes on leads: create, update, soft delete, recalculate and assignment.

After any change to a lead's data its calificacion, pipeline stage and score follow (in that
order: the stage is part of the score), and the dashboards hear about it once it commits.
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from brokers.models import BrokerLeadConfig, User
from crm.errors import ApplicationError
from crm.realtime.broadcast import broadcast
from leads.models import Lead, LeadActivity
from leads.scoring import lead_rescore
from pipeline.services import lead_advance_pipeline

# What a change to a field writes, where that is not just its own column (encrypted properties, derived values).
_COLUMNS = {
    "monthly_income": ["monthly_income_encrypted"],
    "dicom_status": ["dicom_status_encrypted", "dicom_status_index"],
    "debt_amount": ["debt_amount_encrypted"],
    "budget_amount": ["budget_amount", "budget_clp"],
    "budget_currency": ["budget_currency", "budget_clp"],
}
EDITABLE_FIELDS = frozenset({
    "name", "phone", "email", "channel", "channel_user_id", "location", "property_type", "bedrooms",
    "budget_amount", "budget_currency", "monthly_income", "dicom_status", "debt_amount", "tags", "notes", "source",
})


def budget_to_clp(*, amount: Decimal | float | None, currency: str) -> int | None:
    """The CLP equivalent of a budget, with UF at the configured value (settings.UF_VALUE_CLP)."""
    if amount is None:
        return None
    rate = Decimal(str(settings.UF_VALUE_CLP)) if currency == Lead.Currency.UF else Decimal(1)
    return int(Decimal(str(amount)) * rate)


def _fields_set(lead: Lead, data: dict[str, Any]) -> list[str]:
    """Put `data` on the lead; the names of the fields whose value changed."""
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ApplicationError("Campos no editables.", code="invalid_fields", details={"fields": sorted(unknown)})
    changed = sorted(field for field, value in data.items() if getattr(lead, field) != value)
    for field in changed:
        setattr(lead, field, data[field])
    if {"budget_amount", "budget_currency"} & set(changed):
        lead.budget_clp = budget_to_clp(amount=lead.budget_amount, currency=lead.budget_currency)
    return changed


def _lead_validate(lead: Lead) -> None:
    if lead.budget_amount is not None and not lead.budget_currency:
        raise ApplicationError("Indica si el presupuesto está en UF o CLP.", code="budget_currency_required",
                               details={"budget_currency": ["Obligatorio cuando hay presupuesto."]})
    identity = Q()
    if lead.phone:
        identity |= Q(phone=lead.phone)
    if lead.email:
        identity |= Q(email=lead.email)
    if lead.channel_user_id:
        identity |= Q(channel=lead.channel, channel_user_id=lead.channel_user_id)
    if not identity:
        return
    duplicate = Lead.objects.filter(identity, is_deleted=False).exclude(pk=lead.pk).only("id").first()
    if duplicate is not None:
        raise ApplicationError("Ya existe un lead con ese teléfono, correo o identidad de canal.",
                               code="duplicate_lead", details={"lead_id": duplicate.id}, status_code=409)


def _lead_refresh(*, lead: Lead, config: BrokerLeadConfig, reason: str, actor: User | None) -> None:
    lead_advance_pipeline(lead=lead, config=config)
    lead_rescore(lead=lead, config=config, reason=reason, actor_id=actor.id if actor else None)


def _announce(event: str, lead: Lead, **data: Any) -> None:
    # Ids only: every dashboard of the brokerage hears this, and each refetches what its user may see.
    broadcast(event, {"lead_id": lead.id, "assigned_to": lead.assigned_to_id, **data})


@transaction.atomic
def lead_create(*, actor: User, data: dict[str, Any], config: BrokerLeadConfig) -> Lead:
    """A new lead; an AGENT's own leads are assigned to them (otherwise they could not see them)."""
    lead = Lead()
    _fields_set(lead, data)
    if not actor.is_broker_admin:
        lead.assigned_to = actor
    _lead_validate(lead)
    lead.save()
    LeadActivity.objects.create(lead=lead, kind=LeadActivity.Kind.CREATED, actor=actor,
                                payload={"channel": lead.channel, "source": lead.source})
    _lead_refresh(lead=lead, config=config, reason="created", actor=actor)
    _announce("lead_updated", lead, created=True)
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, actor: User | None, data: dict[str, Any], config: BrokerLeadConfig) -> Lead:
    changed = _fields_set(lead, data)
    if not changed:
        return lead
    _lead_validate(lead)
    # Only the changed columns: the conversation worker updates counters on the same row meanwhile.
    lead.save(update_fields={column for field in changed for column in _COLUMNS.get(field, [field])} | {"updated_at"})
    # Names only: the timeline is not encrypted, and income or DICOM values must not land there.
    LeadActivity.objects.create(lead=lead, kind=LeadActivity.Kind.FIELDS_CHANGED, actor=actor,
                                payload={"fields": changed})
    _lead_refresh(lead=lead, config=config, reason="fields_changed", actor=actor)
    _announce("lead_updated", lead, fields=changed)
    return lead


@transaction.atomic
def lead_recalculate(*, lead: Lead, actor: User, config: BrokerLeadConfig) -> Lead:
    """Apply the brokerage's current settings to the lead (after the ADMIN changed weights or thresholds)."""
    _lead_refresh(lead=lead, config=config, reason="recalculated", actor=actor)
    _announce("lead_updated", lead)
    return lead


@transaction.atomic
def lead_delete(*, lead: Lead, actor: User) -> None:
    """Soft delete: the lead leaves every list, its phone and e-mail become free for a new lead."""
    lead.is_deleted = True
    lead.save(update_fields=["is_deleted", "updated_at"])
    LeadActivity.objects.create(lead=lead, kind=LeadActivity.Kind.DELETED, actor=actor)
    _announce("lead_updated", lead, deleted=True)


def _round_robin_next() -> User:
    """The active AGENT after the one who got the previous round-robin lead (by id, wrapping around)."""
    agents = list(User.objects.filter(broker_id=connection.tenant.id, role=User.Role.AGENT, is_active=True)
                  .order_by("id"))
    if not agents:
        raise ApplicationError("No hay agentes activos a quienes asignar.", code="no_active_agents")
    # Two assignments at once must not both read the same "previous" agent.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{connection.schema_name}:round_robin"])
    previous = (LeadActivity.objects.filter(kind=LeadActivity.Kind.ASSIGNED, payload__mode="round_robin")
                .order_by("-id").values_list("payload__to", flat=True).first())
    return next((agent for agent in agents if previous is not None and agent.id > previous), agents[0])


@transaction.atomic
def lead_assign(*, lead: Lead, actor: User, agent: User | None = None) -> Lead:
    """Assign to `agent` (an active person of this brokerage), or round-robin among active agents."""
    mode = "manual" if agent is not None else "round_robin"
    if agent is None:
        agent = _round_robin_next()
    elif agent.broker_id != connection.tenant.id or not agent.is_active or agent.is_superadmin:
        raise ApplicationError("Ese usuario no puede recibir leads de esta corredora.", code="invalid_agent",
                               details={"agent_id": [agent.id]})
    previous = lead.assigned_to_id
    if previous == agent.id:
        return lead
    lead.assigned_to = agent
    lead.save(update_fields=["assigned_to", "updated_at"])
    LeadActivity.objects.create(lead=lead, kind=LeadActivity.Kind.ASSIGNED, actor=actor,
                                payload={"from": previous, "to": agent.id, "mode": mode})
    _announce("lead_assigned", lead, previous=previous)
    return lead


@transaction.atomic
def lead_assign_many(*, leads: list[Lead], actor: User, agent: User | None = None) -> int:
    """Assign every lead as `lead_assign` does, all or none; how many changed hands."""
    changed = 0
    for lead in leads:
        previous = lead.assigned_to_id
        changed += lead_assign(lead=lead, actor=actor, agent=agent).assigned_to_id != previous
    return changed
