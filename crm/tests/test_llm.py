"""The LLM facade against stub OpenAI and Gemini servers, through the real SDKs."""

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from brokers.models import LLMCall
from crm.llm import llm_awaited_attempts, llm_complete
from crm.llm.breakers import breaker_for
from crm.llm.pricing import llm_cost_usd
from crm.llm.providers.offline import FIXED_REPLY
from crm.llm.types import LLMResult
from crm.tests.stubs import GeminiStub, OpenAIStub, Reply

pytestmark = pytest.mark.django_db

MESSAGES = [
    {"role": "system", "content": "Eres el asistente de la corredora."},
    {"role": "user", "content": "Hola, busco depto en Ñuñoa"},
    {"role": "assistant", "content": "¡Hola! ¿Cuál es tu presupuesto?"},
    {"role": "user", "content": "Unas 3.500 UF"},
]
LEAD_SCHEMA = {
    "title": "lead_fields",
    "type": "object",
    "properties": {"location": {"type": ["string", "null"]}, "bedrooms": {"type": ["integer", "null"]}},
    "required": ["location", "bedrooms"],
    "additionalProperties": False,
}
BOOK_VISIT = {
    "name": "book_visit",
    "description": "Agenda una visita a la propiedad en el horario elegido.",
    "parameters": {"type": "object", "properties": {"slot_id": {"type": "integer"}}, "required": ["slot_id"]},
}


@pytest.fixture(autouse=True)
def llm_settings(settings):
    """No keys (nothing can leave the machine), fast timeouts, small breakers, closed at the start."""
    settings.LLM_PROVIDER = "openai"
    settings.LLM_FALLBACK_PROVIDER = ""
    settings.LLM_OFFLINE_PROVIDER = "crm.llm.providers.offline.FixedReplyProvider"
    settings.OPENAI_API_KEY = ""
    settings.GEMINI_API_KEY = ""
    settings.OPENAI_BASE_URL = settings.GEMINI_BASE_URL = "http://127.0.0.1:9"  # discard port, never used
    settings.LLM_TIMEOUT_SECONDS = 2.0
    settings.LLM_MAX_RETRIES = 0
    settings.LLM_BREAKER_FAIL_MAX = 3
    settings.LLM_BREAKER_RESET_SECONDS = 60
    settings.LLM_TEMPERATURES = {"qualify": 0.3, "chat": 0.7, "json": 0.1}
    for name in ("openai", "gemini"):
        breaker_for(name).close()
    return settings


@pytest.fixture
def openai_stub(settings):
    with OpenAIStub() as stub:
        settings.OPENAI_API_KEY = "sk-test-secret"
        settings.OPENAI_BASE_URL = stub.base_url
        yield stub


@pytest.fixture
def gemini_stub(settings):
    with GeminiStub() as stub:
        settings.GEMINI_API_KEY = "gemini-test-secret"
        settings.GEMINI_BASE_URL = stub.base_url
        yield stub


def ask(broker, call_type="chat", **kwargs) -> LLMResult:
    return llm_complete(broker=broker, messages=MESSAGES, call_type=call_type, lead_id=42, **kwargs)


# --- OpenAI ---------------------------------------------------------------------------------


def test_openai_text_tokens_cost_and_record(broker_a, openai_stub):
    openai_stub.reply = Reply(
        text="¿Cuántos dormitorios necesitas?", input_tokens=1000, output_tokens=200, cached_tokens=400
    )

    result = ask(broker_a)

    assert (result.text, result.provider, result.model) == ("¿Cuántos dormitorios necesitas?", "openai", "gpt-4o-mini")
    assert (result.input_tokens, result.output_tokens, result.cached_tokens) == (1000, 200, 400)
    assert result.fallback_used is False and result.parsed is None and result.tool_calls == []
    # 600 × 0.15 + 400 × 0.075 + 200 × 0.60 per million
    assert result.cost_usd == Decimal("0.00024000")
    request = openai_stub.requests[-1]
    assert openai_stub.paths() == ["/v1/chat/completions"]
    assert request.headers["authorization"] == "Bearer sk-test-secret"
    assert request.json["model"] == "gpt-4o-mini" and request.json["messages"] == MESSAGES
    assert "response_format" not in request.json and "tools" not in request.json
    call = LLMCall.objects.get()
    assert (call.broker_id, call.lead_id, call.provider, call.model, call.call_type) == (
        broker_a.id,
        42,
        "openai",
        "gpt-4o-mini",
        "chat",
    )
    assert (call.input_tokens, call.output_tokens, call.cached_tokens) == (1000, 200, 400)
    assert call.cost_usd == Decimal("0.00024000") and call.error == "" and call.fallback_used is False
    assert call.latency_ms == result.latency_ms


