"""The dashboard's WebSocket: `/ws/<broker_id>/<user_id>/`, for the signed-in user of that brokerage only."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from brokers.auth import user_allowed_on_tenant
from crm.realtime.groups import broker_group, user_group


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        tenant, user = self.scope["tenant"], self.scope.get("user")
        route = self.scope["url_route"]["kwargs"]
        allowed = (
            user is not None
            and user.is_authenticated
            and route["broker_id"] == tenant.id
            and route["user_id"] == user.pk
            and await database_sync_to_async(user_allowed_on_tenant)(user, tenant)
        )
        if not allowed:
            await self.close(code=4403)
            return
        self.groups_joined = [broker_group(tenant.id), user_group(tenant.id, user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("event") == "ping":
            await self.send_json({"event": "pong", "data": {}, "ts": None})

    async def dashboard_event(self, message):
        await self.send_json(message["payload"])

    async def dashboard_events(self, message):
        """Events the publisher sent together (it was behind): each one goes out as its own frame."""
        for payload in message["payloads"]:
            await self.send_json(payload)
