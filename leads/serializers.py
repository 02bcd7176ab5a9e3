from rest_framework import serializers

from leads.models import Lead, LeadActivity
from leads.phones import phone_to_e164
from leads.selectors import ORDERINGS
from pipeline.models import Calificacion, Stage


class LeadSerializer(serializers.ModelSerializer):
    """The Lead JSON of DESIGN §5."""

    monthly_income = serializers.IntegerField(read_only=True, allow_null=True)
    dicom_status = serializers.CharField(read_only=True)
    debt_amount = serializers.IntegerField(read_only=True, allow_null=True)
    assigned_to_name = serializers.CharField(source="assigned_to.name", read_only=True, default=None)

    class Meta:
        model = Lead
        fields = ["id", "name", "phone", "email", "channel", "channel_user_id", "location", "property_type",
                  "bedrooms", "budget_amount", "budget_currency", "budget_clp", "monthly_income", "dicom_status",
                  "debt_amount", "lead_score", "score_breakdown", "status", "pipeline_stage", "stage_entered_at",
                  "calificacion", "assigned_to", "assigned_to_name", "tags", "notes", "source", "close_reason",
                  "messages_count", "opted_out", "created_at", "updated_at", "last_contacted_at"]
        read_only_fields = fields


class LeadCardSerializer(serializers.ModelSerializer):
    """A lead on the kanban board."""

    assigned_to_name = serializers.CharField(source="assigned_to.name", read_only=True, default=None)

    class Meta:
        model = Lead
        fields = ["id", "name", "phone", "lead_score", "status", "calificacion", "pipeline_stage", "stage_entered_at",
                  "assigned_to", "assigned_to_name"]
        read_only_fields = fields


class LeadInputSerializer(serializers.Serializer):
    """Fields a person may write on a lead (PATCH sends any subset)."""

    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=Lead.Channel.choices, required=False)
    channel_user_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    location = serializers.CharField(max_length=120, required=False, allow_blank=True)
    property_type = serializers.CharField(max_length=30, required=False, allow_blank=True)
    bedrooms = serializers.IntegerField(min_value=0, max_value=20, required=False, allow_null=True)
    budget_amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, required=False,
                                             allow_null=True)
    budget_currency = serializers.ChoiceField(choices=Lead.Currency.choices, required=False, allow_blank=True)
    monthly_income = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    dicom_status = serializers.ChoiceField(choices=Lead.Dicom.choices, required=False, allow_blank=True)
    debt_amount = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), max_length=30, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    source = serializers.CharField(max_length=60, required=False, allow_blank=True)

    def validate_phone(self, value: str) -> str:
        if not value:
            return value
        try:
            return phone_to_e164(value)
        except ValueError:
            raise serializers.ValidationError("Teléfono inválido; usa por ejemplo +56912345678.") from None

    def validate_email(self, value: str) -> str:
        return value.strip().lower()


class LeadFilterSerializer(serializers.Serializer):
    stage = serializers.ListField(child=serializers.ChoiceField(choices=Stage.choices), required=False)
    status = serializers.ListField(child=serializers.ChoiceField(choices=Lead.Status.choices), required=False)
    score_min = serializers.IntegerField(min_value=0, max_value=100, required=False)
    score_max = serializers.IntegerField(min_value=0, max_value=100, required=False)
    dicom = serializers.ChoiceField(choices=[Lead.Dicom.CLEAN, Lead.Dicom.HAS_DEBT], required=False)
    calificacion = serializers.ChoiceField(choices=[c for c in Calificacion if c], required=False)
    agent = serializers.IntegerField(required=False)
    channel = serializers.ChoiceField(choices=Lead.Channel.choices, required=False)
    created_from = serializers.DateField(required=False)
    created_to = serializers.DateField(required=False)
    search = serializers.CharField(max_length=100, required=False, allow_blank=True)
    ordering = serializers.ChoiceField(choices=ORDERINGS, required=False)

    def to_internal_value(self, data):
        # ?stage=a,b and ?stage=a&stage=b both mean "either".
        values = {key: data.get(key) for key in data}
        for key in ("stage", "status"):
            if key in data:
                values[key] = [item for raw in data.getlist(key) for item in raw.split(",") if item]
        return super().to_internal_value(values)


class LeadAssignSerializer(serializers.Serializer):
    agent_id = serializers.IntegerField(required=False, allow_null=True,
                                        help_text="Sin agent_id: asignación por turno (round-robin).")


class LeadActivitySerializer(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor.name", read_only=True, default=None)

    class Meta:
        model = LeadActivity
        fields = ["id", "kind", "payload", "actor", "actor_name", "created_at"]
        read_only_fields = fields


class LeadMergeSerializer(serializers.Serializer):
    duplicate_id = serializers.IntegerField(help_text="El lead que se fusiona en este y luego se elimina.")


class LeadNoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
