import pytest

from conftest import host_of
from knowledge.models import Document
from knowledge.tests.conftest import document_add


@pytest.fixture
def admin(api_client, broker_a, admin_a):
    return api_client(host_of(broker_a), admin_a)


@pytest.fixture
def agent(api_client, broker_a, agent_a):
    return api_client(host_of(broker_a), agent_a)


@pytest.fixture
def documents(broker_a):
    with broker_a:
        return [document_add(title="Horario", body="Atendemos de lunes a viernes de 9:00 a 18:30."),
                document_add(title="Mascotas", body="Se permiten perros y gatos.", source_type="policy")]


@pytest.mark.django_db
def test_agents_read_and_search(agent, documents):
    listing = agent.get("/api/v1/kb/documents/")
    assert listing.status_code == 200
    assert listing.json()["count"] == 2
    detail = agent.get(f"/api/v1/kb/documents/{documents[0].id}/")
    assert detail.json()["status"] == "ready"
    search = agent.get("/api/v1/kb/search/", {"q": "¿A qué hora abren?", "top_k": 1})
    assert search.status_code == 200
    [hit] = search.json()["results"]
    assert hit["document_id"] == documents[0].id and hit["title"] == "Horario"
    filtered = agent.get("/api/v1/kb/search/", {"q": "¿A qué hora abren?", "source_type": "policy"})
    assert [h["document_id"] for h in filtered.json()["results"]] == [documents[1].id]
    assert agent.get("/api/v1/kb/cache-stats/").json() == {
        "hits": 0, "misses": 0, "hit_rate": None, "average_call_usd": "0.00000000", "saved_usd": "0.0000",
        "saved_clp": "0"}


@pytest.mark.django_db
def test_agents_cannot_write(agent, documents):
    assert agent.post("/api/v1/kb/documents/", {"title": "x", "body": "y"}, format="json").status_code == 403
    assert agent.patch(f"/api/v1/kb/documents/{documents[0].id}/", {"body": "y"}, format="json").status_code == 403
    assert agent.delete(f"/api/v1/kb/documents/{documents[0].id}/").status_code == 403
    assert agent.post("/api/v1/kb/reembed/").status_code == 403


@pytest.mark.django_db
def test_admins_write(admin, broker_a):
    created = admin.post("/api/v1/kb/documents/", {"title": "Pie", "body": "El pie es 10%.", "source_type": "faq"},
                         format="json")
    assert created.status_code == 201 and created.json()["status"] == "pending"
    document_id = created.json()["id"]
    updated = admin.patch(f"/api/v1/kb/documents/{document_id}/", {"body": "El pie es 20%."}, format="json")
    assert updated.json()["version"] == 2 and updated.json()["body"] == "El pie es 20%."
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = admin.post("/api/v1/kb/documents/upload/", {
        "file": SimpleUploadedFile("faq.csv", b"title,body\nHorario,De 9 a 18\n", "text/csv"),
        "source_type": "faq"}, format="multipart")
    assert upload.status_code == 201 and [d["title"] for d in upload.json()] == ["Horario"]
    bad = admin.post("/api/v1/kb/documents/upload/", {"file": SimpleUploadedFile("a.exe", b"MZ")}, format="multipart")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unsupported_file"
    assert admin.delete(f"/api/v1/kb/documents/{document_id}/").status_code == 204
    with broker_a:
        assert list(Document.objects.values_list("title", flat=True)) == ["Horario"]


@pytest.mark.django_db
def test_search_needs_a_query(agent):
    response = agent.get("/api/v1/kb/search/")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"


@pytest.mark.django_db
def test_no_access_across_brokerages(api_client, broker_a, broker_b, admin_b, documents):
    foreign = api_client(host_of(broker_a), admin_b)  # B's admin on A's host
    assert foreign.get("/api/v1/kb/documents/").status_code in (401, 403)
    assert foreign.get("/api/v1/kb/search/", {"q": "horario"}).status_code in (401, 403)
    assert foreign.post("/api/v1/kb/documents/", {"title": "x", "body": "y"}, format="json").status_code in (401, 403)
    own = api_client(host_of(broker_b), admin_b)  # B's own host: A's documents do not exist there
    assert own.get(f"/api/v1/kb/documents/{documents[0].id}/").status_code == 404
    assert own.get("/api/v1/kb/search/", {"q": "horario"}).json()["results"] == []
    assert own.get("/api/v1/kb/documents/").json()["count"] == 0
