"""Celery tasks of the catalogue (they run in the schema of the brokerage that queued them)."""

from celery import shared_task

from knowledge.embeddings import EmbeddingError
from properties import services

RETRY_BACKOFF_SECONDS = (5, 30, 120)


@shared_task(bind=True, acks_late=True, max_retries=len(RETRY_BACKOFF_SECONDS), name="properties.units_embed")
def units_embed_task(self, unit_ids: list[int]) -> None:
    """Idempotent: units already embedded from their current text are skipped."""
    try:
        services.units_embed(unit_ids=unit_ids)
    except EmbeddingError as exc:
        if self.request.retries < len(RETRY_BACKOFF_SECONDS):
            raise self.retry(exc=exc, countdown=RETRY_BACKOFF_SECONDS[self.request.retries]) from exc
