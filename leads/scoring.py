"""ScoringService: the one deterministic, explainable lead score (0–100), DESIGN §4.

    base        0–40  completeness of the lead's data, weighted per brokerage (BrokerLeadConfig.field_weights)
    financial   0–30  income tier (3M / 2M / 1M / 500k CLP) and DICOM
    engagement  0–15  messages received and how recently the lead was in touch
    stage       0–15  how far down the pipeline the lead is
    penalties  ≤ 0    inactivity beyond the brokerage's limit, asking not to be contacted

`lead_score_compute` is pure (same lead, config and time → same result); `lead_rescore` persists.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from brokers.models import BrokerLeadConfig
from crm.encryption import decrypt
from leads.models import Lead, LeadActivity, dicom_index
from pipeline.models import CLOSED_STAGES, Stage

BASE_MAX = 40
INCOME_TIERS = ((3_000_000, 20), (2_000_000, 15), (1_000_000, 10), (500_000, 5))
DICOM_CLEAN_POINTS = 10
DICOM_DEBT_WITHIN_LIMIT_POINTS = 5
MESSAGES_MAX_POINTS = 10
RECENT_CONTACT_POINTS = ((timedelta(days=2), 5), (timedelta(days=7), 2))
STAGE_POINTS = {
    Stage.ENTRADA: 0,
    Stage.PERFILAMIENTO: 3,
    Stage.CALIFICACION_FINANCIERA: 6,
    Stage.POTENCIAL: 10,
    Stage.AGENDADO: 15,
    Stage.GANADO: 15,
    Stage.PERDIDO: 0,
}
INACTIVE_PENALTY = -10
LONG_INACTIVE_PENALTY = -20  # inactive for twice the brokerage's limit
OPTED_OUT_PENALTY = -30
# How far each part of the breakdown can go (penalties: how low), for showing it to scale.
COMPONENT_LIMITS = {
    "base": BASE_MAX,
    "financial": INCOME_TIERS[0][1] + DICOM_CLEAN_POINTS,
    "engagement": MESSAGES_MAX_POINTS + RECENT_CONTACT_POINTS[0][1],
    "stage": max(STAGE_POINTS.values()),
    "penalties": OPTED_OUT_PENALTY + LONG_INACTIVE_PENALTY,
}

# What "this field is known" means, per key of BrokerLeadConfig.field_weights.
FIELD_PRESENT: dict[str, Callable[[Lead], bool]] = {
    "name": lambda lead: bool(lead.name),
    "phone": lambda lead: bool(lead.phone),
    "email": lambda lead: bool(lead.email),
    "location": lambda lead: bool(lead.location),
    "budget": lambda lead: lead.budget_amount is not None,
    "monthly_income": lambda lead: lead.monthly_income is not None,
    "dicom_status": lambda lead: bool(lead.dicom_status),
    "property_type": lambda lead: bool(lead.property_type),
    "bedrooms": lambda lead: lead.bedrooms is not None,
}
# The columns the nightly pass reads, as plain rows (no model instances, no decrypting converters).
# DICOM comes from its keyed index (no decryption: the status has two values); income and debt are
# read as raw tokens, the debt decrypted only when it counts (with debts).
SCORING_COLUMNS = ["id", "name", "phone", "email", "location", "budget_amount", "dicom_status_index", "property_type",
                   "bedrooms", "messages_count", "last_contacted_at", "created_at", "pipeline_stage", "opted_out",
                   "lead_score", "status", "score_breakdown", "income_token", "debt_token"]


@dataclass(frozen=True)
class ScoreResult:
    score: int
    status: str
    breakdown: dict[str, int]


def _base(lead: Lead, weights: dict[str, float]) -> int:
    known = {field: weight for field, weight in weights.items() if field in FIELD_PRESENT and weight > 0}
    total = sum(known.values())
    if not total:
        return 0
    present = sum(weight for field, weight in known.items() if FIELD_PRESENT[field](lead))
    return round(BASE_MAX * present / total)


def _financial(lead: Lead, config: BrokerLeadConfig) -> int:
    income = lead.monthly_income or 0
    points = next((tier_points for minimum, tier_points in INCOME_TIERS if income >= minimum), 0)
    if lead.dicom_status == Lead.Dicom.CLEAN:
        points += DICOM_CLEAN_POINTS
    elif lead.dicom_status == Lead.Dicom.HAS_DEBT and (lead.debt_amount or 0) <= config.max_debt_clp:
        points += DICOM_DEBT_WITHIN_LIMIT_POINTS
    return points


def _engagement(lead: Lead, now: datetime) -> int:
    points = min(lead.messages_count, MESSAGES_MAX_POINTS)
    if lead.last_contacted_at is not None:
        since = now - lead.last_contacted_at
        points += next((recent for window, recent in RECENT_CONTACT_POINTS if since <= window), 0)
    return points


def _penalties(lead: Lead, config: BrokerLeadConfig, now: datetime) -> int:
    points = OPTED_OUT_PENALTY if lead.opted_out else 0
    if lead.pipeline_stage not in CLOSED_STAGES:
        idle = now - (lead.last_contacted_at or lead.created_at or now)
        limit = timedelta(days=config.inactivity_days)
        if idle > 2 * limit:
            points += LONG_INACTIVE_PENALTY
        elif idle > limit:
            points += INACTIVE_PENALTY
    return points


def status_for_score(*, score: int, config: BrokerLeadConfig) -> str:
    if score >= config.qualified_min:
        return Lead.Status.QUALIFIED
    if score > config.warm_max:
        return Lead.Status.HOT
    if score > config.cold_max:
        return Lead.Status.WARM
    return Lead.Status.COLD


def lead_score_compute(*, lead: Lead, config: BrokerLeadConfig, now: datetime | None = None) -> ScoreResult:
    now = now or timezone.now()
    breakdown = {
        "base": _base(lead, config.field_weights),
        "financial": _financial(lead, config),
        "engagement": _engagement(lead, now),
        "stage": STAGE_POINTS[lead.pipeline_stage],
        "penalties": _penalties(lead, config, now),
    }
    score = max(0, min(100, sum(breakdown.values())))
    return ScoreResult(score=score, status=status_for_score(score=score, config=config), breakdown=breakdown)


def _apply(lead: Lead, result: ScoreResult, *, reason: str, actor_id: int | None) -> LeadActivity | None:
    """Put `result` on the lead; the timeline entry to record when the score itself moved."""
    previous = lead.lead_score
    lead.lead_score, lead.status, lead.score_breakdown = result.score, result.status, result.breakdown
    if previous == result.score:
        return None
    return LeadActivity(lead=lead, kind=LeadActivity.Kind.SCORE_CHANGED, actor_id=actor_id,
                        payload={"from": previous, "to": result.score, "reason": reason})


def lead_score_apply(*, lead: Lead, config: BrokerLeadConfig, reason: str, actor_id: int | None = None,
                     now: datetime | None = None) -> LeadActivity | None:
    """Recompute the score onto the lead without saving (bulk writers save it); the unsaved timeline
    entry to record when the score itself moved."""
    return _apply(lead, lead_score_compute(lead=lead, config=config, now=now), reason=reason, actor_id=actor_id)


def _unchanged(lead: Lead, result: ScoreResult) -> bool:
    return (lead.lead_score, lead.status, lead.score_breakdown) == (result.score, result.status, result.breakdown)


@transaction.atomic(savepoint=False)  # nothing here is caught and recovered from: no savepoint round trips
def lead_rescore(*, lead: Lead, config: BrokerLeadConfig, reason: str, actor_id: int | None = None) -> bool:
    """Recompute and store the lead's score; True when anything changed."""
    result = lead_score_compute(lead=lead, config=config)
    if _unchanged(lead, result):
        return False
    activity = _apply(lead, result, reason=reason, actor_id=actor_id)
    lead.save(update_fields=["lead_score", "status", "score_breakdown", "updated_at"])
    if activity is not None:
        activity.save()
    return True


