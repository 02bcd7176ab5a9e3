"""ASGI entry point: HTTP through Django (tenant routing by host) except the channel webhooks' POSTs
(conversations.webhook_asgi), WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 — needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from conversations.webhook_asgi import WebhookFastPath  # noqa: E402
from crm.realtime.consumers import DashboardConsumer  # noqa: E402
from crm.realtime.middleware import TenantFromHostMiddleware  # noqa: E402

websocket_urlpatterns = [
    path("ws/<int:broker_id>/<int:user_id>/", DashboardConsumer.as_asgi()),
]

application = ProtocolTypeRouter({
    "http": WebhookFastPath(django_asgi_app),  # channel webhooks skip Django's request handling
    "websocket": AllowedHostsOriginValidator(
        TenantFromHostMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
    ),
})
