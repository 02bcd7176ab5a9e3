"""Leads API on the brokerage host. Thin: parse, authorise, call a service or selector, shape the answer."""

from dataclasses import asdict

from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from brokers.permissions import IsBrokerAdmin, IsBrokerUser
from brokers.selectors import user_get
from crm.api.pagination import CappedPageNumberPagination, PageNumberPagination
from crm.errors import ApplicationError
from leads import exports, imports, selectors, services
from leads.models import Lead, LeadImport
from leads.serializers import (
    LeadActivitySerializer,
    LeadAssignSerializer,
    LeadFilterSerializer,
    LeadInputSerializer,
    LeadMergeSerializer,
    LeadNoteSerializer,
    LeadSerializer,
)


def lead_or_404(request, lead_id: int) -> Lead:
    """The lead if this user may see it; 404 otherwise (another agent's or brokerage's lead does not exist)."""
    lead = selectors.lead_get(user=request.user, lead_id=lead_id)
    if lead is None:
        raise Http404
    return lead


def paginated(request, view: APIView, queryset, serializer_class, *,
              paginator_class: type[PageNumberPagination] = PageNumberPagination) -> Response:
    paginator = paginator_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class LeadListCreateApi(APIView):
    pagination_class = CappedPageNumberPagination  # what the schema describes

    @extend_schema(parameters=[LeadFilterSerializer], responses=LeadSerializer(many=True))
    def get(self, request):
        filters = LeadFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated(request, self, selectors.lead_list(user=request.user, filters=filters.validated_data),
                         LeadSerializer, paginator_class=CappedPageNumberPagination)

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


class LeadMergeApi(APIView):
    """ADMIN only: fold the lead `duplicate_id` into this one (see services.lead_merge)."""

    permission_classes = [IsBrokerAdmin]

    @extend_schema(request=LeadMergeSerializer, responses=LeadSerializer)
    def post(self, request, lead_id: int):
        lead = lead_or_404(request, lead_id)
        serializer = LeadMergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        duplicate_id = serializer.validated_data["duplicate_id"]
        duplicate = selectors.lead_get(user=request.user, lead_id=duplicate_id)
        if duplicate is None:
            raise ApplicationError("Ese lead no existe.", code="invalid_duplicate",
                                   details={"duplicate_id": [duplicate_id]})
        lead = services.lead_merge(primary=lead, duplicate=duplicate, actor=request.user,
                                   config=selectors.lead_config_get())
        return Response(LeadSerializer(lead).data)


class LeadNoteApi(APIView):
    """A note on the lead's timeline: an AGENT on their own leads, an ADMIN on any."""

    @extend_schema(request=LeadNoteSerializer, responses={201: LeadActivitySerializer})
    def post(self, request, lead_id: int):
        lead = lead_or_404(request, lead_id)
        serializer = LeadNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.lead_note_add(lead=lead, actor=request.user, text=serializer.validated_data["text"])
        return Response(LeadActivitySerializer(note).data, status=status.HTTP_201_CREATED)


class LeadActivityListApi(APIView):
    @extend_schema(responses=LeadActivitySerializer(many=True))
    def get(self, request, lead_id: int):
        lead = lead_or_404(request, lead_id)
        return paginated(request, self, selectors.lead_activity_list(lead=lead), LeadActivitySerializer)


class LeadImportOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = LeadImport
        fields = ["id", "file_name", "status", "total", "processed", "leads_created", "leads_updated", "error_count",
                  "errors", "mapping", "created_by", "created_at", "finished_at"]
        read_only_fields = fields


def lead_import_body(lead_import: LeadImport) -> dict:
    return {**LeadImportOutputSerializer(lead_import).data,
            **asdict(imports.lead_import_progress(lead_import=lead_import))}


class LeadImportApi(APIView):
    """ADMIN only: upload a CSV and its column mapping; the import runs in the background (202)."""

    permission_classes = [IsBrokerAdmin]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        mapping = serializers.JSONField(binary=True, help_text='{"Columna del archivo": "campo", …}; campos: '
                                        + ", ".join(imports.IMPORT_FIELDS))

    @extend_schema(request=InputSerializer, responses={202: dict})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        lead_import = imports.lead_import_start(actor=request.user, file_name=upload.name, data=upload.read(),
                                                mapping=serializer.validated_data["mapping"])
        return Response(lead_import_body(lead_import), status=status.HTTP_202_ACCEPTED)


class LeadImportDetailApi(APIView):
    """ADMIN only: progress of an import and, when rows were wrong, every problem as {row, field, message}."""

    permission_classes = [IsBrokerAdmin]

    @extend_schema(responses=dict)
    def get(self, request, import_id: int):
        lead_import = imports.lead_import_get(lead_import_id=import_id)
        if lead_import is None:
            raise Http404
        return Response(lead_import_body(lead_import))


class LeadExportApi(APIView):
    """The leads matching the list's filters as a CSV download (see leads/exports.py for the format)."""

    @extend_schema(parameters=[LeadFilterSerializer], responses={(200, "text/csv"): str})
    def get(self, request):
        filters = LeadFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        chunks = exports.lead_csv_chunks(leads=selectors.lead_list(user=request.user, filters=filters.validated_data),
                                         with_financial=request.user.is_broker_admin)
        streamed = exports.as_async(chunks) if isinstance(request._request, ASGIRequest) else chunks
        response = StreamingHttpResponse(streamed, content_type="text/csv; charset=utf-8")
        name = f"leads-{request.tenant.slug}-{timezone.localdate():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
