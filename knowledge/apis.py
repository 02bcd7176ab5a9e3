"""Knowledge-base API (/api/v1/kb/): the brokerage's AGENTs read, its ADMINs write."""

from dataclasses import asdict

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from brokers.permissions import IsBrokerAdmin
from crm.api.pagination import PageNumberPagination
from knowledge import selectors, services
from knowledge.models import Document
from knowledge.semantic_cache import cache_savings
from knowledge.serializers import (
    CacheStatsSerializer,
    DocumentSerializer,
    DocumentWriteSerializer,
    SearchHitSerializer,
    SearchQuerySerializer,
    UploadSerializer,
)


class AdminWritesMixin:
    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return super().get_permissions()  # IsBrokerUser, the default
        return [IsBrokerAdmin()]


class DocumentListApi(AdminWritesMixin, APIView):
    @extend_schema(responses=DocumentSerializer(many=True))
    def get(self, request):
        documents = selectors.document_list(source_type=request.query_params.get("source_type", ""),
                                            search=request.query_params.get("search", "").strip())
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(documents, request, view=self)
        return paginator.get_paginated_response(DocumentSerializer(page, many=True).data)

    @extend_schema(request=DocumentWriteSerializer, responses={201: DocumentSerializer})
    def post(self, request):
        serializer = DocumentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = services.document_create(**serializer.validated_data)
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class DocumentDetailApi(AdminWritesMixin, APIView):
    @extend_schema(responses=DocumentSerializer)
    def get(self, request, document_id: int):
        return Response(DocumentSerializer(get_object_or_404(Document, pk=document_id)).data)

    @extend_schema(request=DocumentWriteSerializer, responses=DocumentSerializer)
    def patch(self, request, document_id: int):
        document = get_object_or_404(Document, pk=document_id)
        serializer = DocumentWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        document = services.document_update(document=document, data=serializer.validated_data)
        return Response(DocumentSerializer(document).data)

    @extend_schema(responses={204: None})
    def delete(self, request, document_id: int):
        services.document_delete(document=get_object_or_404(Document, pk=document_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentUploadApi(APIView):
    permission_classes = [IsBrokerAdmin]

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={201: DocumentSerializer(many=True)})
    def post(self, request):
        serializer = UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        documents = services.document_upload(filename=upload.name, content=upload.read(),
                                             source_type=serializer.validated_data["source_type"])
        return Response(DocumentSerializer(documents, many=True).data, status=status.HTTP_201_CREATED)


class SearchApi(APIView):
    @extend_schema(parameters=[SearchQuerySerializer], responses=SearchHitSerializer(many=True))
    def get(self, request):
        serializer = SearchQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        hits = selectors.kb_search(query=serializer.validated_data["q"], top_k=serializer.validated_data["top_k"],
                                   source_type=serializer.validated_data["source_type"])
        return Response({"results": SearchHitSerializer([asdict(hit) for hit in hits], many=True).data})


class ReembedApi(APIView):
    permission_classes = [IsBrokerAdmin]

    @extend_schema(request=None, responses={202: None})
    def post(self, request):
        """Re-embed the documents whose vectors come from another model than the one configured."""
        return Response({"queued": services.kb_reembed_stale()}, status=status.HTTP_202_ACCEPTED)


class CacheStatsApi(APIView):
    @extend_schema(responses=CacheStatsSerializer)
    def get(self, request):
        """Semantic-cache hits, misses, hit rate and LLM cost saved (USD, CLP) over the last 30 days."""
        return Response(CacheStatsSerializer(cache_savings(broker_id=request.tenant.id, days=30)).data)
