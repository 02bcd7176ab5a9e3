from django.contrib import admin

from conversations.models import Conversation, DeadLetter, InboundEvent, Message
from crm.tenant_admin import tenant_admin_site


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ["created_at", "direction", "sender", "text", "status", "error"]
    readonly_fields = fields
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation, site=tenant_admin_site)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["lead", "channel", "channel_user_id", "human_mode", "unread_count", "last_message_at"]
    list_filter = ["channel", "human_mode"]
    search_fields = ["lead__name", "channel_user_id"]
    list_select_related = ["lead"]
    readonly_fields = ["lead", "channel", "channel_user_id", "last_message_at", "last_inbound_at"]
    inlines = [MessageInline]


@admin.register(Message, site=tenant_admin_site)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "conversation", "direction", "sender", "status", "short_text"]
    list_filter = ["direction", "sender", "status", "channel"]
    search_fields = ["text", "external_id"]
    list_select_related = ["conversation"]
    readonly_fields = [f.name for f in Message._meta.fields]

    @admin.display(description="texto")
    def short_text(self, message):
        return message.text[:80]

    def has_add_permission(self, request):
        return False


@admin.register(DeadLetter, site=tenant_admin_site)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["created_at", "task", "message", "event", "attempts", "resolved"]
    list_filter = ["task", "resolved"]
    readonly_fields = ["message", "event", "task", "error", "attempts", "created_at"]


@admin.register(InboundEvent, site=tenant_admin_site)
class InboundEventAdmin(admin.ModelAdmin):
    """Webhook deliveries as they arrived: read-only (what the channel sent is a record, not a draft)."""

    list_display = ["received_at", "channel", "external_id", "processed_at"]
    list_filter = ["channel", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["external_id"]
    readonly_fields = [f.name for f in InboundEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
