"""ASGI middleware: a WebSocket connection belongs to the brokerage its Host header names."""

from channels.db import database_sync_to_async
from django.db import close_old_connections

from brokers.models import Domain


@database_sync_to_async
def tenant_for_host(hostname: str):
    close_old_connections()
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    return domain.tenant if domain is not None else None


class TenantFromHostMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        hostname = headers.get(b"host", b"").decode("latin-1").split(":")[0].lower()
        tenant = await tenant_for_host(hostname)
        if tenant is None or tenant.is_public or not tenant.is_active:
            # Refuse the handshake: no brokerage, no socket.
            await send({"type": "websocket.close", "code": 4404})
            return
        return await self.app({**scope, "tenant": tenant}, receive, send)
