"""One conversation turn: a stored inbound message becomes an updated, scored, staged lead and a
stored reply. Each step is a small function; `run_turn` strings them together on one thread, and
`run_turn_on_loop` the same with the LLM call awaited on the worker's event loop (`turn_begin` up to
the prompt on the task's thread, `turn_reply` and `turn_end` on a continuation thread).

    load → sanitise → lock the lead → extract and merge fields → (human mode? stop) → hand-off? →
    semantic cache → context → LLM (fallbacks inside the facade) → persist reply and announce
"""

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from redis.lock import Lock

from appointments import chat as visits
from brokers.models import Broker, BrokerChatConfig, BrokerLeadConfig, BrokerPromptConfig
from conversations import assistant, delivery, selectors, services
from conversations.extraction import extract_fields
from conversations.models import Conversation, Message
from crm.errors import ApplicationError
from crm.llm import Attempt, ToolSpec, llm_awaited_attempts, llm_complete
from crm.llm.providers.offline import FIXED_REPLY
from crm.llm.waiting import LLMWaitLoop
from crm.realtime.broadcast import broadcast
from crm.redis import redis_client
from knowledge.selectors import kb_search
from knowledge.semantic_cache import cache_lookup, cache_store
from leads.models import Lead
from leads.scoring import lead_rescore
from leads.services import lead_update
from properties.chat import catalog_request_get

logger = logging.getLogger(__name__)

MAX_INPUT_CHARS = 2000
LOCK_SECONDS = 120
LOCK_WAIT_SECONDS = 5
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_INJECTION = re.compile(
    r"(?i)(ignore|olvida|ignora)\s+(all\s+|todas?\s+)?(previous|prior|las|los)?\s*(instructions|instrucciones|reglas)"
    r"|</?\s*(system|assistant|im_start|im_end)\s*>|\bsystem\s*prompt\b|\byou are now\b|\bahora eres\b"
)
_HANDOFF = re.compile(
    r"(?i)\b(hablar|conversar|comunicarme|contactarme)\s+(con\s+)?(una?\s+)?"
    r"(persona|humano|ejecutiv[oa]|asesor[a]?|agente|vendedor[a]?)|\b(quiero|necesito)\s+(una?\s+)?"
    r"(persona|humano|ejecutiv[oa]|asesor[a]?)\s+(real)?"
)
_FRUSTRATION = re.compile(r"(?i)no me (entiendes|entiende|sirves|sirve)|p[eé]simo|malísimo|eres un robot|"
                          r"no entiendes nada|!!!|ya te (lo )?dije")
LEAD_FIELDS = ("name", "phone", "email", "location", "budget", "monthly_income", "dicom_status", "property_type",
               "bedrooms")


class TurnBusy(Exception):
    """Another turn for this lead holds the lock; the task retries shortly (never drops the message)."""


@dataclass
class Turn:
    message: Message
    conversation: Conversation
    lead: Lead
    text: str


def sanitise(text: str) -> str:
    """Cap length, drop control and direction-override characters, defuse prompt-injection markers."""
    text = unicodedata.normalize("NFC", text)[:MAX_INPUT_CHARS]
    text = _CONTROL.sub("", text)
    return _INJECTION.sub("[…]", text).strip()


@dataclass(frozen=True)
class Configs:
    """The brokerage's settings a turn reads, fetched together."""

    lead: BrokerLeadConfig
    chat: BrokerChatConfig
    prompt: BrokerPromptConfig


def configs_load() -> Configs:
    broker = (Broker.objects.select_related("lead_config", "chat_config", "prompt_config")
              .get(pk=connection.tenant.id))
    return Configs(lead=broker.lead_config, chat=broker.chat_config, prompt=broker.prompt_config)


