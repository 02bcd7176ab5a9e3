"""The catalogue pages: the filtered unit list (everyone), the unit form and the CSV upload (ADMIN)."""

from dataclasses import asdict

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from brokers.views import admin_required, broker_required
from crm.errors import ApplicationError
from properties import imports, selectors, services
from properties.forms import UnitForm, UnitImportForm
from properties.models import PropertyType, Unit
from properties.serializers import UnitFilterSerializer

PAGE_SIZE = 25


@broker_required
def unit_list(request):
    given = {key: value for key, value in request.GET.items() if value.strip() and key != "page"}
    query = UnitFilterSerializer(data=given)
    filters = query.validated_data if query.is_valid() else {}
    page = Paginator(selectors.unit_list(filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "properties/list.html", {
        "page": page, "filtered": bool(filters), "filter_errors": query.errors,
        "types": PropertyType.choices, "statuses": Unit.Status.choices,
        "import_form": UnitImportForm() if request.user.is_broker_admin else None,
    })


@admin_required
def unit_edit(request, unit_id: int | None = None):
    unit = get_object_or_404(Unit.objects.select_related("project"), pk=unit_id) if unit_id else None
    form = UnitForm(request.POST or None, unit=unit)
    if request.method == "POST" and form.is_valid():
        data = {name: value for name, value in form.cleaned_data.items() if name != "status"}
        try:
            if unit is None:
                unit = services.unit_create(data={**data, "status": form.cleaned_data["status"]})
            else:
                unit = services.unit_update(unit=unit, data=data)
                if form.cleaned_data["status"] != unit.status:
                    services.unit_status_set(unit=unit, status=form.cleaned_data["status"])
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            messages.success(request, _("Unidad %(code)s guardada.") % {"code": unit.code})
            return redirect("unit_list")
    return render(request, "properties/form.html", {"form": form, "unit": unit})


@require_POST
@admin_required
def unit_delete(request, unit_id: int):
    unit = get_object_or_404(Unit, pk=unit_id)
    services.unit_delete(unit=unit)
    messages.success(request, _("Unidad %(code)s eliminada.") % {"code": unit.code})
    return redirect("unit_list")


@require_POST
@admin_required
def unit_import(request):
    form = UnitImportForm(request.POST, request.FILES)
    result, error = None, None
    if form.is_valid():
        try:
            result = asdict(imports.units_import(data=form.cleaned_data["file"].read()))
        except ApplicationError as problem:
            error = problem
    return render(request, "properties/import_result.html", {"form": form, "result": result, "error": error},
                  status=200 if result and not result["errors"] else 400)
