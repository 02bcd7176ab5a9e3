"""The process's HTTP client for the outside services called without an SDK (Telegram, the WhatsApp
Cloud API, Google Calendar).

One pooled client, shared by every thread: a client per call builds a new TLS context each time
(loading the CA bundle, tens of milliseconds of CPU, the worker's largest cost per reply) and never
reuses a connection. Callers pass their own timeout per request.
"""

from functools import lru_cache

import httpx2 as httpx

MAX_CONNECTIONS = 100  # the worker's thread count, and then some
MAX_KEEPALIVE = 20


@lru_cache(maxsize=1)
def http_client() -> httpx.Client:
    return httpx.Client(limits=httpx.Limits(max_connections=MAX_CONNECTIONS,
                                            max_keepalive_connections=MAX_KEEPALIVE))
