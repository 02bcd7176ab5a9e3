"""Sending stored outbound messages through the lead's channel."""

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from brokers.models import BrokerChatConfig
from conversations.channels import telegram, whatsapp
from conversations.channels.base import ChannelNotConfigured, ChannelSendError
from conversations.models import Channel, Message
from crm.realtime.broadcast import broadcast

WHATSAPP_SERVICE_WINDOW = timedelta(hours=24)
DONE = {Message.Status.SENT, Message.Status.DELIVERED, Message.Status.READ}


class RetryableSendError(Exception):
    pass


def _send(message: Message, config: BrokerChatConfig) -> str:
    conversation = message.conversation
    if message.channel == Channel.TELEGRAM:
        return telegram.send_text(token=config.telegram_bot_token, chat_id=conversation.channel_user_id,
                                  text=message.text)
    if message.channel == Channel.WHATSAPP:
        if not config.whatsapp_access_token or not config.whatsapp_phone_number_id:
            raise ChannelNotConfigured("whatsapp")
        if conversation.last_inbound_at and timezone.now() - conversation.last_inbound_at > WHATSAPP_SERVICE_WINDOW:
            raise ChannelSendError("Fuera de la ventana de 24 horas.", retryable=False, needs_template=True)
        return whatsapp.send_text(phone_number_id=config.whatsapp_phone_number_id,
                                  access_token=config.whatsapp_access_token, to=conversation.channel_user_id,
                                  text=message.text)
    return ""  # web chat: the widget fetches replies from the stored conversation


def _set_status(message: Message, status: str, *, external_id: str = "", error: str = "") -> None:
    message.status, message.error = status, error[:300]
    fields = ["status", "error", "status_at", "attempts"]
    if external_id:
        message.external_id = external_id
        fields.append("external_id")
    message.save(update_fields=fields)
    broadcast("message_status", {"message_id": message.id, "conversation_id": message.conversation_id,
                                 "status": status})


def _locked(message_id: int, stored: Message | None) -> Message | None:
    """The outbound message with its row locked: the caller's `stored` copy with its status and
    attempts read again under the lock (the rest of an outbound message does not change), or the
    whole message with its conversation."""
    outbound = Message.objects.select_for_update().filter(direction=Message.Direction.OUT)
    try:  # get(), not first(): no ORDER BY to compile for a look-up by key
        if stored is None:
            return outbound.select_related("conversation").get(pk=message_id)
        stored.status, stored.attempts = outbound.values_list("status", "attempts").get(pk=message_id)
        return stored
    except Message.DoesNotExist:
        return None


def message_deliver(*, message_id: int, config: BrokerChatConfig | None = None,
                    stored: Message | None = None) -> None:
    """Send one stored outbound message. Already sent → nothing. No credentials → outbox.
    Outside WhatsApp's window → needs a template. A transient failure is recorded on the message,
    then raised as RetryableSendError so the task tries again later. `stored`: the message as its
    caller just wrote it, with its conversation (a turn's reply), to spare loading it again."""
    transient_error = ""
    with transaction.atomic():
        message = _locked(message_id, stored)
        if message is None or message.status in DONE:
            return
        config = config or BrokerChatConfig.objects.get(broker_id=connection.tenant.id)
        message.attempts += 1
        try:
            external_id = _send(message, config)
        except ChannelNotConfigured:
            _set_status(message, Message.Status.OUTBOX, error="Canal sin credenciales: quedó en la bandeja de salida.")
        except ChannelSendError as exc:
            if exc.needs_template:
                _set_status(message, Message.Status.NEEDS_TEMPLATE, error=str(exc))
            elif exc.retryable:
                transient_error = str(exc)[:300]
                message.error = transient_error
                message.save(update_fields=["attempts", "error", "status_at"])
            else:
                _set_status(message, Message.Status.FAILED, error=str(exc))
        else:
            _set_status(message, Message.Status.SENT, external_id=external_id)
    if transient_error:
        raise RetryableSendError(transient_error)


def deliver_now(*, reply: Message, config: BrokerChatConfig) -> None:
    """Send a just-stored reply from the worker thread that wrote it (no second task per turn; the
    turn's own chat settings); a transient failure leaves it to `send_outbound`'s retries, a crash
    before this to the sweep."""
    message_id = reply.id
    try:
        message_deliver(message_id=message_id, config=config, stored=reply)
    except RetryableSendError:
        from conversations.tasks import RETRY_BACKOFF_SECONDS, send_outbound

        send_outbound.apply_async((message_id,), countdown=RETRY_BACKOFF_SECONDS[0])


def stale_requeue(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Re-enqueue inbound messages still `received` and outbound still `queued` after a while."""
    from conversations.tasks import process_inbound, send_outbound

    cutoff = timezone.now() - older_than
    stale = Message.objects.filter(status__in=[Message.Status.RECEIVED, Message.Status.QUEUED], created_at__lt=cutoff,
                                   status_at__lt=cutoff).values_list("id", "direction")[:500]
    for message_id, direction in stale:
        (process_inbound if direction == Message.Direction.IN else send_outbound).delay(message_id)
    return len(stale)
