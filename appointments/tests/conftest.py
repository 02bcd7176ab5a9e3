from itertools import count

import pytest

from conversations.tests.conftest import alfa_channels, eager_tasks, offline_llm, telegram_stub  # noqa: F401

_accounts = count(1)


@pytest.fixture
def google(settings, google_stub):
    """The Google stub configured (client id and secret, every URL); a new Google account per test."""
    for name, value in google_stub.settings().items():
        setattr(settings, name, value)
    google_stub.account = f"agente{next(_accounts)}@gmail.com"
    return google_stub
