"""The knowledge-base pages (`/conocimiento/...`) on a brokerage host."""

from django.urls import path

from knowledge import views

urlpatterns = [
    path("", views.knowledge_list, name="knowledge_list"),
    path("nuevo/", views.knowledge_document, name="knowledge_new"),
    path("subir/", views.knowledge_upload, name="knowledge_upload"),
    path("progreso/", views.knowledge_progress, name="knowledge_progress"),
    path("<int:document_id>/", views.knowledge_document, name="knowledge_document"),
    path("<int:document_id>/eliminar/", views.knowledge_delete, name="knowledge_delete"),
    path("<int:document_id>/reprocesar/", views.knowledge_reembed, name="knowledge_reembed"),
]
