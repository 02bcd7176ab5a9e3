"""The kanban board: every stage with its best leads, dragged between stages and kept live."""

from django.http import JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from brokers.views import broker_required
from leads.selectors import lead_get
from pipeline import selectors
from pipeline.models import CLOSED_STAGES

CARDS_PER_STAGE = 30


@broker_required
def kanban(request):
    return render(request, "pipeline/kanban.html", {
        "board": selectors.pipeline_board(user=request.user, per_stage=CARDS_PER_STAGE),
        "closed_stages": sorted(CLOSED_STAGES), "per_stage": CARDS_PER_STAGE,
    })


@broker_required
def kanban_card(request, lead_id: int):
    """A lead's card as this user may see it now (`html` null when they may not) and the stage counts.

    Every open board asks for it when it hears that a lead changed: the event carries ids only.
    """
    lead = lead_get(user=request.user, lead_id=lead_id)
    return JsonResponse({
        "lead_id": lead_id,
        "stage": lead.pipeline_stage if lead else None,
        "html": render_to_string("pipeline/_card.html", {"lead": lead}, request) if lead else None,
        "counts": selectors.pipeline_stage_counts(user=request.user),
    })
