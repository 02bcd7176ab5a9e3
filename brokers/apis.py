"""Brokerage-host API: tokens, colleagues and settings. Thin: parse, authorise, call a service."""

from django.db import transaction
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView

from brokers import selectors, services, throttling
from brokers.auth import HostBoundBackend, tokens_for
from brokers.permissions import IsBrokerAdmin, IsBrokerUser
from brokers.serializers import (
    CONFIG_SERIALIZERS,
    TokenObtainSerializer,
    TokenPairSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from crm.api.errors import error_body
from crm.api.pagination import PageNumberPagination


class TokenObtainApi(APIView):
    """Exchange e-mail and password for a JWT pair bound to this brokerage."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=TokenObtainSerializer, responses=TokenPairSerializer)
    def post(self, request):
        serializer = TokenObtainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email, password = serializer.validated_data["email"], serializer.validated_data["password"]
        ip = throttling.client_ip(request)
        if not throttling.login_allowed(email=email, ip=ip):
            return Response(error_body("throttled", "Demasiados intentos fallidos; espera unos minutos."),
                            status=status.HTTP_429_TOO_MANY_REQUESTS)
        user = HostBoundBackend().authenticate(request, email=email, password=password)
        if user is None or getattr(request.tenant, "is_public", True):
            throttling.login_failed(email=email, ip=ip)
            return Response(error_body("invalid_credentials", "Correo o contraseña incorrectos."),
                            status=status.HTTP_401_UNAUTHORIZED)
        throttling.login_succeeded(email=email, ip=ip)
        return Response(tokens_for(user))


class TokenRefreshApi(TokenRefreshView):
    authentication_classes = []


class UserListCreateApi(APIView):
    permission_classes = [IsBrokerAdmin]

    @extend_schema(responses=UserSerializer(many=True))
    def get(self, request):
        is_active = request.query_params.get("is_active")
        users = selectors.user_list(
            broker=request.tenant,
            search=request.query_params.get("search", ""),
            role=request.query_params.get("role", ""),
            is_active=None if is_active is None else is_active.lower() in ("1", "true"),
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(users, request, view=self)
        return paginator.get_paginated_response(UserSerializer(page, many=True).data)

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer})
    def post(self, request):
        serializer = UserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(broker=request.tenant, **serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    permission_classes = [IsBrokerAdmin]

    def _get(self, request, user_id):
        user = selectors.user_get(broker=request.tenant, user_id=user_id)
        if user is None:
            raise Http404
        return user

    @extend_schema(responses=UserSerializer)
    def get(self, request, user_id: int):
        return Response(UserSerializer(self._get(request, user_id)).data)

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def patch(self, request, user_id: int):
        user = self._get(request, user_id)
        serializer = UserUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(actor=request.user, user=user, **serializer.validated_data)
        return Response(UserSerializer(user).data)

    @extend_schema(responses={204: None})
    def delete(self, request, user_id: int):
        """Deactivate (people are never deleted: their history stays attributed)."""
        services.user_update(actor=request.user, user=self._get(request, user_id), is_active=False)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    permission_classes = [IsBrokerUser]

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


class BrokerConfigApi(APIView):
    """All settings sections; any brokerage user reads, only an ADMIN writes."""

    def get_permissions(self):
        return [IsBrokerUser()] if self.request.method == "GET" else [IsBrokerAdmin()]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        tenant = request.tenant
        return Response({
            section: serializer_class(services.CONFIG_MODELS[section].objects.get(broker=tenant)).data
            for section, serializer_class in CONFIG_SERIALIZERS.items()
        })

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def patch(self, request):
        """Body: {"<section>": {field: value, ...}, ...} with sections prompt, lead, voice, chat."""
        unknown = set(request.data) - set(CONFIG_SERIALIZERS)
        if unknown or not request.data:
            return Response(error_body("validation_error", "Secciones válidas: prompt, lead, voice, chat.",
                                       {"sections": sorted(unknown)}), status=status.HTTP_400_BAD_REQUEST)
        result = {}
        with transaction.atomic():
            for section, values in request.data.items():
                serializer_class = CONFIG_SERIALIZERS[section]
                instance = services.CONFIG_MODELS[section].objects.get(broker=request.tenant)
                serializer = serializer_class(instance, data=values, partial=True)
                serializer.is_valid(raise_exception=True)
                config = services.broker_config_update(broker=request.tenant, section=section,
                                                       values=serializer.validated_data)
                result[section] = serializer_class(config).data
        return Response(result)
