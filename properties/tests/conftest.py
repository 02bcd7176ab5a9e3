from conversations.tests.conftest import alfa_channels, eager_tasks, offline_llm, telegram_stub  # noqa: F401
