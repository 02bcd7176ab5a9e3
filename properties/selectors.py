"""Reading the catalogue: the filtered unit list, and the assistant's hybrid search."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Abs
from pgvector.django import CosineDistance

from knowledge.embeddings import embed_query, embedder_get
from properties.models import Project, Unit
from properties.services import comuna_clean

RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al. 2009); damps the weight of the top ranks
CANDIDATES = 100  # per ranking; a brokerage's matching stock rarely exceeds it
MAX_TOP_K = 10


def project_list(*, search: str = "") -> QuerySet[Project]:
    projects = Project.objects.order_by("name")
    return projects.filter(name__icontains=search) if search else projects


def unit_list(*, filters: dict[str, Any]) -> QuerySet[Unit]:
    """The units matching the page's or the API's filters, newest first."""
    units = Unit.objects.select_related("project").order_by("-created_at", "-id")
    if filters.get("comuna"):
        units = units.filter(comuna__iexact=comuna_clean(filters["comuna"]))
    for name in ("property_type", "status", "project"):
        if filters.get(name) not in (None, ""):
            units = units.filter(**{name: filters[name]})
    if filters.get("bedrooms") is not None:
        units = units.filter(bedrooms=filters["bedrooms"])
    if filters.get("min_price_uf") is not None:
        units = units.filter(price_uf__gte=filters["min_price_uf"])
    if filters.get("max_price_uf") is not None:
        units = units.filter(price_uf__lte=filters["max_price_uf"])
    return units


@dataclass(frozen=True)
class UnitHit:
    unit: Unit
    score: float              # reciprocal-rank fusion of the two rankings
    structured_rank: int      # 1 = best fit to the filters (rooms, then price near the budget)
    vector_rank: int | None   # 1 = closest description to the query; None without a query or vector


def unit_search(*, comuna: str | None = None, property_type: str | None = None, bedrooms: int | None = None,
                max_price_uf: Decimal | float | None = None, query: str | None = None,
                top_k: int = 3) -> list[UnitHit]:
    """Available units only, matching the filters given, best first.

    Two rankings of the same candidates, fused by reciprocal rank (score = Σ 1 / (RRF_K + rank)):
    structured (exact bedrooms first, then fewer extra rooms, then the price closest under the
    budget, else the cheapest) and vector (cosine distance of the unit's text to `query`). Four
    statements whatever the stock: the structured ranking, `SET LOCAL hnsw.ef_search`, the vector
    ranking, and the units themselves.
    """
    top_k = max(1, min(top_k, MAX_TOP_K))
    units = Unit.objects.filter(status=Unit.Status.AVAILABLE)
    if comuna:
        units = units.filter(comuna__iexact=comuna_clean(comuna))
    if property_type:
        units = units.filter(property_type=property_type)
    if bedrooms is not None:
        units = units.filter(bedrooms__gte=bedrooms)
    if max_price_uf is not None:
        units = units.filter(price_uf__lte=max_price_uf)
    ordering: list[Any] = []
    if bedrooms is not None:
        ordering.append(F("bedrooms").asc())  # ≥ bedrooms: the fewest extra rooms first
    ordering.append(Abs(F("price_uf") - Value(Decimal(str(max_price_uf)))).asc() if max_price_uf is not None
                    else F("price_uf").asc())
    structured = list(units.order_by(*ordering, "id").values_list("id", flat=True)[:CANDIDATES])
    if not structured:
        return []
    vector_ranked: list[int] = []
    query = (query or "").strip()
    if query:
        vector = embed_query(query)
        nearest = (units.filter(embedding_model=embedder_get().model_id, embedding__isnull=False)
                   .annotate(distance=CosineDistance("embedding", vector)).order_by("distance")
                   .values_list("id", flat=True)[:CANDIDATES])
        # Filters apply after the HNSW scan (pgvector 0.6): scan enough candidates to keep CANDIDATES.
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.execute("SET LOCAL hnsw.ef_search = %s", [max(settings.KNOWLEDGE_HNSW_EF_SEARCH, 4 * CANDIDATES)])
            vector_ranked = list(nearest)
    s_rank = {unit_id: rank for rank, unit_id in enumerate(structured, start=1)}
    v_rank = {unit_id: rank for rank, unit_id in enumerate(vector_ranked, start=1)}

    def fused(unit_id: int) -> float:
        score = 1 / (RRF_K + s_rank[unit_id]) if unit_id in s_rank else 0.0
        return score + (1 / (RRF_K + v_rank[unit_id]) if unit_id in v_rank else 0.0)

    # A tie (one list's first is the other's second) goes to the closer description: the lead's own words.
    best = sorted(s_rank.keys() | v_rank.keys(),
                  key=lambda unit_id: (-fused(unit_id), v_rank.get(unit_id, CANDIDATES + 1), s_rank.get(unit_id)))
    best = best[:top_k]
    found = Unit.objects.filter(status=Unit.Status.AVAILABLE).select_related("project").in_bulk(best)
    return [UnitHit(unit=found[unit_id], score=fused(unit_id), structured_rank=s_rank.get(unit_id, 0),
                    vector_rank=v_rank.get(unit_id)) for unit_id in best if unit_id in found]
