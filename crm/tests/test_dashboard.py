import re

import pytest

from conftest import host_of
from crm.dashboard import home_charts
from leads.tests.factories import lead_make
from pipeline.models import Stage


@pytest.fixture
def leads(broker_a, agent_a):
    with broker_a:
        for score, stage in ((0, Stage.ENTRADA), (9, Stage.ENTRADA), (10, Stage.PERFILAMIENTO), (55, Stage.POTENCIAL),
                             (99, Stage.GANADO), (100, Stage.GANADO)):
            lead_make(lead_score=score, pipeline_stage=stage, assigned_to=agent_a if score >= 55 else None,
                      close_reason="x" if stage == Stage.GANADO else "")
        lead_make(lead_score=50, is_deleted=True)


def test_charts_count_stages_and_score_ranges_of_what_the_user_sees(broker_a, admin_a, agent_a, leads,
                                                                     django_assert_num_queries):
    with broker_a, django_assert_num_queries(3):  # SET search_path, stage counts, score ranges
        charts = home_charts(user=admin_a)
    assert [(row["stage"], row["count"], row["percent"]) for row in charts["funnel"]] == [
        ("entrada", 2, 100), ("perfilamiento", 1, 50), ("calificacion_financiera", 0, 0), ("potencial", 1, 50),
        ("agendado", 0, 0), ("ganado", 2, 100), ("perdido", 0, 0)]
    assert [(row["low"], row["high"], row["count"]) for row in charts["scores"]] == [
        (0, 9, 2), (10, 19, 1), (20, 29, 0), (30, 39, 0), (40, 49, 0), (50, 59, 1), (60, 69, 0), (70, 79, 0),
        (80, 89, 0), (90, 100, 2)]
    with broker_a:
        mine = home_charts(user=agent_a)
    assert [row["count"] for row in mine["scores"]] == [0, 0, 0, 0, 0, 1, 0, 0, 0, 2]


def test_home_shows_the_charts(page_client, broker_a, admin_a, leads):
    html = page_client(host_of(broker_a), admin_a).get("/").content.decode()
    assert "Embudo de ventas" in html and "Distribución de puntajes" in html
    assert re.search(r'data-funnel="entrada">2<', html) and re.search(r'data-bucket="90">2<', html)
    assert "Aún no tienes leads" not in html


def test_a_new_brokerage_keeps_its_zero_state(page_client, broker_b, admin_b):
    html = page_client(host_of(broker_b), admin_b).get("/").content.decode()
    assert "Aún no tienes leads" in html and "Embudo de ventas" not in html


@pytest.mark.django_db
def test_home_numbers_count_what_the_user_may_see(broker_a, broker_b, admin_a, agent_a):
    from datetime import timedelta

    from django.utils import timezone

    from conversations.models import Conversation
    from crm.dashboard import home_numbers

    with broker_a:
        mine = lead_make(name="Mía", assigned_to=agent_a)
        other = lead_make(name="Otra")
        Conversation.objects.create(lead=mine, channel="telegram", channel_user_id="1", last_message_at=timezone.now())
        Conversation.objects.create(lead=other, channel="telegram", channel_user_id="2",
                                    last_message_at=timezone.now() - timedelta(days=30))
        admin_numbers = home_numbers(broker=broker_a, user=admin_a)
        agent_numbers = home_numbers(broker=broker_a, user=agent_a)
    with broker_b:
        beta_numbers = home_numbers(broker=broker_b, user=admin_a)
    assert (admin_numbers["leads"], admin_numbers["conversations"], admin_numbers["team"]) == (2, 1, 2)
    assert (agent_numbers["leads"], agent_numbers["conversations"]) == (1, 1)
    assert (beta_numbers["leads"], beta_numbers["conversations"]) == (0, 0)


def test_home_points_each_user_to_what_is_waiting_for_them(page_client, broker_a, broker_b, admin_a, agent_a,
                                                           admin_b):
    from conversations.models import Conversation, DeadLetter, Message

    with broker_a:
        for name, agent, status in (("Mía", agent_a, "outbox"), ("Otra", None, "failed")):
            lead = lead_make(name=name, assigned_to=agent)
            conversation = Conversation.objects.create(lead=lead, channel="telegram", channel_user_id=name)
            reply = Message.objects.create(conversation=conversation, channel="telegram", direction="out",
                                           sender="assistant", text="Hola", status=status)
        DeadLetter.objects.create(message=reply, task="conversations.send_outbound", error="Telegram 502", attempts=5)
    admin = page_client(host_of(broker_a), admin_a).get("/").content.decode()
    assert "1 mensaje falló aun después de reintentarlo" in admin and 'href="/conversaciones/fallidos/"' in admin
    assert "2 respuestas no salieron por su canal" in admin
    agent = page_client(host_of(broker_a), agent_a).get("/").content.decode()
    assert "1 respuesta no salió por su canal" in agent and "falló" not in agent  # their own lead's only
    other = page_client(host_of(broker_b), admin_b).get("/").content.decode()
    assert "Requiere tu atención" not in other
