"""Channel webhook intake: verify the sender, store the delivery, answer — then, in the worker, turn
the stored delivery into messages, receipts and conversation turns.

The acknowledgement is kept to what it must do before the 200: find the brokerage by its channel
identity, check the secret or signature, and store the body as an `InboundEvent` in that
brokerage's schema with one INSERT (a redelivery is refused by the unique constraint). Everything
else — leads, conversations, messages, counters, live events — happens in `event_process`, in
the worker. Both the Django views (`conversations.webhooks`) and the ASGI fast path
(`conversations.webhook_asgi`) answer through `telegram_accept` and `whatsapp_accept`.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from psycopg import sql

from brokers.models import BrokerChatConfig
from conversations import services
from conversations.channels import telegram, whatsapp
from conversations.models import Channel, InboundEvent, Message
from crm.api.errors import error_body

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """What the webhook answers: an HTTP status and a JSON body."""

    status: int
    body: dict


def _refused(status: int, code: str, message: str) -> Answer:
    return Answer(status, error_body(code, message))


class Refused(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.body["error"]["code"])
        self.answer = answer


def _json_object(body: bytes) -> dict:
    if len(body) > settings.WEBHOOK_MAX_BODY_BYTES:
        raise Refused(_refused(413, "payload_too_large", "El cuerpo supera el tamaño permitido."))
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(_refused(400, "malformed_json", "El cuerpo no es JSON válido.")) from None
    if not isinstance(payload, dict):
        raise Refused(_refused(400, "malformed_json", "Se esperaba un objeto JSON."))
    return payload


def event_store(*, schema_name: str, channel: str, external_id: str, payload: dict) -> bool:
    """Store one delivery in the brokerage's schema and queue its processing once committed; False
    when this delivery is already stored. One statement, schema-qualified (no search-path switch)."""
    table = sql.Identifier(schema_name, InboundEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("INSERT INTO {} (channel, external_id, payload) VALUES (%s, %s, %s)"
                               " ON CONFLICT (channel, external_id) DO NOTHING RETURNING id").format(table),
                       [channel, external_id, json.dumps(payload)])
        row = cursor.fetchone()
    if row is None:
        return False
    transaction.on_commit(lambda: _queue(schema_name, row[0]))
    return True


def _queue(schema_name: str, event_id: int) -> None:
    from conversations.tasks import process_event

    try:
        process_event.apply_async((event_id,), headers={"_schema_name": schema_name})
    except Exception:  # stored: conversations.requeue_stale picks it up
        logger.warning("could not queue event %s; left for the sweep", event_id, exc_info=True)


def telegram_accept(*, slug: str, secret: str, body: bytes) -> Answer:
    """A Telegram update for the brokerage at `slug`, authenticated by its webhook secret token."""
    found = (BrokerChatConfig.objects.filter(broker__slug=slug, broker__is_active=True)
             .values_list("broker__schema_name", "telegram_secret_token").first())
    schema_name, expected = found or ("", "")
    # No configured secret means no Telegram for this brokerage: never "skip the check".
    if not expected or not constant_time_compare(secret, expected):
        return _refused(403, "invalid_secret", "Token secreto de Telegram inválido.")
    try:
        payload = _json_object(body)
    except Refused as refused:
        return refused.answer
    if not isinstance(payload.get("update_id"), int):
        return _refused(400, "invalid_update", "Falta update_id.")
    try:
        message = telegram.parse_update(payload)
    except (KeyError, TypeError, AttributeError):
        return _refused(400, "invalid_update", "La actualización no tiene el formato de la Bot API de Telegram.")
    if message is None:  # not a message (a poll, a member update): nothing to keep
        return Answer(200, {"ok": True, "stored": False})
    stored = event_store(schema_name=schema_name, channel=Channel.TELEGRAM, external_id=str(payload["update_id"]),
                         payload=payload)
    return Answer(200, {"ok": True, "stored": stored})


def whatsapp_accept(*, signature: str, body: bytes) -> Answer:
    """A WhatsApp Cloud API delivery: routed by `metadata.phone_number_id`, signed with that number's
    app secret (every number in it, or nothing is stored). `stored` counts the new messages."""
    try:
        payload = _json_object(body)
        numbers = whatsapp.phone_number_ids(payload)
        contents = {number: whatsapp.parse_payload(payload, number) for number in numbers}
    except Refused as refused:
        return refused.answer
    except (KeyError, TypeError, AttributeError):
        return _refused(400, "invalid_payload", "El cuerpo no tiene el formato de WhatsApp Cloud API.")
    configs = list(BrokerChatConfig.objects.filter(whatsapp_phone_number_id__in=numbers, broker__is_active=True)
                   .values_list("whatsapp_phone_number_id", "broker__schema_name", "whatsapp_app_secret"))
    if not configs or len(configs) != len(numbers):
        return _refused(404, "unknown_phone_number", "Número de WhatsApp no registrado.")
    if not all(whatsapp.signature_valid(raw_body=body, header=signature, app_secret=secret)
               for _, _, secret in configs):
        return _refused(403, "invalid_signature", "Firma X-Hub-Signature-256 inválida.")
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    stored = 0
    with transaction.atomic():  # every brokerage's share of the body, or none
        for number, schema_name, _ in configs:
            share = whatsapp.payload_share(payload, number)
            if event_store(schema_name=schema_name, channel=Channel.WHATSAPP, external_id=digest, payload=share):
                stored += len(contents[number][0])
    return Answer(200, {"ok": True, "stored": stored})


@transaction.atomic
def event_process(*, event_id: int) -> list[tuple[int, int]]:
    """Turn one stored delivery (current brokerage) into messages and receipts; (message id, lead id)
    of each new inbound message, whose turn is still to run. Done once: a processed event is skipped."""
    try:  # get(), not first(): no ORDER BY to compile for a look-up by key
        event = InboundEvent.objects.select_for_update().get(pk=event_id, processed_at__isnull=True)
    except InboundEvent.DoesNotExist:
        return []
    if event.channel == Channel.TELEGRAM:
        inbound = telegram.parse_update(event.payload)
        messages, statuses = ([inbound] if inbound else []), []
    else:
        number = (BrokerChatConfig.objects.filter(broker_id=connection.tenant.id)
                  .values_list("whatsapp_phone_number_id", flat=True).first())
        messages, statuses = whatsapp.parse_payload(event.payload, str(number))
    received: list[Message] = []
    for inbound in messages:
        message = services.message_receive(channel=event.channel, inbound=inbound, queue_turn=False)
        if message is not None:
            received.append(message)
    for update in statuses:
        services.status_apply(channel=event.channel, update=update)
    event.processed_at = timezone.now()
    event.save(update_fields=["processed_at"])
    return [(message.id, message.conversation.lead_id) for message in received]


def stale_events_requeue(*, older_than: timedelta = timedelta(minutes=2),
                         give_up_after: timedelta = timedelta(days=1)) -> int:
    """Queue again the deliveries stored a while ago and still not processed (the queue was
    unreachable, or the worker stopped mid-way). One whose retries ran out is the ADMIN's to retry
    (a dead letter), and none older than a day is retried for ever."""
    from conversations.tasks import process_event

    now = timezone.now()
    stale = list(InboundEvent.objects.filter(processed_at__isnull=True, received_at__lt=now - older_than,
                                             received_at__gte=now - give_up_after)
                 .exclude(dead_letters__resolved=False)
                 .order_by("received_at").values_list("id", flat=True)[:500])
    for event_id in stale:
        process_event.delay(event_id)
    return len(stale)
