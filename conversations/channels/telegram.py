"""Telegram Bot API: updates in (webhook), sendMessage and setWebhook out."""

import httpx2 as httpx
from django.conf import settings

from conversations.channels.base import ChannelNotConfigured, ChannelSendError, InboundMessage
from crm.http import http_client

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def parse_update(update: dict) -> InboundMessage | None:
    """The lead's message in an update (`message` or `edited_message`), or None for other update kinds."""
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, dict) or "chat" not in message:
        return None
    sender = message.get("from") or {}
    name = " ".join(filter(None, [sender.get("first_name"), sender.get("last_name")]))
    kind, text, attachment = "text", message.get("text") or message.get("caption") or "", {}
    if "location" in message:
        kind, attachment = "location", message["location"]
    elif "voice" in message or "audio" in message:
        media = message.get("voice") or message.get("audio")
        kind, attachment = "audio", {"file_id": media.get("file_id"), "mime_type": media.get("mime_type", "")}
    elif "photo" in message:
        kind, attachment = "image", {"file_id": message["photo"][-1].get("file_id")}
    elif "document" in message:
        kind, attachment = "document", {"file_id": message["document"].get("file_id"),
                                        "file_name": message["document"].get("file_name", "")}
    if "edited_message" in update:
        attachment = {**attachment, "edited": True}
    return InboundMessage(
        external_id=str(update["update_id"]),
        channel_user_id=str(message["chat"]["id"]),
        text=text,
        kind=kind,
        attachment=attachment,
        display_name=name,
    )


def _call(token: str, method: str, payload: dict) -> dict:
    if not token:
        raise ChannelNotConfigured("telegram")
    url = f"{settings.TELEGRAM_API_BASE}/bot{token}/{method}"
    try:
        response = http_client().post(url, json=payload, timeout=settings.CHANNEL_HTTP_TIMEOUT)
    except httpx.HTTPError as exc:
        raise ChannelSendError(f"Telegram unreachable: {type(exc).__name__}") from exc
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code >= 400 or not body.get("ok"):
        description = body.get("description", f"HTTP {response.status_code}")
        raise ChannelSendError(f"Telegram {method}: {description}"[:300],
                               retryable=response.status_code == 429 or response.status_code >= 500)
    return body["result"]


def send_text(*, token: str, chat_id: str, text: str) -> str:
    """Send a text; the new message's id."""
    return str(_call(token, "sendMessage", {"chat_id": chat_id, "text": text})["message_id"])


def set_webhook(*, token: str, url: str, secret_token: str) -> None:
    _call(token, "setWebhook", {"url": url, "secret_token": secret_token,
                                "allowed_updates": ["message", "edited_message"]})
