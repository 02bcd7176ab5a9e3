"""Uploads (text, Markdown, CSV, PDF) through the service and the API, with their validation."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import host_of
from crm.errors import ApplicationError
from knowledge import services
from knowledge.models import Chunk, Document
from knowledge.selectors import kb_search
from knowledge.tests.pdfs import pdf_bytes


@pytest.mark.django_db
def test_a_pdf_is_extracted_chunked_and_searchable(broker_a):
    content = pdf_bytes(["Subsidio DS1 para sectores medios", "El ahorro mínimo es de 80 UF."],
                        ["La postulación se hace en el Serviu de tu región."])
    with broker_a:
        [document] = services.document_upload(filename="Subsidio.PDF", content=content, source_type="subsidy")
        services.document_embed(document_id=document.id, version=document.version)
        document.refresh_from_db()
        text = " ".join(Chunk.objects.filter(document=document).values_list("text", flat=True))
        hits = kb_search(query="¿Dónde se postula al subsidio?", top_k=1)
    assert document.title == "Subsidio DS1 para sectores medios"
    assert (document.status, document.chunks_done, document.chunks_total) == ("ready", 1, 1)
    assert "El ahorro mínimo es de 80 UF." in text and "Serviu de tu región" in text
    assert hits[0].document_id == document.id


@pytest.mark.django_db
@pytest.mark.parametrize(("filename", "content", "code"), [
    ("scan.pdf", pdf_bytes([]), "empty_file"),
    ("huge.txt", b"a" * 2048, "file_too_large"),
])
def test_bad_uploads_are_refused(broker_a, settings, filename, content, code):
    settings.KNOWLEDGE_UPLOAD_MAX_BYTES = 1024
    with broker_a, pytest.raises(ApplicationError) as refused:
        services.document_upload(filename=filename, content=content)
    assert refused.value.code == code
    with broker_a:
        assert not Document.objects.exists()


@pytest.mark.django_db
def test_the_api_takes_a_pdf_and_explains_a_refusal(api_client, broker_a, broker_b, admin_a):
    admin = api_client(host_of(broker_a), admin_a)
    created = admin.post("/api/v1/kb/documents/upload/", {
        "file": SimpleUploadedFile("horario.pdf", pdf_bytes(["Horario", "De lunes a viernes de 9 a 18."]),
                                   "application/pdf"), "source_type": "faq"}, format="multipart")
    assert created.status_code == 201
    assert [(d["title"], d["body"]) for d in created.json()] == [("Horario", "Horario\nDe lunes a viernes de 9 a 18.")]
    empty = admin.post("/api/v1/kb/documents/upload/", {"file": SimpleUploadedFile("scan.pdf", pdf_bytes([]))},
                       format="multipart")
    assert empty.status_code == 400
    assert empty.json()["error"]["code"] == "empty_file" and "PDF" in empty.json()["error"]["message"]
    with broker_b:
        assert not Document.objects.exists()
