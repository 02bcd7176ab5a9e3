from datetime import timedelta

import pytest
from django.utils import timezone

from knowledge import services
from knowledge.embeddings import embed_query
from knowledge.models import CacheEntry
from knowledge.semantic_cache import cache_lookup, cache_stats, cache_store, normalise_question
from knowledge.tests.conftest import document_add

QUESTION = "¿Cuál es el horario de atención de la oficina?"
ANSWER = "Atendemos de lunes a viernes de 9:00 a 18:30."


def test_questions_are_normalised():
    assert normalise_question("  ¿Cuánto es el PIE mínimo?? ") == "cuanto es el pie minimo"


@pytest.mark.django_db
def test_a_hit_at_or_above_the_threshold_and_a_miss_below(broker_a, settings):
    with broker_a:
        cache_store(question=QUESTION, answer=ANSWER)
        assert cache_lookup(question="¿cual es el horario de atencion de la oficina") == ANSWER  # same, normalised
        paraphrase = "¿A qué hora atienden en la oficina?"
        similarity = float(sum(a * b for a, b in zip(embed_query(normalise_question(QUESTION)),
                                                     embed_query(normalise_question(paraphrase)), strict=True)))
        settings.KNOWLEDGE_CACHE_SIMILARITY = similarity - 0.01
        assert cache_lookup(question=paraphrase) == ANSWER
        settings.KNOWLEDGE_CACHE_SIMILARITY = similarity + 0.01
        assert cache_lookup(question=paraphrase) is None
        settings.KNOWLEDGE_CACHE_SIMILARITY = 0.92
        assert cache_lookup(question="¿Aceptan mascotas en los edificios?") is None
        assert CacheEntry.objects.get().hits == 2
        assert cache_stats() == {"hits": 2, "misses": 2}


@pytest.mark.django_db
def test_an_expired_entry_or_another_variant_is_a_miss(broker_a):
    with broker_a:
        entry = cache_store(question=QUESTION, answer=ANSWER, variant="0||location,budget")
        assert cache_lookup(question=QUESTION, variant="0||name,location") is None
        assert cache_lookup(question=QUESTION, variant="0||location,budget") == ANSWER
        CacheEntry.objects.filter(pk=entry.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        assert cache_lookup(question=QUESTION, variant="0||location,budget") is None


@pytest.mark.django_db
def test_no_hit_crosses_brokerages(broker_a, broker_b):
    with broker_a:
        cache_store(question=QUESTION, answer=ANSWER)
    with broker_b:
        assert cache_lookup(question=QUESTION) is None
        assert cache_stats() == {"hits": 0, "misses": 1}
    with broker_a:
        assert cache_lookup(question=QUESTION) == ANSWER


@pytest.mark.django_db
def test_every_knowledge_base_change_empties_the_cache(broker_a):
    with broker_a:
        document = document_add(title="Horario", body="De 9 a 18.")
        cache_store(question=QUESTION, answer=ANSWER)
        services.document_update(document=document, data={"body": "De 10 a 19."})
        assert cache_lookup(question=QUESTION) is None
        cache_store(question=QUESTION, answer=ANSWER)
        services.document_embed(document_id=document.id, version=document.version)  # the re-embed lands
        assert cache_lookup(question=QUESTION) is None
        cache_store(question=QUESTION, answer=ANSWER)
        services.document_create(title="Mascotas", body="Se aceptan.")
        assert not CacheEntry.objects.exists()
        cache_store(question=QUESTION, answer=ANSWER)
        services.document_delete(document=document)
        assert not CacheEntry.objects.exists()


@pytest.mark.django_db
def test_savings_are_hits_times_the_brokerages_average_chat_call(api_client, broker_a, broker_b, agent_a, admin_b,
                                                                  settings):
    from decimal import Decimal

    from brokers.models import LLMCall
    from conftest import host_of

    settings.LLM_USD_CLP = 1000
    for cost in ("0.002", "0.004"):
        LLMCall.objects.create(broker=broker_a, provider="openai", model="gpt-4o-mini", call_type="chat",
                               cost_usd=Decimal(cost))
    LLMCall.objects.create(broker=broker_a, provider="openai", model="gpt-4o-mini", call_type="chat", error="boom")
    LLMCall.objects.create(broker=broker_a, provider="openai", model="text-embedding-3-small",
                           call_type="embedding", cost_usd=Decimal("1"))
    LLMCall.objects.create(broker=broker_b, provider="openai", model="gpt-4o", call_type="chat", cost_usd=Decimal("9"))
    with broker_a:
        cache_store(question=QUESTION, answer=ANSWER)
        for _ in range(3):
            cache_lookup(question=QUESTION)
        cache_lookup(question="¿Aceptan mascotas en los edificios?")
    stats = api_client(host_of(broker_a), agent_a).get("/api/v1/kb/cache-stats/").json()
    assert stats == {"hits": 3, "misses": 1, "hit_rate": 0.75, "average_call_usd": "0.00300000",
                     "saved_usd": "0.0090", "saved_clp": "9"}
    other = api_client(host_of(broker_b), admin_b).get("/api/v1/kb/cache-stats/").json()
    assert (other["hits"], other["saved_usd"]) == (0, "0.0000")
    assert api_client(host_of(broker_a), admin_b).get("/api/v1/kb/cache-stats/").status_code in (401, 403)
