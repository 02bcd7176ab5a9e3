# Corredora CRM — one image for web (uvicorn, HTTP + WebSockets), Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=crm.settings

WORKDIR /app

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Settings refuse to load without a secret key; these values exist only for this build step.
RUN DJANGO_SECRET_KEY=collectstatic-only \
    DATABASE_URL=postgres://build@127.0.0.1:5432/build \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    python manage.py collectstatic --noinput --verbosity 0

USER app

EXPOSE 8000

# The tenant middleware routes by host: the probe must present the platform host (BASE_DOMAIN).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': os.environ.get('BASE_DOMAIN', 'localhost')}), timeout=4)"]

CMD ["uvicorn", "crm.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--lifespan", "off", "--limit-concurrency", "200"]
