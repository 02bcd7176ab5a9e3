"""Django admin for the data inside brokerages' schemas (leads, conversations, ...), for superadmins
on the platform host. The superadmin picks one brokerage; every page then runs in its schema, and
the brokerage's name heads each page so nobody mistakes whose data they are looking at."""

from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from brokers.models import Broker

SESSION_KEY = "tenant_admin_broker_id"


class TenantAdminSite(admin.AdminSite):
    site_header = _("Corredora CRM — datos de una corredora")
    site_title = "Corredora CRM"
    index_title = _("Datos de la corredora")

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and getattr(request.user, "is_superadmin", False)

    def admin_view(self, view, cacheable=False):
        """Every page runs inside the chosen brokerage's schema; without a choice, go choose."""
        guarded = super().admin_view(view, cacheable)

        def in_brokerage(request, *args, **kwargs):
            if not self.has_permission(request):
                return guarded(request, *args, **kwargs)  # the login redirect
            broker = Broker.objects.filter(pk=request.session.get(SESSION_KEY)) \
                .exclude(schema_name="public").first()
            if broker is None:
                return redirect("tenant_admin:choose_broker")
            request.tenant_admin_broker = broker
            with broker:
                response = guarded(request, *args, **kwargs)
                if hasattr(response, "render"):  # templates query lazily: render inside the schema
                    response.render()
                return response

        return in_brokerage

    def each_context(self, request):
        context = super().each_context(request)
        broker = getattr(request, "tenant_admin_broker", None)
        if broker is not None:
            context["site_header"] = f"{self.site_header}: {broker.name}"
        return context

    def get_urls(self):
        return [
            path("elegir/", super().admin_view(self.choose_broker), name="choose_broker"),
            *super().get_urls(),
        ]

    def choose_broker(self, request):
        if not self.has_permission(request):
            return redirect(reverse("admin:login"))
        if request.method == "POST":
            broker = Broker.objects.exclude(schema_name="public").filter(pk=request.POST.get("broker")).first()
            if broker is not None:
                request.session[SESSION_KEY] = broker.pk
                messages.info(request, _("Viendo los datos de %(name)s.") % {"name": broker.name})
                return redirect("tenant_admin:index")
        brokers = Broker.objects.exclude(schema_name="public").order_by("name")
        return render(request, "admin/choose_broker.html", {
            **super().each_context(request), "brokers": brokers, "title": _("Elegir corredora"),
            "current": request.session.get(SESSION_KEY),
        })


tenant_admin_site = TenantAdminSite(name="tenant_admin")
