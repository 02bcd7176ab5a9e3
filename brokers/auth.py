"""Authentication bound to the host: a brokerage's people log in only on their brokerage's host,
superadmins only on the platform host, and a JWT works only on the host it was issued for."""

from django.contrib.auth.backends import ModelBackend
from django.db import connection
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import RefreshToken

from brokers.models import Broker, User

BROKER_CLAIM = "broker_id"


def current_tenant(request=None) -> Broker | None:
    return getattr(request, "tenant", None) or getattr(connection, "tenant", None)


def user_allowed_on_tenant(user: User, tenant: Broker | None) -> bool:
    """The rule that walls brokerages off from each other's people."""
    if not user.is_active or tenant is None:
        return False
    if tenant.schema_name == "public":
        return user.is_superadmin
    return tenant.is_active and user.broker_id == tenant.id


class HostBoundBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = (email or username or "").strip().lower()
        user = User.objects.select_related("broker").filter(email=email).first()
        if user is None:
            User().set_password(password or "-")  # same work as a real check: no timing oracle for emails
            return None
        if user.check_password(password) and user_allowed_on_tenant(user, current_tenant(request)):
            return user
        return None

    def user_can_authenticate(self, user) -> bool:
        return user.is_active and (user.broker_id is None or user.broker.is_active)

    def get_user(self, user_id):
        user = User.objects.select_related("broker").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


def tokens_for(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    refresh[BROKER_CLAIM] = user.broker_id
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


class BrokerJWTAuthentication(JWTAuthentication):
    """Bearer tokens carry the brokerage they were issued for; another host refuses them."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        if token.get(BROKER_CLAIM) != user.broker_id or not user_allowed_on_tenant(user, current_tenant(request)):
            raise exceptions.AuthenticationFailed("Este token no es válido para esta corredora.",
                                                  code="token_not_valid")
        return user, token

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if user.broker_id is not None and not user.broker.is_active:
            raise exceptions.AuthenticationFailed("La corredora está desactivada.", code="broker_inactive")
        return user
