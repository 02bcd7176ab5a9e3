from django.urls import path

from appointments import apis

urlpatterns = [
    path("", apis.AppointmentListCreateApi.as_view(), name="api_appointments"),
    path("slots/", apis.SlotListApi.as_view(), name="api_appointment_slots"),
    path("calendar-feed/", apis.CalendarFeedApi.as_view(), name="api_calendar_feed"),
    path("<int:appointment_id>/", apis.AppointmentDetailApi.as_view(), name="api_appointment_detail"),
    path("<int:appointment_id>/reschedule/", apis.AppointmentRescheduleApi.as_view(),
         name="api_appointment_reschedule"),
    path("<int:appointment_id>/cancel/", apis.AppointmentCancelApi.as_view(), name="api_appointment_cancel"),
    path("<int:appointment_id>/<slug:action>/", apis.AppointmentStatusApi.as_view(), name="api_appointment_status"),
]
