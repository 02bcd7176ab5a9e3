import time

from django.contrib.auth import logout
from django.db.models.signals import post_delete, post_save
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware

from brokers.auth import user_allowed_on_tenant
from brokers.models import Broker, Domain
from crm.logging import bind_log_context

HOST_MEMO_SECONDS = 30
_hosts: dict[str, tuple[float, Broker]] = {}


def forget_hosts(**kwargs) -> None:
    """Any change to a brokerage or a host empties this process's memo at once; other processes
    see it within HOST_MEMO_SECONDS (sessions, tokens and webhooks re-read the brokerage anyway)."""
    _hosts.clear()


for model in (Broker, Domain):
    post_save.connect(forget_hosts, sender=model, dispatch_uid=f"forget-hosts-save-{model.__name__}")
    post_delete.connect(forget_hosts, sender=model, dispatch_uid=f"forget-hosts-delete-{model.__name__}")


class TenantByHostMiddleware(TenantMainMiddleware):
    """Routes by host, remembering host → brokerage briefly (the lookup was half of a small
    request's time); a deactivated brokerage answers with a 'suspended' page."""

    def get_tenant(self, domain_model, hostname):
        now = time.monotonic()
        memo = _hosts.get(hostname)
        if memo is not None and memo[0] > now:
            return memo[1]
        tenant = domain_model.objects.select_related("tenant").get(domain=hostname).tenant
        _hosts[hostname] = (now + HOST_MEMO_SECONDS, tenant)
        return tenant

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
