"""Test settings: the real PostgreSQL and Redis of `make test`, with fast hashing and local mail."""

from crm.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or ["Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMta2V5LXh4eHg="]  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = "crm-test"  # noqa: F405
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "crm-test-asgi"  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LOGIN_THROTTLE = {"per_account": 5, "per_ip": 20, "window_seconds": 60}
# Parallel test runs on one machine (several developers' checkouts) each need their own database.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=None)}  # noqa: F405
# Nothing in a test reaches the internet: a channel no test pointed at its stub refuses at once.
TELEGRAM_API_BASE = env("TELEGRAM_API_BASE", default="http://127.0.0.1:9")  # noqa: F405
WHATSAPP_API_BASE = env("WHATSAPP_API_BASE", default="http://127.0.0.1:9")  # noqa: F405
