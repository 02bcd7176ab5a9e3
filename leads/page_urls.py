"""The lead pages (`/leads/...`) on a brokerage host."""

from django.urls import path

from leads import views

urlpatterns = [
    path("", views.lead_list, name="lead_list"),
    path("asignar/", views.lead_bulk_assign, name="lead_bulk_assign"),
    path("<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path("<int:lead_id>/etapa/", views.lead_move, name="lead_move"),
    path("<int:lead_id>/asignar/", views.lead_assign, name="lead_assign"),
    path("<int:lead_id>/fusionar/", views.lead_merge, name="lead_merge"),
    path("<int:lead_id>/nota/", views.lead_note_add, name="lead_note_add"),
]
