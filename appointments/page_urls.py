"""The agenda pages (`/agenda/...`) on a brokerage host."""

from django.urls import path

from appointments import pages

urlpatterns = [
    path("", pages.agenda, name="agenda"),
    path("disponibilidad/", pages.availability, name="agenda_availability"),
    path("disponibilidad/<slug:kind>/<int:item_id>/eliminar/", pages.availability_delete,
         name="agenda_availability_delete"),
    path("reservar/", pages.appointment_book, name="agenda_book"),
    path("leads/", pages.lead_search, name="agenda_lead_search"),
    path("citas/<int:appointment_id>/<slug:action>/", pages.appointment_action, name="agenda_action"),
    path("google/conectar/", pages.google_connect, name="agenda_google_connect"),
    path("google/callback/", pages.google_callback, name="agenda_google_callback"),
    path("google/desconectar/", pages.google_disconnect, name="agenda_google_disconnect"),
]
