"""The Propiedades page: filter the list, the ADMIN's unit form and CSV upload; brokerages apart."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import host_of
from properties.models import Unit
from properties.tests.factories import catalogue_load, unit_make

pytestmark = pytest.mark.django_db


def rows(response) -> list[str]:
    return [line.split('data-unit="')[1].split('"')[0] for line in response.content.decode().splitlines()
            if 'data-unit="' in line]


def test_the_list_filters_by_comuna_type_rooms_price_and_status(page_client, broker_a, agent_a):
    with broker_a:
        units = catalogue_load()
        units["NU-202"].status = "sold"
        Unit.objects.filter(pk=units["NU-202"].pk).update(status="sold")
    client = page_client(host_of(broker_a), agent_a)
    assert len(rows(client.get("/propiedades/"))) == 6
    assert rows(client.get("/propiedades/", {"comuna": "nunoa", "bedrooms": 2})) == ["NU-202", "NU-101"]
    assert rows(client.get("/propiedades/", {"property_type": "casa", "max_price_uf": 4000})) == ["MP-02"]
    assert rows(client.get("/propiedades/", {"status": "sold"})) == ["NU-202"]
    empty = client.get("/propiedades/", {"comuna": "Arica"})
    assert "Ninguna unidad coincide con los filtros" in empty.content.decode()
    page = client.get("/propiedades/").content.decode()
    assert "4.000 UF" in page and "$158.000.000" in page
    assert "Nueva unidad" not in page and "Importar unidades" not in page  # an AGENT only reads


def test_an_empty_catalogue_says_so(page_client, broker_a, admin_a):
    page = page_client(host_of(broker_a), admin_a).get("/propiedades/").content.decode()
    assert "Aún no tienes unidades" in page and "Importar unidades desde un CSV" in page


def test_an_admin_creates_a_unit_with_the_form_and_an_agent_cannot(page_client, broker_a, admin_a, agent_a):
    data = {"code": "F-1", "property_type": "casa", "status": "available", "comuna": "Maipú", "bedrooms": "3",
            "bathrooms": "2", "area_m2": "98,5", "price": "3.900", "price_currency": "UF", "photo_urls": ""}
    assert page_client(host_of(broker_a), agent_a).post("/propiedades/nueva/", data).status_code == 403
    response = page_client(host_of(broker_a), admin_a).post("/propiedades/nueva/", data)
    assert response.status_code == 302
    with broker_a:
        unit = Unit.objects.get(code="F-1")
    assert (str(unit.area_m2), str(unit.price_uf), unit.bedrooms) == ("98.50", "3900.00", 3)
    refused = page_client(host_of(broker_a), admin_a).post("/propiedades/nueva/", {**data, "photo_urls": "no-url"})
    assert refused.status_code == 200 and "has-error" in refused.content.decode()


def test_the_csv_upload_shows_its_result(page_client, broker_a, admin_a):
    client = page_client(host_of(broker_a), admin_a)
    bad = client.post("/propiedades/importar/", {"file": SimpleUploadedFile(
        "u.csv", "código;tipo;precio;comuna\nA-1;casa;3.000 UF;Maipú\nA-2;nave;2.000 UF;Maipú\n".encode())})
    assert bad.status_code == 400 and "no se importó ninguna unidad" in bad.content.decode()
    assert "Tipo desconocido" in bad.content.decode()
    good = client.post("/propiedades/importar/", {"file": SimpleUploadedFile(
        "u.csv", "código;tipo;precio;comuna\nA-1;casa;3.000 UF;Maipú\n".encode())})
    assert good.status_code == 200, good.content.decode()[-1500:]
    assert "1 unidades creadas y 0 actualizadas." in good.content.decode()


def test_a_brokerage_never_sees_or_edits_anothers_units(page_client, broker_a, broker_b, admin_b):
    with broker_a:
        unit = unit_make(code="ALFA-1", embed=False)
    client = page_client(host_of(broker_b), admin_b)
    assert "ALFA-1" not in client.get("/propiedades/").content.decode()
    assert client.get(f"/propiedades/{unit.id}/").status_code == 404
    assert client.post(f"/propiedades/{unit.id}/eliminar/").status_code == 404
    with broker_a:
        assert Unit.objects.filter(code="ALFA-1").exists()
