"""Channel webhooks on the platform host. Each verifies the sender, finds the brokerage by channel
identity, stores the message in that brokerage's schema and only then answers 200."""

import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from brokers.models import BrokerChatConfig
from conversations import services
from conversations.channels import telegram, whatsapp
from conversations.models import Channel
from crm.api.errors import error_body


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def _json_body(request) -> tuple[dict | None, JsonResponse | None]:
    if len(request.body) > settings.WEBHOOK_MAX_BODY_BYTES:
        return None, _error(413, "payload_too_large", "El cuerpo supera el tamaño permitido.")
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None, _error(400, "malformed_json", "El cuerpo no es JSON válido.")
    if not isinstance(payload, dict):
        return None, _error(400, "malformed_json", "Se esperaba un objeto JSON.")
    return payload, None


@csrf_exempt
@require_http_methods(["POST"])
def telegram_webhook(request, slug: str):
    config = (BrokerChatConfig.objects.select_related("broker")
              .filter(broker__slug=slug, broker__is_active=True).first())
    secret = config.telegram_secret_token if config else ""
    # No configured secret means no Telegram for this brokerage: never "skip the check".
    if not secret or not constant_time_compare(request.headers.get(telegram.SECRET_HEADER, ""), secret):
        return _error(403, "invalid_secret", "Token secreto de Telegram inválido.")
    payload, error = _json_body(request)
    if error:
        return error
    if not isinstance(payload.get("update_id"), int):
        return _error(400, "invalid_update", "Falta update_id.")
    inbound = telegram.parse_update(payload)
    stored = False
    if inbound is not None:
        with config.broker:
            stored = services.message_receive(channel=Channel.TELEGRAM, inbound=inbound) is not None
    return JsonResponse({"ok": True, "stored": stored})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request):
    if request.method == "GET":
        return _whatsapp_verify(request)
    payload, error = _json_body(request)
    if error:
        return error
    number_ids = whatsapp.phone_number_ids(payload)
    configs = list(BrokerChatConfig.objects.select_related("broker")
                   .filter(whatsapp_phone_number_id__in=number_ids, broker__is_active=True))
    if not configs or len(configs) != len(number_ids):
        return _error(404, "unknown_phone_number", "Número de WhatsApp no registrado.")
    signature = request.headers.get(whatsapp.SIGNATURE_HEADER, "")
    if not all(whatsapp.signature_valid(raw_body=request.body, header=signature, app_secret=c.whatsapp_app_secret)
               for c in configs):
        return _error(403, "invalid_signature", "Firma X-Hub-Signature-256 inválida.")
    stored = 0
    for config in configs:
        messages, statuses = whatsapp.parse_payload(payload, config.whatsapp_phone_number_id)
        with config.broker:
            stored += sum(services.message_receive(channel=Channel.WHATSAPP, inbound=m) is not None for m in messages)
            for update in statuses:
                services.status_apply(channel=Channel.WHATSAPP, update=update)
    return JsonResponse({"ok": True, "stored": stored})


def _whatsapp_verify(request):
    """Meta's subscription handshake: echo hub.challenge when hub.verify_token is one of ours."""
    mode, token = request.GET.get("hub.mode"), request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if mode != "subscribe" or not token:
        return _error(400, "invalid_handshake", "Faltan hub.mode=subscribe y hub.verify_token.")
    if not any(constant_time_compare(token, c.whatsapp_verify_token) for c in
               BrokerChatConfig.objects.exclude(whatsapp_verify_token="").only("whatsapp_verify_token")):
        return _error(403, "invalid_verify_token", "hub.verify_token no coincide.")
    return HttpResponse(challenge, content_type="text/plain")


