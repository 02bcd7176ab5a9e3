from django.urls import path

from properties import apis

urlpatterns = [
    path("projects/", apis.ProjectListApi.as_view(), name="api_projects"),
    path("projects/<int:project_id>/", apis.ProjectDetailApi.as_view(), name="api_project_detail"),
    path("units/", apis.UnitListApi.as_view(), name="api_units"),
    path("units/import/", apis.UnitImportApi.as_view(), name="api_unit_import"),
    path("units/search/", apis.UnitSearchApi.as_view(), name="api_unit_search"),
    path("units/<int:unit_id>/", apis.UnitDetailApi.as_view(), name="api_unit_detail"),
]
