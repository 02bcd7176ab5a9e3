"""Writes on conversations: storing what leads send (exactly once), replies, receipts, takeover."""

import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from brokers.models import Broker, BrokerChatConfig, User
from conversations.channels import telegram
from conversations.channels.base import InboundMessage, StatusUpdate
from conversations.models import Conversation, DeadLetter, Message
from crm.errors import ApplicationError
from crm.realtime.broadcast import broadcast
from crm.tenancy import enqueue_on_commit
from leads.models import Lead
from leads.selectors import lead_config_get
from leads.services import lead_assign_new

# Receipts only move forward; `failed` can follow any of them.
STATUS_RANK = {Message.Status.QUEUED: 0, Message.Status.SENT: 1, Message.Status.DELIVERED: 2, Message.Status.READ: 3}


def _lead_for_channel(*, channel: str, inbound: InboundMessage) -> Lead:
    """The lead behind a channel identity: by that identity, else by phone, else a new lead (assigned as the
    brokerage's rule says)."""
    lead = Lead.objects.filter(channel=channel, channel_user_id=inbound.channel_user_id, is_deleted=False).first()
    if lead is None and inbound.phone:
        lead = Lead.objects.filter(phone=inbound.phone, is_deleted=False).first()
    if lead is None:
        lead = Lead.objects.create(channel=channel, channel_user_id=inbound.channel_user_id,
                                   name=inbound.display_name[:120], phone=inbound.phone, source=channel)
        lead_assign_new(lead=lead, config=lead_config_get())
    return lead


def _conversation_for(*, channel: str, inbound: InboundMessage) -> Conversation:
    # Only what storing and announcing the message needs: the whole lead (encrypted columns decrypted)
    # was a third of the webhook's ORM time.
    try:  # get() on the unique (channel, user): no ORDER BY to compile
        return (Conversation.objects.select_related("lead").only("id", "lead", "lead__assigned_to")
                .get(channel=channel, channel_user_id=inbound.channel_user_id))
    except Conversation.DoesNotExist:
        return Conversation.objects.create(
            lead=_lead_for_channel(channel=channel, inbound=inbound), channel=channel,
            channel_user_id=inbound.channel_user_id,
        )


@transaction.atomic(savepoint=False)  # only the insert below recovers from an error, in its own savepoint
def message_receive(*, channel: str, inbound: InboundMessage, queue_turn: bool = True) -> Message | None:
    """Store one inbound message and (unless the caller runs it itself) queue its turn once committed.

    Returns None when this (channel, external_id) is already stored: a redelivery is a no-op. The
    unique constraint decides (no look-up first: the webhook's every statement counts); a redelivery
    finds its conversation already there, so it writes nothing before the insert is refused.
    """
    conversation = _conversation_for(channel=channel, inbound=inbound)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation, channel=channel, direction=Message.Direction.IN,
                sender=Message.Sender.LEAD, text=inbound.text, kind=inbound.kind, attachment=inbound.attachment,
                external_id=inbound.external_id, status=Message.Status.RECEIVED,
            )
    except IntegrityError:  # already stored (a redelivery), or the same delivery raced us to the insert
        return None
    now = timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(
        unread_count=F("unread_count") + 1, last_message_at=now, last_inbound_at=now,
    )
    Lead.objects.filter(pk=conversation.lead_id).update(messages_count=F("messages_count") + 1,
                                                         last_contacted_at=now)
    _announce_message(message, conversation)
    if queue_turn:
        from conversations.tasks import process_inbound

        enqueue_on_commit(process_inbound, message.id)
    return message


def _announce_message(message: Message, conversation: Conversation) -> None:
    event = {Message.Sender.LEAD: "new_message", Message.Sender.ASSISTANT: "ai_response"}.get(message.sender,
                                                                                            "new_message")
    broadcast(event, {
        "conversation_id": conversation.id, "lead_id": conversation.lead_id, "message_id": message.id,
        "direction": message.direction, "sender": message.sender, "text": message.text, "status": message.status,
        "assigned_to": conversation.lead.assigned_to_id,
    })


@transaction.atomic(savepoint=False)  # nothing here is caught and recovered from
def status_apply(*, channel: str, update: StatusUpdate) -> bool:
    """Apply a delivery receipt; receipts arriving out of order never move a message backwards."""
    message = (Message.objects.select_for_update()
               .filter(channel=channel, external_id=update.external_id, direction=Message.Direction.OUT).first())
    if message is None:
        return False
    if update.status == Message.Status.FAILED:
        message.status, message.error = Message.Status.FAILED, update.error or "failed"
    elif STATUS_RANK.get(update.status, -1) > STATUS_RANK.get(message.status, -1):
        message.status = update.status
    else:
        return False
    message.save(update_fields=["status", "error", "status_at"])
    broadcast("message_status", {"message_id": message.id, "conversation_id": message.conversation_id,
                                 "status": message.status})
    return True


def reply_create(*, inbound: Message, text: str, sender: str = Message.Sender.ASSISTANT,
                 sender_user: User | None = None, queue_delivery: bool = True) -> Message:
    """Store the reply to an inbound message and queue its sending after commit (unless the caller
    sends it itself, as a turn does: `delivery.deliver_now`). At most one reply: the unique `reply_to`
    decides (no look-up first), and a second call gets the stored one. Called outside a transaction,
    the insert is a transaction of its own (no savepoint to set and release)."""
    try:
        with transaction.atomic():
            return _outbound_create(conversation=inbound.conversation, text=text, sender=sender,
                                    sender_user=sender_user, reply_to=inbound, queue_delivery=queue_delivery)
    except IntegrityError:
        return Message.objects.get(reply_to=inbound)


