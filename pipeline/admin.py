from django.contrib import admin

from crm.tenant_admin import tenant_admin_site
from pipeline.models import StageTransition


@admin.register(StageTransition, site=tenant_admin_site)
class StageTransitionAdmin(admin.ModelAdmin):
    list_display = ["lead", "from_stage", "to_stage", "automatic", "reason", "actor", "created_at"]
    list_filter = ["to_stage", "automatic"]
    list_select_related = ["lead", "actor"]
    search_fields = ["lead__name", "reason"]

    def has_add_permission(self, request):
        return False  # stage moves go through the pipeline services (logged and broadcast)

    def has_change_permission(self, request, obj=None):
        return False
