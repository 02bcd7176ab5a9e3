"""The platform host: landing, sign-up, Django admin for superadmins, channel webhooks, health."""

from django.contrib import admin
from django.urls import include, path

from brokers import views as broker_views
from conversations import webhooks
from crm import health
from crm.tenant_admin import tenant_admin_site

admin.site.site_header = "Corredora CRM — plataforma"
admin.site.site_title = "Corredora CRM"

urlpatterns = [
    path("", broker_views.landing, name="landing"),
    path("registro/", broker_views.signup, name="signup"),
    path("admin/corredora/", tenant_admin_site.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("webhooks/telegram/<slug:slug>/", webhooks.telegram_webhook, name="webhook_telegram"),
    path("webhooks/whatsapp/", webhooks.whatsapp_webhook, name="webhook_whatsapp"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
