from django.urls import path

from knowledge import apis

urlpatterns = [
    path("documents/", apis.DocumentListApi.as_view(), name="api_kb_documents"),
    path("documents/upload/", apis.DocumentUploadApi.as_view(), name="api_kb_upload"),
    path("documents/<int:document_id>/", apis.DocumentDetailApi.as_view(), name="api_kb_document"),
    path("search/", apis.SearchApi.as_view(), name="api_kb_search"),
    path("reembed/", apis.ReembedApi.as_view(), name="api_kb_reembed"),
    path("cache-stats/", apis.CacheStatsApi.as_view(), name="api_kb_cache"),
]
