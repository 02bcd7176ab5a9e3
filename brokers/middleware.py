from django.contrib.auth import logout
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware

from brokers.auth import user_allowed_on_tenant
from crm.logging import bind_log_context


class CachedTenantMiddleware(TenantMainMiddleware):
    """Routes by host; a deactivated brokerage answers with a 'suspended' page."""

    def get_tenant(self, domain_model, hostname):
        return domain_model.objects.select_related("tenant").only(
            "tenant__id", "tenant__schema_name", "tenant__name", "tenant__slug", "tenant__is_active"
        ).get(domain=hostname).tenant

    def process_request(self, request):
        response = super().process_request(request)
        if response is not None:
            return response
        bind_log_context(broker=request.tenant.schema_name)
        if not request.tenant.is_active:
            return render(request, "brokers/suspended.html", status=403)
        return None


class HostBoundUserMiddleware:
    """A session opened elsewhere (another brokerage, or a deactivated user) is dropped on sight."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            if user_allowed_on_tenant(user, request.tenant):
                bind_log_context(user_id=user.pk)
            else:
                logout(request)
        return self.get_response(request)
