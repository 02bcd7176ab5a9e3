"""The knowledge-base pages (`/conocimiento/...`): everyone in the brokerage reads and searches,
its ADMINs write (add, edit, upload, delete)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from brokers.views import admin_required, broker_required
from crm.errors import ApplicationError
from knowledge import selectors, services
from knowledge.forms import DocumentForm, UploadForm
from knowledge.models import Document
from knowledge.semantic_cache import cache_savings

PAGE_SIZE = 20
SEARCH_TOP_K = 5


def _list_context(request, upload_form: UploadForm | None = None) -> dict:
    source_type = request.GET.get("type", "")
    if source_type not in Document.SourceType.values:
        source_type = ""
    query = request.GET.get("q", "").strip()[:500]
    documents = selectors.document_list(source_type=source_type, with_chunk_counts=True)
    return {
        "page": Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page")),
        "source_types": Document.SourceType.choices, "source_type": source_type, "query": query,
        "hits": selectors.kb_search(query=query, top_k=SEARCH_TOP_K, source_type=source_type) if query else None,
        "cache": cache_savings(broker_id=request.tenant.id),
        "upload_form": (upload_form or UploadForm()) if request.user.is_broker_admin else None,
        "max_upload": settings.KNOWLEDGE_UPLOAD_MAX_BYTES,
    }


@broker_required
def knowledge_list(request):
    return render(request, "knowledge/list.html", _list_context(request))


@require_POST
@admin_required
def knowledge_upload(request):
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.upload_check(filename=upload.name, size=upload.size)  # before reading it into memory
            documents = services.document_upload(filename=upload.name, content=upload.read(),
                                                 source_type=form.cleaned_data["source_type"])
        except ApplicationError as error:
            form.add_error("file", error.message)
        else:
            messages.success(request, _("Se agregaron %(n)s documentos; se están procesando.") % {"n": len(documents)})
            return redirect("knowledge_list")
    return render(request, "knowledge/list.html", _list_context(request, upload_form=form), status=400)


@broker_required
def knowledge_document(request, document_id: int | None = None):
    """A document's form: new (no id) or an existing one. AGENTs see it read-only."""
    document = get_object_or_404(Document, pk=document_id) if document_id else None
    if (request.method == "POST" or document is None) and not request.user.is_broker_admin:
        raise PermissionDenied
    initial = {"title": document.title, "source_type": document.source_type, "body": document.body} if document else {}
    form = DocumentForm(request.POST or None, initial=initial)
    if not request.user.is_broker_admin:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            if document:
                services.document_update(document=document, data=form.cleaned_data)
            else:
                document = services.document_create(**form.cleaned_data)
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            messages.success(request, _("Documento guardado; se está procesando para la búsqueda."))
            return redirect("knowledge_list")
    return render(request, "knowledge/document.html", {"document": document, "form": form})


@require_POST
@admin_required
def knowledge_delete(request, document_id: int):
    document = get_object_or_404(Document, pk=document_id)
    services.document_delete(document=document)
    messages.success(request, _("Documento «%(title)s» eliminado.") % {"title": document.title})
    return redirect("knowledge_list")


@require_POST
@admin_required
def knowledge_reembed(request, document_id: int):
    services.document_reembed(document=get_object_or_404(Document, pk=document_id))
    messages.success(request, _("El documento se está procesando de nuevo."))
    return redirect("knowledge_list")


@broker_required
def knowledge_progress(request):
    """Status and progress of the documents asked for (`?ids=1,2`), for the page's progress bars."""
    ids = [int(value) for value in request.GET.get("ids", "").split(",") if value.isdigit()][:100]
    rows = Document.objects.filter(pk__in=ids).values("id", "status", "progress", "chunks_done", "chunks_total")
    labels = dict(Document.Status.choices)
    return JsonResponse({"documents": [{**row, "status_label": str(labels[row["status"]])} for row in rows]})
