"""Embedding in the real Celery worker: progress (chunks done / total) is recorded on the document,
in the schema of the brokerage that queued it only."""

import time

import pytest

from conftest import committed_brokerage
from knowledge import services
from knowledge.models import Chunk, Document

pytestmark = pytest.mark.worker

SENTENCE = "El subsidio DS1 ayuda a familias de sectores medios a comprar su primera vivienda en Chile. "


def _brokerage(django_db_blocker, name: str):
    with django_db_blocker.unblock():
        return committed_brokerage("kbw", name)


def test_the_worker_embeds_with_progress_in_its_own_brokerage(cast, celery_worker_process, django_db_blocker):
    mine, other = _brokerage(django_db_blocker, "Corredora Uno"), _brokerage(django_db_blocker, "Corredora Dos")
    with django_db_blocker.unblock():
        with mine:
            document = services.document_create(title="Subsidios", body=SENTENCE * 40, source_type="subsidy")
        deadline = time.monotonic() + 60
        while True:
            with mine:
                document.refresh_from_db()
            if document.status not in ("pending", "embedding"):
                break
            assert time.monotonic() < deadline, document.status
            time.sleep(0.2)
        with mine:
            chunks = Chunk.objects.filter(document=document).count()
        with other:
            foreign = (Document.objects.count(), Chunk.objects.count())
    assert (document.status, document.progress) == ("ready", 100)
    assert document.chunks_total == document.chunks_done == chunks > 1
    assert foreign == (0, 0)