def _outbound_create(*, conversation: Conversation, text: str, sender: str, sender_user: User | None,
                     reply_to: Message | None = None, queue_delivery: bool = True) -> Message:
    reply = Message.objects.create(
        conversation=conversation, channel=conversation.channel, direction=Message.Direction.OUT, sender=sender,
        sender_user=sender_user, text=text, reply_to=reply_to, status=Message.Status.QUEUED,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
    _announce_message(reply, conversation)
    if queue_delivery:
        from conversations.tasks import send_outbound

        enqueue_on_commit(send_outbound, reply.id)
    return reply


def _check_can_handle(*, conversation: Conversation, user: User) -> None:
    if not user.is_broker_admin and conversation.lead.assigned_to_id != user.id:
        raise ApplicationError("Esta conversación es de otro ejecutivo.", code="not_your_lead", status_code=403)


@transaction.atomic
def conversation_take_over(*, conversation: Conversation, user: User) -> Conversation:
    """An agent takes the conversation: the assistant stops replying until it is handed back."""
    _check_can_handle(conversation=conversation, user=user)
    conversation.human_mode, conversation.taken_over_by = True, user
    conversation.save(update_fields=["human_mode", "taken_over_by", "updated_at"])
    broadcast("human_mode_changed", {"conversation_id": conversation.id, "lead_id": conversation.lead_id,
                                     "human_mode": True, "by": user.id})
    return conversation


@transaction.atomic
def conversation_hand_back(*, conversation: Conversation, user: User, note: str = "") -> Conversation:
    """Back to the assistant, with a note it will read in its next turn."""
    _check_can_handle(conversation=conversation, user=user)
    conversation.human_mode, conversation.taken_over_by, conversation.handback_note = False, None, note.strip()
    conversation.save(update_fields=["human_mode", "taken_over_by", "handback_note", "updated_at"])
    broadcast("human_mode_changed", {"conversation_id": conversation.id, "lead_id": conversation.lead_id,
                                     "human_mode": False, "by": user.id})
    return conversation


@transaction.atomic
def agent_reply(*, conversation: Conversation, user: User, text: str) -> Message:
    """A reply typed by an agent, sent through the lead's channel and attributed to them."""
    _check_can_handle(conversation=conversation, user=user)
    text = text.strip()
    if not text:
        raise ApplicationError("Escribe un mensaje.", code="empty_message", details={"text": ["Obligatorio."]})
    return _outbound_create(conversation=conversation, text=text, sender=Message.Sender.AGENT, sender_user=user)


@transaction.atomic
def notification_send(*, conversation: Conversation, text: str) -> Message:
    """A message the platform sends on its own (a visit reminder), through the lead's channel."""
    return _outbound_create(conversation=conversation, text=text, sender=Message.Sender.SYSTEM, sender_user=None)


def _dead_letter_open(dead_letter_id: int) -> DeadLetter:
    dead = (DeadLetter.objects.select_for_update(of=("self",)).select_related("message")
            .filter(pk=dead_letter_id).first())
    if dead is None:
        raise ApplicationError("No existe ese fallo.", code="not_found", status_code=404)
    if dead.resolved:
        raise ApplicationError("Ese fallo ya se resolvió.", code="dead_letter_resolved", status_code=409)
    return dead


@transaction.atomic
def dead_letter_retry(*, dead_letter_id: int) -> DeadLetter:
    """An ADMIN tries failed work again: it leaves the list and goes back to the queue with its retries
    anew (a lead's message waits for its turn again, a reply to be sent, a delivery to be processed).
    If it fails for good again, a new dead letter brings it back."""
    from conversations.tasks import process_event, process_inbound, send_outbound

    dead = _dead_letter_open(dead_letter_id)
    dead.resolved = True
    dead.save(update_fields=["resolved"])
    if dead.event_id is not None:
        enqueue_on_commit(process_event, dead.event_id)
        return dead
    message = dead.message
    inbound = message.direction == Message.Direction.IN
    message.status, message.error = (Message.Status.RECEIVED if inbound else Message.Status.QUEUED), ""
    message.save(update_fields=["status", "error", "status_at"])
    enqueue_on_commit(process_inbound if inbound else send_outbound, message.id)
    return dead


@transaction.atomic
def dead_letter_dismiss(*, dead_letter_id: int) -> DeadLetter:
    """An ADMIN takes a failure off the list without retrying it (the message keeps its failed status)."""
    dead = _dead_letter_open(dead_letter_id)
    dead.resolved = True
    dead.save(update_fields=["resolved"])
    return dead


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)



def telegram_webhook_register(*, broker: Broker, base_url: str) -> str:
    """Point the brokerage's Telegram bot at our webhook with a freshly generated secret token.

    The new secret is stored only once Telegram accepted it; returns the webhook URL.
    """
    config = BrokerChatConfig.objects.get(broker=broker)
    if not config.telegram_bot_token:
        raise ApplicationError("La corredora no tiene token de bot de Telegram.", code="telegram_not_configured")
    if not base_url.startswith("https://") and not base_url.startswith("http://"):
        raise ApplicationError("Indica la URL pública de la plataforma (https://…).", code="invalid_base_url")
    url = f"{base_url.rstrip('/')}/webhooks/telegram/{broker.slug}/"
    secret = secrets.token_urlsafe(32)
    telegram.set_webhook(token=config.telegram_bot_token, url=url, secret_token=secret)
    config.telegram_secret_token = secret
    config.save(update_fields=["telegram_secret_token", "updated_at"])
    return url
