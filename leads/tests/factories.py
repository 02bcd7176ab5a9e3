"""Leads as tests need them: saved in the current schema with exactly the given state (no services run)."""

from itertools import count

from brokers.models import Broker, BrokerLeadConfig
from leads.models import Lead

_numbers = count(10_000_000)


def lead_make(**fields) -> Lead:
    """A saved lead with a unique phone; pass phone="" for a lead without one."""
    fields.setdefault("phone", f"+5699{next(_numbers)}")
    return Lead.objects.create(**fields)


def config_of(broker: Broker) -> BrokerLeadConfig:
    return BrokerLeadConfig.objects.get(broker=broker)
