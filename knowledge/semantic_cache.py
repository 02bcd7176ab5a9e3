"""The semantic cache: a general question close enough to one answered before gets that answer,
with no LLM call. It lives in the brokerage's schema, so a hit never crosses brokerages.

The orchestrator decides what is general (no personal data in the message or in the answer, no
booking); this module only stores, finds, expires and forgets.
"""

import re
import unicodedata
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Avg, F
from django.utils import timezone
from pgvector.django import CosineDistance

from knowledge.embeddings import embed_query, embedder_get
from knowledge.models import CacheCounter, CacheEntry

_PUNCTUATION = re.compile(r"[^\w\s]")


def normalise_question(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces: "¿Cuánto es el PIE?" → "cuanto es el pie"."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def cache_lookup(*, question: str, variant: str = "") -> str | None:
    """The cached answer of the closest live entry with the same variant, when its cosine similarity
    is at least KNOWLEDGE_CACHE_SIMILARITY; counts the hit or the miss."""
    normalised = normalise_question(question)
    if not normalised:
        return None
    entry = (
        CacheEntry.objects.filter(variant=variant, model=embedder_get().model_id, expires_at__gt=timezone.now())
        .annotate(distance=CosineDistance("embedding", embed_query(normalised)))
        .order_by("distance").only("id", "answer").first()
    )
    hit = entry is not None and 1 - entry.distance >= settings.KNOWLEDGE_CACHE_SIMILARITY
    _count(hit=hit)
    if not hit:
        return None
    CacheEntry.objects.filter(pk=entry.pk).update(hits=F("hits") + 1)
    return entry.answer


def cache_store(*, question: str, answer: str, variant: str = "") -> CacheEntry | None:
    normalised = normalise_question(question)
    if not normalised or not answer.strip():
        return None
    return CacheEntry.objects.create(
        question=normalised, variant=variant, embedding=embed_query(normalised), model=embedder_get().model_id,
        answer=answer, expires_at=timezone.now() + timedelta(seconds=settings.KNOWLEDGE_CACHE_TTL_SECONDS),
    )


def cache_invalidate() -> int:
    """Forget every cached answer of the brokerage (the knowledge base changed)."""
    deleted, _ = CacheEntry.objects.all().delete()
    return deleted


def cache_stats(*, days: int = 30) -> dict[str, int]:
    """Hits and misses over the last `days` days."""
    since = timezone.localdate() - timedelta(days=days - 1)
    rows = CacheCounter.objects.filter(day__gte=since).values_list("hits", "misses")
    return {"hits": sum(r[0] for r in rows), "misses": sum(r[1] for r in rows)}


def cache_savings(*, broker_id: int, days: int = 30) -> dict[str, Any]:
    """The last `days` days' hits and misses, the hit rate (0–1, None before any lookup) and the LLM
    cost the hits saved: each hit is a chat turn's call not made, valued at the average cost of the
    brokerage's answered chat `LLMCall`s."""
    from brokers.models import LLMCall

    stats = cache_stats(days=days)
    lookups = stats["hits"] + stats["misses"]
    average = LLMCall.objects.filter(broker_id=broker_id, call_type=LLMCall.CallType.CHAT, error="").aggregate(
        average=Avg("cost_usd"))["average"] or Decimal(0)
    saved_usd = (average * stats["hits"]).quantize(Decimal("0.0001"))
    return {**stats, "hit_rate": round(stats["hits"] / lookups, 4) if lookups else None,
            "average_call_usd": average.quantize(Decimal("0.00000001")), "saved_usd": saved_usd,
            "saved_clp": (saved_usd * Decimal(str(settings.LLM_USD_CLP))).quantize(Decimal(1))}


def _count(*, hit: bool) -> None:
    """One statement per turn: an upsert of today's row."""
    field = "hits" if hit else "misses"
    table = connection.ops.quote_name(CacheCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, hits, misses) VALUES (%s, %s, %s) "  # noqa: S608 (names are ours)
            f"ON CONFLICT (day) DO UPDATE SET {field} = {table}.{field} + 1",
            [timezone.localdate(), int(hit), int(not hit)],
        )
