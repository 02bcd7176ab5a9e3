"""Celery tasks of the knowledge base (they run in the schema of the brokerage that queued them)."""

from celery import shared_task

from knowledge import services
from knowledge.embeddings import EmbeddingError

RETRY_BACKOFF_SECONDS = (5, 30, 120)


@shared_task(bind=True, acks_late=True, max_retries=len(RETRY_BACKOFF_SECONDS), name="knowledge.document_embed")
def document_embed_task(self, document_id: int, version: int) -> None:
    """Idempotent: a version already embedded, or replaced by a newer one, is left alone."""
    try:
        services.document_embed(document_id=document_id, version=version)
    except EmbeddingError as exc:
        if self.request.retries < len(RETRY_BACKOFF_SECONDS):
            raise self.retry(exc=exc, countdown=RETRY_BACKOFF_SECONDS[self.request.retries]) from exc
