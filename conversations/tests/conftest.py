import pytest

from brokers.models import BrokerChatConfig
from conversations.tests.channel_stubs import TelegramStub, WhatsAppStub
from crm.celery import app as celery_app

TG_SECRET = "tg-secret-alfa"
WA_NUMBER = "100000000000011"
WA_SECRET = "app-secret-alfa"


@pytest.fixture
def telegram_stub(settings):
    with TelegramStub() as stub:
        settings.TELEGRAM_API_BASE = stub.url
        yield stub


@pytest.fixture
def whatsapp_stub(settings):
    with WhatsAppStub() as stub:
        settings.WHATSAPP_API_BASE = stub.url
        yield stub


@pytest.fixture
def offline_llm(settings):
    settings.LLM_PROVIDER, settings.LLM_FALLBACK_PROVIDER = "offline", ""
    settings.LLM_OFFLINE_PROVIDER = "conversations.offline.OfflineAssistant"


@pytest.fixture
def eager_tasks():
    """Tasks run inline, inside the test's transaction (the real worker has its own end-to-end test)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def alfa_channels(broker_a):
    """Alfa with a Telegram bot and a WhatsApp number connected."""
    config = BrokerChatConfig.objects.get(broker=broker_a)
    config.telegram_bot_token, config.telegram_secret_token = "123:alfa-bot-token", TG_SECRET
    config.whatsapp_phone_number_id, config.whatsapp_app_secret = WA_NUMBER, WA_SECRET
    config.whatsapp_access_token = "EAAG-alfa-token"
    config.save()
    return config
