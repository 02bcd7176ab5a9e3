"""Units and projects: database constraints, derived prices, re-embedding, and the CSV import."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from crm.errors import ApplicationError
from properties import imports, services
from properties.models import Project, Unit
from properties.tests.factories import unit_make

pytestmark = pytest.mark.django_db


def test_the_database_refuses_negative_prices_and_too_many_rooms(broker_a):
    with broker_a:
        unit = unit_make(code="A-1", embed=False)
        for column, value in (("price_uf", -1), ("price_clp", -5), ("bedrooms", 21), ("bathrooms", 30),
                              ("area_m2", 0), ("status", "gone")):
            with pytest.raises(IntegrityError), transaction.atomic():
                Unit.objects.filter(pk=unit.pk).update(**{column: value})
        with pytest.raises(IntegrityError), transaction.atomic():
            Unit.objects.create(code="A-1", property_type="casa", comuna="Maipú", price_uf=1, price_clp=1)


def test_a_price_in_uf_gets_its_clp_equivalent_and_the_other_way(broker_a, settings):
    settings.UF_VALUE_CLP = 40000.0
    with broker_a:
        in_uf = unit_make(code="UF-1", price_uf=Decimal("3500"), embed=False)
        in_clp = services.unit_create(data={"code": "CLP-1", "property_type": "casa", "comuna": "maipu",
                                            "price": Decimal(120_000_000), "price_currency": "CLP"})
    assert (in_uf.price_uf, in_uf.price_clp) == (Decimal("3500.00"), 140_000_000)
    assert (in_clp.price_uf, in_clp.price_clp, in_clp.comuna) == (Decimal("3000.00"), 120_000_000, "Maipú")


def test_a_negative_price_is_an_application_error(broker_a):
    with broker_a, pytest.raises(ApplicationError) as error:
        services.unit_create(data={"code": "X", "property_type": "casa", "comuna": "Maipú", "price": Decimal(-3)})
    assert error.value.details == {"price": ["No puede ser negativo."]}


def test_a_unit_in_a_project_takes_its_place_and_a_project_with_units_is_kept(broker_a):
    with broker_a:
        project = services.project_create(data={"name": "Parque Ñuñoa", "comuna": "nunoa",
                                                 "address": "Av. Grecia 1200", "subsidy_ds19": True})
        unit = unit_make(code="P-1", comuna="", project=project, embed=False)
        with pytest.raises(ApplicationError) as error:
            services.project_delete(project=project)
    assert (unit.comuna, unit.address, unit.accepts_ds19, unit.accepts_ds1) == ("Ñuñoa", "Av. Grecia 1200", True,
                                                                                False)
    assert error.value.code == "project_has_units"


def test_editing_the_description_re_embeds_the_unit(broker_a, eager_tasks, django_capture_on_commit_callbacks):
    with broker_a:
        with django_capture_on_commit_callbacks(execute=True):
            unit = unit_make(code="E-1", description="Con terraza", embed=False)
        unit.refresh_from_db()
        first = list(unit.embedding)
        assert "Con terraza" in unit.embedded_text and unit.embedding_model == "use-multilingual-v3"
        with django_capture_on_commit_callbacks(execute=True):
            services.unit_update(unit=unit, data={"description": "Con piscina y quincho"})
        unit.refresh_from_db()
        assert "piscina" in unit.embedded_text and list(unit.embedding) != first
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.unit_status_set(unit=unit, status="reserved")  # not descriptive: no new vector
        assert callbacks == []


CSV_OK = (
    "Código;Proyecto;Tipo;Dormitorios;Baños;Superficie m²;Precio;Estado;Comuna;Descripción;Fotos;Subsidio\n"
    "NU-1;Parque Ñuñoa;Depto;2;2;55,5;4.000 UF;Disponible;nunoa;Con terraza;https://fotos.cl/1.jpg;DS19\n"
    "NU-2;Parque Ñuñoa;departamento;3;2;72;$190.000.000;reservada;Ñuñoa;Esquina;;\n"
    "LF-1;;Casa;3;2;120;4.500;vendida;La Florida;Con patio;;no\n"
)


def test_the_csv_import_understands_spanish_headers_and_values(broker_a, django_capture_on_commit_callbacks):
    with broker_a:
        with django_capture_on_commit_callbacks() as callbacks:
            result = imports.units_import(data=CSV_OK.encode("cp1252"))
        units = {unit.code: unit for unit in Unit.objects.select_related("project")}
        project = Project.objects.get()
    assert (result.rows, result.created, result.updated, result.errors) == (3, 3, 0, [])
    assert len(callbacks) == 1  # one embedding task for the file
    first = units["NU-1"]
    assert (first.property_type, first.bedrooms, first.area_m2, first.price_uf, first.status) == (
        "departamento", 2, Decimal("55.50"), Decimal("4000.00"), "available")
    assert first.photo_urls == ["https://fotos.cl/1.jpg"] and first.subsidy_ds19 and not first.subsidy_ds1
    assert (units["NU-2"].price_currency, units["NU-2"].price_clp, units["NU-2"].status) == ("CLP", 190_000_000,
                                                                                             "reserved")
    assert (units["LF-1"].project, units["LF-1"].status) == (None, "sold")
    assert project.name == "Parque Ñuñoa" and project.comuna == "Ñuñoa"


def test_a_file_with_bad_rows_imports_nothing_and_reports_each_problem(broker_a):
    bad = CSV_OK + ("NU-1;;casa;2;1;50;3.000 UF;disponible;Maipú;;;\n"   # repeated code
                    "X-9;Nuevo Proyecto;castillo;25;1;-4;gratis;perdida;Maipú;;ftp://x;\n")
    with broker_a:
        result = imports.units_import(data=bad.encode())
        assert not Unit.objects.exists() and not Project.objects.exists()  # nothing half-imported
    problems = {(error["row"], error["field"]) for error in result.errors}
    assert problems == {(5, "code"), (6, "property_type"), (6, "bedrooms"), (6, "area_m2"), (6, "price"),
                        (6, "status"), (6, "photo_urls")}
    assert result.created == result.updated == 0


def test_a_second_import_updates_units_by_code(broker_a):
    with broker_a:
        imports.units_import(data=CSV_OK.encode())
        result = imports.units_import(data=b"codigo,tipo,precio uf,estado\nNU-1,departamento,4100,vendida\n")
        unit = Unit.objects.get(code="NU-1")
    assert (result.created, result.updated) == (0, 1)
    assert (unit.price_uf, unit.status, unit.comuna) == (Decimal("4100.00"), "sold", "Ñuñoa")


def test_a_file_without_the_needed_columns_is_refused(broker_a):
    with broker_a, pytest.raises(ApplicationError) as error:
        imports.units_import(data=b"nombre;comuna\nA;Maipu\n")
    assert error.value.details["missing_columns"] == ["code", "property_type", "price"]
