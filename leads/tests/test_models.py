import pytest
from django.db import IntegrityError, connection, transaction

from leads.models import Lead, dicom_index
from leads.phones import phone_to_e164
from leads.tests.factories import lead_make


def test_financial_fields_are_encrypted_at_rest_and_typed_in_code(broker_a):
    with broker_a:
        lead = lead_make(name="Ana", monthly_income=1_234_567, dicom_status="has_debt", debt_amount=345_678)
        with connection.cursor() as cursor:
            cursor.execute("SELECT monthly_income, dicom_status, debt_amount FROM leads_lead WHERE id = %s", [lead.id])
            raw = cursor.fetchone()
        assert all(value.startswith("gAAAAA") for value in raw)  # Fernet tokens
        assert not any(plain in value for value in raw for plain in ("1234567", "has_debt", "345678"))
        stored = Lead.objects.get(pk=lead.pk)
        assert (stored.monthly_income, stored.dicom_status, stored.debt_amount) == (1_234_567, "has_debt", 345_678)
        assert stored.dicom_status_index == dicom_index("has_debt") != "has_debt"


def test_unknown_financial_values_read_as_none(broker_a):
    with broker_a:
        stored = Lead.objects.get(pk=lead_make().pk)
        assert (stored.monthly_income, stored.dicom_status, stored.debt_amount) == (None, "", None)


def test_phone_and_email_unique_among_live_leads_only(broker_a):
    with broker_a:
        first = lead_make(phone="+56911112222", email="ana@example.cl")
        for duplicate in ({"phone": "+56911112222"}, {"email": "ana@example.cl"}):
            with pytest.raises(IntegrityError), transaction.atomic():
                lead_make(**{"phone": "", **duplicate})
        Lead.objects.filter(pk=first.pk).update(is_deleted=True)
        lead_make(phone="+56911112222", email="ana@example.cl")


def test_the_same_phone_may_exist_in_two_brokerages(broker_a, broker_b):
    with broker_a:
        lead_make(phone="+56933334444")
    with broker_b:
        lead_make(phone="+56933334444")
        assert Lead.objects.filter(phone="+56933334444").count() == 1


@pytest.mark.parametrize(("raw", "e164"), [
    ("+56 9 1234 5678", "+56912345678"), ("9 1234 5678", "+56912345678"), ("56912345678", "+56912345678"),
    ("0056912345678", "+56912345678"), ("(2) 2345-6789", "+56223456789"), ("+1 415 555 0100", "+14155550100"),
])
def test_phone_to_e164(raw, e164):
    assert phone_to_e164(raw) == e164


@pytest.mark.parametrize("raw", ["hola", "12345", "+0123456789", ""])
def test_phone_to_e164_refuses_non_numbers(raw):
    with pytest.raises(ValueError):
        phone_to_e164(raw)
