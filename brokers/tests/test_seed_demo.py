"""`make run`'s demo brokerage: ready to try out (stock to offer, hours to book) and seeded once."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from appointments.models import Availability
from appointments.selectors import free_slots
from brokers.models import Broker
from properties.models import Unit


@pytest.mark.django_db
def test_the_demo_brokerage_has_stock_and_visiting_hours_and_seeding_twice_changes_nothing(broker_a):
    call_command("seed_demo", force=True)
    call_command("seed_demo", force=True)
    demo = Broker.objects.get(slug="demo")
    with demo:
        assert Unit.objects.count() == 6
        assert set(Unit.objects.values_list("status", flat=True)) == {"available", "reserved", "sold"}
        assert Availability.objects.count() == 10  # weekdays, morning and afternoon
        assert free_slots(days=7, appointment_type="property_visit", now=timezone.now())
    with broker_a:  # nothing of the demo lands in another brokerage
        assert not Unit.objects.exists() and not Availability.objects.exists()