def _scores_write(rows: list[dict[str, Any]], *, reason: str) -> None:
    """Store a batch of new scores, and a timeline entry for each score that moved, in one statement.

    One JSON document, unpacked by jsonb_to_recordset, feeds both the UPDATE and the INSERT:
    bulk_update's CASE per row grows with the square of the batch, bulk_create builds a model per
    entry, and array parameters are escaped element by element. One statement is also atomic.
    """
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH v AS (SELECT * FROM jsonb_to_recordset(%s::jsonb)"
            " AS v(id bigint, previous smallint, score smallint, status text, breakdown jsonb)),"
            " scored AS (UPDATE leads_lead AS lead SET lead_score = v.score, status = v.status,"
            " score_breakdown = v.breakdown FROM v WHERE lead.id = v.id)"
            " INSERT INTO leads_leadactivity (lead_id, kind, payload, created_at)"
            " SELECT v.id, %s, jsonb_build_object('from', v.previous, 'to', v.score, 'reason', %s), now()"
            " FROM v WHERE v.previous <> v.score",
            [json.dumps(rows), LeadActivity.Kind.SCORE_CHANGED, reason],
        )


def _statistics_refresh() -> None:
    """Re-analyse the leads table after a pass that rewrote many rows. Outside a transaction (the
    beat task) VACUUM comes with it: it marks the rewritten pages all-visible again, without which the
    board's per-stage counts fall back from index-only scans to reading the whole table."""
    statement = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(f"{statement} {Lead._meta.db_table}")


