"""Writing the knowledge base: documents in, chunks embedded (in a Celery task), uploads parsed.

Every change to the knowledge base empties the brokerage's semantic cache: a cached answer may
rest on what changed.
"""

import csv
import io
import logging
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from crm.errors import ApplicationError
from crm.tenancy import enqueue_on_commit
from knowledge.chunking import chunk_text
from knowledge.embeddings import EmbeddingError, embedder_get
from knowledge.models import Chunk, Document
from knowledge.semantic_cache import cache_invalidate

logger = logging.getLogger(__name__)

UPLOAD_TYPES = {".txt": "text", ".md": "text", ".markdown": "text", ".csv": "csv", ".pdf": "pdf"}
_TITLE_COLUMNS = ("title", "titulo", "título", "pregunta", "question")
_BODY_COLUMNS = ("body", "contenido", "respuesta", "answer", "texto")


def _enqueue_embed(document: Document) -> None:
    from knowledge.tasks import document_embed_task

    enqueue_on_commit(document_embed_task, document.id, document.version)


@transaction.atomic
def document_create(*, title: str, body: str, source_type: str = Document.SourceType.FAQ,
                    metadata: dict[str, Any] | None = None) -> Document:
    document = Document(title=title, body=body, source_type=source_type, metadata=metadata or {})
    document.full_clean()
    document.save()
    _enqueue_embed(document)
    cache_invalidate()
    return document


@transaction.atomic
def document_update(*, document: Document, data: dict[str, Any]) -> Document:
    """Change a document's fields; a change of title or body re-embeds it (a new version)."""
    changed = {field for field in ("title", "body", "source_type", "metadata")
               if field in data and getattr(document, field) != data[field]}
    if not changed:
        return document
    for field in changed:
        setattr(document, field, data[field])
    document.full_clean()
    if changed & {"title", "body"}:
        document.version += 1
        document.status, document.progress, document.error = Document.Status.PENDING, 0, ""
        _enqueue_embed(document)
    document.save()
    cache_invalidate()
    return document


@transaction.atomic
def document_delete(*, document: Document) -> None:
    document.delete()
    cache_invalidate()


def upload_check(*, filename: str, size: int) -> str:
    """The kind of an upload ("text", "csv", "pdf") if its type and size are accepted."""
    kind = UPLOAD_TYPES.get(PurePath(filename).suffix.lower())
    if kind is None:
        raise ApplicationError(_("Sube un archivo .txt, .md, .pdf o .csv."), code="unsupported_file")
    if size > settings.KNOWLEDGE_UPLOAD_MAX_BYTES:
        raise ApplicationError(_("El archivo es demasiado grande (máximo %(size)s).") % {
            "size": filesizeformat(settings.KNOWLEDGE_UPLOAD_MAX_BYTES)}, code="file_too_large")
    return kind


def document_upload(*, filename: str, content: bytes, source_type: str = Document.SourceType.FAQ) -> list[Document]:
    """Text/Markdown/PDF becomes one document (titled by its first line); CSV one document per row,
    with a title column (title/titulo/pregunta) and a body column (body/contenido/respuesta)."""
    kind = upload_check(filename=filename, size=len(content))
    if kind == "pdf":
        text = pdf_text(content)
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ApplicationError(_("El archivo debe estar en UTF-8."), code="invalid_encoding") from exc
    rows = _csv_rows(text) if kind == "csv" else [_text_document(filename, text)]
    with transaction.atomic():
        return [document_create(title=title, body=body, source_type=source_type) for title, body in rows]


def pdf_text(content: bytes) -> str:
    """The text of every page of a PDF (pypdf, pure Python), pages separated by a blank line."""
    try:
        reader = PdfReader(io.BytesIO(content))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ApplicationError(_("No se pudo leer el PDF."), code="invalid_pdf") from exc
    text = "\n\n".join(page for page in pages if page)
    if not text:
        raise ApplicationError(_("El PDF no tiene texto (¿es una imagen escaneada?)."), code="empty_file")
    return text


