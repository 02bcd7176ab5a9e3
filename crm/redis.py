"""One shared redis-py client for platform keys that are not tenant data (heartbeats, health)."""

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
