"""Prompt caching: the system prompt's stable part comes first and is byte-identical between a
brokerage's turns (providers cache a repeated prefix), and the cached tokens they report are recorded."""

import os

import pytest

from brokers.models import LLMCall
from conversations.tests.test_flow import whatsapp_turn
from crm.tests.stubs import GeminiStub, OpenAIStub, Reply


def _system_prompt(provider: str, request) -> str:
    if provider == "openai":
        return request.json["messages"][0]["content"]
    return "".join(part["text"] for part in request.json["systemInstruction"]["parts"])


@pytest.mark.django_db
@pytest.mark.parametrize(("provider", "stub_class"), [("openai", OpenAIStub), ("gemini", GeminiStub)])
def test_two_turns_send_the_same_prompt_prefix_and_cached_tokens_are_recorded(
        alfa_channels, broker_a, whatsapp_stub, eager_tasks, settings, page_client,
        django_capture_on_commit_callbacks, provider, stub_class):
    with stub_class() as stub:
        settings.LLM_PROVIDER = provider
        if provider == "openai":
            settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "sk-test", stub.base_url
        else:
            settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL = "gm-test", stub.base_url
        stub.reply = Reply(text="¡Genial! Cuéntame más.", input_tokens=1200, output_tokens=20, cached_tokens=1024)
        client = page_client("localhost")
        for index, text in enumerate(["Hola, busco depto", "me llamo Juan Pérez, en Ñuñoa"]):
            with django_capture_on_commit_callbacks(execute=True):
                assert whatsapp_turn(client, f"wamid.CACHE{provider}{index}", text).status_code == 200
        chats = [r for r in stub.requests if "embed" not in r.path.lower()]
        first, second = (_system_prompt(provider, r) for r in chats[-2:])

    prefix = os.path.commonprefix([first, second])
    stable = first.split("Datos del cliente:")[0]
    assert len(stable) > 200 and prefix.startswith(stable)  # the stable part, whole, is shared
    assert "Juan Pérez" in second and "Juan Pérez" not in prefix  # the lead's data comes after it
    calls = list(LLMCall.objects.filter(broker=broker_a, provider=provider).order_by("id"))
    assert [(c.input_tokens, c.cached_tokens) for c in calls] == [(1200, 1024)] * 2
