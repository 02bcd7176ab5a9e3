"""WhatsApp Cloud API: webhook payloads in (messages and delivery statuses), Graph API sends out."""

import hashlib
import hmac

import httpx2 as httpx
from django.conf import settings

from conversations.channels.base import ChannelNotConfigured, ChannelSendError, InboundMessage, StatusUpdate
from crm.http import http_client

SIGNATURE_HEADER = "X-Hub-Signature-256"
# Graph API error codes that mean "outside the 24-hour customer-service window: use a template".
TEMPLATE_REQUIRED_CODES = {131047, 470}
MEDIA_KINDS = ("audio", "voice", "image", "video", "document", "sticker")


def signature_valid(*, raw_body: bytes, header: str, app_secret: str) -> bool:
    """X-Hub-Signature-256 is `sha256=<hex HMAC of the raw body with the app secret>`. No secret, no pass."""
    if not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def phone_number_ids(payload: dict) -> set[str]:
    return {
        str(change.get("value", {}).get("metadata", {}).get("phone_number_id", ""))
        for entry in payload.get("entry", [])
        for change in entry.get("changes", [])
    } - {""}


def payload_share(payload: dict, phone_number_id: str) -> dict:
    """The payload with only the changes addressed to one number: what that number's brokerage keeps
    (a delivery for several numbers of one app never stores one brokerage's messages in another's schema)."""
    entries = []
    for entry in payload.get("entry", []):
        changes = [change for change in entry.get("changes", [])
                   if str(change.get("value", {}).get("metadata", {}).get("phone_number_id")) == phone_number_id]
        if changes:
            entries.append({**entry, "changes": changes})
    return {**payload, "entry": entries}


def _message_content(message: dict) -> tuple[str, str, dict]:
    kind = message.get("type", "text")
    if kind == "text":
        return "text", message.get("text", {}).get("body", ""), {}
    if kind == "interactive":
        interactive = message.get("interactive", {})
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return "interactive", reply.get("title", ""), {"reply_id": reply.get("id", "")}
    if kind == "button":
        button = message.get("button", {})
        return "interactive", button.get("text", ""), {"payload": button.get("payload", "")}
    if kind == "location":
        location = message.get("location", {})
        label = ", ".join(filter(None, [location.get("name"), location.get("address")]))
        return "location", label, location
    if kind in MEDIA_KINDS:
        media = message.get(kind, {})
        attachment = {"media_id": media.get("id", ""), "mime_type": media.get("mime_type", "")}
        return kind, media.get("caption", ""), attachment
    return kind, "", {}


def parse_payload(payload: dict, phone_number_id: str) -> tuple[list[InboundMessage], list[StatusUpdate]]:
    """Messages and statuses addressed to one of our numbers."""
    messages, statuses = [], []
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            value = change.get("value", {})
            if str(value.get("metadata", {}).get("phone_number_id")) != phone_number_id:
                continue
            names = {c.get("wa_id"): c.get("profile", {}).get("name", "") for c in value.get("contacts", [])}
            for message in value.get("messages", []):
                kind, text, attachment = _message_content(message)
                sender = str(message.get("from", ""))
                messages.append(InboundMessage(
                    external_id=message["id"], channel_user_id=sender, text=text, kind=kind,
                    attachment=attachment, display_name=names.get(sender, ""), phone=f"+{sender}" if sender else "",
                ))
            for status in value.get("statuses", []):
                errors = status.get("errors") or [{}]
                statuses.append(StatusUpdate(external_id=status["id"], status=status.get("status", ""),
                                             error=str(errors[0].get("title", ""))[:300]))
    return messages, statuses


def send_text(*, phone_number_id: str, access_token: str, to: str, text: str) -> str:
    """Send a free-form text (inside the 24-hour window); the new message's wamid."""
    if not access_token:
        raise ChannelNotConfigured("whatsapp")
    url = f"{settings.WHATSAPP_API_BASE}/{phone_number_id}/messages"
    payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
               "text": {"preview_url": False, "body": text}}
    try:
        response = http_client().post(url, json=payload, headers={"Authorization": f"Bearer {access_token}"},
                              timeout=settings.CHANNEL_HTTP_TIMEOUT)
    except httpx.HTTPError as exc:
        raise ChannelSendError(f"WhatsApp unreachable: {type(exc).__name__}") from exc
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code >= 400:
        error = body.get("error", {})
        code = error.get("code")
        raise ChannelSendError(f"WhatsApp {code}: {error.get('message', response.status_code)}"[:300],
                               retryable=response.status_code == 429 or response.status_code >= 500,
                               needs_template=code in TEMPLATE_REQUIRED_CODES)
    return body["messages"][0]["id"]
