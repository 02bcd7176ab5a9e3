"""The one application error type. Services raise it; the API and pages turn it into answers."""

from typing import Any


class ApplicationError(Exception):
    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid", details: dict[str, Any] | None = None,
                 status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details or {}
        if status_code is not None:
            self.status_code = status_code
