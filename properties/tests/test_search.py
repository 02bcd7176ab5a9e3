"""Hybrid search: filters on what the lead said, vector similarity on the message, fused by rank;
only available units, ever, and only the brokerage's own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from properties import services
from properties.selectors import unit_search
from properties.tests.factories import catalogue_load, unit_make

pytestmark = pytest.mark.django_db


def codes(hits) -> list[str]:
    return [hit.unit.code for hit in hits]


def test_structured_filters_rank_rooms_then_price_near_the_budget(broker_a):
    with broker_a:
        catalogue_load()
        assert codes(unit_search(comuna="nunoa", property_type="departamento")) == ["NU-202", "NU-101", "NU-303"]
        assert codes(unit_search(comuna="Ñuñoa", bedrooms=3)) == ["NU-303"]
        assert codes(unit_search(property_type="casa", bedrooms=3, max_price_uf=4000)) == ["MP-02"]
        assert codes(unit_search(comuna="Ñuñoa", max_price_uf=4100)) == ["NU-101", "NU-202"]  # nearest the budget
        assert unit_search(comuna="Las Condes") == []


def test_the_query_reorders_by_meaning_fused_with_the_filters(broker_a):
    with broker_a:
        catalogue_load()
        by_filters = codes(unit_search(comuna="Ñuñoa", property_type="departamento"))
        with_terrace = unit_search(comuna="Ñuñoa", property_type="departamento",
                                   query="un depto con terraza y vista a la cordillera")
        with_parking = unit_search(comuna="Ñuñoa", query="necesito estacionamientos y bodega para la familia")
        pool = unit_search(query="casa con piscina y quincho", top_k=6)
    assert by_filters[0] == "NU-202"
    assert codes(with_terrace)[0] == "NU-101" and with_terrace[0].vector_rank == 1
    parking = next(hit for hit in with_parking if hit.unit.code == "NU-303")
    assert parking.vector_rank == 1  # the most expensive of the three: moved up from last by the meaning
    assert codes(with_parking).index("NU-303") < by_filters.index("NU-303") == 2
    pool_hit = next(hit for hit in pool if hit.unit.code == "LF-01")
    assert pool_hit.vector_rank == 1 and pool_hit.structured_rank == 5 and codes(pool).index("LF-01") < 4
    assert all(a.score >= b.score for a, b in zip(pool, pool[1:], strict=False))


def test_reserved_and_sold_units_are_never_returned(broker_a):
    with broker_a:
        units = catalogue_load()
        services.unit_status_set(unit=units["NU-101"], status="reserved")
        services.unit_status_set(unit=units["NU-202"], status="sold")
        found = codes(unit_search(comuna="Ñuñoa", query="terraza con vista a la cordillera", top_k=10))
    assert found == ["NU-303"]


def test_the_search_costs_the_same_queries_for_3_or_30_units(broker_a):
    with broker_a:
        catalogue_load()
        unit_search(comuna="Ñuñoa", query="terraza")  # warm the embedder and the query memo
        with CaptureQueriesContext(connection) as few:
            unit_search(comuna="Ñuñoa", query="terraza")
        for number in range(30):
            unit_make(code=f"N-{number}", description=f"Departamento número {number}")
        with CaptureQueriesContext(connection) as many:
            unit_search(comuna="Ñuñoa", query="terraza")
    assert len(few) == len(many) == 4


def test_one_brokerage_never_finds_anothers_units(broker_a, broker_b):
    with broker_a:
        catalogue_load()
    with broker_b:
        assert unit_search(comuna="Ñuñoa", query="terraza") == []
        unit_make(code="B-1", description="Departamento con terraza")
        assert codes(unit_search(comuna="Ñuñoa", query="terraza")) == ["B-1"]
    with broker_a:
        assert "B-1" not in codes(unit_search(comuna="Ñuñoa", top_k=10))
