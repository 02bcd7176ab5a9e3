from django.contrib import admin

from appointments.models import (
    Appointment,
    Availability,
    AvailabilityBlock,
    BookingSettings,
    ExternalBusy,
    GoogleCalendarLink,
)
from crm.tenant_admin import tenant_admin_site


@admin.register(Appointment, site=tenant_admin_site)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["start_at", "lead", "agent", "appointment_type", "status", "google_sync_status"]
    list_filter = ["status", "appointment_type", "google_sync_status"]
    search_fields = ["lead__name", "notes"]
    list_select_related = ["lead", "agent"]
    date_hierarchy = "start_at"
    readonly_fields = ["reminder_24h_sent_at", "reminder_1h_sent_at", "google_event_id", "google_event_agent_id",
                       "google_sync_status", "google_sync_error", "created_at", "updated_at"]


@admin.register(Availability, site=tenant_admin_site)
class AvailabilityAdmin(admin.ModelAdmin):
    list_display = ["agent", "weekday", "start_time", "end_time", "appointment_type", "slot_minutes", "capacity"]
    list_filter = ["weekday", "appointment_type"]
    list_select_related = ["agent"]


@admin.register(AvailabilityBlock, site=tenant_admin_site)
class AvailabilityBlockAdmin(admin.ModelAdmin):
    list_display = ["agent", "start_at", "end_at", "reason", "recurring_weekly"]
    list_select_related = ["agent"]


@admin.register(BookingSettings, site=tenant_admin_site)
class BookingSettingsAdmin(admin.ModelAdmin):
    list_display = ["agent_rule", "chat_appointment_type", "min_notice_minutes", "office_address"]


@admin.register(GoogleCalendarLink, site=tenant_admin_site)
class GoogleCalendarLinkAdmin(admin.ModelAdmin):
    """Tokens never show: connecting happens only through Google's consent page."""

    list_display = ["agent", "created_at", "busy_synced_at", "error"]
    list_select_related = ["agent"]
    fields = ["agent", "access_expires_at", "busy_synced_at", "error", "error_at", "created_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ExternalBusy, site=tenant_admin_site)
class ExternalBusyAdmin(admin.ModelAdmin):
    list_display = ["agent", "start_at", "end_at"]
    list_select_related = ["agent"]
    date_hierarchy = "start_at"
    readonly_fields = ["agent", "start_at", "end_at"]

    def has_add_permission(self, request) -> bool:
        return False
