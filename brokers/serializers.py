from rest_framework import serializers

from brokers.models import BrokerChatConfig, BrokerLeadConfig, BrokerPromptConfig, BrokerVoiceConfig, User
from brokers.services import SECRET_CHAT_FIELDS
from crm.encryption import mask_secret


class TokenObtainSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "is_active", "date_joined", "last_login"]
        read_only_fields = fields


class UserCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField(max_length=120)
    role = serializers.ChoiceField(choices=[User.Role.AGENT, User.Role.ADMIN])
    password = serializers.CharField(trim_whitespace=False, write_only=True)


class UserUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    role = serializers.ChoiceField(choices=[User.Role.AGENT, User.Role.ADMIN], required=False)
    is_active = serializers.BooleanField(required=False)


class PromptConfigSerializer(serializers.ModelSerializer):
    class Meta:
        model = BrokerPromptConfig
        fields = ["assistant_name", "sections", "greeting", "updated_at"]
        read_only_fields = ["updated_at"]


class LeadConfigSerializer(serializers.ModelSerializer):
    class Meta:
        model = BrokerLeadConfig
        fields = ["field_weights", "field_priority", "cold_max", "warm_max", "qualified_min",
                  "income_qualified_min", "income_potential_min", "max_debt_clp", "inactivity_days",
                  "assignment_rule", "assignment_priority", "updated_at"]
        read_only_fields = ["updated_at"]

    def validate_field_weights(self, value):
        if not isinstance(value, dict) or not all(isinstance(v, int | float) and v >= 0 for v in value.values()):
            raise serializers.ValidationError("Los pesos deben ser números no negativos por campo.")
        return value

    def validate_assignment_priority(self, value):
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise serializers.ValidationError("Debe ser una lista de ids de personas, la preferida primero.")
        return value

    def validate(self, attrs):
        merged = {f: attrs.get(f, getattr(self.instance, f, None)) for f in ("cold_max", "warm_max", "qualified_min")}
        if not (merged["cold_max"] < merged["warm_max"] < merged["qualified_min"] <= 100):
            raise serializers.ValidationError({"thresholds": "Debe cumplirse frío < tibio < calificado ≤ 100."})
        return attrs


class MaskedSecretsMixin:
    """Secrets are accepted on write and shown back only as a mask."""

    secret_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for field in self.secret_fields:
            data[field] = mask_secret(getattr(instance, field))
        return data


class VoiceConfigSerializer(MaskedSecretsMixin, serializers.ModelSerializer):
    secret_fields = ("api_key",)

    class Meta:
        model = BrokerVoiceConfig
        fields = ["enabled", "provider", "voice", "max_call_minutes", "calling_hours", "api_key", "updated_at"]
        read_only_fields = ["updated_at"]
        extra_kwargs = {"api_key": {"required": False, "allow_blank": True}}


class ChatConfigSerializer(MaskedSecretsMixin, serializers.ModelSerializer):
    secret_fields = SECRET_CHAT_FIELDS

    class Meta:
        model = BrokerChatConfig
        fields = ["telegram_bot_token", "telegram_secret_token", "whatsapp_phone_number_id",
                  "whatsapp_access_token", "whatsapp_app_secret", "whatsapp_verify_token",
                  "webchat_enabled", "webchat_allowed_origins", "ai_enabled", "context_messages", "updated_at"]
        read_only_fields = ["updated_at"]
        extra_kwargs = {f: {"required": False, "allow_blank": True} for f in SECRET_CHAT_FIELDS} | {
            "whatsapp_phone_number_id": {"validators": [], "required": False, "allow_null": True, "allow_blank": True}
        }

    def validate_webchat_allowed_origins(self, value):
        web_origin = ("http://", "https://")
        if not isinstance(value, list) or not all(isinstance(o, str) and o.startswith(web_origin) for o in value):
            raise serializers.ValidationError("Indica una lista de orígenes como https://www.micorredora.cl.")
        return value


CONFIG_SERIALIZERS = {
    "prompt": PromptConfigSerializer,
    "lead": LeadConfigSerializer,
    "voice": VoiceConfigSerializer,
    "chat": ChatConfigSerializer,
}
