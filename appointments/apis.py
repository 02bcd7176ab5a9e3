"""Appointments API on the brokerage host. Thin: parse, authorise, call a service or selector, shape the answer."""

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments import selectors, services
from appointments.models import Appointment
from appointments.serializers import (
    AppointmentCancelSerializer,
    AppointmentCreateSerializer,
    AppointmentFilterSerializer,
    AppointmentRescheduleSerializer,
    AppointmentSerializer,
    SlotFilterSerializer,
    SlotSerializer,
)
from appointments.views import feed_path
from brokers.models import User
from crm.api.pagination import PageNumberPagination
from crm.errors import ApplicationError
from leads.selectors import lead_get


def appointment_or_404(request, appointment_id: int) -> Appointment:
    appointment = selectors.appointment_get(user=request.user, appointment_id=appointment_id)
    if appointment is None:
        raise Http404
    return appointment


def _agent_check(user: User, agent_id: int | None) -> None:
    """An AGENT books for themselves (or lets the brokerage's rule choose); an ADMIN for anyone of theirs."""
    if agent_id is None or agent_id == user.id:
        return
    if not user.is_broker_admin or not User.objects.filter(pk=agent_id, broker_id=user.broker_id,
                                                           is_active=True).exists():
        raise ApplicationError("No puedes agendar con ese ejecutivo.", code="invalid_agent", status_code=403,
                               details={"agent_id": [agent_id]})


class AppointmentListCreateApi(APIView):
    @extend_schema(parameters=[AppointmentFilterSerializer], responses=AppointmentSerializer(many=True))
    def get(self, request):
        filters = AppointmentFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.appointment_list(user=request.user, filters=filters.validated_data), request, view=self)
        return paginator.get_paginated_response(AppointmentSerializer(page, many=True).data)

    @extend_schema(request=AppointmentCreateSerializer, responses={201: AppointmentSerializer})
    def post(self, request):
        serializer = AppointmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lead = lead_get(user=request.user, lead_id=data["lead_id"])
        if lead is None:
            raise Http404
        _agent_check(request.user, data.get("agent_id"))
        appointment = services.appointment_book(
            lead=lead, start=data["start"], appointment_type=data["appointment_type"], actor=request.user,
            agent_id=data.get("agent_id"), notes=data["notes"])
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


class AppointmentDetailApi(APIView):
    @extend_schema(responses=AppointmentSerializer)
    def get(self, request, appointment_id: int):
        return Response(AppointmentSerializer(appointment_or_404(request, appointment_id)).data)


class AppointmentRescheduleApi(APIView):
    @extend_schema(request=AppointmentRescheduleSerializer, responses=AppointmentSerializer)
    def post(self, request, appointment_id: int):
        appointment = appointment_or_404(request, appointment_id)
        serializer = AppointmentRescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _agent_check(request.user, serializer.validated_data.get("agent_id"))
        appointment = services.appointment_reschedule(appointment=appointment, start=serializer.validated_data["start"],
                                                      agent_id=serializer.validated_data.get("agent_id"),
                                                      actor=request.user)
        return Response(AppointmentSerializer(appointment).data)


class AppointmentCancelApi(APIView):
    @extend_schema(request=AppointmentCancelSerializer, responses=AppointmentSerializer)
    def post(self, request, appointment_id: int):
        appointment = appointment_or_404(request, appointment_id)
        serializer = AppointmentCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = services.appointment_cancel(appointment=appointment, reason=serializer.validated_data["reason"],
                                                  actor=request.user)
        return Response(AppointmentSerializer(appointment).data)


class AppointmentStatusApi(APIView):
    """confirm/, complete/, no-show/."""

    actions = {"confirm": services.appointment_confirm, "complete": services.appointment_complete,
               "no-show": services.appointment_no_show}

    @extend_schema(request=None, responses=AppointmentSerializer, operation_id="api_v1_appointments_status")
    def post(self, request, appointment_id: int, action: str):
        if action not in self.actions:
            raise Http404
        appointment = self.actions[action](appointment=appointment_or_404(request, appointment_id),
                                           actor=request.user)
        return Response(AppointmentSerializer(appointment).data)


class SlotListApi(APIView):
    @extend_schema(parameters=[SlotFilterSerializer], responses=SlotSerializer(many=True))
    def get(self, request):
        filters = SlotFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        slots = selectors.free_slots(now=timezone.now(), **filters.validated_data)
        return Response(SlotSerializer(slots, many=True).data)


class CalendarFeedApi(APIView):
    """The signed-in person's calendar URL (GET), or a new one that revokes the old (POST)."""

    @extend_schema(request=None, responses={200: dict})
    def get(self, request):
        return Response({"path": feed_path(services.calendar_feed_get(agent=request.user))})

    @extend_schema(request=None, responses={200: dict})
    def post(self, request):
        return Response({"path": feed_path(services.calendar_feed_rotate(agent=request.user))})
