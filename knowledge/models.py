"""The brokerage's knowledge base (documents split into embedded chunks) and its semantic cache.

All of it lives in the brokerage's schema, so search and cache hits never cross brokerages.
The `vector` type and its operator classes live in `public` (migration 0001), which is on every
brokerage's search_path.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from pgvector.django import HnswIndex, VectorField

from crm.models import TimeStampedModel
from knowledge.embeddings import EMBEDDING_DIMENSIONS


class Document(TimeStampedModel):
    """A text the assistant may answer from. Every change bumps `version` and re-embeds in a task;
    `status`/`progress` show how far that task got."""

    class SourceType(models.TextChoices):
        FAQ = "faq", _("Pregunta frecuente")
        POLICY = "policy", _("Política")
        SUBSIDY = "subsidy", _("Subsidio")
        PROJECT = "project", _("Proyecto")
        PROPERTY = "property", _("Propiedad")
        CUSTOM = "custom", _("Otro")

    class Status(models.TextChoices):
        PENDING = "pending", _("En cola")
        EMBEDDING = "embedding", _("Procesando")
        READY = "ready", _("Listo")
        FAILED = "failed", _("Falló")

    title = models.CharField(_("título"), max_length=200)
    source_type = models.CharField(_("tipo"), max_length=16, choices=SourceType.choices, default=SourceType.FAQ,
                                   db_index=True)
    body = models.TextField(_("contenido"))
    metadata = models.JSONField(_("metadatos"), default=dict, blank=True)
    status = models.CharField(_("estado"), max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("avance (%)"), default=0)
    chunks_done = models.PositiveIntegerField(_("fragmentos listos"), default=0)
    chunks_total = models.PositiveIntegerField(_("fragmentos"), default=0)
    version = models.PositiveIntegerField(default=1)
    embedding_model = models.CharField(_("modelo de embeddings"), max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("documento")
        verbose_name_plural = _("documentos")
        constraints = [models.CheckConstraint(condition=models.Q(progress__lte=100), name="document_progress_max_100")]

    def __str__(self) -> str:
        return self.title


class Chunk(models.Model):
    """A piece of a document with its vector. `model` is the embedder that made the vector."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    model = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "ordinal"], name="chunk_unique_ordinal")]
        indexes = [
            HnswIndex(name="chunk_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["vector_cosine_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal}"


class CacheEntry(models.Model):
    """A general answer, keyed on the normalised question's vector. `variant` is what else the reply
    depended on (the follow-up the assistant asks), so a hit fits the lead it is served to."""

    question = models.TextField()
    variant = models.CharField(max_length=200, blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    model = models.CharField(max_length=100)
    answer = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    hits = models.PositiveIntegerField(default=0)
    # No vector index: entries are few (every knowledge-base change empties the cache) and an exact
    # scan cannot miss the nearest entry of the right variant, as a filtered HNSW scan can.

    def __str__(self) -> str:
        return self.question


class CacheCounter(models.Model):
    """Semantic-cache hits and misses per day (the brokerage's own schema)."""

    day = models.DateField(unique=True)
    hits = models.PositiveIntegerField(default=0)
    misses = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.hits} hits, {self.misses} misses"
