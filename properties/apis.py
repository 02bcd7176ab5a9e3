"""Catalogue API (/api/v1/properties/): the brokerage's AGENTs read, its ADMINs write."""

from dataclasses import asdict

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from brokers.permissions import IsBrokerAdmin
from crm.api.pagination import PageNumberPagination
from crm.errors import ApplicationError
from knowledge.apis import AdminWritesMixin
from properties import imports, selectors, services
from properties.models import Project, Unit
from properties.serializers import (
    ProjectSerializer,
    UnitFilterSerializer,
    UnitHitSerializer,
    UnitImportResultSerializer,
    UnitImportSerializer,
    UnitInputSerializer,
    UnitSearchSerializer,
    UnitSerializer,
)


def _paginated(request, view, queryset, serializer_class) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class ProjectListApi(AdminWritesMixin, APIView):
    @extend_schema(responses=ProjectSerializer(many=True))
    def get(self, request):
        return _paginated(request, self, selectors.project_list(search=request.query_params.get("search", "")),
                          ProjectSerializer)

    @extend_schema(request=ProjectSerializer, responses={201: ProjectSerializer})
    def post(self, request):
        serializer = ProjectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.project_create(data=serializer.validated_data)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(AdminWritesMixin, APIView):
    @extend_schema(responses=ProjectSerializer)
    def get(self, request, project_id: int):
        return Response(ProjectSerializer(get_object_or_404(Project, pk=project_id)).data)

    @extend_schema(request=ProjectSerializer, responses=ProjectSerializer)
    def patch(self, request, project_id: int):
        project = get_object_or_404(Project, pk=project_id)
        serializer = ProjectSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(ProjectSerializer(services.project_update(project=project,
                                                                  data=serializer.validated_data)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, project_id: int):
        services.project_delete(project=get_object_or_404(Project, pk=project_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UnitListApi(AdminWritesMixin, APIView):
    @extend_schema(parameters=[UnitFilterSerializer], responses=UnitSerializer(many=True))
    def get(self, request):
        filters = UnitFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return _paginated(request, self, selectors.unit_list(filters=filters.validated_data), UnitSerializer)

    @extend_schema(request=UnitInputSerializer, responses={201: UnitSerializer})
    def post(self, request):
        serializer = UnitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unit = services.unit_create(data=serializer.validated_data)
        return Response(UnitSerializer(unit).data, status=status.HTTP_201_CREATED)


class UnitDetailApi(AdminWritesMixin, APIView):
    @extend_schema(responses=UnitSerializer)
    def get(self, request, unit_id: int):
        return Response(UnitSerializer(get_object_or_404(Unit.objects.select_related("project"), pk=unit_id)).data)

    @extend_schema(request=UnitInputSerializer, responses=UnitSerializer)
    def patch(self, request, unit_id: int):
        unit = get_object_or_404(Unit.objects.select_related("project"), pk=unit_id)
        serializer = UnitInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        if "price" not in request.data:
            data.pop("price_currency", None)  # the default of a partial update is not a change
        unit = services.unit_update(unit=unit, data=data) if data else unit
        if new_status is not None:
            unit = services.unit_status_set(unit=unit, status=new_status)
        return Response(UnitSerializer(unit).data)

    @extend_schema(responses={204: None})
    def delete(self, request, unit_id: int):
        services.unit_delete(unit=get_object_or_404(Unit, pk=unit_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UnitImportApi(APIView):
    """ADMIN only: a CSV of units (Spanish headers: código, tipo, dormitorios, precio, estado, comuna…),
    all or nothing: 201 with the counts, or 400 with every problem as {row, field, message}."""

    permission_classes = [IsBrokerAdmin]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": UnitImportSerializer},
                   responses={201: UnitImportResultSerializer})
    def post(self, request):
        serializer = UnitImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = imports.units_import(data=serializer.validated_data["file"].read())
        if result.errors:
            raise ApplicationError("El archivo tiene filas con errores; no se importó ninguna unidad.",
                                   code="invalid_rows", details=asdict(result))
        return Response(UnitImportResultSerializer(asdict(result)).data, status=status.HTTP_201_CREATED)


class UnitSearchApi(APIView):
    """The assistant's hybrid search: available units only, filters plus similarity to `q`."""

    @extend_schema(parameters=[UnitSearchSerializer], responses=UnitHitSerializer(many=True))
    def get(self, request):
        serializer = UnitSearchSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        hits = selectors.unit_search(query=data.pop("q", None), **data)
        return Response({"results": UnitHitSerializer(hits, many=True).data})
