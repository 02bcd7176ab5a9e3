"""Writes on leads: create, update, soft delete, recalculate, assignment, merging duplicates and notes.

After any change to a lead's data its calificacion, pipeline stage and score follow (in that
order: the stage is part of the score), and the dashboards hear about it once it commits.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q

from appointments.models import Appointment
from brokers.models import BrokerLeadConfig, User
from conversations.models import Conversation
from crm.errors import ApplicationError
from crm.realtime.broadcast import broadcast
from leads.models import Lead, LeadActivity
from leads.scoring import lead_rescore
from pipeline.models import CLOSED_STAGES, StageTransition
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


def clp_to_uf(amount: Decimal | int | None) -> Decimal | None:
    """A CLP amount in UF (two decimals), with UF at the configured value (settings.UF_VALUE_CLP)."""
    if amount is None:
        return None
    return (Decimal(str(amount)) / Decimal(str(settings.UF_VALUE_CLP))).quantize(Decimal("0.01"))


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


_IDENTITY_FIELDS = {"phone", "email", "channel", "channel_user_id"}


def _lead_validate(lead: Lead, changed: Iterable[str] | None = None) -> None:
    """Refuse a budget without its currency, and an identity (phone, e-mail, channel user) another lead
    has; of a lead being updated only the `changed` identities are checked (the others were already)."""
    if lead.budget_amount is not None and not lead.budget_currency:
        raise ApplicationError("Indica si el presupuesto está en UF o CLP.", code="budget_currency_required",
                               details={"budget_currency": ["Obligatorio cuando hay presupuesto."]})
    check = _IDENTITY_FIELDS if changed is None else _IDENTITY_FIELDS & set(changed)
    identity = Q()
    if lead.phone and "phone" in check:
        identity |= Q(phone=lead.phone)
    if lead.email and "email" in check:
        identity |= Q(email=lead.email)
    if lead.channel_user_id and check & {"channel", "channel_user_id"}:
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
    _lead_validate(lead, changed)
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


def _assignment_lock() -> None:
    # Two assignments at once must not both read the same "previous" agent or the same loads.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{connection.schema_name}:assignment"])


def _round_robin_agents(count: int) -> list[User]:
    """The next `count` active AGENTs in turn after the one who got the previous round-robin lead (by id,
    wrapping around); empty when there is no active agent."""
    agents = list(User.objects.filter(broker_id=connection.tenant.id, role=User.Role.AGENT, is_active=True)
                  .order_by("id"))
    if not agents:
        return []
    _assignment_lock()
    previous = (LeadActivity.objects.filter(kind=LeadActivity.Kind.ASSIGNED, payload__mode="round_robin")
                .order_by("-id").values_list("payload__to", flat=True).first())
    start = next((index for index, agent in enumerate(agents) if previous is not None and agent.id > previous), 0)
    return [agents[(start + offset) % len(agents)] for offset in range(count)]


def _priority_agents(ids: list[int], count: int) -> list[User]:
    """Who gets each of `count` new leads under the ADMIN's priority order: the listed person with the fewest
    open leads, the earlier in the list on a tie; empty when nobody listed is an active person of the brokerage.

    Fewest open leads rather than always the first: the order decides who is preferred, the load keeps the
    first person from receiving every lead while the others wait.
    """
    people = User.objects.filter(id__in=ids, broker_id=connection.tenant.id, is_active=True).exclude(
        role=User.Role.SUPERADMIN).in_bulk()
    ordered = [people[user_id] for user_id in dict.fromkeys(ids) if user_id in people]
    if not ordered:
        return []
    _assignment_lock()
    loads = dict(Lead.objects.filter(assigned_to_id__in=people, is_deleted=False)
                 .exclude(pipeline_stage__in=CLOSED_STAGES).values("assigned_to_id")
                 .annotate(open=Count("id")).values_list("assigned_to_id", "open"))
    chosen = []
    for _ in range(count):
        person = min(ordered, key=lambda candidate: loads.get(candidate.id, 0))  # min keeps the first of a tie
        loads[person.id] = loads.get(person.id, 0) + 1
        chosen.append(person)
    return chosen


def lead_assignees_next(*, config: BrokerLeadConfig, count: int) -> list[User]:
    """Who gets each of `count` new leads from a channel or an import under the brokerage's rule, in order;
    empty when they stay unassigned (manual rule, or nobody to give them to). Call inside the transaction
    that assigns them, and log an ASSIGNED activity per lead with `mode=config.assignment_rule`."""
    if config.assignment_rule == BrokerLeadConfig.AssignmentRule.ROUND_ROBIN:
        return _round_robin_agents(count)
    if config.assignment_rule == BrokerLeadConfig.AssignmentRule.PRIORITY:
        return _priority_agents(config.assignment_priority, count)
    return []


def _assign(*, lead: Lead, actor: User | None, agent: User, mode: str) -> Lead:
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
def lead_assign_new(*, lead: Lead, config: BrokerLeadConfig) -> Lead:
    """Assign a lead that just arrived by a channel as the brokerage's rule says (or leave it unassigned)."""
    for agent in lead_assignees_next(config=config, count=1):
        _assign(lead=lead, actor=None, agent=agent, mode=config.assignment_rule)
    return lead


