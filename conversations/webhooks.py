"""Channel webhooks on the platform host. Each verifies the sender, finds the brokerage by channel
identity, stores the delivery in that brokerage's schema and only then answers 200 (see
`conversations.intake`; on the ASGI server these POSTs take `conversations.webhook_asgi`)."""

from django.http import HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from brokers.models import BrokerChatConfig
from conversations import intake
from conversations.channels import telegram, whatsapp
from crm.api.errors import error_body


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def _answer(answer: intake.Answer) -> JsonResponse:
    return JsonResponse(answer.body, status=answer.status)


@csrf_exempt
@require_http_methods(["POST"])
def telegram_webhook(request, slug: str):
    return _answer(intake.telegram_accept(slug=slug, secret=request.headers.get(telegram.SECRET_HEADER, ""),
                                          body=request.body))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request):
    if request.method == "GET":
        return _whatsapp_verify(request)
    return _answer(intake.whatsapp_accept(signature=request.headers.get(whatsapp.SIGNATURE_HEADER, ""),
                                          body=request.body))


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


