"""Liveness and readiness probes."""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from crm.redis import redis_client

HEARTBEAT_MAX_AGE_SECONDS = 120


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Database, Redis and a recent worker heartbeat; 503 with the failing checks otherwise."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 — any failure means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        heartbeat = redis_client().get(settings.WORKER_HEARTBEAT_KEY)
        checks["redis"] = "ok"
        age = time.time() - float(heartbeat) if heartbeat else None
        checks["worker"] = "ok" if age is not None and age < HEARTBEAT_MAX_AGE_SECONDS else "no recent heartbeat"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {type(exc).__name__}"
        checks["worker"] = "unknown"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)
