"""Reading the knowledge base: documents, and vector search over their chunks."""

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, QuerySet
from pgvector.django import CosineDistance

from knowledge.embeddings import embed_query, embedder_get
from knowledge.models import Chunk, Document

MAX_TOP_K = 50


@dataclass(frozen=True)
class SearchHit:
    chunk_id: int
    document_id: int
    title: str
    source_type: str
    text: str
    similarity: float


def document_list(*, source_type: str = "", search: str = "", with_chunk_counts: bool = False) -> QuerySet[Document]:
    documents = Document.objects.order_by("-updated_at", "-id")
    if with_chunk_counts:
        documents = documents.annotate(chunk_count=Count("chunks"))
    if source_type:
        documents = documents.filter(source_type=source_type)
    if search:
        documents = documents.filter(title__icontains=search)
    return documents


def kb_search(*, query: str, top_k: int = 5, source_type: str = "", min_similarity: float | None = None,
              ef_search: int | None = None) -> list[SearchHit]:
    """The chunks closest to `query` (cosine), best first, from the HNSW index; only vectors of the
    embedder in use count. Filters apply after the index scan (pgvector 0.6 has no iterative scan),
    so `hnsw.ef_search` (candidates scanned) is raised to stay well above what is asked for."""
    query = query.strip()
    if not query:
        return []
    top_k = max(1, min(top_k, MAX_TOP_K))
    chunks = Chunk.objects.filter(model=embedder_get().model_id)
    if source_type:
        chunks = chunks.filter(document__source_type=source_type)
    if not chunks.exists():  # an empty knowledge base costs one query, not an embedding
        return []
    vector = embed_query(query)
    rows = (chunks.annotate(distance=CosineDistance("embedding", vector)).order_by("distance")
            .values("id", "document_id", "document__title", "document__source_type", "text", "distance")[:top_k])
    ef = ef_search or max(settings.KNOWLEDGE_HNSW_EF_SEARCH, top_k * (8 if source_type else 2))
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.ef_search = %s", [int(ef)])
        rows = list(rows)
    hits = [SearchHit(chunk_id=r["id"], document_id=r["document_id"], title=r["document__title"],
                      source_type=r["document__source_type"], text=r["text"], similarity=1 - r["distance"])
            for r in rows]
    if min_similarity is not None:
        hits = [hit for hit in hits if hit.similarity >= min_similarity]
    return hits