@transaction.atomic
def lead_assign(*, lead: Lead, actor: User, agent: User | None = None) -> Lead:
    """Assign to `agent` (an active person of this brokerage), or round-robin among active agents."""
    if agent is None:
        agents = _round_robin_agents(1)
        if not agents:
            raise ApplicationError("No hay agentes activos a quienes asignar.", code="no_active_agents")
        return _assign(lead=lead, actor=actor, agent=agents[0], mode="round_robin")
    if agent.broker_id != connection.tenant.id or not agent.is_active or agent.is_superadmin:
        raise ApplicationError("Ese usuario no puede recibir leads de esta corredora.", code="invalid_agent",
                               details={"agent_id": [agent.id]})
    return _assign(lead=lead, actor=actor, agent=agent, mode="manual")


@transaction.atomic
def lead_assign_many(*, leads: list[Lead], actor: User, agent: User | None = None) -> int:
    """Assign every lead as `lead_assign` does, all or none; how many changed hands."""
    changed = 0
    for lead in leads:
        previous = lead.assigned_to_id
        changed += lead_assign(lead=lead, actor=actor, agent=agent).assigned_to_id != previous
    return changed


# What a merge copies from the duplicate when the primary has no value, in lead_update's terms; the channel
# identity and the budget travel as pairs (an id means nothing without its channel, an amount without its currency).
_MERGE_FIELDS = ("name", "phone", "email", "location", "property_type", "bedrooms", "monthly_income",
                 "dicom_status", "debt_amount", "tags", "notes", "source")


def _merge_values(*, primary: Lead, duplicate: Lead) -> dict[str, Any]:
    values = {field: getattr(duplicate, field) for field in _MERGE_FIELDS
              if getattr(primary, field) in (None, "", []) and getattr(duplicate, field) not in (None, "", [])}
    if not primary.channel_user_id and duplicate.channel_user_id:
        values.update(channel=duplicate.channel, channel_user_id=duplicate.channel_user_id)
    if primary.budget_amount is None and duplicate.budget_amount is not None:
        values.update(budget_amount=duplicate.budget_amount, budget_currency=duplicate.budget_currency)
    return values


def lead_merge_check(*, primary: Lead, duplicate: Lead, actor: User) -> None:
    """Refuse a merge that is not allowed: ADMIN only, two different leads still in the lists."""
    if not actor.is_broker_admin:
        raise ApplicationError("Solo un administrador puede fusionar leads.", code="permission_denied",
                               status_code=403)
    if primary.pk == duplicate.pk:
        raise ApplicationError("Un lead no se puede fusionar consigo mismo.", code="invalid_duplicate",
                               details={"duplicate_id": [duplicate.pk]})
    if primary.is_deleted or duplicate.is_deleted:
        raise ApplicationError("Ese lead ya no existe.", code="invalid_duplicate",
                               details={"duplicate_id": [duplicate.pk]})


@transaction.atomic
def lead_merge(*, primary: Lead, duplicate: Lead, actor: User, config: BrokerLeadConfig) -> Lead:
    """Fold `duplicate` into `primary`: its conversations, appointments, stage moves and timeline move over,
    the primary's empty fields take its values (a known value is never overwritten), and it is soft-deleted."""
    lead_merge_check(primary=primary, duplicate=duplicate, actor=actor)
    Conversation.objects.filter(lead=duplicate).update(lead=primary)
    Appointment.objects.filter(lead=duplicate).update(lead=primary)
    StageTransition.objects.filter(lead=duplicate).update(lead=primary)
    LeadActivity.objects.filter(lead=duplicate).update(lead=primary)
    # Deleted first: its phone, e-mail and channel identity are unique among the leads in the lists.
    duplicate.is_deleted = True
    duplicate.save(update_fields=["is_deleted", "updated_at"])
    values = _merge_values(primary=primary, duplicate=duplicate)
    filled = _fields_set(primary, values)
    _lead_validate(primary)
    primary.messages_count += duplicate.messages_count
    contacts = [moment for moment in (primary.last_contacted_at, duplicate.last_contacted_at) if moment]
    primary.last_contacted_at = max(contacts, default=None)
    primary.save(update_fields={column for field in filled for column in _COLUMNS.get(field, [field])}
                 | {"messages_count", "last_contacted_at", "updated_at"})
    LeadActivity.objects.bulk_create([
        LeadActivity(lead=primary, kind=LeadActivity.Kind.MERGED, actor=actor,
                     payload={"duplicate": duplicate.id, "fields": filled}),
        LeadActivity(lead=duplicate, kind=LeadActivity.Kind.MERGED, actor=actor, payload={"into": primary.id}),
    ])
    _lead_refresh(lead=primary, config=config, reason="merged", actor=actor)
    _announce("lead_updated", duplicate, deleted=True)
    _announce("lead_updated", primary, merged=duplicate.id)
    return primary


NOTE_MAX_LENGTH = 2000


def lead_note_check(*, lead: Lead, actor: User, text: str) -> str:
    """The note's text, once allowed: an ADMIN writes on any lead, an AGENT on the leads assigned to them."""
    if not actor.is_broker_admin and lead.assigned_to_id != actor.id:
        raise ApplicationError("Solo puedes anotar en tus propios leads.", code="permission_denied", status_code=403)
    text = text.strip()
    if not text or len(text) > NOTE_MAX_LENGTH:
        raise ApplicationError("La nota no puede estar vacía ni pasar de 2000 caracteres.", code="invalid_note",
                               details={"text": ["Entre 1 y 2000 caracteres."]})
    return text


@transaction.atomic
def lead_note_add(*, lead: Lead, actor: User, text: str) -> LeadActivity:
    """A note on the lead's timeline."""
    note = LeadActivity.objects.create(lead=lead, kind=LeadActivity.Kind.NOTE, actor=actor,
                                       payload={"text": lead_note_check(lead=lead, actor=actor, text=text)})
    _announce("lead_updated", lead, note=note.id)
    return note
