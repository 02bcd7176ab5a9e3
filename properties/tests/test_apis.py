"""/api/v1/properties/: AGENTs read, ADMINs write; one brokerage never reaches another's stock."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import host_of
from properties.models import Unit
from properties.tests.factories import catalogue_load, unit_make

pytestmark = pytest.mark.django_db

UNIT = {"code": "API-1", "property_type": "departamento", "comuna": "Ñuñoa", "bedrooms": 2, "price": "4000",
        "price_currency": "UF", "description": "Con terraza"}


def test_an_admin_creates_edits_and_deletes_a_unit(api_client, broker_a, admin_a):
    client = api_client(host_of(broker_a), admin_a)
    created = client.post("/api/v1/properties/units/", UNIT, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["price_uf"], body["price_clp"], body["status"]) == ("4000.00", 158_000_000, "available")
    changed = client.patch(f"/api/v1/properties/units/{body['id']}/", {"status": "reserved", "bedrooms": 3},
                           format="json")
    assert changed.status_code == 200 and (changed.json()["status"], changed.json()["bedrooms"]) == ("reserved", 3)
    assert changed.json()["price_uf"] == "4000.00"
    assert client.delete(f"/api/v1/properties/units/{body['id']}/").status_code == 204
    with broker_a:
        assert not Unit.objects.exists()


def test_an_agent_reads_and_searches_but_cannot_write(api_client, broker_a, agent_a):
    with broker_a:
        units = catalogue_load()
    client = api_client(host_of(broker_a), agent_a)
    listed = client.get("/api/v1/properties/units/", {"comuna": "nunoa", "bedrooms": 2})
    assert listed.status_code == 200 and listed.json()["count"] == 2
    found = client.get("/api/v1/properties/units/search/", {"comuna": "Ñuñoa", "q": "terraza y cordillera"})
    assert found.status_code == 200 and found.json()["results"][0]["unit"]["code"] == "NU-101"
    for method, path, data in (
            ("post", "/api/v1/properties/units/", UNIT),
            ("patch", f"/api/v1/properties/units/{units['NU-101'].id}/", {"status": "sold"}),
            ("delete", f"/api/v1/properties/units/{units['NU-101'].id}/", None),
            ("post", "/api/v1/properties/projects/", {"name": "X", "comuna": "Maipú"})):
        response = getattr(client, method)(path, data, format="json")
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    with broker_a:
        assert Unit.objects.get(code="NU-101").status == "available"


def test_bad_input_gets_the_error_body(api_client, broker_a, admin_a):
    client = api_client(host_of(broker_a), admin_a)
    response = client.post("/api/v1/properties/units/", {**UNIT, "price": "-5", "property_type": "castillo"},
                           format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"price", "property_type"}


def test_the_csv_import_endpoint_reports_bad_rows_and_imports_nothing(api_client, broker_a, admin_a, agent_a):
    csv = "código;tipo;precio;comuna\nOK-1;casa;3.000 UF;Maipú\nBAD-1;casa;gratis;Maipú\n".encode()
    client = api_client(host_of(broker_a), admin_a)
    response = client.post("/api/v1/properties/units/import/", {"file": SimpleUploadedFile("u.csv", csv)},
                           format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_rows"
    assert response.json()["error"]["details"]["errors"] == [
        {"row": 3, "field": "price", "message": "Precio ilegible; usa por ejemplo 4.000 UF o $95.000.000."}]
    good = client.post("/api/v1/properties/units/import/",
                       {"file": SimpleUploadedFile("u.csv", csv.splitlines(keepends=True)[0] + b"OK-1;casa;3.000 UF;"
                                                                                              b"Maipu\n")},
                       format="multipart")
    assert good.status_code == 201 and good.json()["created"] == 1
    denied = api_client(host_of(broker_a), agent_a).post(
        "/api/v1/properties/units/import/", {"file": SimpleUploadedFile("u.csv", csv)}, format="multipart")
    assert denied.status_code == 403


def test_another_brokerages_units_do_not_exist_here(api_client, broker_a, broker_b, admin_a, admin_b):
    with broker_a:
        unit = unit_make(code="A-ONLY", description="Con terraza")
    client = api_client(host_of(broker_b), admin_b)
    assert client.get(f"/api/v1/properties/units/{unit.id}/").status_code == 404
    assert client.patch(f"/api/v1/properties/units/{unit.id}/", {"status": "sold"}, format="json").status_code == 404
    assert client.get("/api/v1/properties/units/").json()["count"] == 0
    assert client.get("/api/v1/properties/units/search/", {"q": "terraza"}).json()["results"] == []
    foreign = api_client(host_of(broker_a), admin_b)  # B's token on A's host
    assert foreign.get("/api/v1/properties/units/").status_code in (401, 403)


def test_the_endpoints_are_in_the_openapi_schema(api_client, broker_a, admin_a):
    schema = api_client(host_of(broker_a), admin_a).get("/api/schema/", {"format": "json"}).json()
    assert {"/api/v1/properties/units/", "/api/v1/properties/units/search/", "/api/v1/properties/units/import/",
            "/api/v1/properties/projects/"} <= set(schema["paths"])
