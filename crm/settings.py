"""Django settings for Corredora CRM.

Every value that differs between machines comes from the environment (django-environ).
`make run` / `make test` export DATABASE_URL and REDIS_URL for the embedded services.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-insecure-key-change-me" if DEBUG else environ.Env.NOTSET)
BASE_DOMAIN = env("BASE_DOMAIN", default="localhost")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_PORT = env("PUBLIC_PORT", default="8000")  # only used to build links shown to people

# --- apps -----------------------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "brokers",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "crm",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "leads",
    "pipeline",
    "conversations",
    "knowledge",
    "appointments",
    "properties",
    "campaigns",
    "templates",
    "voice",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "brokers.Broker"
TENANT_DOMAIN_MODEL = "brokers.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "crm.urls_public"
ROOT_URLCONF = "crm.urls_tenant"
TENANT_LIMIT_SET_CALLS = True
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
AUTH_USER_MODEL = "brokers.User"
AUTHENTICATION_BACKENDS = ["brokers.auth.HostBoundBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

MIDDLEWARE = [
    "crm.logging.RequestContextMiddleware",
    "brokers.middleware.TenantByHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "brokers.middleware.HostBoundUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "crm" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "crm.context_processors.platform",
            ],
        },
    }
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "crm.asgi.application"

# --- data -----------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@localhost:5432/crm")}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Under ASGI each request runs in a thread of its own, so persistent per-thread connections would
# pile up; a process-wide psycopg pool (Django's "pool" option) hands each request or task a ready
# connection instead of a new PostgreSQL backend per request (several ms each). Django closes a
# connection after each request and task: with the pool that puts it back. DB_POOL_MAX_SIZE=0
# turns the pool off (one connection per request, as with a pooler such as PgBouncer in front).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool requires it
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=10)
if DB_POOL_MAX_SIZE > 0:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(env.int("DB_POOL_MIN_SIZE", default=2), DB_POOL_MAX_SIZE), "max_size": DB_POOL_MAX_SIZE,
        "timeout": env.float("DB_POOL_TIMEOUT_SECONDS", default=10.0),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="crm"),
        # Every cache key starts with the schema of the brokerage in use (tenancy wall).
        "KEY_FUNCTION": "django_tenants.cache.make_key",
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (links and redirects then use https).
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # No read timeout: channels_redis waits for a dashboard event with a 5 s blocking pop, and
            # redis-py's default 5 s timeout ended an idle socket's wait with TimeoutError (the socket
            # closed). And any timeout goes through asyncio.wait_for, which on Python 3.11 can swallow
            # a cancellation: a socket closed while its Redis connection opened left a task popping
            # for ever. Keepalive notices a Redis that went away.
            "hosts": [{"address": REDIS_URL, "socket_timeout": None, "socket_keepalive": True}],
            "prefix": env("CHANNELS_PREFIX", default="crm-asgi"),
        },
    }
}

# --- celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL)
# One result backend per process, not per thread: under ASGI every request has a thread of its own,
# and each task publish built a new Redis backend there (~10% of a webhook's CPU).
CELERY_RESULT_BACKEND_THREAD_SAFE = True
# tenant-schemas-celery reads the brokerage row before every task; like the host memo, remember it 30 s.
CELERY_TASK_TENANT_CACHE_SECONDS = env.int("CELERY_TENANT_CACHE_SECONDS", default=30)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "America/Santiago"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = False
WORKER_HEARTBEAT_KEY = "crm:worker-heartbeat"

# --- auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
)
LOGIN_THROTTLE = {
    "per_account": env.int("LOGIN_THROTTLE_ACCOUNT", default=5),
    "per_ip": env.int("LOGIN_THROTTLE_IP", default=20),
    "window_seconds": env.int("LOGIN_THROTTLE_WINDOW", default=900),
}

# --- API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "brokers.auth.BrokerJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["brokers.permissions.IsBrokerUser"],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "crm.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"webchat": env("WEBCHAT_RATE", default="30/min")},
}
# Long lists (leads) count at most this many rows; past it they say "more than" (crm/api/pagination.py).
LIST_COUNT_CAP = env.int("LIST_COUNT_CAP", default=1_000)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=30)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Corredora CRM API",
    "DESCRIPTION": "API de Corredora CRM: leads, pipeline, conversaciones y configuración de la corredora.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

# --- channels ----------------------------------------------------------------------------
TELEGRAM_API_BASE = env("TELEGRAM_API_BASE", default="https://api.telegram.org")
WHATSAPP_API_BASE = env("WHATSAPP_API_BASE", default="https://graph.facebook.com/v21.0")
CHANNEL_HTTP_TIMEOUT = env.float("CHANNEL_HTTP_TIMEOUT", default=10.0)
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=256 * 1024)
WEBHOOK_THREADS = env.int("WEBHOOK_THREADS", default=4)  # per server process: deliveries stored side by side
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="")  # https://corredora.example, for setWebhook

# --- Google Calendar (optional, per agent) ---------------------------------------------
# Without a client id and secret the integration is "no configurado": no connect button anywhere.
# Every URL is configurable so tests talk to a stub on 127.0.0.1. The OAuth redirect URI to register
# is https://<brokerage host>/agenda/google/callback/ (one per brokerage host).
GOOGLE_OAUTH_CLIENT_ID = env("GOOGLE_OAUTH_CLIENT_ID", default="")
GOOGLE_OAUTH_CLIENT_SECRET = env("GOOGLE_OAUTH_CLIENT_SECRET", default="")
GOOGLE_OAUTH_AUTH_URL = env("GOOGLE_OAUTH_AUTH_URL", default="https://accounts.google.com/o/oauth2/v2/auth")
GOOGLE_OAUTH_TOKEN_URL = env("GOOGLE_OAUTH_TOKEN_URL", default="https://oauth2.googleapis.com/token")
GOOGLE_OAUTH_REVOKE_URL = env("GOOGLE_OAUTH_REVOKE_URL", default="https://oauth2.googleapis.com/revoke")
GOOGLE_CALENDAR_API_BASE = env("GOOGLE_CALENDAR_API_BASE", default="https://www.googleapis.com/calendar/v3")
GOOGLE_HTTP_TIMEOUT = env.float("GOOGLE_HTTP_TIMEOUT", default=10.0)
# Busy times are read with freeBusy.query (beat, every 5 minutes: crm/celery.py) this many days ahead.
GOOGLE_BUSY_SYNC_DAYS = env.int("GOOGLE_BUSY_SYNC_DAYS", default=60)
# Pushing an event: retries with exponential back-off from this base, then a visible sync error.
GOOGLE_PUSH_MAX_RETRIES = env.int("GOOGLE_PUSH_MAX_RETRIES", default=5)
GOOGLE_PUSH_RETRY_BASE_SECONDS = env.float("GOOGLE_PUSH_RETRY_BASE_SECONDS", default=30.0)

# --- i18n -------------------------------------------------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [("es", "Español (Chile)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["crm.formats"]
USE_I18N = True
TIME_ZONE = "America/Santiago"
USE_TZ = True
# Off: ids and other plain integers must never render as "1.234" (links, data attributes). Money
# and counts are grouped explicitly by the `money` and `intcomma` filters.
USE_THOUSAND_SEPARATOR = False
UF_VALUE_CLP = env.float("UF_VALUE_CLP", default=39500.0)

# --- static -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- security ---------------------------------------------------------------------------
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)

# --- logging ----------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "crm.logging.ContextFilter"}},
    "formatters": {"json": {"()": "crm.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
    },
}

# --- LLM --------------------------------------------------------------------------------
# crm.llm.llm_complete tries LLM_PROVIDER, then LLM_FALLBACK_PROVIDER, then the offline
# provider; a provider without an API key is skipped, so with no keys the offline assistant
# answers. Each network provider has its own circuit breaker. Every attempt is an LLMCall.
LLM_PROVIDER = env("LLM_PROVIDER", default="openai")  # openai | gemini | offline
LLM_FALLBACK_PROVIDER = env("LLM_FALLBACK_PROVIDER", default="")  # openai | gemini | "" (none)
if not {LLM_PROVIDER, LLM_FALLBACK_PROVIDER} <= {"openai", "gemini", "offline", ""}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("LLM_PROVIDER and LLM_FALLBACK_PROVIDER take openai, gemini or offline")
# Dotted path to the offline provider's class (crm.llm.types.LLMProvider).
LLM_OFFLINE_PROVIDER = env("LLM_OFFLINE_PROVIDER", default="conversations.offline.OfflineAssistant")
LLM_TEMPERATURES = {"qualify": 0.3, "chat": 0.7, "json": 0.1, **env.json("LLM_TEMPERATURES", default={})}
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=20.0)
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=0)  # SDK retries; the breaker and fallback handle failure
LLM_BREAKER_FAIL_MAX = env.int("LLM_BREAKER_FAIL_MAX", default=5)
LLM_BREAKER_RESET_SECONDS = env.float("LLM_BREAKER_RESET_SECONDS", default=60.0)
# In a Celery worker, a turn's LLM call waits on one event loop (crm.llm.waiting) and the turn ends
# on one of LLM_CONTINUATION_THREADS threads, instead of a worker thread waiting for each call.
LLM_WAIT_LOOP = env.bool("LLM_WAIT_LOOP", default=True)
LLM_CONTINUATION_THREADS = env.int("LLM_CONTINUATION_THREADS", default=4)
LLM_DRAIN_SECONDS = env.float("LLM_DRAIN_SECONDS", default=30.0)  # a warm shutdown waits this long for them
# USD per million tokens; a dated snapshot ("gpt-4o-mini-2024-07-18") uses its model's prices.
LLM_PRICES = env.json("LLM_PRICES", default={
    "gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.60},
    "gpt-4o": {"input": 2.50, "cached_input": 1.25, "output": 10.00},
    "gemini-2.5-flash": {"input": 0.30, "cached_input": 0.03, "output": 2.50},
    "gemini-2.5-flash-lite": {"input": 0.10, "cached_input": 0.01, "output": 0.40},
    "text-embedding-3-small": {"input": 0.02, "output": 0},
    "text-embedding-3-large": {"input": 0.13, "output": 0},
})
# Shows USD costs (the semantic cache's savings) in CLP too.
LLM_USD_CLP = env.float("LLM_USD_CLP", default=950.0)
OPENAI_API_KEY = env("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env("OPENAI_BASE_URL", default="https://api.openai.com/v1")
OPENAI_MODEL = env("OPENAI_MODEL", default="gpt-4o-mini")
GEMINI_API_KEY = env("GEMINI_API_KEY", default="")
GEMINI_BASE_URL = env("GEMINI_BASE_URL", default="https://generativelanguage.googleapis.com/")
GEMINI_MODEL = env("GEMINI_MODEL", default="gemini-2.5-flash")

# --- knowledge base -----------------------------------------------------------------------
# Embeddings: offline (default, no network: USE multilingual v3 from its wheel), openai or gemini
# (their SDKs, with the OPENAI_*/GEMINI_* base URLs and keys above). Vectors carry their model;
# changing the provider re-embeds (knowledge.services.kb_reembed_stale).
KNOWLEDGE_EMBEDDING_PROVIDER = env("KNOWLEDGE_EMBEDDING_PROVIDER", default="offline")
if KNOWLEDGE_EMBEDDING_PROVIDER not in ("offline", "openai", "gemini"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("KNOWLEDGE_EMBEDDING_PROVIDER takes offline, openai or gemini")
KNOWLEDGE_OPENAI_MODEL = env("KNOWLEDGE_OPENAI_MODEL", default="text-embedding-3-small")
KNOWLEDGE_GEMINI_MODEL = env("KNOWLEDGE_GEMINI_MODEL", default="text-embedding-004")
KNOWLEDGE_CHUNK_CHARS = env.int("KNOWLEDGE_CHUNK_CHARS", default=800)
KNOWLEDGE_CHUNK_OVERLAP_CHARS = env.int("KNOWLEDGE_CHUNK_OVERLAP_CHARS", default=150)
KNOWLEDGE_EMBED_BATCH = env.int("KNOWLEDGE_EMBED_BATCH", default=32)
KNOWLEDGE_UPLOAD_MAX_BYTES = env.int("KNOWLEDGE_UPLOAD_MAX_BYTES", default=2 * 1024 * 1024)
# Passages below this cosine similarity stay out of the prompt. Depends on the model: 0.25 suits
# the offline one (docs/architecture.md, "Knowledge base"); network models score higher.
KNOWLEDGE_SIMILARITY_FLOOR = env.float("KNOWLEDGE_SIMILARITY_FLOOR", default=0.25)
KNOWLEDGE_PASSAGES = env.int("KNOWLEDGE_PASSAGES", default=3)
KNOWLEDGE_HNSW_EF_SEARCH = env.int("KNOWLEDGE_HNSW_EF_SEARCH", default=64)
# Semantic cache: a general question within this cosine similarity of a cached one gets its answer.
KNOWLEDGE_CACHE_SIMILARITY = env.float("KNOWLEDGE_CACHE_SIMILARITY", default=0.92)
KNOWLEDGE_CACHE_TTL_SECONDS = env.int("KNOWLEDGE_CACHE_TTL_SECONDS", default=7 * 24 * 3600)
