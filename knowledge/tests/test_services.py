import pytest

from crm.errors import ApplicationError
from knowledge import services
from knowledge.models import Chunk, Document


@pytest.mark.django_db
def test_a_created_document_is_embedded_by_its_task_on_commit(broker_a, eager_tasks, settings,
                                                              django_capture_on_commit_callbacks):
    settings.KNOWLEDGE_CHUNK_CHARS, settings.KNOWLEDGE_CHUNK_OVERLAP_CHARS, settings.KNOWLEDGE_EMBED_BATCH = 200, 40, 2
    body = " ".join(f"El proyecto {n} está en la comuna de Ñuñoa y tiene departamentos de dos dormitorios."
                    for n in range(20))
    with broker_a:
        with django_capture_on_commit_callbacks(execute=True):
            document = services.document_create(title="Proyectos", body=body, source_type="project")
        document.refresh_from_db()
        chunks = list(document.chunks.order_by("ordinal"))
    assert (document.status, document.progress, document.embedding_model) == ("ready", 100, "use-multilingual-v3")
    assert len(chunks) > 4
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert all(len(c.text) <= 200 and c.model == "use-multilingual-v3" for c in chunks)


@pytest.mark.django_db
def test_an_edit_re_embeds_and_an_outdated_task_does_nothing(broker_a):
    with broker_a:
        document = services.document_create(title="Horario", body="Atendemos de 9 a 18.")
        old_version = document.version
        document = services.document_update(document=document, data={"body": "Atendemos de 10 a 19."})
        assert document.version == old_version + 1 and document.status == "pending"
        services.document_embed(document_id=document.id, version=old_version)  # the stale task
        assert not Chunk.objects.exists()
        services.document_embed(document_id=document.id, version=document.version)
        assert list(Chunk.objects.values_list("text", flat=True)) == ["Atendemos de 10 a 19."]
        unchanged = services.document_update(document=document, data={"body": "Atendemos de 10 a 19."})
        assert unchanged.version == document.version


@pytest.mark.django_db
def test_a_change_of_model_queues_a_re_embed(broker_a, eager_tasks, django_capture_on_commit_callbacks):
    with broker_a:
        document = services.document_create(title="Horario", body="Atendemos de 9 a 18.")
        services.document_embed(document_id=document.id, version=document.version)
        assert services.kb_reembed_stale() == 0
        Document.objects.update(embedding_model="old-model")
        Chunk.objects.update(model="old-model")
        with django_capture_on_commit_callbacks(execute=True):
            assert services.kb_reembed_stale() == 1
        document.refresh_from_db()
        assert (document.status, document.embedding_model) == ("ready", "use-multilingual-v3")
        assert set(Chunk.objects.values_list("model", flat=True)) == {"use-multilingual-v3"}


@pytest.mark.django_db
def test_uploads_of_markdown_and_csv(broker_a):
    with broker_a:
        [markdown] = services.document_upload(filename="faq.md", content=b"# Horario\n\nDe 9 a 18.")
        rows = services.document_upload(
            filename="faq.csv", source_type="subsidy",
            content="pregunta,respuesta\n¿Qué es el DS1?,Un subsidio para sectores medios.\n,\n"
                    "¿Y el DS19?,\"Integración social, en el precio.\"\n".encode(),
        )
    assert (markdown.title, markdown.body) == ("Horario", "# Horario\n\nDe 9 a 18.")
    assert [(d.title, d.body, d.source_type) for d in rows] == [
        ("¿Qué es el DS1?", "Un subsidio para sectores medios.", "subsidy"),
        ("¿Y el DS19?", "Integración social, en el precio.", "subsidy"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("filename", "content", "code"), [
    ("faq.pdf", b"%PDF", "invalid_pdf"),
    ("faq.docx", b"PK", "unsupported_file"),
    ("faq.csv", b"a,b\n1,2\n", "invalid_csv"),
    ("faq.txt", "\xff".encode("latin-1"), "invalid_encoding"),
    ("faq.txt", b"  \n ", "empty_file"),
])
def test_bad_uploads_are_refused(broker_a, filename, content, code):
    with broker_a, pytest.raises(ApplicationError) as error:
        services.document_upload(filename=filename, content=content)
    assert error.value.code == code
