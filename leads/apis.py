"""Leads API on the brokerage host. Thin: parse, authorise, call a service or selector, shape the answer."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from brokers.permissions import IsBrokerAdmin, IsBrokerUser
from brokers.selectors import user_get
from crm.api.pagination import PageNumberPagination
from crm.errors import ApplicationError
from leads import selectors, services
from leads.models import Lead
from leads.serializers import (
    LeadActivitySerializer,
    LeadAssignSerializer,
    LeadFilterSerializer,
    LeadInputSerializer,
    LeadSerializer,
)


def lead_or_404(request, lead_id: int) -> Lead:
    """The lead if this user may see it; 404 otherwise (another agent's or brokerage's lead does not exist)."""
    lead = selectors.lead_get(user=request.user, lead_id=lead_id)
    if lead is None:
        raise Http404
    return lead


def paginated(request, view: APIView, queryset, serializer_class) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class LeadListCreateApi(APIView):
    @extend_schema(parameters=[LeadFilterSerializer], responses=LeadSerializer(many=True))
    def get(self, request):
        filters = LeadFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated(request, self, selectors.lead_list(user=request.user, filters=filters.validated_data),
                         LeadSerializer)

    @extend_schema(request=LeadInputSerializer, responses={201: LeadSerializer})
    def post(self, request):
        serializer = LeadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_create(actor=request.user, data=serializer.validated_data,
                                    config=selectors.lead_config_get())
        return Response(LeadSerializer(lead).data, status=status.HTTP_201_CREATED)


class LeadDetailApi(APIView):
    def get_permissions(self):
        return [IsBrokerAdmin()] if self.request.method == "DELETE" else [IsBrokerUser()]

    @extend_schema(responses=LeadSerializer)
    def get(self, request, lead_id: int):
        return Response(LeadSerializer(lead_or_404(request, lead_id)).data)

    @extend_schema(request=LeadInputSerializer, responses=LeadSerializer)
    def patch(self, request, lead_id: int):
        lead = lead_or_404(request, lead_id)
        serializer = LeadInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_update(lead=lead, actor=request.user, data=serializer.validated_data,
                                    config=selectors.lead_config_get())
        return Response(LeadSerializer(lead).data)

    @extend_schema(responses={204: None})
    def delete(self, request, lead_id: int):
        services.lead_delete(lead=lead_or_404(request, lead_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LeadAssignApi(APIView):
    """ADMIN only: to a given person of the brokerage, or (without agent_id) round-robin among agents."""

    permission_classes = [IsBrokerAdmin]

    @extend_schema(request=LeadAssignSerializer, responses=LeadSerializer)
    def post(self, request, lead_id: int):
        lead = lead_or_404(request, lead_id)
        serializer = LeadAssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agent_id = serializer.validated_data.get("agent_id")
        agent = None
        if agent_id is not None:
            agent = user_get(broker=request.tenant, user_id=agent_id)
            if agent is None:
                raise ApplicationError("Ese usuario no existe en esta corredora.", code="invalid_agent",
                                       details={"agent_id": [agent_id]})
        lead = services.lead_assign(lead=lead, actor=request.user, agent=agent)
        return Response(LeadSerializer(lead).data)


class LeadRecalculateApi(APIView):
    @extend_schema(request=None, responses=LeadSerializer)
    def post(self, request, lead_id: int):
        lead = services.lead_recalculate(lead=lead_or_404(request, lead_id), actor=request.user,
                                         config=selectors.lead_config_get())
        return Response(LeadSerializer(lead).data)


class LeadActivityListApi(APIView):
    @extend_schema(responses=LeadActivitySerializer(many=True))
    def get(self, request, lead_id: int):
        lead = lead_or_404(request, lead_id)
        return paginated(request, self, selectors.lead_activity_list(lead=lead), LeadActivitySerializer)
