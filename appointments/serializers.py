from rest_framework import serializers

from appointments.models import Appointment, AppointmentType
from appointments.views import invite_path


class AppointmentSerializer(serializers.ModelSerializer):
    lead_name = serializers.CharField(source="lead.name", read_only=True)
    invite_path = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = ["id", "lead", "lead_name", "agent", "appointment_type", "start_at", "end_at", "status",
                  "cancel_reason", "location", "meeting_url", "notes", "booked_by", "reminder_24h_sent_at",
                  "reminder_1h_sent_at", "google_sync_status", "google_sync_error", "invite_path", "created_at",
                  "updated_at"]
        read_only_fields = fields

    def get_invite_path(self, appointment: Appointment) -> str:
        """Where the lead downloads the .ics (a signed link: it works without logging in)."""
        return invite_path(appointment)


class AppointmentFilterSerializer(serializers.Serializer):
    status = serializers.ListField(child=serializers.ChoiceField(choices=Appointment.Status.choices), required=False)
    agent_id = serializers.IntegerField(required=False)
    lead_id = serializers.IntegerField(required=False)
    appointment_type = serializers.ChoiceField(choices=AppointmentType.choices, required=False)
    start_from = serializers.DateTimeField(required=False)
    start_to = serializers.DateTimeField(required=False)


class AppointmentCreateSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField()
    start = serializers.DateTimeField()
    appointment_type = serializers.ChoiceField(choices=AppointmentType.choices,
                                               default=AppointmentType.PROPERTY_VISIT)
    agent_id = serializers.IntegerField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class AppointmentRescheduleSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    agent_id = serializers.IntegerField(required=False)


class AppointmentCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class SlotFilterSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=60, default=7)
    appointment_type = serializers.ChoiceField(choices=AppointmentType.choices,
                                               default=AppointmentType.PROPERTY_VISIT)
    agent_id = serializers.IntegerField(required=False)


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    appointment_type = serializers.CharField()
    agent_ids = serializers.ListField(child=serializers.IntegerField())
