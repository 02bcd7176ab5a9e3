"""Reads on conversations, scoped to what the user may see (an AGENT: their own leads)."""

from typing import NamedTuple

from django.db.models import OuterRef, Q, QuerySet, Subquery

from brokers.models import User
from conversations.models import Conversation, DeadLetter, Message

OUTBOX_STATUSES = [Message.Status.OUTBOX, Message.Status.NEEDS_TEMPLATE, Message.Status.FAILED]


def conversation_visible(*, user: User) -> QuerySet[Conversation]:
    conversations = Conversation.objects.filter(lead__is_deleted=False)
    if not user.is_broker_admin:
        conversations = conversations.filter(lead__assigned_to_id=user.id)
    return conversations


def conversation_list(*, user: User, search: str = "", channel: str = "", human_mode: bool | None = None,
                      unread: bool = False) -> QuerySet[Conversation]:
    conversations = conversation_visible(user=user).select_related("lead")
    if search:
        conversations = conversations.filter(Q(lead__name__icontains=search) | Q(lead__phone__contains=search))
    if channel:
        conversations = conversations.filter(channel=channel)
    if human_mode is not None:
        conversations = conversations.filter(human_mode=human_mode)
    if unread:
        conversations = conversations.filter(unread_count__gt=0)
    return conversations.order_by("-last_message_at", "-id")


def inbox_list(*, user: User, **filters) -> QuerySet[Conversation]:
    """The inbox's conversations, each with its latest message's text and sender, in one query."""
    latest = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-id")
    return (conversation_list(user=user, **filters).select_related("taken_over_by")
            .annotate(last_text=Subquery(latest.values("text")[:1]),
                      last_sender=Subquery(latest.values("sender")[:1])))


def conversation_get(*, user: User, conversation_id: int) -> Conversation | None:
    return conversation_visible(user=user).select_related("lead").filter(pk=conversation_id).first()


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.order_by("-created_at", "-id")


def chat_messages(*, conversation: Conversation, after_id: int = 0, limit: int = 100) -> list[Message]:
    """What the inbox shows: the latest `limit` messages after `after_id`, oldest first, with their agents."""
    latest = (conversation.messages.filter(id__gt=after_id).select_related("sender_user")
              .order_by("-created_at", "-id")[:limit])
    return list(latest)[::-1]


class RecentMessage(NamedTuple):
    """One message of a turn's context."""

    direction: str
    sender: str
    text: str


def recent_messages(*, conversation: Conversation, limit: int) -> list[RecentMessage]:
    """The latest `limit` messages, oldest first: the assistant's context (never the oldest ones).
    Rows with what a prompt needs (direction, sender, text), not model instances: half the time."""
    latest = (conversation.messages.exclude(text="").order_by("-created_at", "-id")
              .values_list(*RecentMessage._fields)[:limit])
    return [RecentMessage(*row) for row in reversed(latest)]


def outbox_list(*, user: User) -> QuerySet[Message]:
    return (Message.objects.filter(status__in=OUTBOX_STATUSES,
                                   conversation__in=conversation_visible(user=user))
            .select_related("conversation__lead").order_by("-created_at"))


def dead_letter_list() -> QuerySet[DeadLetter]:
    """Failures still waiting for the ADMIN, newest first."""
    return (DeadLetter.objects.filter(resolved=False).select_related("message__conversation__lead", "event")
            .order_by("-created_at", "-id"))