def lead_to_lock(message_id: int) -> int | None:
    """The lead whose lock the turn needs, or None when the message is no longer waiting for a turn."""
    return (Message.objects.filter(pk=message_id, direction=Message.Direction.IN, status=Message.Status.RECEIVED)
            .values_list("conversation__lead_id", flat=True).first())


def load(message_id: int) -> Turn | None:
    """The turn to run, or None when there is nothing left to do (already answered, or not inbound)."""
    try:  # get(), not first(): no ORDER BY to compile for a look-up by key
        message = Message.objects.select_related("conversation__lead", "reply").get(
            pk=message_id, direction=Message.Direction.IN)
    except Message.DoesNotExist:
        return None
    if message.status != Message.Status.RECEIVED:
        return None
    reply = getattr(message, "reply", None)  # the reverse one-to-one, fetched in the same query
    if reply is not None:  # a retry after the reply was stored: send it again, never drop it
        if reply.status == Message.Status.QUEUED:
            from conversations.tasks import send_outbound

            send_outbound.delay(reply.id)
        Message.objects.filter(pk=message.pk).update(status=Message.Status.PROCESSED)
        return None
    return Turn(message=message, conversation=message.conversation, lead=message.conversation.lead,
                text=sanitise(message.text))


def lead_lock_acquire(lead_id: int, *, wait: bool = True) -> Lock:
    """One turn at a time per lead, across worker processes (a Redis lock that expires if a worker
    dies). Waits up to LOCK_WAIT_SECONDS for a busy lead, or not at all; TurnBusy when it stays busy.
    Any thread may release it: a turn whose LLM call waited on the event loop ends on another thread."""
    lock = redis_client().lock(f"turn-lock:{connection.schema_name}:{lead_id}", timeout=LOCK_SECONDS,
                               blocking_timeout=LOCK_WAIT_SECONDS, thread_local=False)
    if lock.acquire(blocking=False):
        return lock
    if wait:
        release_connection()  # waiting for the other turn must not hold one of the pool's connections
        if lock.acquire():
            return lock
    raise TurnBusy(f"lead {lead_id} is busy")


@contextmanager
def lead_lock(lead_id: int):
    lock = lead_lock_acquire(lead_id)
    try:
        yield
    finally:
        lock.release()


def known_fields(lead: Lead) -> dict[str, object]:
    values = {
        "name": lead.name, "phone": lead.phone, "email": lead.email, "location": lead.location,
        "budget": {"amount": float(lead.budget_amount), "currency": lead.budget_currency}
        if lead.budget_amount is not None else None,
        "monthly_income": lead.monthly_income, "dicom_status": lead.dicom_status,
        "property_type": lead.property_type, "bedrooms": lead.bedrooms,
    }
    return {k: v for k, v in values.items() if v not in (None, "")}


def _lead_data(fields: dict[str, object]) -> dict[str, object]:
    """Extraction output → lead fields (budget splits into amount and currency)."""
    data = {k: v for k, v in fields.items() if k in LEAD_FIELDS and k != "budget"}
    if "budget" in fields:
        data["budget_amount"] = fields["budget"]["amount"]
        data["budget_currency"] = fields["budget"]["currency"]
    return data


def merge_fields(turn: Turn, config: BrokerLeadConfig) -> dict[str, object]:
    """Extract what the message states and merge it into the lead: never overwrite a known value with
    nothing; a phone or e-mail that belongs to another lead is left out rather than failing the turn."""
    learned = {k: v for k, v in extract_fields(turn.text).items() if v not in (None, "", {})}
    known = known_fields(turn.lead)
    new = {k: v for k, v in learned.items() if known.get(k) != v}
    if new:
        data = _lead_data(new)
        try:
            lead_update(lead=turn.lead, actor=None, data=data, config=config)
        except ApplicationError as error:
            if error.code != "duplicate_lead":
                raise
            for identity in ("phone", "email"):
                data.pop(identity, None)
                new.pop(identity, None)
            turn.lead.refresh_from_db()
            lead_update(lead=turn.lead, actor=None, data=data, config=config)
    lead_rescore(lead=turn.lead, config=config, reason="message")  # engagement counts every message
    return new


