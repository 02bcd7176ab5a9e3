"""The lead pages: the filtered list with bulk assignment, and one lead's file (edit, move, assign, merge, note)."""

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from brokers.selectors import user_list
from brokers.views import admin_required, broker_required
from conversations.selectors import chat_messages
from crm.api.pagination import CappedPaginator
from crm.errors import ApplicationError
from leads import selectors, services
from leads.forms import AssignForm, BulkAssignForm, LeadForm, MergeForm, NoteForm, StageMoveForm
from leads.models import Lead
from leads.serializers import LeadFilterSerializer
from pipeline.models import Calificacion, Stage
from pipeline.services import lead_move_stage

PAGE_SIZE = 25
CHAT_PREVIEW = 6
# Sortable columns: (query value, label, the direction a first click sorts in).
SORTABLE = [
    ("name", gettext_lazy("Nombre"), ""),
    ("lead_score", gettext_lazy("Puntaje"), "-"),
    ("last_contacted_at", gettext_lazy("Último contacto"), "-"),
    ("created_at", gettext_lazy("Creado"), "-"),
]


def _lead_or_404(request, lead_id: int) -> Lead:
    lead = selectors.lead_get(user=request.user, lead_id=lead_id)
    if lead is None:
        raise Http404
    return lead


def _people(request):
    return user_list(broker=request.tenant, is_active=True)


def _back(request, fallback: str):
    """To the page the form was on (`next`), when it is one of ours."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def _sort_columns(current: str) -> dict[str, dict]:
    """Per sortable column: the ordering its header link asks for and, if it is the current one, its direction."""
    columns = {}
    for field, label, first in SORTABLE:
        direction = {field: "ascending", f"-{field}": "descending"}.get(current)
        toggle = {"ascending": f"-{field}", "descending": field}.get(direction, f"{first}{field}")
        columns[field] = {"label": label, "ordering": toggle, "sort": direction}
    return columns


def _filter_query(request) -> QueryDict:
    """The query string without the empty fields a filter form sends ("score_min=" means no minimum)."""
    query = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        if kept := [value for value in values if value.strip()]:
            query.setlist(key, kept)
    return query


@broker_required
def lead_list(request):
    given = _filter_query(request)
    query = LeadFilterSerializer(data=given)
    filters = query.validated_data if query.is_valid() else {}
    given.pop("page", None)
    page = CappedPaginator(selectors.lead_list(user=request.user, filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "leads/list.html", {
        "page": page, "filter_errors": query.errors, "filtered": bool(filters.keys() - {"ordering"}),
        "columns": _sort_columns(filters.get("ordering") or "-created_at"),
        "export_query": given.urlencode(),
        "stages": Stage.choices, "statuses": Lead.Status.choices, "channels": Lead.Channel.choices,
        "dicom_choices": Lead.Dicom.choices[1:], "calificaciones": Calificacion.choices[1:],
        # ADMIN: the agent filter and the bulk assignment choose among the same people (one query).
        "people": _people(request) if request.user.is_broker_admin else None,
    })


@require_POST
@admin_required
def lead_bulk_assign(request):
    form = BulkAssignForm(request.POST, people=_people(request))
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return _back(request, reverse("lead_list"))
    leads = selectors.lead_get_many(user=request.user, lead_ids=form.cleaned_data["leads"])
    try:
        changed = services.lead_assign_many(leads=leads, actor=request.user, agent=form.cleaned_data["agent"])
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Se asignaron %(changed)s de %(total)s leads.") % {
            "changed": changed, "total": len(leads)})
    return _back(request, reverse("lead_list"))


@broker_required
def lead_detail(request, lead_id: int):
    lead = _lead_or_404(request, lead_id)
    form = LeadForm(request.POST or None, lead=lead)
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_update(lead=lead, actor=request.user, data=form.changes(),
                                 config=selectors.lead_config_get())
        except ApplicationError as error:
            form.add_application_error(error)
            lead = _lead_or_404(request, lead_id)  # the refused values stay in the form, not on the page
        else:
            messages.success(request, _("Datos del lead guardados."))
            return redirect("lead_detail", lead_id=lead.id)
    conversations = list(selectors.lead_conversations(lead=lead))
    chat = chat_messages(conversation=conversations[0], limit=CHAT_PREVIEW) if conversations else []
    return render(request, "leads/detail.html", {
        "lead": lead, "form": form, "timeline": selectors.lead_timeline(lead=lead),
        "conversations": conversations, "chat": chat,
        "move_form": StageMoveForm(initial={"stage": lead.pipeline_stage}),
        "assign_form": AssignForm(people=_people(request), initial={"agent": lead.assigned_to_id})
        if request.user.is_broker_admin else None,
        "merge_form": MergeForm() if request.user.is_broker_admin else None,
        "duplicates": selectors.lead_possible_duplicates(lead=lead) if request.user.is_broker_admin else [],
        "note_form": NoteForm(),
    })


@require_POST
@broker_required
def lead_move(request, lead_id: int):
    lead = _lead_or_404(request, lead_id)
    form = StageMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Elige una etapa válida."))
        return redirect("lead_detail", lead_id=lead.id)
    try:
        lead_move_stage(lead=lead, actor=request.user, config=selectors.lead_config_get(), **form.cleaned_data)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Lead movido a %(stage)s.") % {"stage": lead.get_pipeline_stage_display()})
    return redirect("lead_detail", lead_id=lead.id)


@require_POST
@admin_required
def lead_assign(request, lead_id: int):
    lead = _lead_or_404(request, lead_id)
    form = AssignForm(request.POST, people=_people(request))
    if not form.is_valid():
        messages.error(request, _("Elige una persona del equipo."))
        return redirect("lead_detail", lead_id=lead.id)
    try:
        services.lead_assign(lead=lead, actor=request.user, agent=form.cleaned_data["agent"])
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Lead asignado a %(name)s.") % {"name": lead.assigned_to.name})
    return redirect("lead_detail", lead_id=lead.id)


@require_POST
@admin_required
def lead_merge(request, lead_id: int):
    lead = _lead_or_404(request, lead_id)
    form = MergeForm(request.POST)
    duplicate = (selectors.lead_get(user=request.user, lead_id=form.cleaned_data["duplicate_id"])
                 if form.is_valid() else None)
    if duplicate is None:
        messages.error(request, _("No existe un lead con ese número."))
        return redirect("lead_detail", lead_id=lead.id)
    try:
        services.lead_merge(primary=lead, duplicate=duplicate, actor=request.user, config=selectors.lead_config_get())
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Lead #%(id)s fusionado en este.") % {"id": duplicate.id})
    return redirect("lead_detail", lead_id=lead.id)


@require_POST
@broker_required
def lead_note_add(request, lead_id: int):
    lead = _lead_or_404(request, lead_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Escribe una nota de hasta 2000 caracteres."))
        return redirect("lead_detail", lead_id=lead.id)
    try:
        services.lead_note_add(lead=lead, actor=request.user, text=form.cleaned_data["text"])
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Nota agregada."))
    return redirect("lead_detail", lead_id=lead.id)
