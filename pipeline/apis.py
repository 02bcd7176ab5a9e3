"""Pipeline API on the brokerage host: the board, moving a lead, funnel metrics."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from leads.apis import lead_or_404
from leads.selectors import lead_config_get
from leads.serializers import LeadSerializer
from pipeline import selectors, services
from pipeline.serializers import BoardColumnSerializer, BoardQuerySerializer, StageMoveSerializer


class PipelineBoardApi(APIView):
    @extend_schema(parameters=[BoardQuerySerializer], responses=BoardColumnSerializer(many=True))
    def get(self, request):
        query = BoardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        board = selectors.pipeline_board(user=request.user, per_stage=query.validated_data["per_stage"])
        return Response(BoardColumnSerializer(board, many=True).data)


class PipelineMoveApi(APIView):
    """Move a lead to any stage; closing (ganado / perdido) needs a close_reason."""

    @extend_schema(request=StageMoveSerializer, responses=LeadSerializer)
    def post(self, request, lead_id: int):
        lead = lead_or_404(request, lead_id)
        serializer = StageMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_move_stage(lead=lead, actor=request.user, config=lead_config_get(),
                                        **serializer.validated_data)
        return Response(LeadSerializer(lead).data)


class PipelineFunnelApi(APIView):
    @extend_schema(responses=dict)
    def get(self, request):
        return Response(selectors.pipeline_funnel(user=request.user, config=lead_config_get()))