def wants_human(turn: Turn) -> bool:
    """An explicit request for a person, or the second frustrated message in a row."""
    if _HANDOFF.search(turn.text):
        return True
    if not _FRUSTRATION.search(turn.text):
        return False
    previous = (Message.objects.filter(conversation=turn.conversation, direction=Message.Direction.IN)
                .exclude(pk=turn.message.pk).order_by("-created_at").values_list("text", flat=True).first())
    return bool(previous and _FRUSTRATION.search(previous))


def hand_off(turn: Turn) -> None:
    Conversation.objects.filter(pk=turn.conversation.pk).update(human_mode=True)
    recipients = [turn.lead.assigned_to_id] if turn.lead.assigned_to_id else None
    broadcast("handoff_requested", {"conversation_id": turn.conversation.id, "lead_id": turn.lead.id,
                                    "lead_name": turn.lead.name}, user_ids=recipients)
    broadcast("human_mode_changed", {"conversation_id": turn.conversation.id, "lead_id": turn.lead.id,
                                     "human_mode": True, "by": None})


def is_first_turn(turn: Turn, recent: list[selectors.RecentMessage], limit: int) -> bool:
    """Nothing has been said to the lead yet. The latest messages answer it when they hold a reply or
    are the whole conversation (fewer than `limit`; every reply has text); otherwise the database does."""
    if any(m.direction == Message.Direction.OUT for m in recent):
        return False
    if len(recent) < limit:
        return True
    return not Message.objects.filter(conversation=turn.conversation, direction=Message.Direction.OUT).exists()


def build_context(turn: Turn, *, recent: list[selectors.RecentMessage], learned: dict, handoff: bool, configs: Configs
                  ) -> assistant.TurnContext:
    broker, lead_config, prompt = connection.tenant, configs.lead, configs.prompt
    known = known_fields(turn.lead)
    priority = list(lead_config.field_priority) + [f for f in LEAD_FIELDS if f not in lead_config.field_priority]
    first_turn = is_first_turn(turn, recent, configs.chat.context_messages)
    return assistant.TurnContext(
        broker_name=broker.name, assistant_name=prompt.assistant_name, greeting=prompt.greeting,
        prompt_sections=prompt.sections, known=known, missing=[f for f in priority if f not in known],
        learned_now=learned, calificacion=turn.lead.calificacion, first_turn=first_turn, handoff=handoff,
        handback_note=turn.conversation.handback_note, passages=passages(turn, learned=learned),
        visit=visits.visit_context_get(lead=turn.lead),
        catalog=catalog_request_get(lead=turn.lead, text=turn.text),
    )


def passages(turn: Turn, *, learned: dict) -> list[str]:
    """The brokerage's knowledge-base passages above the similarity floor, best first, for a question
    or for a message that tells us nothing about the lead (a statement of data needs none)."""
    if learned and "?" not in turn.text:
        return []
    hits = kb_search(query=turn.text, top_k=settings.KNOWLEDGE_PASSAGES,
                     min_similarity=settings.KNOWLEDGE_SIMILARITY_FLOOR)
    return [hit.text for hit in hits]


def history(recent: list[selectors.RecentMessage]) -> list[dict[str, str]]:
    """The latest messages (`selectors.recent_messages`) as chat turns."""
    roles = {Message.Sender.LEAD: "user"}
    return [{"role": roles.get(m.sender, "assistant"), "content": sanitise(m.text) if m.sender == "lead" else m.text}
            for m in recent]


def prompt(ctx: assistant.TurnContext, recent: list[selectors.RecentMessage]) -> list[dict[str, str]]:
    return [{"role": "system", "content": assistant.system_prompt(ctx)}, *history(recent)]


