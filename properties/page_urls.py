"""The catalogue pages (`/propiedades/...`) on a brokerage host."""

from django.urls import path

from properties import views

urlpatterns = [
    path("", views.unit_list, name="unit_list"),
    path("nueva/", views.unit_edit, name="unit_new"),
    path("importar/", views.unit_import, name="unit_import"),
    path("<int:unit_id>/", views.unit_edit, name="unit_edit"),
    path("<int:unit_id>/eliminar/", views.unit_delete, name="unit_delete"),
]
