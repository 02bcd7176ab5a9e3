from django.urls import path

from leads import apis

urlpatterns = [
    path("", apis.LeadListCreateApi.as_view(), name="api_leads"),
    path("<int:lead_id>/", apis.LeadDetailApi.as_view(), name="api_lead_detail"),
    path("<int:lead_id>/assign/", apis.LeadAssignApi.as_view(), name="api_lead_assign"),
    path("<int:lead_id>/recalculate/", apis.LeadRecalculateApi.as_view(), name="api_lead_recalculate"),
    path("<int:lead_id>/activities/", apis.LeadActivityListApi.as_view(), name="api_lead_activities"),
]
