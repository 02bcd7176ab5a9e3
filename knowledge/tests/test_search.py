"""Search over the fixed Spanish FAQ set with the offline model (the default embedder)."""

import pytest

from knowledge.models import Chunk, Document
from knowledge.selectors import kb_search
from knowledge.tests.conftest import document_add, faq_load
from knowledge.tests.spanish_faq import QUESTIONS


@pytest.fixture
def faq(broker_a):
    with broker_a:
        yield faq_load()


@pytest.mark.django_db
def test_ranking_on_the_spanish_faq_set(faq, broker_a):
    with broker_a:
        ranks = []
        for question, key in QUESTIONS:
            ids = [hit.document_id for hit in kb_search(query=question, top_k=5)]
            ranks.append(ids.index(faq[key].id) + 1 if faq[key].id in ids else None)
    at_1 = sum(rank == 1 for rank in ranks) / len(ranks)
    at_5 = sum(rank is not None for rank in ranks) / len(ranks)
    # measured 0.80 / 0.90 (docs/architecture.md); the floor leaves room for a changed wording
    assert at_1 >= 0.7, ranks
    assert at_5 >= 0.85, ranks


@pytest.mark.django_db
@pytest.mark.parametrize(("question", "key"), [
    ("¿A qué hora abren el sábado?", "horario"),
    ("¿Puedo vivir con mi perro?", "mascotas"),
    ("¿Cuánto es el pie mínimo?", "pie"),
])
def test_clear_questions_find_their_passage_first(faq, broker_a, question, key):
    with broker_a:
        best = kb_search(query=question, top_k=3)[0]
    assert best.document_id == faq[key].id
    assert best.text == faq[key].body
    assert 0 < best.similarity <= 1


@pytest.mark.django_db
def test_results_are_best_first_and_filtered(faq, broker_a):
    with broker_a:
        policy = document_add(title="Política de mascotas", body="Se aceptan perros y gatos pequeños.",
                              source_type=Document.SourceType.POLICY)
        hits = kb_search(query="¿Aceptan mascotas?", top_k=10)
        only_policies = kb_search(query="¿Aceptan mascotas?", top_k=10, source_type="policy")
        floor = kb_search(query="¿Aceptan mascotas?", top_k=10, min_similarity=0.99)
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
    assert [h.document_id for h in only_policies] == [policy.id]
    assert floor == []


@pytest.mark.django_db
def test_vectors_of_another_model_are_not_compared(faq, broker_a):
    with broker_a:
        Chunk.objects.update(model="another-model")
        assert kb_search(query="¿Atienden los domingos?") == []
