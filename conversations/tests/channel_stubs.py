"""Telegram Bot API and WhatsApp Graph API stubs on 127.0.0.1, answering as the real services do."""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler

from crm.tests.stubs import StubServer


class ChannelStub:
    """Records every request (path, headers, JSON) and answers through `respond`; `fail_next` injects errors."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failures: list[tuple[int, dict]] = []
        self._ids = itertools.count(1000)
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
                status, answer = stub.failures.pop(0) if stub.failures else stub.respond(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = StubServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def next_id(self) -> int:
        return next(self._ids)

    def fail_next(self, status: int, body: dict) -> None:
        self.failures.append((status, body))

    def respond(self, path: str, body: dict) -> tuple[int, dict]:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


class TelegramStub(ChannelStub):
    """`POST /bot<token>/sendMessage` and `/bot<token>/setWebhook`."""

    def respond(self, path, body):
        method = path.rsplit("/", 1)[-1]
        if method == "sendMessage":
            return 200, {"ok": True, "result": {"message_id": self.next_id(), "chat": {"id": body["chat_id"]},
                                                "date": 1795860000, "text": body["text"]}}
        if method == "setWebhook":
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def sent_texts(self) -> list[str]:
        return [r["json"]["text"] for r in self.requests if r["path"].endswith("/sendMessage")]


class WhatsAppStub(ChannelStub):
    """`POST /<phone_number_id>/messages` (Graph API, Cloud API)."""

    def respond(self, path, body):
        return 200, {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                     "messages": [{"id": f"wamid.OUT{self.next_id()}"}]}

    def sent_texts(self) -> list[str]:
        return [r["json"]["text"]["body"] for r in self.requests if r["path"].endswith("/messages")]


def telegram_update(update_id: int, text: str, *, chat_id: int = 555001, first_name: str = "Juan",
                    edited: bool = False) -> dict:
    message = {"message_id": update_id + 7, "from": {"id": chat_id, "is_bot": False, "first_name": first_name,
                                                     "language_code": "es"},
               "chat": {"id": chat_id, "first_name": first_name, "type": "private"}, "date": 1795860000,
               "text": text}
    return {"update_id": update_id, ("edited_message" if edited else "message"): message}


def whatsapp_payload(phone_number_id: str, *, messages: list[dict] = (), statuses: list[dict] = (),
                     wa_id: str = "56987654321", name: str = "María") -> dict:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id}}
    if messages:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}


def whatsapp_text(wamid: str, text: str, *, wa_id: str = "56987654321") -> dict:
    return {"from": wa_id, "id": wamid, "timestamp": "1795860000", "type": "text", "text": {"body": text}}
