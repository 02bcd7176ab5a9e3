from django.contrib import admin

from appointments.models import Appointment, Availability, AvailabilityBlock, BookingSettings
from crm.tenant_admin import tenant_admin_site


@admin.register(Appointment, site=tenant_admin_site)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["start_at", "lead", "agent", "appointment_type", "status"]
    list_filter = ["status", "appointment_type"]
    search_fields = ["lead__name", "notes"]
    list_select_related = ["lead", "agent"]
    date_hierarchy = "start_at"
    readonly_fields = ["reminder_24h_sent_at", "reminder_1h_sent_at", "created_at", "updated_at"]


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
