from django.urls import path

from pipeline import apis

urlpatterns = [
    path("board/", apis.PipelineBoardApi.as_view(), name="api_pipeline_board"),
    path("funnel/", apis.PipelineFunnelApi.as_view(), name="api_pipeline_funnel"),
    path("leads/<int:lead_id>/move/", apis.PipelineMoveApi.as_view(), name="api_pipeline_move"),
]
