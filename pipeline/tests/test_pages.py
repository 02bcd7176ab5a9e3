import re
from decimal import Decimal

import pytest

from conftest import host_of
from leads.tests.factories import lead_make
from pipeline.models import Stage

BOARD = "/pipeline/"


@pytest.fixture
def admin(page_client, broker_a, admin_a):
    return page_client(host_of(broker_a), admin_a)


@pytest.fixture
def agent(page_client, broker_a, agent_a):
    return page_client(host_of(broker_a), agent_a)


@pytest.fixture
def leads(broker_a, agent_a):
    with broker_a:
        return {
            "ana": lead_make(name="Ana", pipeline_stage=Stage.POTENCIAL, lead_score=70, status="hot",
                             assigned_to=agent_a, budget_amount=Decimal(4000), budget_currency="UF"),
            "bruno": lead_make(name="Bruno", pipeline_stage=Stage.POTENCIAL, lead_score=90, status="qualified",
                               budget_amount=Decimal(95_000_000), budget_currency="CLP"),
            "carla": lead_make(name="Carla", lead_score=5),
            "borrada": lead_make(name="Borrada", is_deleted=True),
        }


def columns(response) -> dict[str, tuple[int, list[str]]]:
    """Per stage: the count shown and the names on its cards, in order."""
    assert response.status_code == 200
    html = response.content.decode()
    found = {}
    for stage, body in re.findall(r'<section class="kcol kcol-(\w+)"(.*?)</section>', html, re.S):
        count = int(re.search(r'data-count="(\d+)"', body).group(1))
        found[stage] = (count, re.findall(r'class="kcard-name"[^>]*>([^<]+)</a>', body))
    return found


def test_board_has_every_stage_with_counts_and_the_best_cards_first(admin, leads):
    response = admin.get(BOARD)
    board = columns(response)
    assert list(board) == list(Stage.values)
    assert board["potencial"] == (2, ["Bruno", "Ana"]) and board["entrada"] == (1, ["Carla"])
    assert board["ganado"] == (0, [])
    html = response.content.decode()
    assert "4.000 UF" in html and "$95.000.000" in html and "Agente Corredora Alfa" in html
    assert 'data-closed' in html and 'id="live"' in html and "js/kanban.js" in html


def test_an_agent_sees_only_own_cards(agent, leads):
    board = columns(agent.get(BOARD))
    assert board["potencial"] == (1, ["Ana"]) and board["entrada"] == (0, [])


def test_the_card_endpoint_answers_as_the_user_may_see_the_lead(admin, agent, leads):
    ana, bruno = leads["ana"], leads["bruno"]
    body = admin.get(f"{BOARD}tarjetas/{bruno.id}/").json()
    assert body["lead_id"] == bruno.id and body["stage"] == "potencial"
    assert f'data-lead-id="{bruno.id}"' in body["html"] and "$95.000.000" in body["html"]
    assert body["counts"] == {"entrada": 1, "perfilamiento": 0, "calificacion_financiera": 0, "potencial": 2,
                              "agendado": 0, "ganado": 0, "perdido": 0}
    hidden = agent.get(f"{BOARD}tarjetas/{bruno.id}/").json()
    assert hidden["html"] is None and hidden["stage"] is None and hidden["counts"]["potencial"] == 1
    assert agent.get(f"{BOARD}tarjetas/{ana.id}/").json()["stage"] == "potencial"
    assert admin.get(f"{BOARD}tarjetas/{leads['borrada'].id}/").json()["html"] is None


def test_a_lead_of_another_brokerage_does_not_exist_here(page_client, broker_b, admin_b, leads):
    other = page_client(host_of(broker_b), admin_b)
    assert all(column == (0, []) for column in columns(other.get(BOARD)).values())
    body = other.get(f"{BOARD}tarjetas/{leads['ana'].id}/").json()
    assert body["html"] is None and set(body["counts"].values()) == {0}


def test_board_needs_a_login(page_client, broker_a):
    response = page_client(host_of(broker_a)).get(BOARD)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_board_and_card_query_counts_are_constant(admin, broker_a, agent_a, django_assert_num_queries):
    with broker_a:
        made = [lead_make(name=f"L{i}", pipeline_stage=list(Stage)[i % 7], lead_score=i, assigned_to=agent_a,
                          budget_amount=Decimal(1000 + i), budget_currency="UF", close_reason="Cerrado")
                for i in range(40)]
    admin.get(BOARD)  # the host → brokerage lookup, memoized from then on
    # Every page: SET search_path, session, user.
    with django_assert_num_queries(5):  # + counts, best cards per stage (assignees joined)
        board = columns(admin.get(BOARD))
    assert sum(len(names) for _, names in board.values()) == 40
    with django_assert_num_queries(5):  # + the lead, the counts
        assert admin.get(f"{BOARD}tarjetas/{made[0].id}/").json()["html"]
