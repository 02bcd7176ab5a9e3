from rest_framework.permissions import BasePermission

from brokers.auth import current_tenant, user_allowed_on_tenant


class IsBrokerUser(BasePermission):
    """Signed in, on a brokerage host, as one of that brokerage's people."""

    message = "No tienes acceso a esta corredora."

    def has_permission(self, request, view) -> bool:
        tenant = current_tenant(request)
        return (
            request.user.is_authenticated
            and tenant is not None
            and not tenant.is_public
            and user_allowed_on_tenant(request.user, tenant)
        )


class IsBrokerAdmin(IsBrokerUser):
    message = "Solo un administrador de la corredora puede hacer esto."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.user.is_broker_admin
