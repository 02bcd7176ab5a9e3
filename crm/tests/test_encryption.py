import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from brokers.models import BrokerChatConfig
from crm import encryption


@pytest.fixture
def keys(settings):
    def use(*keys):
        settings.FIELD_ENCRYPTION_KEYS = list(keys)
        encryption._fernet.cache_clear()

    yield use
    encryption._fernet.cache_clear()


def raw_token(broker) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT telegram_bot_token FROM brokers_brokerchatconfig WHERE broker_id = %s", [broker.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_rotation_re_encrypts_with_the_new_key_and_old_key_can_be_dropped(broker_a, keys, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    config = BrokerChatConfig.objects.get(broker=broker_a)
    config.telegram_bot_token = "bot-secret"
    config.save()

    keys(new, old)
    call_command("rotate_encryption_keys")
    keys(new)

    assert "bot-secret" not in raw_token(broker_a)
    assert BrokerChatConfig.objects.get(broker=broker_a).telegram_bot_token == "bot-secret"
