from django.urls import path

from leads import apis

urlpatterns = [
    path("", apis.LeadListCreateApi.as_view(), name="api_leads"),
    path("import/", apis.LeadImportApi.as_view(), name="api_lead_import"),
    path("import/<int:import_id>/", apis.LeadImportDetailApi.as_view(), name="api_lead_import_detail"),
    path("export/", apis.LeadExportApi.as_view(), name="api_lead_export"),
    path("<int:lead_id>/", apis.LeadDetailApi.as_view(), name="api_lead_detail"),
    path("<int:lead_id>/assign/", apis.LeadAssignApi.as_view(), name="api_lead_assign"),
    path("<int:lead_id>/recalculate/", apis.LeadRecalculateApi.as_view(), name="api_lead_recalculate"),
    path("<int:lead_id>/merge/", apis.LeadMergeApi.as_view(), name="api_lead_merge"),
    path("<int:lead_id>/notes/", apis.LeadNoteApi.as_view(), name="api_lead_notes"),
    path("<int:lead_id>/activities/", apis.LeadActivityListApi.as_view(), name="api_lead_activities"),
]
