"""Key numbers for a brokerage's home page. Each app adds its figures here as it grows."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from appointments.models import ACTIVE_STATUSES, Appointment
from brokers.models import Broker, User
from conversations.selectors import conversation_visible, dead_letter_list, outbox_list
from leads.selectors import lead_score_histogram, lead_visible
from pipeline.models import Stage
from pipeline.selectors import pipeline_stage_counts

ACTIVE_CONVERSATION_DAYS = 7


def home_numbers(*, broker: Broker, user: User) -> dict[str, int]:
    """What this user may see: an AGENT counts their own leads, conversations and visits."""
    now = timezone.now()
    visits = Appointment.objects.filter(start_at__gte=now, status__in=ACTIVE_STATUSES)
    if not user.is_broker_admin:
        visits = visits.filter(agent_id=user.id)
    return {
        "leads": lead_visible(user=user).count(),
        "conversations": conversation_visible(user=user).filter(
            last_message_at__gte=now - timedelta(days=ACTIVE_CONVERSATION_DAYS)).count(),
        "appointments": visits.count(),
        "team": User.objects.filter(broker=broker, is_active=True).count(),
    }


def home_alerts(*, user: User) -> dict[str, int]:
    """What is waiting for someone: replies of this user's conversations that did not go out (the
    outbox) and, for an ADMIN, what failed for good (Conversaciones → Fallidos)."""
    return {
        "outbox": outbox_list(user=user).count(),
        "failures": dead_letter_list().count() if user.is_broker_admin else 0,
    }


def _bars(counts: list[int]) -> list[int]:
    """Each count as a share (0–100) of the largest, for bar lengths."""
    top = max(counts, default=0)
    return [round(100 * count / top) if top else 0 for count in counts]


def home_charts(*, user: User) -> dict[str, Any]:
    """The funnel (leads per stage) and the score distribution (ten ranges) of the leads this user sees
    (two queries)."""
    by_stage = pipeline_stage_counts(user=user)
    stage_counts = [by_stage[stage] for stage in Stage.values]
    histogram = lead_score_histogram(user=user)
    width, last = 100 // len(histogram), len(histogram) - 1
    return {
        "funnel": [{"stage": stage.value, "label": stage.label, "count": count, "percent": percent}
                   for stage, count, percent in zip(Stage, stage_counts, _bars(stage_counts), strict=True)],
        "scores": [{"low": index * width, "high": 100 if index == last else (index + 1) * width - 1, "count": count,
                    "percent": percent}
                   for index, (count, percent) in enumerate(zip(histogram, _bars(histogram), strict=True))],
    }