def _text_document(filename: str, text: str) -> tuple[str, str]:
    first_line = next((line.strip().lstrip("#").strip() for line in text.splitlines() if line.strip()), "")
    if not first_line:
        raise ApplicationError(_("El archivo está vacío."), code="empty_file")
    return (first_line[:200] or PurePath(filename).stem), text


def _csv_rows(text: str) -> list[tuple[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = {name.strip().lower(): name for name in reader.fieldnames or []}
    title = next((columns[c] for c in _TITLE_COLUMNS if c in columns), None)
    body = next((columns[c] for c in _BODY_COLUMNS if c in columns), None)
    if title is None or body is None:
        raise ApplicationError(_("El CSV necesita una columna de título (title, pregunta) y una de contenido "
                                 "(body, respuesta)."), code="invalid_csv")
    rows = [((row[title] or "").strip()[:200], (row[body] or "").strip()) for row in reader]
    rows = [(t, b) for t, b in rows if t and b]
    if not rows:
        raise ApplicationError(_("El CSV no tiene filas con título y contenido."), code="empty_file")
    return rows


def document_embed(*, document_id: int, version: int) -> None:
    """Chunk and embed one version of a document, then swap its chunks in at once (search keeps
    finding the old ones meanwhile). Progress is saved batch by batch, outside any transaction, for
    the API to show. A newer version makes this one stop: its own task does the work."""
    document = Document.objects.filter(pk=document_id, version=version).first()
    embedder = embedder_get()
    if document is None or (document.status == Document.Status.READY and document.embedding_model == embedder.model_id):
        return
    texts = chunk_text(text=document.body, size=settings.KNOWLEDGE_CHUNK_CHARS,
                       overlap=settings.KNOWLEDGE_CHUNK_OVERLAP_CHARS)
    # The title goes into every chunk's vector (it says what the chunk is about), not into its text:
    # the text is what the assistant quotes.
    inputs = [f"{document.title}\n{text}" for text in texts]
    current = Document.objects.filter(pk=document_id, version=version)
    current.update(status=Document.Status.EMBEDDING, progress=0, chunks_done=0, chunks_total=len(texts), error="")
    vectors: list[list[float]] = []
    batch = settings.KNOWLEDGE_EMBED_BATCH
    try:
        for start in range(0, len(texts), batch):
            vectors += embedder.embed(inputs[start:start + batch])
            if not current.update(progress=min(99, 100 * len(vectors) // len(texts)), chunks_done=len(vectors)):
                return  # edited or deleted meanwhile
    except EmbeddingError as exc:
        current.update(status=Document.Status.FAILED, error=str(exc)[:300])
        raise
    with transaction.atomic():
        locked = Document.objects.select_for_update().filter(pk=document_id, version=version).first()
        if locked is None:
            return
        Chunk.objects.filter(document=locked).delete()
        Chunk.objects.bulk_create(
            Chunk(document=locked, ordinal=i, text=text, embedding=vector, model=embedder.model_id)
            for i, (text, vector) in enumerate(zip(texts, vectors, strict=True))
        )
        current.update(status=Document.Status.READY, progress=100, embedding_model=embedder.model_id)
        cache_invalidate()


def kb_reembed_stale() -> int:
    """Queue a re-embed of every document whose vectors are not from the embedder in use (after a
    change of KNOWLEDGE_EMBEDDING_PROVIDER or model). Returns how many were queued."""
    model_id = embedder_get().model_id
    stale = Document.objects.exclude(embedding_model=model_id).exclude(
        status__in=[Document.Status.PENDING, Document.Status.EMBEDDING])
    count = 0
    with transaction.atomic():
        for document in stale.select_for_update():
            document_reembed(document=document)
            count += 1
    return count


@transaction.atomic
def document_reembed(*, document: Document) -> Document:
    """Embed the document again (a new version), e.g. after a failure."""
    Document.objects.filter(pk=document.pk).update(version=F("version") + 1, status=Document.Status.PENDING,
                                                   progress=0, chunks_done=0, error="")
    document.refresh_from_db(fields=["version", "status", "progress", "chunks_done", "error"])
    _enqueue_embed(document)
    return document