def lead_rescore_all(*, config: BrokerLeadConfig, batch_size: int = 2000, now: datetime | None = None) -> int:
    """Rescore every lead of the current brokerage, one batch (keyset by id) at a time. Returns leads seen.

    Memory stays at one batch whatever the number of leads; each batch is written by one statement
    (so it commits on its own): an interrupted pass keeps its progress and a rerun converges to the
    same scores. Only leads whose score, status or breakdown moved are written. When a tenth or more
    of them moved, the table is analysed again: the list's plans (score ranges, temperatures) choose
    their index from these statistics, which a pass over every lead has just made stale.
    """
    now = now or timezone.now()
    dicom_by_index = {dicom_index(status): status for status in (Lead.Dicom.CLEAN, Lead.Dicom.HAS_DEBT)}
    leads = Lead.objects.filter(is_deleted=False).order_by("id").annotate(
        income_token=Cast("monthly_income_encrypted", TextField()),
        debt_token=Cast("debt_amount_encrypted", TextField()))
    last_id, seen, written = 0, 0, 0
    while True:
        batch = list(leads.filter(id__gt=last_id).values_list(*SCORING_COLUMNS)[:batch_size])
        if not batch:
            if written and written * 10 >= seen:
                _statistics_refresh()
            return seen
        changed = []
        for row in batch:
            # What lead_score_compute reads of a Lead, plaintext where the model's properties would decrypt.
            lead = SimpleNamespace(**dict(zip(SCORING_COLUMNS, row, strict=True)))
            lead.dicom_status = dicom_by_index.get(lead.dicom_status_index, "")
            lead.monthly_income = int(decrypt(lead.income_token)) if lead.income_token else None
            has_debt = lead.dicom_status == Lead.Dicom.HAS_DEBT and lead.debt_token
            lead.debt_amount = int(decrypt(lead.debt_token)) if has_debt else None
            result = lead_score_compute(lead=lead, config=config, now=now)
            if not _unchanged(lead, result):
                changed.append({"id": lead.id, "previous": lead.lead_score, "score": result.score,
                                "status": result.status, "breakdown": result.breakdown})
        _scores_write(changed, reason="nightly")
        seen, written = seen + len(batch), written + len(changed)
        last_id = batch[-1][0]
