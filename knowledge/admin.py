from django.contrib import admin

from crm.tenant_admin import tenant_admin_site
from knowledge.models import CacheCounter, CacheEntry, Document


@admin.register(Document, site=tenant_admin_site)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "source_type", "status", "progress", "embedding_model", "updated_at"]
    list_filter = ["source_type", "status"]
    search_fields = ["title", "body"]
    readonly_fields = ["status", "progress", "chunks_done", "chunks_total", "version", "embedding_model", "error",
                       "created_at", "updated_at"]


@admin.register(CacheEntry, site=tenant_admin_site)
class CacheEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "variant", "hits", "created_at", "expires_at"]
    search_fields = ["question"]
    exclude = ["embedding"]
    readonly_fields = ["question", "variant", "model", "answer", "hits", "created_at", "expires_at"]

    def has_add_permission(self, request):
        return False


@admin.register(CacheCounter, site=tenant_admin_site)
class CacheCounterAdmin(admin.ModelAdmin):
    list_display = ["day", "hits", "misses"]
    readonly_fields = ["day", "hits", "misses"]

    def has_add_permission(self, request):
        return False
