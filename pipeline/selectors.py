"""Reads on the pipeline: the kanban board and funnel metrics, each in a fixed number of queries."""

from datetime import timedelta
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from brokers.models import BrokerLeadConfig, User
from leads.models import Lead
from leads.selectors import lead_visible
from pipeline.models import FUNNEL_ORDER, Stage, StageTransition

CARD_FIELDS = ["id", "name", "phone", "lead_score", "status", "calificacion", "pipeline_stage", "stage_entered_at",
               "budget_amount", "budget_currency", "assigned_to", "assigned_to__name"]


def _stage_counts(leads: QuerySet[Lead], **extra: Any) -> dict[str, dict[str, int]]:
    rows = leads.values("pipeline_stage").annotate(count=Count("id"), **extra).order_by()
    return {row.pop("pipeline_stage"): row for row in rows}


def pipeline_stage_counts(*, user: User) -> dict[str, int]:
    """How many visible leads stand in each stage, every stage present (one query)."""
    counts = _stage_counts(lead_visible(user=user))
    return {stage.value: counts.get(stage, {}).get("count", 0) for stage in Stage}


def pipeline_board(*, user: User, per_stage: int = 10) -> list[dict[str, Any]]:
    """Every stage with its lead count and its `per_stage` best-scored leads (two queries).

    The cards come from one UNION ALL of a top-N per stage, each served by the (stage, score)
    index; a window function over every lead would sort the whole brokerage on each request.
    """
    leads = lead_visible(user=user)
    counts = _stage_counts(leads)
    best = [leads.filter(pipeline_stage=stage).order_by("-lead_score", "id").values("id")[:per_stage]
            for stage in Stage]
    cards = (leads.filter(id__in=best[0].union(*best[1:], all=True)).select_related("assigned_to")
             .only(*CARD_FIELDS).order_by("-lead_score", "id"))
    by_stage: dict[str, list[Lead]] = {stage: [] for stage in Stage}
    for lead in cards:
        by_stage[lead.pipeline_stage].append(lead)
    return [{"stage": stage.value, "label": str(stage.label), "count": counts.get(stage, {}).get("count", 0),
             "leads": by_stage[stage]} for stage in Stage]


def pipeline_funnel(*, user: User, config: BrokerLeadConfig) -> dict[str, Any]:
    """Counts and idle leads per stage, how many ever reached each stage and the conversion between
    consecutive stages, average days spent in each stage, and losses by reason (four queries).

    A lead reached a stage when it stands there or further on, or a transition once took it there
    (`perdido` is an exit, not a step). Each "once went there" is an uncorrelated IN (…) over the
    transitions, which PostgreSQL hashes once per query instead of running a subquery per lead.
    """
    leads = lead_visible(user=user)
    idle_since = timezone.now() - timedelta(days=config.inactivity_days)
    counts = _stage_counts(leads, idle=Count("id", filter=Q(stage_entered_at__lt=idle_since)))

    reach = leads.aggregate(reached_0=Count("id"), **{
        f"reached_{position}": Count("id", filter=Q(pipeline_stage__in=FUNNEL_ORDER[position:]) | Q(
            id__in=StageTransition.objects.filter(to_stage__in=FUNNEL_ORDER[position:]).values("lead_id")))
        for position in range(1, len(FUNNEL_ORDER))
    })
    reached = [reach[f"reached_{position}"] for position in range(len(FUNNEL_ORDER))]

    seconds = dict(StageTransition.objects.filter(lead__in=leads).values("from_stage")
                   .annotate(avg=Avg("seconds_in_stage")).order_by().values_list("from_stage", "avg"))
    losses = (leads.filter(pipeline_stage=Stage.PERDIDO).values("close_reason").annotate(count=Count("id"))
              .order_by("-count", "close_reason"))

    stages = []
    for stage in Stage:
        row = counts.get(stage, {})
        stages.append({
            "stage": stage.value, "label": str(stage.label), "count": row.get("count", 0), "idle": row.get("idle", 0),
            "reached": reached[FUNNEL_ORDER.index(stage)] if stage in FUNNEL_ORDER else None,
            "avg_days_in_stage": round(seconds[stage] / 86400, 2) if seconds.get(stage) is not None else None,
        })
    conversion = [
        {"from_stage": FUNNEL_ORDER[i].value, "to_stage": FUNNEL_ORDER[i + 1].value,
         "rate": round(reached[i + 1] / reached[i], 4) if reached[i] else None}
        for i in range(len(FUNNEL_ORDER) - 1)
    ]
    return {"stages": stages, "conversion": conversion,
            "losses": [{"reason": row["close_reason"], "count": row["count"]} for row in losses]}
