"""The channel webhooks' POSTs on the ASGI server, answered without Django's request handling.

Django's ASGI handler runs every sync view in one shared thread, behind the whole middleware chain
(sessions, CSRF, locale, messages...): requests queue for that thread, which caps a webhook at
what one thread can do. Here the POST goes straight to `conversations.intake` (the same code the
Django views call) in a small pool of threads of its own, so deliveries are verified and stored
side by side. Everything else — other paths, other hosts, WhatsApp's GET handshake — is Django's.
"""

import asyncio
import json
import logging
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection

from conversations import intake
from conversations.channels import telegram, whatsapp
from crm.api.errors import error_body
from crm.logging import reset_log_context

logger = logging.getLogger(__name__)

WEBHOOK_PATH = re.compile(r"/webhooks/(?:telegram/(?P<slug>[-a-zA-Z0-9_]+)|(?P<whatsapp>whatsapp))/")


def _accept(slug: str | None, headers: dict[str, str], body: bytes, request_id: str) -> intake.Answer:
    """One delivery in a pool thread, logged under its request id. The thread keeps its database
    connection from one delivery to the next (a request's hand-back to the pool costs a health-check
    round trip on the next checkout); a failure closes it, so the next delivery starts on a fresh one."""
    reset_log_context(request_id=request_id)
    try:
        if slug is not None:
            return intake.telegram_accept(slug=slug, secret=headers.get(telegram.SECRET_HEADER.lower(), ""),
                                          body=body)
        return intake.whatsapp_accept(signature=headers.get(whatsapp.SIGNATURE_HEADER.lower(), ""), body=body)
    except Exception:
        logger.exception("webhook intake failed")
        connection.close()
        return intake.Answer(500, error_body("server_error", "No se pudo guardar la entrega; reintenta."))


async def _body(receive, limit: int) -> bytes:
    """The request body, or its first limit + 1 bytes when it is longer (enough to refuse it)."""
    chunks, size, more = [], 0, True
    while more and size <= limit:
        event = await receive()
        if event["type"] == "http.disconnect":
            break
        chunk = event.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = event.get("more_body", False)
    return b"".join(chunks)[: limit + 1]


class WebhookFastPath:
    """ASGI middleware: `POST /webhooks/telegram/<slug>/` and `POST /webhooks/whatsapp/` on the
    platform host are answered here; every other request goes on to `app`."""

    def __init__(self, app, threads: int | None = None) -> None:
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=threads or settings.WEBHOOK_THREADS,
                                           thread_name_prefix="webhook")

    def _route(self, scope) -> re.Match | None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        match = WEBHOOK_PATH.fullmatch(scope["path"])
        if match is None:
            return None
        host = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"host"), "")
        return match if host.rsplit(":", 1)[0].lower() == settings.BASE_DOMAIN else None

    async def __call__(self, scope, receive, send) -> None:
        match = self._route(scope)
        if match is None:
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        body = await _body(receive, settings.WEBHOOK_MAX_BODY_BYTES)
        request_id = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        answer = await asyncio.get_running_loop().run_in_executor(self.executor, _accept, match["slug"], headers,
                                                                  body, request_id)
        payload = json.dumps(answer.body).encode()
        response_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"x-request-id", request_id.encode("latin-1"))]
        await send({"type": "http.response.start", "status": answer.status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})
