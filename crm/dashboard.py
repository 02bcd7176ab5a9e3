"""Key numbers for a brokerage's home page. Each app adds its figures here as it grows."""

from brokers.models import Broker, User
from leads.models import Lead


def home_numbers(*, broker: Broker) -> dict[str, int]:
    return {
        "leads": Lead.objects.filter(is_deleted=False).count(),
        "conversations": 0,
        "appointments": 0,
        "team": User.objects.filter(broker=broker, is_active=True).count(),
    }
