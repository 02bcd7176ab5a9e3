import pytest

from crm.celery import app as celery_app
from knowledge import services
from knowledge.models import Document
from knowledge.tests.spanish_faq import PASSAGES


def document_add(*, title: str, body: str, source_type: str = Document.SourceType.FAQ) -> Document:
    """A document created and embedded at once (the task's work, done inline)."""
    document = services.document_create(title=title, body=body, source_type=source_type)
    services.document_embed(document_id=document.id, version=document.version)
    document.refresh_from_db()
    return document


def faq_load() -> dict[str, Document]:
    return {key: document_add(title=key.replace("_", " "), body=body) for key, body in PASSAGES.items()}


@pytest.fixture
def eager_tasks():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False