def test_openai_json_schema_on_the_wire_and_parsed(broker_a, openai_stub):
    openai_stub.reply = Reply(text='{"location": "Ñuñoa", "bedrooms": 2}')

    result = ask(broker_a, call_type="json", json_schema=LEAD_SCHEMA)

    assert result.parsed == {"location": "Ñuñoa", "bedrooms": 2}
    assert openai_stub.requests[-1].json["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "lead_fields", "schema": LEAD_SCHEMA, "strict": False},
    }


def test_openai_tool_calls(broker_a, openai_stub):
    openai_stub.reply = Reply(text=None, tool_calls=[("book_visit", {"slot_id": 7})])

    result = ask(broker_a, tools=[BOOK_VISIT])

    assert result.tool_calls == [{"name": "book_visit", "arguments": {"slot_id": 7}}]
    assert result.text == ""
    assert openai_stub.requests[-1].json["tools"] == [{"type": "function", "function": BOOK_VISIT}]


def test_openai_compatible_dated_model_is_priced_as_its_family(broker_a, openai_stub, settings):
    settings.OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
    openai_stub.reply = Reply(input_tokens=1_000_000, output_tokens=0)

    assert ask(broker_a).cost_usd == Decimal("0.15")


# --- Gemini ---------------------------------------------------------------------------------


def test_gemini_text_tokens_and_message_roles(broker_a, gemini_stub, settings):
    settings.LLM_PROVIDER = "gemini"
    gemini_stub.reply = Reply(text="¿En qué comuna?", input_tokens=2000, output_tokens=100, cached_tokens=1000)

    result = ask(broker_a)

    assert (result.text, result.provider, result.model) == ("¿En qué comuna?", "gemini", "gemini-2.5-flash")
    assert (result.input_tokens, result.output_tokens, result.cached_tokens) == (2000, 100, 1000)
    # 1000 × 0.30 + 1000 × 0.03 + 100 × 2.50 per million
    assert result.cost_usd == Decimal("0.00058000")
    request = gemini_stub.requests[-1]
    assert gemini_stub.paths() == ["/v1/models/gemini-2.5-flash:generateContent"]
    assert request.headers["x-goog-api-key"] == "gemini-test-secret"
    assert request.json["systemInstruction"]["parts"] == [{"text": "Eres el asistente de la corredora."}]
    assert [(c["role"], c["parts"][0]["text"]) for c in request.json["contents"]] == [
        ("user", "Hola, busco depto en Ñuñoa"),
        ("model", "¡Hola! ¿Cuál es tu presupuesto?"),
        ("user", "Unas 3.500 UF"),
    ]
    call = LLMCall.objects.get()
    assert (call.provider, call.input_tokens, call.cached_tokens, call.cost_usd) == (
        "gemini",
        2000,
        1000,
        Decimal("0.00058000"),
    )


def test_gemini_thinking_tokens_are_billed_as_output(broker_a, gemini_stub, settings):
    settings.LLM_PROVIDER = "gemini"
    gemini_stub.reply = Reply(input_tokens=0, output_tokens=100, thinking_tokens=300)

    result = ask(broker_a)

    assert result.output_tokens == 400
    assert result.cost_usd == Decimal("0.00100000")  # 400 × 2.50 per million


def test_gemini_json_schema_on_the_wire_and_parsed(broker_a, gemini_stub, settings):
    settings.LLM_PROVIDER = "gemini"
    gemini_stub.reply = Reply(text='{"location": "Providencia", "bedrooms": null}')

    result = ask(broker_a, call_type="json", json_schema=LEAD_SCHEMA)

    assert result.parsed == {"location": "Providencia", "bedrooms": None}
    generation = gemini_stub.requests[-1].json["generationConfig"]
    assert generation["responseMimeType"] == "application/json"
    assert generation["responseJsonSchema"] == LEAD_SCHEMA


