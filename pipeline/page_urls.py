"""The kanban board (`/pipeline/...`) on a brokerage host."""

from django.urls import path

from pipeline import views

urlpatterns = [
    path("", views.kanban, name="pipeline"),
    path("tarjetas/<int:lead_id>/", views.kanban_card, name="pipeline_card"),
]
