"""Encryption at rest for secrets and sensitive lead data.

Keys come from FIELD_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first). Rotation:
put a new key first, keep the old ones after it, run `manage.py rotate_encryption_keys`.
"""

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored value cannot be decrypted with FIELD_ENCRYPTION_KEYS.") from exc


def rotate(token: str) -> str:
    return _fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python code only ever sees plaintext."""

    def from_db_value(self, value: Any, expression, connection) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


def mask_secret(value: str | None) -> str:
    """What the UI shows of a stored credential: enough to recognise it, never enough to use it."""
    if not value:
        return ""
    return f"••••{value[-4:]}" if len(value) > 8 else "••••"
