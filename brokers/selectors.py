"""Reads on the platform."""

from django.db.models import Q, QuerySet

from brokers.models import Broker, User


def user_list(*, broker: Broker, search: str = "", role: str = "", is_active: bool | None = None) -> QuerySet[User]:
    users = User.objects.filter(broker=broker).order_by("name")
    if search:
        users = users.filter(Q(name__icontains=search) | Q(email__icontains=search))
    if role:
        users = users.filter(role=role)
    if is_active is not None:
        users = users.filter(is_active=is_active)
    return users


def user_get(*, broker: Broker, user_id: int) -> User | None:
    """A colleague of the same brokerage, or None: ids of other brokerages do not exist here."""
    return User.objects.filter(broker=broker, pk=user_id).first()