def generate_reply(plan: "TurnPlan", awaited: Sequence[Attempt] = ()) -> str:
    """Ask the LLM facade (a breaker per provider, then the fallback, then the offline assistant);
    `awaited` are the network providers' answers when they were awaited on the worker's event loop."""
    turn, ctx = plan.turn, plan.ctx
    if not awaited:
        release_connection()
    result = llm_complete(broker=connection.tenant, messages=plan.prompt, call_type="chat", lead_id=turn.lead.id,
                          tools=plan.tools, context={"turn": ctx}, awaited=awaited)
    text = result.text.strip()
    if result.tool_calls:  # what the tools did (units, slots, booking) is the rest of the reply
        text = " ".join(filter(None, [text, assistant.tool_calls_run(lead=turn.lead, calls=result.tool_calls)]))
    return text or assistant.offline_reply(ctx)


def cache_variant(turn: Turn, ctx: assistant.TurnContext) -> str | None:
    """The semantic cache's key besides the question, for a general question (a question mark, no lead
    data, no visit on the table, not about stock); None for any other message. `variant` is what the
    rest of the reply depends on (greeting, next questions, calificación)."""
    general = "?" in turn.text and not ctx.learned_now and ctx.visit is None and ctx.catalog is None
    return f"{int(ctx.first_turn)}|{ctx.calificacion}|{','.join(ctx.missing[:2])}" if general else None


def turn_reply(plan: "TurnPlan", awaited: Sequence[Attempt] = ()) -> str:
    """The reply: already known (a hand-off, the semantic cache's answer) or generated. A generated
    answer to a general question is cached only when nothing personal was in the prompt (the lead's
    data, an agent's note) and no visit tool was offered."""
    if plan.reply is not None:
        return plan.reply
    text = generate_reply(plan, awaited)
    ctx = plan.ctx
    if plan.cache_variant is not None and not ctx.known and not ctx.handback_note and text != FIXED_REPLY:
        cache_store(question=plan.turn.text, answer=text, variant=plan.cache_variant)
    return text


def release_connection() -> None:
    """Give the database connection back while the LLM thinks: a worker thread waiting a second on
    a provider must not hold one of PostgreSQL's connections (django-tenants resets the search
    path on reconnect). Inside an outer transaction (tests) the connection is kept."""
    if not connection.in_atomic_block:
        connection.close()


def announce_typing(turn: Turn) -> None:
    """Open dashboards show "escribiendo…" in this chat while the reply is being written; the
    reply's own `ai_response` event clears it (and the page gives up on its own after a while)."""
    broadcast("typing", {"conversation_id": turn.conversation.id, "lead_id": turn.lead.id})


@dataclass
class TurnPlan:
    """A turn up to its LLM call: the lead's lock held, the lead updated, the prompt written.
    `reply` is set when no LLM is needed (a hand-off, an answer from the semantic cache)."""

    turn: Turn
    configs: Configs
    ctx: assistant.TurnContext
    lock: Lock
    prompt: list[dict[str, str]]
    tools: list[ToolSpec] | None
    reply: str | None = None
    cache_variant: str | None = None


def turn_begin(*, message_id: int, lead_id: int | None = None, wait: bool = True) -> TurnPlan | None:
    """Lock the lead and run the turn up to its LLM call; None when the message no longer waits for
    a turn (the lock is then released). `lead_id`, when the caller knows it, saves a look-up:
    whether the message still waits for its turn is read again under the lock either way."""
    lead_id = lead_id or lead_to_lock(message_id)
    if lead_id is None:
        return None
    lock = lead_lock_acquire(lead_id, wait=wait)
    try:
        plan = _plan(message_id, lock)
    except BaseException:
        lock.release()
        raise
    if plan is None:
        lock.release()
    return plan


