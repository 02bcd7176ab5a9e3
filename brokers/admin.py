"""Django admin for platform superadmins (platform host only)."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from brokers import services
from brokers.models import (
    Broker,
    BrokerChatConfig,
    BrokerLeadConfig,
    BrokerPromptConfig,
    BrokerVoiceConfig,
    Domain,
    LLMCall,
    User,
)
from crm.encryption import mask_secret


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class ConfigInline(admin.StackedInline):
    extra = 0
    can_delete = False
    max_num = 1


class PromptConfigInline(ConfigInline):
    model = BrokerPromptConfig


class LeadConfigInline(ConfigInline):
    model = BrokerLeadConfig


class VoiceConfigInline(ConfigInline):
    model = BrokerVoiceConfig
    exclude = ["api_key"]


class ChatConfigInline(ConfigInline):
    model = BrokerChatConfig
    # Credentials are managed by the brokerage's ADMIN; the platform sees only that they are set.
    exclude = list(services.SECRET_CHAT_FIELDS)
    readonly_fields = ["credentials_set"]

    @admin.display(description=_("credenciales"))
    def credentials_set(self, obj):
        return ", ".join(f"{f}={mask_secret(getattr(obj, f)) or '—'}" for f in services.SECRET_CHAT_FIELDS)


@admin.register(Broker)
class BrokerAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "schema_name", "contact_email", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "contact_email"]
    readonly_fields = ["schema_name", "created_at"]
    inlines = [DomainInline, PromptConfigInline, LeadConfigInline, VoiceConfigInline, ChatConfigInline]
    actions = ["activate", "deactivate", "telegram_set_webhook"]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public")

    def has_delete_permission(self, request, obj=None):
        return False  # brokerages are deactivated, never deleted from the admin

    @admin.action(description=_("Activar corredoras seleccionadas"))
    def activate(self, request, queryset):
        for broker in queryset:
            services.broker_set_active(broker=broker, is_active=True)
        self.message_user(request, _("%(n)d corredoras activadas.") % {"n": queryset.count()}, messages.SUCCESS)

    @admin.action(description=_("Desactivar corredoras seleccionadas"))
    def deactivate(self, request, queryset):
        for broker in queryset:
            services.broker_set_active(broker=broker, is_active=False)
        self.message_user(request, _("%(n)d corredoras desactivadas.") % {"n": queryset.count()}, messages.WARNING)


    @admin.action(description=_("Registrar webhook de Telegram (secreto nuevo)"))
    def telegram_set_webhook(self, request, queryset):
        from conversations.channels.base import ChannelSendError
        from conversations.services import telegram_webhook_register
        from crm.errors import ApplicationError

        base_url = settings.PUBLIC_BASE_URL or request.build_absolute_uri("/")
        for broker in queryset:
            try:
                url = telegram_webhook_register(broker=broker, base_url=base_url)
            except (ApplicationError, ChannelSendError) as exc:
                self.message_user(request, f"{broker.name}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{broker.name}: {url}", messages.SUCCESS)


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain", "tenant__name"]
    list_select_related = ["tenant"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "role", "broker", "is_active", "last_login"]
    list_filter = ["role", "is_active", "broker"]
    list_select_related = ["broker"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Datos"), {"fields": ["name", "role", "broker"]}),
        (_("Acceso"), {"fields": ["is_active", "is_staff", "is_superuser", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"],
                             "fields": ["email", "name", "role", "broker", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = []


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin):
    """Read-only: what each LLM attempt cost, how long it took and why it failed."""

    list_display = ["created_at", "broker", "provider", "model", "call_type", "input_tokens", "cached_tokens",
                    "output_tokens", "latency_ms", "cost_usd", "fallback_used", "error"]
    list_filter = ["broker", "provider", "call_type", "fallback_used", "created_at"]
    date_hierarchy = "created_at"
    list_select_related = ["broker"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
