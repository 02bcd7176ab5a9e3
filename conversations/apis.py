"""Dashboard chat API (/api/v1/chat/) and the public web chat endpoint (/api/v1/webchat/messages/)."""

import uuid

from django.db import connection
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from brokers.models import BrokerChatConfig
from brokers.permissions import IsBrokerAdmin
from conversations import selectors, services
from conversations.channels.base import InboundMessage
from conversations.models import Channel, Conversation, Message
from conversations.serializers import (
    AgentReplySerializer,
    ConversationSerializer,
    DeadLetterSerializer,
    HandBackSerializer,
    MessageSerializer,
    WebchatMessageSerializer,
)
from crm.api.errors import error_body
from crm.api.pagination import PageNumberPagination


def _paginated(request, view, queryset, serializer_class):
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class ConversationListApi(APIView):
    @extend_schema(responses=ConversationSerializer(many=True))
    def get(self, request):
        params = request.query_params
        human_mode = params.get("human_mode")
        conversations = selectors.conversation_list(
            user=request.user, search=params.get("search", "").strip(), channel=params.get("channel", ""),
            human_mode=None if human_mode is None else human_mode in ("1", "true"),
            unread=params.get("unread") in ("1", "true"),
        )
        return _paginated(request, self, conversations, ConversationSerializer)


class ConversationApiMixin:
    def conversation(self, request, conversation_id: int) -> Conversation:
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        if conversation is None:
            raise Http404
        return conversation


class ConversationMessagesApi(ConversationApiMixin, APIView):
    @extend_schema(responses=MessageSerializer(many=True))
    def get(self, request, conversation_id: int):
        conversation = self.conversation(request, conversation_id)
        return _paginated(request, self, selectors.message_list(conversation=conversation), MessageSerializer)

    @extend_schema(request=AgentReplySerializer, responses={201: MessageSerializer})
    def post(self, request, conversation_id: int):
        """An agent's reply, sent through the lead's channel."""
        conversation = self.conversation(request, conversation_id)
        serializer = AgentReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.agent_reply(conversation=conversation, user=request.user,
                                       text=serializer.validated_data["text"])
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class ConversationTakeOverApi(ConversationApiMixin, APIView):
    @extend_schema(request=None, responses=ConversationSerializer)
    def post(self, request, conversation_id: int):
        conversation = services.conversation_take_over(conversation=self.conversation(request, conversation_id),
                                                       user=request.user)
        return Response(ConversationSerializer(conversation).data)


class ConversationHandBackApi(ConversationApiMixin, APIView):
    @extend_schema(request=HandBackSerializer, responses=ConversationSerializer)
    def post(self, request, conversation_id: int):
        serializer = HandBackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = services.conversation_hand_back(conversation=self.conversation(request, conversation_id),
                                                       user=request.user, note=serializer.validated_data["note"])
        return Response(ConversationSerializer(conversation).data)


class ConversationReadApi(ConversationApiMixin, APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, conversation_id: int):
        services.conversation_mark_read(conversation=self.conversation(request, conversation_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class OutboxApi(APIView):
    @extend_schema(responses=MessageSerializer(many=True))
    def get(self, request):
        return _paginated(request, self, selectors.outbox_list(user=request.user), MessageSerializer)


class DeadLetterApi(APIView):
    permission_classes = [IsBrokerAdmin]

    @extend_schema(responses=DeadLetterSerializer(many=True))
    def get(self, request):
        return _paginated(request, self, selectors.dead_letter_list(), DeadLetterSerializer)


class DeadLetterActionApi(APIView):
    """Retry or dismiss one failure (`service`, set in the URLconf)."""

    permission_classes = [IsBrokerAdmin]
    service = None

    @extend_schema(request=None, responses=DeadLetterSerializer)
    def post(self, request, dead_letter_id: int):
        return Response(DeadLetterSerializer(self.service(dead_letter_id=dead_letter_id)).data)


class WebchatThrottle(AnonRateThrottle):
    scope = "webchat"


class WebchatMessagesApi(APIView):
    """Public endpoint for the embeddable widget: post a visitor's message, poll for replies."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [WebchatThrottle]

    def _config(self) -> BrokerChatConfig:
        config = BrokerChatConfig.objects.get(broker_id=connection.tenant.id)
        if not config.webchat_enabled:
            raise Http404
        return config

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin", "")
        tenant = getattr(connection, "tenant", None)
        if origin and tenant is not None and not tenant.is_public:
            allowed = BrokerChatConfig.objects.filter(broker_id=tenant.id).values_list(
                "webchat_allowed_origins", flat=True).first() or []
            host_origin = f"{request.scheme}://{request.get_host()}"
            if origin in allowed or origin == host_origin:
                response["Access-Control-Allow-Origin"] = origin
                response["Access-Control-Allow-Headers"] = "Content-Type"
                response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
                response["Vary"] = "Origin"
        return response

    def options(self, request, *args, **kwargs):
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=WebchatMessageSerializer, responses={202: MessageSerializer})
    def post(self, request):
        self._config()
        serializer = WebchatMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        inbound = InboundMessage(
            external_id=f"{data['session_id']}:{data.get('client_message_id') or uuid.uuid4().hex}",
            channel_user_id=data["session_id"], text=data["text"],
        )
        message = services.message_receive(channel=Channel.WEBCHAT, inbound=inbound)
        if message is None:
            return Response(error_body("duplicate", "Este mensaje ya fue recibido."), status=status.HTTP_200_OK)
        return Response({"message_id": message.id, "status": message.status, "reply": None},
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=MessageSerializer(many=True))
    def get(self, request):
        """Replies for a visitor's session after `after_id` (the widget polls this)."""
        self._config()
        session_id = request.query_params.get("session_id", "")
        try:
            after_id = int(request.query_params.get("after_id", 0))
        except ValueError:
            after_id = 0
        messages = (Message.objects.filter(conversation__channel=Channel.WEBCHAT,
                                           conversation__channel_user_id=session_id, id__gt=after_id)
                    .order_by("id")[:50])
        return Response({"results": MessageSerializer(messages, many=True).data})