def test_gemini_tool_calls(broker_a, gemini_stub, settings):
    settings.LLM_PROVIDER = "gemini"
    gemini_stub.reply = Reply(text=None, tool_calls=[("book_visit", {"slot_id": 7})])

    result = ask(broker_a, tools=[BOOK_VISIT])

    assert result.tool_calls == [{"name": "book_visit", "arguments": {"slot_id": 7}}]
    [declaration] = gemini_stub.requests[-1].json["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "book_visit" and declaration["description"] == BOOK_VISIT["description"]
    # The SDK sends the proto field name; the Gemini API accepts either spelling.
    assert (declaration.get("parametersJsonSchema") or declaration.get("parameters_json_schema")) == (
        BOOK_VISIT["parameters"]
    )


# --- temperatures ---------------------------------------------------------------------------


@pytest.mark.parametrize(("call_type", "temperature"), [("qualify", 0.3), ("chat", 0.7), ("json", 0.1)])
def test_temperature_per_call_type_reaches_both_wires(
    broker_a, openai_stub, gemini_stub, settings, call_type, temperature
):
    ask(broker_a, call_type=call_type)
    settings.LLM_PROVIDER = "gemini"
    ask(broker_a, call_type=call_type)

    assert openai_stub.requests[-1].json["temperature"] == temperature
    assert gemini_stub.requests[-1].json["generationConfig"]["temperature"] == temperature


def test_temperatures_come_from_settings(broker_a, openai_stub, settings):
    settings.LLM_TEMPERATURES = {"qualify": 0.0, "chat": 1.1, "json": 0.2}

    ask(broker_a, call_type="chat")

    assert openai_stub.requests[-1].json["temperature"] == 1.1


def test_unknown_call_type_is_refused(broker_a):
    with pytest.raises(ValueError):
        ask(broker_a, call_type="poem")


# --- breakers and fallback ------------------------------------------------------------------


def test_primary_failing_opens_its_breaker_and_the_fallback_answers(broker_a, openai_stub, gemini_stub, settings):
    settings.LLM_FALLBACK_PROVIDER = "gemini"
    openai_stub.fail(500)
    gemini_stub.reply = Reply(text="Respuesta de Gemini")

    results = [ask(broker_a) for _ in range(5)]

    assert [r.text for r in results] == ["Respuesta de Gemini"] * 5
    assert all(r.provider == "gemini" and r.fallback_used for r in results)
    # No SDK retries, and after 3 failures the breaker stops sending requests to the primary.
    assert len(openai_stub.requests) == 3
    assert breaker_for("openai").current_state == "open"
    assert breaker_for("gemini").current_state == "closed"
    openai_rows = LLMCall.objects.filter(provider="openai").order_by("created_at", "id")
    assert [row.error for row in openai_rows] == ["HTTP 500"] * 3 + ["circuit open"] * 2
    assert all(row.fallback_used is False and row.input_tokens == 0 for row in openai_rows)
    gemini_rows = LLMCall.objects.filter(provider="gemini")
    assert gemini_rows.count() == 5
    assert all(row.fallback_used and row.error == "" and row.cost_usd > 0 for row in gemini_rows)


def test_both_failing_the_offline_provider_answers(broker_a, openai_stub, gemini_stub, settings):
    settings.LLM_FALLBACK_PROVIDER = "gemini"
    openai_stub.fail(500)
    gemini_stub.fail(503)

    result = ask(broker_a, call_type="qualify")

    assert (result.text, result.provider, result.fallback_used) == (FIXED_REPLY, "offline", True)
    rows = list(LLMCall.objects.order_by("id").values_list("provider", "error", "fallback_used", "call_type"))
    assert rows == [
        ("openai", "HTTP 500", False, "qualify"),
        ("gemini", "HTTP 503", True, "qualify"),
        ("offline", "", True, "qualify"),
    ]

    for _ in range(3):
        assert ask(broker_a).provider == "offline"
    assert breaker_for("openai").current_state == "open"
    assert breaker_for("gemini").current_state == "open"
    assert (len(openai_stub.requests), len(gemini_stub.requests)) == (3, 3)


def test_a_hanging_primary_times_out_and_the_fallback_answers(broker_a, openai_stub, gemini_stub, settings):
    settings.LLM_FALLBACK_PROVIDER = "gemini"
    settings.LLM_TIMEOUT_SECONDS = 0.5
    openai_stub.hang(10)

    result = ask(broker_a)

    assert result.provider == "gemini"
    assert len(openai_stub.requests) == 1
    failed = LLMCall.objects.get(provider="openai")
    assert failed.error == "timeout" and 400 <= failed.latency_ms < 2000


def test_a_hanging_gemini_times_out_too(broker_a, gemini_stub, settings):
    settings.LLM_PROVIDER = "gemini"
    settings.LLM_TIMEOUT_SECONDS = 0.5
    gemini_stub.hang(10)

    assert ask(broker_a).provider == "offline"
    assert len(gemini_stub.requests) == 1
    assert LLMCall.objects.get(provider="gemini").error == "timeout"


def test_breakers_are_separate_objects(broker_a, openai_stub, gemini_stub, settings):
    assert breaker_for("openai") is not breaker_for("gemini")
    assert breaker_for("openai") is breaker_for("openai")
    settings.LLM_FALLBACK_PROVIDER = "gemini"
    openai_stub.fail(500)
    gemini_stub.fail(500)
    ask(broker_a)  # one failure each
    gemini_stub.reply = Reply(text="Gemini volvió")
    for _ in range(2):
        ask(broker_a)

    assert breaker_for("openai").current_state == "open"
    assert breaker_for("gemini").current_state == "closed"
    assert breaker_for("gemini").fail_counter == 0


def test_the_breaker_lets_a_trial_request_through_after_the_reset_timeout(broker_a, openai_stub, settings):
    settings.LLM_BREAKER_RESET_SECONDS = 0
    openai_stub.fail(500)
    for _ in range(3):
        ask(broker_a)
    assert breaker_for("openai").current_state == "open"
    openai_stub.reply = Reply(text="De vuelta")

    assert ask(broker_a).text == "De vuelta"
    assert breaker_for("openai").current_state == "closed"


def test_invalid_json_from_the_primary_falls_back(broker_a, openai_stub, gemini_stub, settings):
    settings.LLM_FALLBACK_PROVIDER = "gemini"
    openai_stub.push(Reply(text="Claro, vive en Ñuñoa"), Reply(text='{"location": 5}'))
    gemini_stub.reply = Reply(text='{"location": "Ñuñoa", "bedrooms": 3}')

    first = ask(broker_a, call_type="json", json_schema=LEAD_SCHEMA)
    second = ask(broker_a, call_type="json", json_schema=LEAD_SCHEMA)

    assert first.parsed == second.parsed == {"location": "Ñuñoa", "bedrooms": 3}
    assert list(LLMCall.objects.filter(provider="openai").order_by("id").values_list("error", flat=True)) == [
        "invalid JSON output",
        "JSON output does not match the schema",
    ]


@pytest.mark.parametrize("primary", ["openai", "gemini"])
def test_an_unreachable_provider_fails_fast_and_offline_answers(broker_a, settings, primary):
    settings.LLM_PROVIDER = primary
    settings.OPENAI_API_KEY = settings.GEMINI_API_KEY = "key-for-a-closed-port"  # base URLs: 127.0.0.1:9

    result = ask(broker_a)

    assert result.provider == "offline"
    failed = LLMCall.objects.get(provider=primary)
    assert failed.error == "connection error" and failed.latency_ms < 1000


def test_an_empty_answer_falls_back(broker_a, openai_stub):
    openai_stub.reply = Reply(text="")

    assert ask(broker_a).provider == "offline"
    assert LLMCall.objects.get(provider="openai").error == "empty response"


# --- offline --------------------------------------------------------------------------------


def test_no_key_configured_the_offline_provider_answers(broker_a, openai_stub, settings):
    settings.OPENAI_API_KEY = ""

    result = ask(broker_a)

    assert (result.text, result.provider, result.fallback_used) == (FIXED_REPLY, "offline", False)
    assert openai_stub.requests == []
    call = LLMCall.objects.get()
    assert (call.provider, call.model, call.fallback_used, call.cost_usd, call.error) == (
        "offline",
        "fixed-reply",
        False,
        0,
        "",
    )


def test_offline_as_primary(broker_a, settings):
    settings.LLM_PROVIDER = "offline"

    assert ask(broker_a).provider == "offline"


class EchoOfflineProvider:
    """A stand-in for the rule-based assistant, plugged in through LLM_OFFLINE_PROVIDER."""

    name = "offline"
    model = "echo"

    def complete(self, *, messages, call_type, temperature, json_schema=None, tools=None, context=None):
        return LLMResult(
            text=f"{messages[-1]['content']} / {context['next_field']}",
            provider=self.name,
            model=self.model,
            parsed={} if json_schema else None,
        )


class BrokenOfflineProvider(EchoOfflineProvider):
    def complete(self, **kwargs):
        raise RuntimeError("bug")


def test_the_offline_provider_is_plugged_in_by_dotted_path(broker_a, settings):
    settings.LLM_OFFLINE_PROVIDER = "crm.tests.test_llm.EchoOfflineProvider"

    result = ask(broker_a, context={"next_field": "monthly_income"})

    assert (result.text, result.model) == ("Unas 3.500 UF / monthly_income", "echo")


def test_a_failing_offline_provider_leaves_the_fixed_reply(broker_a, settings):
    settings.LLM_OFFLINE_PROVIDER = "crm.tests.test_llm.BrokenOfflineProvider"

    result = ask(broker_a)

    assert (result.text, result.fallback_used) == (FIXED_REPLY, True)
    assert list(LLMCall.objects.order_by("id").values_list("model", "error")) == [
        ("echo", "RuntimeError"),
        ("fixed-reply", ""),
    ]


def test_an_offline_provider_that_does_not_load_leaves_the_fixed_reply(broker_a, settings):
    settings.LLM_OFFLINE_PROVIDER = "crm.tests.test_llm.Missing"

    assert ask(broker_a).text == FIXED_REPLY


# --- recording ------------------------------------------------------------------------------


def test_records_are_written_in_the_callers_transaction(broker_a, openai_stub):
    with pytest.raises(RuntimeError), transaction.atomic():
        ask(broker_a)
        assert LLMCall.objects.count() == 1  # written before the call returned
        raise RuntimeError("the caller's work failed")

    assert LLMCall.objects.count() == 0


def test_recorded_from_a_brokerage_schema_into_the_public_one(broker_a, openai_stub):
    with schema_context(broker_a.schema_name):
        ask(broker_a)

    assert LLMCall.objects.get().broker == broker_a


def test_errors_hold_no_secrets_and_no_message_content(broker_a, openai_stub, gemini_stub, settings):
    settings.LLM_FALLBACK_PROVIDER = "gemini"
    openai_stub.fail(401)
    gemini_stub.fail(400)

    ask(broker_a)

    errors = " ".join(LLMCall.objects.order_by("id").values_list("error", flat=True))
    assert errors.strip() == "HTTP 401 HTTP 400"
    for secret_or_content in ("sk-test", "gemini-test", "Ñuñoa", "UF"):
        assert secret_or_content not in errors


def test_cost_from_the_price_table(settings):
    settings.LLM_PRICES = {"m": {"input": 1, "cached_input": 0.5, "output": 4}, "m-large": {"input": 10, "output": 10}}

    assert llm_cost_usd(model="m", input_tokens=1000, cached_tokens=500, output_tokens=100) == Decimal("0.00115")
    assert llm_cost_usd(model="m-large-001", input_tokens=100, cached_tokens=100, output_tokens=0) == Decimal("0.001")
    assert llm_cost_usd(model="unknown", input_tokens=10**6, cached_tokens=0, output_tokens=10**6) == 0


def test_admin_lists_llm_calls_read_only(broker_a, superadmin, openai_stub, page_client, settings):
    ask(broker_a)
    client = page_client(settings.BASE_DOMAIN, superadmin)

    listing = client.get(
        "/admin/brokers/llmcall/", {"provider": "openai", "call_type": "chat", "broker__id__exact": broker_a.id}
    )
    assert listing.status_code == 200
    assert "gpt-4o-mini" in listing.content.decode()
    assert client.get("/admin/brokers/llmcall/add/").status_code == 403
    call = LLMCall.objects.get()
    assert client.post(f"/admin/brokers/llmcall/{call.pk}/delete/").status_code == 403


def test_calls_through_one_breaker_run_side_by_side():
    """A slow provider call must not make every other thread's call wait for it: four calls meet at
    a barrier, which only works if all four are inside the breaker at the same time."""
    import threading

    from crm.llm.breakers import ConcurrentCircuitBreaker

    breaker = ConcurrentCircuitBreaker(name="llm-concurrency-test")
    barrier = threading.Barrier(4, timeout=10)
    failures = []

    def guarded_call():
        try:
            breaker.call(barrier.wait)
        except threading.BrokenBarrierError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=guarded_call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert breaker.current_state == "closed"


# --- the first attempt awaited on an event loop (the worker's turns) -------------------------


def ask_on_a_loop(broker, **kwargs) -> LLMResult:
    """As a worker's turn asks: the network providers awaited on an event loop, the rest here."""
    attempts = asyncio.run(llm_awaited_attempts(messages=MESSAGES, call_type="chat", **kwargs))
    return llm_complete(broker=broker, messages=MESSAGES, call_type="chat", lead_id=42, awaited=attempts, **kwargs)


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_a_call_awaited_on_a_loop_sends_and_records_what_a_direct_call_does(
        provider, broker_a, openai_stub, gemini_stub, settings):
    settings.LLM_PROVIDER = provider
    stub = openai_stub if provider == "openai" else gemini_stub
    stub.reply = Reply(tool_calls=[("book_visit", {"slot_id": 7})], text="Te agendo.")

    direct = ask(broker_a, tools=[BOOK_VISIT])
    awaited = ask_on_a_loop(broker_a, tools=[BOOK_VISIT])

    assert [request.json for request in stub.requests] == [stub.requests[0].json] * 2
    assert replace(awaited, latency_ms=0) == replace(direct, latency_ms=0)
    assert awaited.tool_calls == [{"name": "book_visit", "arguments": {"slot_id": 7}}]
    rows = list(LLMCall.objects.order_by("id").values_list("provider", "lead_id", "fallback_used", "error"))
    assert rows == [(provider, 42, False, "")] * 2


def test_a_failure_awaited_on_a_loop_counts_on_the_breaker_and_the_fallback_is_awaited_too(
        broker_a, openai_stub, gemini_stub, settings, monkeypatch):
    settings.LLM_FALLBACK_PROVIDER = "gemini"
    openai_stub.fail(500)
    gemini_stub.reply = Reply(text="Respuesta de Gemini")
    monkeypatch.setattr("crm.llm.providers.gemini_provider.GeminiProvider.complete", None)  # never on the thread

    results = [ask_on_a_loop(broker_a) for _ in range(4)]

    assert [(r.text, r.provider, r.fallback_used) for r in results] == [("Respuesta de Gemini", "gemini", True)] * 4
    assert len(openai_stub.requests) == 3 and breaker_for("openai").current_state == "open"
    assert len(gemini_stub.requests) == 4
    assert list(LLMCall.objects.filter(provider="openai").order_by("id").values_list("error", flat=True)) == [
        "HTTP 500"] * 3 + ["circuit open"]


def test_when_every_network_provider_fails_on_the_loop_the_offline_provider_answers_here(
        broker_a, openai_stub, gemini_stub, settings):
    settings.LLM_FALLBACK_PROVIDER = "gemini"
    openai_stub.fail(500)
    gemini_stub.fail(503)

    result = ask_on_a_loop(broker_a)

    assert (result.text, result.provider, result.fallback_used) == (FIXED_REPLY, "offline", True)
    assert list(LLMCall.objects.order_by("id").values_list("provider", "error")) == [
        ("openai", "HTTP 500"), ("gemini", "HTTP 503"), ("offline", "")]


def test_the_offline_provider_is_never_awaited_on_a_loop(settings):
    settings.LLM_PROVIDER = "offline"
    assert llm_awaited_attempts(messages=MESSAGES, call_type="chat") is None
