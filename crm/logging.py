"""Structured JSON logs: every line carries the request id, the brokerage and the user id,
and never a secret or a lead's personal data."""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("log_context", default=None)

_REDACTIONS = [
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "<email>"),
    # Not inside a longer token: ids such as Celery's task UUIDs stay readable in the logs.
    (re.compile(r"(?<![\w-])\+?\d[\d\s-]{7,}\d(?![\w-])"), "<number>"),
    (re.compile(r"(?i)(bearer\s+|token[\"'=:\s]+|secret[\"'=:\s]+|password[\"'=:\s]+|key[\"'=:\s]+)[^\s,\"']+"),
     r"\1<redacted>"),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def bind_log_context(**values) -> None:
    _context.set({**(_context.get() or {}), **values})


def reset_log_context(**values) -> contextvars.Token:
    """Only `values` from now on; `restore_log_context(token)` brings back what was there before (a
    task run inside a request hands the request its own context back)."""
    return _context.set(values)


def restore_log_context(token: contextvars.Token) -> None:
    _context.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    FIELDS = ("request_id", "broker", "user_id", "task_id")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for field in self.FIELDS:
            entry[field] = getattr(record, field, None)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class RequestContextMiddleware:
    """Gives each request an id (or keeps the caller's X-Request-ID) and echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        # Each request runs in its own context copy; the id stays bound for Django's own
        # response logging, which happens after the middleware chain has returned.
        reset_log_context(request_id=request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
