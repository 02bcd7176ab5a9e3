"""The knowledge-base page: ADMINs write, AGENTs read, nobody crosses brokerages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from brokers.models import LLMCall
from conftest import host_of
from knowledge.models import Document
from knowledge.semantic_cache import cache_lookup, cache_store
from knowledge.tests.conftest import document_add
from knowledge.tests.pdfs import pdf_bytes

URL = "/conocimiento/"


@pytest.fixture
def admin(page_client, broker_a, admin_a):
    return page_client(host_of(broker_a), admin_a)


@pytest.fixture
def agent(page_client, broker_a, agent_a):
    return page_client(host_of(broker_a), agent_a)


@pytest.fixture
def documents(broker_a):
    with broker_a:
        return [document_add(title="Horario de atención", body="Atendemos de lunes a viernes de 9:00 a 18:30."),
                document_add(title="Mascotas", body="Se permiten perros y gatos en los edificios.",
                             source_type="policy")]


@pytest.mark.django_db
def test_an_empty_knowledge_base_invites_the_admin_to_add(admin):
    page = admin.get(URL).content.decode()
    assert "La base de conocimiento está vacía" in page and 'href="/conocimiento/nuevo/"' in page
    assert 'href="/conocimiento/" aria-current="page"' in page


@pytest.mark.django_db
def test_the_list_filters_by_type_and_the_search_shows_passages_with_scores(agent, documents):
    page = agent.get(URL).content.decode()
    assert "Horario de atención" in page and "Mascotas" in page and "Listo" in page
    policies = agent.get(URL, {"type": "policy"}).content.decode()
    assert "Mascotas" in policies and "Horario de atención" not in policies
    found = agent.get(URL, {"q": "¿aceptan perros?"})
    hits = found.context["hits"]
    assert hits[0].document_id == documents[1].id
    assert "Se permiten perros y gatos" in found.content.decode()
    assert f"{hits[0].similarity:.2f}".replace(".", ",") in found.content.decode()


@pytest.mark.django_db
def test_agents_read_without_write_buttons_and_get_403_on_writes(agent, broker_a, documents):
    page = agent.get(URL).content.decode()
    assert "Nuevo documento" not in page and "Eliminar" not in page and "Subir un archivo" not in page
    detail = agent.get(f"{URL}{documents[0].id}/").content.decode()
    assert "Atendemos de lunes a viernes" in detail and "Guardar" not in detail
    assert agent.get(f"{URL}nuevo/").status_code == 403
    assert agent.post(f"{URL}nuevo/", {"title": "x", "source_type": "faq", "body": "y"}).status_code == 403
    assert agent.post(f"{URL}{documents[0].id}/", {"title": "x", "source_type": "faq", "body": "y"}).status_code == 403
    assert agent.post(f"{URL}{documents[0].id}/eliminar/").status_code == 403
    assert agent.post(f"{URL}subir/", {"file": SimpleUploadedFile("a.txt", b"Hola")}).status_code == 403
    with broker_a:
        assert [(d.title, d.body) for d in Document.objects.order_by("id")] == [
            (d.title, d.body) for d in documents]


@pytest.mark.django_db
def test_admins_create_edit_and_delete(admin, broker_a, documents):
    created = admin.post(f"{URL}nuevo/", {"title": "Pie", "source_type": "faq", "body": "El pie es 10%."})
    assert created.status_code == 302
    with broker_a:
        document = Document.objects.get(title="Pie")
    assert document.status == "pending"
    page = admin.get(URL).content.decode()
    assert "En cola" in page and '<progress max="100" value="0"' in page
    invalid = admin.post(f"{URL}{document.id}/", {"title": "", "source_type": "faq", "body": "El pie es 20%."})
    assert invalid.status_code == 200 and invalid.context["form"].errors["title"]
    assert admin.post(f"{URL}{document.id}/", {"title": "Pie", "source_type": "faq",
                                               "body": "El pie es 20%."}).status_code == 302
    assert 'data-confirm="¿Eliminar «Pie»?' in admin.get(URL).content.decode()
    assert admin.post(f"{URL}{document.id}/eliminar/").status_code == 302
    with broker_a:
        assert set(Document.objects.values_list("title", flat=True)) == {"Horario de atención", "Mascotas"}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content", "message"), [
    ("programa.exe", b"MZ", "Sube un archivo .txt, .md, .pdf o .csv."),
    ("grande.txt", b"a" * 2048, "El archivo es demasiado grande (máximo 1,0"),
    ("escaneo.pdf", pdf_bytes([]), "El PDF no tiene texto"),
])
def test_upload_errors_show_on_the_form(admin, broker_a, settings, name, content, message):
    settings.KNOWLEDGE_UPLOAD_MAX_BYTES = 1024
    response = admin.post(f"{URL}subir/", {"file": SimpleUploadedFile(name, content), "source_type": "faq"})
    assert response.status_code == 400
    assert message in response.context["upload_form"].errors["file"][0]
    assert message in response.content.decode()
    with broker_a:
        assert not Document.objects.exists()


@pytest.mark.django_db
def test_a_pdf_upload_from_the_page(admin, broker_a):
    content = pdf_bytes(["Requisitos de arriendo", "Liquidaciones de sueldo de los últimos tres meses."])
    response = admin.post(f"{URL}subir/", {"file": SimpleUploadedFile("arriendo.pdf", content, "application/pdf"),
                                           "source_type": "policy"})
    assert response.status_code == 302
    with broker_a:
        document = Document.objects.get()
    assert (document.title, document.source_type) == ("Requisitos de arriendo", "policy")
    assert "Liquidaciones de sueldo" in document.body


@pytest.mark.django_db
def test_the_page_shows_cache_hits_and_the_cost_they_saved(agent, broker_a, settings):
    settings.LLM_USD_CLP = 1000
    LLMCall.objects.create(broker=broker_a, provider="openai", model="gpt-4o-mini", call_type="chat",
                           cost_usd="0.5")
    with broker_a:
        cache_store(question="¿Cuál es el horario?", answer="De 9 a 18.")
        cache_lookup(question="¿Cuál es el horario?")
        cache_lookup(question="¿Aceptan mascotas?")
    page = agent.get(URL).content.decode()
    assert '<span class="stat-value" data-stat="hit-rate">50 %</span>' in page
    assert '<span class="stat-value" data-stat="saved">$500</span>' in page and "US$0,50" in page


@pytest.mark.django_db
def test_progress_json(agent, documents, broker_a):
    with broker_a:
        Document.objects.filter(pk=documents[0].pk).update(status="embedding", progress=40, chunks_done=2,
                                                           chunks_total=5)
    body = agent.get(f"{URL}progreso/", {"ids": f"{documents[0].id},{documents[1].id},x"}).json()
    rows = {row["id"]: row for row in body["documents"]}
    assert rows[documents[0].id] == {"id": documents[0].id, "status": "embedding", "progress": 40, "chunks_done": 2,
                                     "chunks_total": 5, "status_label": "Procesando"}
    assert rows[documents[1].id]["status"] == "ready"


@pytest.mark.django_db
def test_no_page_crosses_brokerages(page_client, broker_a, broker_b, admin_b, documents):
    foreign = page_client(host_of(broker_a), admin_b)  # B's admin on A's host: not logged in there
    assert foreign.get(URL).status_code == 302
    assert foreign.post(f"{URL}{documents[0].id}/eliminar/").status_code == 302
    own = page_client(host_of(broker_b), admin_b)  # on B's host, A's documents do not exist
    page = own.get(URL).content.decode()
    assert "Horario de atención" not in page and "La base de conocimiento está vacía" in page
    assert own.get(f"{URL}{documents[0].id}/").status_code == 404
    assert own.post(f"{URL}{documents[0].id}/eliminar/").status_code == 404
    assert own.get(f"{URL}progreso/", {"ids": str(documents[0].id)}).json() == {"documents": []}
    assert own.get(URL, {"q": "horario"}).context["hits"] == []
    with broker_a:
        assert Document.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_document_is_processed_again(admin, agent, broker_a, documents, eager_tasks,
                                               django_capture_on_commit_callbacks):
    with broker_a:
        Document.objects.filter(pk=documents[0].pk).update(status="failed", error="openai HTTP 503")
    assert "openai HTTP 503" in admin.get(URL).content.decode()
    assert agent.post(f"{URL}{documents[0].id}/reprocesar/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(f"{URL}{documents[0].id}/reprocesar/").status_code == 302
    with broker_a:
        document = Document.objects.get(pk=documents[0].pk)
    assert (document.status, document.error, document.version) == ("ready", "", documents[0].version + 1)


@pytest.mark.django_db
def test_the_list_is_paginated_newest_first(agent, documents, monkeypatch):
    monkeypatch.setattr("knowledge.views.PAGE_SIZE", 1)
    first = agent.get(URL)
    assert [d.title for d in first.context["page"]] == ["Mascotas"]
    assert "Página 1 de 2" in first.content.decode() and "?page=2" in first.content.decode()
    assert [d.title for d in agent.get(URL, {"page": 2}).context["page"]] == ["Horario de atención"]
