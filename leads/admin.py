from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.tenant_admin import tenant_admin_site
from leads.models import Lead, LeadActivity, LeadImport


class LeadActivityInline(admin.TabularInline):
    model = LeadActivity
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "payload", "actor", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False  # the timeline is append-only, written by the services


@admin.register(Lead, site=tenant_admin_site)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "email", "pipeline_stage", "lead_score", "status", "calificacion", "channel",
                    "assigned_to", "created_at", "is_deleted"]
    list_filter = ["pipeline_stage", "status", "calificacion", "channel", "is_deleted"]
    search_fields = ["name", "phone", "email"]
    list_select_related = ["assigned_to"]
    date_hierarchy = "created_at"
    exclude = ["monthly_income_encrypted", "dicom_status_encrypted", "debt_amount_encrypted", "dicom_status_index"]
    readonly_fields = ["monthly_income_clp", "dicom", "debt_clp", "lead_score", "score_breakdown", "status",
                       "calificacion", "stage_entered_at", "created_at", "updated_at"]
    inlines = [LeadActivityInline]

    @admin.display(description=_("renta mensual (CLP)"))
    def monthly_income_clp(self, lead):
        return lead.monthly_income

    @admin.display(description=_("situación DICOM"))
    def dicom(self, lead):
        return Lead.Dicom(lead.dicom_status or "").label

    @admin.display(description=_("deuda (CLP)"))
    def debt_clp(self, lead):
        return lead.debt_amount


@admin.register(LeadImport, site=tenant_admin_site)
class LeadImportAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "created_at"]
    list_filter = ["status"]

    def has_add_permission(self, request):
        return False
