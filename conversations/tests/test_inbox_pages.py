"""The inbox pages through the Django test client: what each user sees, filters, actions, query counts."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import host_of
from conversations.models import Conversation, Message
from leads.tests.factories import lead_make
from pipeline.models import Calificacion, Stage

INBOX = "/conversaciones/"


def conversation_make(*, channel: str = "telegram", unread: int = 0, human_mode: bool = False, minutes_ago: int = 0,
                      **lead_fields) -> Conversation:
    lead = lead_make(channel=channel, **lead_fields)
    return Conversation.objects.create(lead=lead, channel=channel, channel_user_id=f"u{lead.id}",
                                       unread_count=unread, human_mode=human_mode,
                                       last_message_at=timezone.now() - timedelta(minutes=minutes_ago))


def message_make(conversation: Conversation, text: str, *, sender: str = "lead", **fields) -> Message:
    direction = "in" if sender == "lead" else "out"
    status = fields.pop("status", "processed" if direction == "in" else "sent")
    return Message.objects.create(conversation=conversation, channel=conversation.channel, direction=direction,
                                  sender=sender, text=text, status=status, **fields)


@pytest.fixture
def inbox_a(broker_a, admin_a, agent_a):
    """Alfa: Ana (the agent's, Telegram, 2 unread), Bruno (unassigned, WhatsApp, taken over), Carla (web chat)."""
    with broker_a:
        ana = conversation_make(name="Ana Pérez", assigned_to=agent_a, unread=2, minutes_ago=1,
                                budget_amount=Decimal("4000"), budget_currency="UF", location="Ñuñoa",
                                monthly_income=1_800_000, dicom_status="clean", lead_score=82, status="qualified",
                                pipeline_stage=Stage.POTENCIAL, calificacion=Calificacion.CALIFICADO,
                                email="ana@example.cl")
        bruno = conversation_make(name="Bruno Díaz", channel="whatsapp", human_mode=True, minutes_ago=5,
                                  budget_amount=Decimal("95000000"), budget_currency="CLP")
        carla = conversation_make(name="Carla Soto", channel="webchat", minutes_ago=10)
        message_make(ana, "Hola, busco depto en Ñuñoa")
        message_make(ana, "¡Hola Ana! ¿Cuál es tu presupuesto?", sender="assistant", status="delivered")
        message_make(ana, "4.000 UF")
        message_make(bruno, "Te escribo yo, Bruno.", sender="agent", sender_user=admin_a, status="read")
        message_make(carla, "¿Tienen casas en Maipú?")
    return {"ana": ana, "bruno": bruno, "carla": carla}


@pytest.fixture
def admin(page_client, broker_a, admin_a):
    return page_client(host_of(broker_a), admin_a)


@pytest.fixture
def agent(page_client, broker_a, agent_a):
    return page_client(host_of(broker_a), agent_a)


def listed(response) -> list[str]:
    """Lead names in the conversation list, top to bottom."""
    assert response.status_code == 200
    return [item.lead.name for item in response.context["page"]]


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_list_shows_conversations_newest_first_with_channel_unread_and_human_badges(admin, inbox_a):
    response = admin.get(INBOX)
    assert listed(response) == ["Ana Pérez", "Bruno Díaz", "Carla Soto"]
    page = html(response)
    assert 'aria-current="page">Conversaciones</a>' in page  # the sidebar item
    assert page.count('class="unread-count" hidden') == 2 and '<span class="count">2</span>' in page  # Ana's
    assert page.count('class="badge badge-human" hidden') == 2  # shown for Bruno only
    for label in ("WhatsApp", "Telegram", "Chat web"):
        assert label in page
    assert "4.000 UF" in page and "Te escribo yo, Bruno." in page  # each row previews its last message
    assert 'id="live" data-ws="/ws/' in page and "js/inbox.js" in page


def test_list_time_is_santiago_time(admin, broker_a, inbox_a):
    with broker_a:
        Conversation.objects.filter(pk=inbox_a["carla"].pk).update(
            last_message_at=datetime(2026, 11, 20, 15, 30, tzinfo=UTC))
    page = html(admin.get(INBOX))
    assert 'datetime="2026-11-20T12:30:00-03:00">20-11-2026</time>' in page


@pytest.mark.parametrize(("query", "names"), [
    ("?canal=whatsapp", ["Bruno Díaz"]),
    ("?no_leidas=1", ["Ana Pérez"]),
    ("?persona=1", ["Bruno Díaz"]),
    ("?q=carla", ["Carla Soto"]),
    ("?canal=telegram&q=bruno", []),
])
def test_filters(admin, inbox_a, query, names):
    response = admin.get(INBOX + query)
    assert listed(response) == names
    if not names:
        assert "Ninguna conversación coincide con los filtros." in html(response)


def test_empty_inbox_explains_where_conversations_come_from(admin, broker_a):
    assert "Aún no hay conversaciones" in html(admin.get(INBOX))


def test_pagination_keeps_the_filters(admin, broker_a):
    with broker_a:
        for index in range(25):
            conversation_make(name=f"Lead {index:02}", channel="whatsapp", minutes_ago=index)
        conversation_make(name="Otro canal", channel="telegram")
    first = admin.get(INBOX + "?canal=whatsapp")
    assert len(listed(first)) == 20 and "Página 1 de 2" in html(first)
    assert 'href="?canal=whatsapp&amp;page=2"' in html(first)
    assert listed(admin.get(INBOX + "?canal=whatsapp&page=2")) == [f"Lead {i}" for i in range(20, 25)]


def test_detail_shows_the_chat_oldest_first_with_senders_statuses_and_lead_data(admin, broker_a, inbox_a):
    ana = inbox_a["ana"]
    page = html(admin.get(f"{INBOX}{ana.id}/"))
    texts = ["Hola, busco depto en Ñuñoa", "¡Hola Ana! ¿Cuál es tu presupuesto?", "4.000 UF</p>"]
    positions = [page.index(text) for text in texts]
    assert positions == sorted(positions)
    assert 'class="bubble bubble-assistant"' in page and '<span class="bubble-who">Asistente</span>' in page
    assert '<span class="bubble-who">Ana Pérez</span>' in page
    assert 'data-status="delivered">Entregado</span>' in page
    for fact in ("4.000 UF", "$1.800.000", "Sin deudas", "Ñuñoa", "ana@example.cl", "Potencial", "Calificado"):
        assert f"<dd>{fact}</dd>" in page, fact
    assert f'href="/leads/{ana.lead_id}/"' in page
    assert "Tomar conversación" in page and 'data-human-mode="false"' in page


def test_detail_shows_the_agents_name_and_clp_budget(admin, inbox_a):
    page = html(admin.get(f"{INBOX}{inbox_a['bruno'].id}/"))
    assert '<span class="bubble-who">Admin Corredora Alfa</span>' in page
    assert 'data-status="read">Leído</span>' in page
    assert "<dd>$95.000.000</dd>" in page and "<dd>Sin información</dd>" in page
    assert 'data-human-mode="true"' in page


def test_opening_a_conversation_marks_it_read(admin, broker_a, inbox_a):
    ana = inbox_a["ana"]
    admin.get(f"{INBOX}{ana.id}/")
    with broker_a:
        assert Conversation.objects.get(pk=ana.pk).unread_count == 0


def test_bubble_time_is_santiago_time(admin, broker_a, inbox_a):
    carla = inbox_a["carla"]
    with broker_a:
        carla.messages.update(created_at=datetime(2026, 11, 20, 15, 30, tzinfo=UTC))
    assert ">20-11-2026 12:30</time>" in html(admin.get(f"{INBOX}{carla.id}/"))


def test_agent_sees_only_conversations_of_leads_assigned_to_them(agent, inbox_a):
    assert listed(agent.get(INBOX)) == ["Ana Pérez"]
    assert agent.get(f"{INBOX}{inbox_a['ana'].id}/").status_code == 200
    bruno = inbox_a["bruno"].id
    for url in (f"{INBOX}{bruno}/", f"{INBOX}{bruno}/mensajes/", f"{INBOX}{bruno}/lead/"):
        assert agent.get(url).status_code == 404, url
    assert agent.get(f"{INBOX}{bruno}/fila/").status_code == 204
    assert agent.post(f"{INBOX}{bruno}/tomar/").status_code == 404


def test_a_conversation_of_another_brokerage_does_not_exist_here(page_client, broker_b, admin_b, inbox_a):
    other = page_client(host_of(broker_b), admin_b)
    ana = inbox_a["ana"].id
    assert listed(other.get(INBOX)) == []
    for url in (f"{INBOX}{ana}/", f"{INBOX}{ana}/mensajes/", f"{INBOX}{ana}/lead/"):
        assert other.get(url).status_code == 404, url
    for action in ("tomar", "devolver", "responder"):
        assert other.post(f"{INBOX}{ana}/{action}/", {"text": "hola"}).status_code == 404, action


def test_pages_need_a_login_on_a_brokerage_host(page_client, broker_a, inbox_a):
    response = page_client(host_of(broker_a)).get(INBOX)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_take_over_reply_and_hand_back(admin, broker_a, admin_a, inbox_a, django_capture_on_commit_callbacks):
    carla = inbox_a["carla"]
    url = f"{INBOX}{carla.id}/"
    assert admin.post(f"{url}tomar/?canal=webchat")["Location"] == f"{url}?canal=webchat"  # same list
    assert "Tomaste la conversación" in html(admin.get(url))
    admin.post(f"{url}responder/", {"text": "  Hola Carla, te escribe Admin.  "})
    with broker_a:
        carla.refresh_from_db()
        reply = carla.messages.get(sender="agent")
    assert (carla.human_mode, carla.taken_over_by_id) == (True, admin_a.id)
    assert (reply.text, reply.sender_user_id, reply.status, reply.channel) == (
        "Hola Carla, te escribe Admin.", admin_a.id, "queued", "webchat")
    page = html(admin.get(url))
    assert 'data-status="queued">En cola</span>' in page and "Admin Corredora Alfa" in page

    admin.post(f"{url}devolver/", {"note": "Ya le ofrecí visita el sábado."})
    with broker_a:
        carla.refresh_from_db()
    assert (carla.human_mode, carla.handback_note) == (False, "Ya le ofrecí visita el sábado.")


def test_an_empty_reply_is_refused_with_a_message(admin, broker_a, inbox_a):
    url = f"{INBOX}{inbox_a['bruno'].id}/"
    response = admin.post(f"{url}responder/", {"text": "   "}, follow=True)
    assert "Escribe un mensaje" in html(response)
    with broker_a:
        assert not Message.objects.filter(conversation=inbox_a["bruno"], sender="agent").exclude(
            text="Te escribo yo, Bruno.").exists()


def test_row_fragment_respects_the_filters(admin, inbox_a):
    ana = inbox_a["ana"].id
    row = admin.get(f"{INBOX}{ana}/fila/?canal=telegram")
    assert row.status_code == 200 and f'data-conversation-id="{ana}"' in row.content.decode()
    assert admin.get(f"{INBOX}{ana}/fila/?canal=whatsapp").status_code == 204


def test_messages_fragment_returns_only_newer_bubbles(admin, broker_a, inbox_a):
    ana = inbox_a["ana"]
    with broker_a:
        first = ana.messages.order_by("id").first()
    page = html(admin.get(f"{INBOX}{ana.id}/mensajes/?after={first.id}"))
    assert page.count('class="bubble ') == 2 and "busco depto" not in page


def test_lead_fragment_shows_the_leads_current_data(admin, inbox_a):
    page = html(admin.get(f"{INBOX}{inbox_a['ana'].id}/lead/"))
    assert page.strip().startswith('<aside class="lead-panel"') and "<dd>4.000 UF</dd>" in page


def test_outbox_lists_what_did_not_go_out(admin, broker_a, inbox_a):
    with broker_a:
        message_make(inbox_a["bruno"], "Plantilla pendiente", sender="assistant", status="needs_template")
        message_make(inbox_a["carla"], "Sin canal", sender="assistant", status="outbox")
        message_make(inbox_a["ana"], "Falló", sender="agent", status="failed", error="chat not found")
    page = html(admin.get(f"{INBOX}bandeja-de-salida/"))
    for text in ("Requiere plantilla", "En bandeja de salida", "Error de envío", 'title="chat not found"'):
        assert text in page, text
    assert "¿Tienen casas en Maipú?" not in page
    assert '<span class="badge badge-warn">3</span>' in html(admin.get(INBOX))


def test_the_tabs_fragment_counts_what_each_user_may_see(admin, agent, broker_a, broker_b, admin_b, page_client,
                                                          inbox_a):
    """The live inbox refreshes its badges from here: the agent counts only their own leads' replies
    and has no failures tab; another brokerage counts nothing of Alfa's."""
    with broker_a:
        message_make(inbox_a["ana"], "Sin canal", sender="assistant", status="outbox")
        message_make(inbox_a["carla"], "Falló", sender="assistant", status="failed")
    assert '<span class="badge badge-warn">2</span>' in html(admin.get(f"{INBOX}pestanas/"))
    agents_tabs = html(agent.get(f"{INBOX}pestanas/"))
    assert '<span class="badge badge-warn">1</span>' in agents_tabs and "Fallidos" not in agents_tabs
    other = html(page_client(host_of(broker_b), admin_b).get(f"{INBOX}pestanas/"))
    assert "Bandeja de salida" in other and "badge-warn" not in other


def test_query_counts_do_not_grow_with_the_conversations(admin, broker_a, admin_a, django_assert_num_queries):
    with broker_a:
        conversations = [conversation_make(name=f"Lead {i}", human_mode=True) for i in range(30)]
        for conversation in conversations:
            message_make(conversation, "hola")
            message_make(conversation, "respuesta", sender="agent", sender_user=admin_a)
        Conversation.objects.update(taken_over_by=admin_a)
    admin.get(INBOX)  # the host → brokerage lookup is remembered for a while: count without it
    # Every page: SET search_path, session, user.
    # + count + outbox count + failures count (an ADMIN's tab) + page (lead, taker, last message joined)
    with django_assert_num_queries(7):
        assert len(listed(admin.get(INBOX))) == 20
    # + the conversation (lead joined) + mark read (3, a savepoint around it) + messages (agents joined)
    # + the list's 4 + who took it over
    with django_assert_num_queries(13):
        assert admin.get(f"{INBOX}{conversations[0].id}/").status_code == 200
