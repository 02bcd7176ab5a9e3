from django.urls import path

from appointments import views

urlpatterns = [
    path("<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("cita/<str:signed>.ics", views.calendar_invite, name="calendar_invite"),
]
