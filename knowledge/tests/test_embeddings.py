"""The network embedders through the real SDKs, against wire-format stubs on 127.0.0.1."""

import numpy as np
import pytest

from crm.tests.stubs import GeminiStub, OpenAIStub
from knowledge import services
from knowledge.embeddings import EMBEDDING_DIMENSIONS, EmbeddingError, embedder_get
from knowledge.models import Document
from knowledge.selectors import kb_search


@pytest.fixture
def openai_embeddings(settings):
    with OpenAIStub() as stub:
        settings.KNOWLEDGE_EMBEDDING_PROVIDER = "openai"
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "sk-test", stub.base_url
        yield stub


@pytest.fixture
def gemini_embeddings(settings):
    with GeminiStub() as stub:
        settings.KNOWLEDGE_EMBEDDING_PROVIDER = "gemini"
        settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL = "gm-test", stub.base_url
        yield stub


def _unit_vectors(vectors):
    array = np.asarray(vectors)
    return array.shape[1] == EMBEDDING_DIMENSIONS and np.allclose(np.linalg.norm(array, axis=1), 1, atol=1e-5)


def test_openai_embeddings(openai_embeddings):
    embedder = embedder_get()
    vectors = embedder.embed(["Horario de atención", "Subsidio DS1"])
    assert embedder.model_id == "openai/text-embedding-3-small/512"
    assert len(vectors) == 2 and _unit_vectors(vectors)
    request = openai_embeddings.requests[-1]
    assert request.path == "/v1/embeddings"
    assert request.json["model"] == "text-embedding-3-small"
    assert request.json["dimensions"] == EMBEDDING_DIMENSIONS
    assert request.headers["authorization"] == "Bearer sk-test"


def test_gemini_embeddings(gemini_embeddings):
    embedder = embedder_get()
    vectors = embedder.embed(["Horario de atención", "Subsidio DS1"])
    assert embedder.model_id == "gemini/text-embedding-004/512"
    assert len(vectors) == 2 and _unit_vectors(vectors)  # normalised here: Gemini's cut vectors are not
    request = gemini_embeddings.requests[-1]
    assert request.path.endswith("/models/text-embedding-004:batchEmbedContents")
    assert [r["outputDimensionality"] for r in request.json["requests"]] == [EMBEDDING_DIMENSIONS] * 2
    assert request.headers["x-goog-api-key"] == "gm-test"


@pytest.mark.parametrize("stub", ["openai_embeddings", "gemini_embeddings"])
def test_a_provider_error_is_an_embedding_error(request, stub):
    request.getfixturevalue(stub).fail(500)
    with pytest.raises(EmbeddingError):
        embedder_get().embed(["hola"])


@pytest.mark.django_db
@pytest.mark.parametrize("stub", ["openai_embeddings", "gemini_embeddings"])
def test_documents_embedded_and_searched_through_a_provider(request, stub, broker_a):
    request.getfixturevalue(stub)
    with broker_a:
        wanted = services.document_create(title="Mascotas", body="Se permiten perros y gatos en los edificios.")
        other = services.document_create(title="Pie", body="El pie mínimo es el diez por ciento.")
        for document in (wanted, other):
            services.document_embed(document_id=document.id, version=document.version)
        hits = kb_search(query="¿se permiten perros?", top_k=2)
        assert Document.objects.get(pk=wanted.pk).embedding_model == embedder_get().model_id
    assert [hit.document_id for hit in hits] == [wanted.id, other.id]


@pytest.mark.django_db
def test_a_failed_embedding_marks_the_document(openai_embeddings, broker_a):
    openai_embeddings.fail(503)
    with broker_a:
        document = services.document_create(title="Horario", body="De 9 a 18.")
        with pytest.raises(EmbeddingError):
            services.document_embed(document_id=document.id, version=document.version)
        document.refresh_from_db()
    assert (document.status, document.error) == ("failed", "openai HTTP 503")


@pytest.mark.django_db
def test_every_network_embedding_call_is_a_cost_record(openai_embeddings, broker_a, broker_b):
    from decimal import Decimal

    from brokers.models import LLMCall
    from crm.tests.stubs import Reply

    openai_embeddings.reply = Reply(input_tokens=5000)
    with broker_a:
        embedder_get().embed(["Horario de atención", "Subsidio DS1"])
    openai_embeddings.fail(503)
    with broker_a, pytest.raises(EmbeddingError):
        embedder_get().embed(["hola"])
    ok, failed = LLMCall.objects.filter(call_type="embedding").order_by("id")
    assert (ok.broker, ok.provider, ok.model, ok.input_tokens, ok.error) == (
        broker_a, "openai", "text-embedding-3-small", 5000, "")
    assert ok.cost_usd == Decimal("0.0001")  # 5000 tokens at USD 0.02 per million
    assert (failed.broker, failed.input_tokens, failed.error) == (broker_a, 0, "openai HTTP 503")
    assert not LLMCall.objects.filter(broker=broker_b).exists()


@pytest.mark.django_db
def test_gemini_embedding_calls_are_recorded(gemini_embeddings, broker_a):
    from brokers.models import LLMCall

    with broker_a:
        embedder_get().embed(["Horario de atención"])
    call = LLMCall.objects.get(call_type="embedding")
    assert (call.broker, call.provider, call.model, call.error) == (broker_a, "gemini", "text-embedding-004", "")