def _plan(message_id: int, lock: Lock) -> TurnPlan | None:
    with transaction.atomic():
        turn = load(message_id)  # read under the lock: a concurrent retry may have finished it
        if turn is None:
            return None
        configs = configs_load()
        learned = merge_fields(turn, configs.lead)
        if turn.conversation.human_mode or not configs.chat.ai_enabled:
            Message.objects.filter(pk=turn.message.pk).update(status=Message.Status.SKIPPED)
            return None
        handoff = wants_human(turn)
        if handoff:
            hand_off(turn)
        recent = selectors.recent_messages(conversation=turn.conversation, limit=configs.chat.context_messages)
        ctx = build_context(turn, recent=recent, learned=learned, handoff=handoff, configs=configs)
        announce_typing(turn)
    plan = TurnPlan(turn=turn, configs=configs, ctx=ctx, lock=lock, prompt=prompt(ctx, recent),
                    tools=assistant.tools_offered(ctx) or None)
    if handoff:
        plan.reply = assistant.offline_reply(ctx)
        return plan
    plan.cache_variant = cache_variant(turn, ctx)
    if plan.cache_variant is not None:
        plan.reply = cache_lookup(question=turn.text, variant=plan.cache_variant)
    return plan


def turn_end(plan: TurnPlan, text: str) -> Message:
    """Store the reply and send it. The turn sends its own reply once stored (no second task). Inside
    an outer transaction (tests) the reply is queued on commit instead: nothing may be sent before it
    commits. The reply commits first, then the message is marked processed: a retry after a stop in
    between finds the reply in `load` and sends it, without asking the LLM again."""
    send_here = not connection.in_atomic_block
    reply = services.reply_create(inbound=plan.turn.message, text=text, queue_delivery=not send_here)
    Message.objects.filter(pk=plan.turn.message.pk).update(status=Message.Status.PROCESSED)
    if send_here:
        delivery.deliver_now(reply=reply, config=plan.configs.chat)
    return reply


def run_turn(*, message_id: int, lead_id: int | None = None) -> Message | None:
    """Answer one stored inbound message, on this thread from start to end."""
    plan = turn_begin(message_id=message_id, lead_id=lead_id)
    return None if plan is None else _end_here(plan)


def _end_here(plan: TurnPlan) -> Message:
    try:
        return turn_end(plan, turn_reply(plan))
    finally:
        plan.lock.release()


def run_turn_on_loop(loop: LLMWaitLoop, *, message_id: int, lead_id: int | None = None,
                     on_failure: Callable[[Exception], None]) -> None:
    """`run_turn` whose LLM call waits on the worker's event loop: this thread returns once the request
    is sent off, and the turn ends on one of the loop's continuation threads, in the same brokerage.
    A busy lead is TurnBusy at once (the caller's task retries shortly) rather than waited for here.
    A failure after the LLM answered goes to `on_failure` there (the message is still `received`,
    or its reply is stored: the next attempt finds either)."""
    plan = turn_begin(message_id=message_id, lead_id=lead_id, wait=False)
    if plan is None:
        return
    call = None if plan.reply is not None else llm_awaited_attempts(
        messages=plan.prompt, call_type="chat", tools=plan.tools, context={"turn": plan.ctx})
    if call is None:  # nothing to wait for: a known reply, or an offline provider that answers at once
        _end_here(plan)
        return
    release_connection()
    broker = connection.tenant
    loop.submit(call, then=lambda done: _turn_continue(plan, broker, done, on_failure))


def _turn_continue(plan: TurnPlan, broker: Broker, done: Future, on_failure: Callable[[Exception], None]) -> None:
    try:
        with broker:
            try:
                turn_end(plan, turn_reply(plan, awaited=done.result()))
            except Exception as exc:  # noqa: BLE001 — handed to the caller's retries, then dead-lettered
                logger.warning("turn of message %s failed after the LLM call: %r", plan.turn.message.id, exc)
                on_failure(exc)
    finally:
        plan.lock.release()
        release_connection()  # back to the pool: a continuation thread holds none between turns
