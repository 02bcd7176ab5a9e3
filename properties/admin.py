from django.contrib import admin

from crm.tenant_admin import tenant_admin_site
from properties.models import Project, Unit


@admin.register(Project, site=tenant_admin_site)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "developer", "comuna", "delivery_date", "subsidy_ds1", "subsidy_ds19"]
    list_filter = ["subsidy_ds1", "subsidy_ds19"]
    search_fields = ["name", "developer", "comuna"]


@admin.register(Unit, site=tenant_admin_site)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "project", "property_type", "comuna", "bedrooms", "price_uf", "status"]
    list_filter = ["status", "property_type"]
    search_fields = ["code", "comuna", "description"]
    list_select_related = ["project"]
    exclude = ["embedding"]
    readonly_fields = ["price_clp", "embedding_model", "embedded_text", "created_at", "updated_at"]
