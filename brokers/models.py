"""The platform's public-schema models: brokerages (tenants), their hosts, users and settings."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from crm.encryption import EncryptedTextField
from crm.models import TimeStampedModel

slug_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$",
    _("Usa de 3 a 40 letras minúsculas, números o guiones, comenzando con una letra."),
)


class Broker(TenantMixin):
    """A brokerage (corredora). Its leads, conversations and visits live in its own schema."""

    name = models.CharField(_("nombre"), max_length=120)
    slug = models.SlugField(_("subdominio"), max_length=40, unique=True, validators=[slug_validator])
    contact_email = models.EmailField(_("correo de contacto"), blank=True)
    contact_phone = models.CharField(_("teléfono de contacto"), max_length=20, blank=True)
    max_users = models.PositiveIntegerField(_("máximo de usuarios"), default=10)
    max_leads = models.PositiveIntegerField(_("máximo de leads"), default=100_000)
    is_active = models.BooleanField(_("activa"), default=True)
    created_at = models.DateTimeField(_("creada"), default=timezone.now, editable=False)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name = _("corredora")
        verbose_name_plural = _("corredoras")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"


class Domain(DomainMixin):
    """A host name that routes to one brokerage (`<slug>.BASE_DOMAIN`) or to the platform."""

    class Meta:
        verbose_name = _("dominio")
        verbose_name_plural = _("dominios")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(role=User.Role.SUPERADMIN, is_staff=True, is_superuser=True, broker=None)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: an agent or admin of one brokerage, or a platform superadmin."""

    class Role(models.TextChoices):
        AGENT = "AGENT", _("Agente")
        ADMIN = "ADMIN", _("Administrador")
        SUPERADMIN = "SUPERADMIN", _("Superadministrador")

    email = models.EmailField(_("correo"), unique=True)
    name = models.CharField(_("nombre"), max_length=120)
    role = models.CharField(_("rol"), max_length=16, choices=Role.choices, default=Role.AGENT)
    broker = models.ForeignKey(
        Broker, verbose_name=_("corredora"), null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )
    is_active = models.BooleanField(_("activo"), default=True)
    is_staff = models.BooleanField(_("acceso al admin"), default=False)
    date_joined = models.DateTimeField(_("alta"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("usuario")
        verbose_name_plural = _("usuarios")
        ordering = ["name"]
        constraints = [
            # Brokerage users belong to exactly one brokerage; superadmins to none.
            models.CheckConstraint(
                condition=Q(role="SUPERADMIN", broker__isnull=True) | (~Q(role="SUPERADMIN") & Q(broker__isnull=False)),
                name="user_role_matches_broker",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_broker_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def is_superadmin(self) -> bool:
        return self.role == self.Role.SUPERADMIN


def default_prompt_sections() -> dict:
    return {
        "identity": "Eres el asistente virtual de la corredora. Hablas en español de Chile, cercano y profesional.",
        "goal": "Ayuda a la persona a encontrar su propiedad y reúne los datos para que un ejecutivo la contacte.",
        "style": "Respuestas breves (2 a 4 frases), una o dos preguntas a la vez, sin tecnicismos.",
        "rules": (
            "Nunca prometas aprobación de crédito ni calcules el pie. Si la persona no conoce su situación "
            "en DICOM, indícale que puede pedir su informe gratuito en el sitio oficial."
        ),
    }


def default_field_weights() -> dict:
    return {
        "name": 10,
        "phone": 15,
        "email": 10,
        "location": 10,
        "budget": 15,
        "monthly_income": 20,
        "dicom_status": 20,
    }


def default_field_priority() -> list:
    return ["name", "location", "budget", "phone", "email", "monthly_income", "dicom_status"]


class BrokerPromptConfig(TimeStampedModel):
    """How the assistant talks for this brokerage."""

    broker = models.OneToOneField(Broker, on_delete=models.CASCADE, related_name="prompt_config")
    assistant_name = models.CharField(_("nombre del asistente"), max_length=60, default="Sofía")
    sections = models.JSONField(_("secciones del prompt"), default=default_prompt_sections)
    greeting = models.TextField(
        _("saludo"),
        default="¡Hola! Soy {assistant}, asistente de {broker}. ¿Me cuentas qué tipo de propiedad buscas?",
    )

    class Meta:
        verbose_name = _("configuración del asistente")
        verbose_name_plural = _("configuraciones del asistente")


class BrokerLeadConfig(TimeStampedModel):
    """Scoring weights, status thresholds, qualification rules and how new leads are assigned for this brokerage."""

    class AssignmentRule(models.TextChoices):
        MANUAL = "manual", _("Manual")
        ROUND_ROBIN = "round_robin", _("Por turno entre agentes")
        PRIORITY = "priority", _("Por orden de prioridad")

    broker = models.OneToOneField(Broker, on_delete=models.CASCADE, related_name="lead_config")
    field_weights = models.JSONField(_("pesos por campo"), default=default_field_weights)
    field_priority = models.JSONField(_("orden de preguntas"), default=default_field_priority)
    cold_max = models.PositiveSmallIntegerField(_("frío hasta"), default=20)
    warm_max = models.PositiveSmallIntegerField(_("tibio hasta"), default=50)
    qualified_min = models.PositiveSmallIntegerField(_("calificado desde"), default=75)
    income_qualified_min = models.PositiveIntegerField(_("renta mínima calificado (CLP)"), default=1_000_000)
    income_potential_min = models.PositiveIntegerField(_("renta mínima potencial (CLP)"), default=500_000)
    max_debt_clp = models.PositiveIntegerField(_("deuda máxima aceptada (CLP)"), default=0)
    inactivity_days = models.PositiveSmallIntegerField(_("días para considerar inactivo"), default=14)
    assignment_rule = models.CharField(_("asignación de leads nuevos"), max_length=12,
                                       choices=AssignmentRule.choices, default=AssignmentRule.MANUAL)
    # User ids, most preferred first; who is no longer active or no longer here is skipped.
    assignment_priority = models.JSONField(_("orden de prioridad"), default=list, blank=True)

    class Meta:
        verbose_name = _("configuración de leads")
        verbose_name_plural = _("configuraciones de leads")
        constraints = [
            models.CheckConstraint(
                condition=Q(cold_max__lt=models.F("warm_max")) & Q(warm_max__lt=models.F("qualified_min"))
                & Q(qualified_min__lte=100),
                name="lead_thresholds_ordered",
            )
        ]


class BrokerVoiceConfig(TimeStampedModel):
    """Phone qualification settings."""

    broker = models.OneToOneField(Broker, on_delete=models.CASCADE, related_name="voice_config")
    enabled = models.BooleanField(_("llamadas habilitadas"), default=False)
    provider = models.CharField(_("proveedor"), max_length=30, blank=True)
    voice = models.CharField(_("voz"), max_length=60, default="es-CL-femenina")
    max_call_minutes = models.PositiveSmallIntegerField(_("duración máxima (min)"), default=10)
    calling_hours = models.CharField(_("horario de llamadas"), max_length=30, default="09:00-20:00")
    api_key = EncryptedTextField(_("API key"), blank=True)

    class Meta:
        verbose_name = _("configuración de voz")
        verbose_name_plural = _("configuraciones de voz")


class BrokerChatConfig(TimeStampedModel):
    """Channel identities and credentials. Secrets are encrypted at rest and never shown back."""

    broker = models.OneToOneField(Broker, on_delete=models.CASCADE, related_name="chat_config")
    telegram_bot_token = EncryptedTextField(_("token del bot de Telegram"), blank=True)
    telegram_secret_token = EncryptedTextField(_("secreto del webhook de Telegram"), blank=True)
    whatsapp_phone_number_id = models.CharField(
        _("WhatsApp phone_number_id"), max_length=40, null=True, blank=True, unique=True
    )
    whatsapp_access_token = EncryptedTextField(_("token de acceso de WhatsApp"), blank=True)
    whatsapp_app_secret = EncryptedTextField(_("app secret de WhatsApp"), blank=True)
    whatsapp_verify_token = EncryptedTextField(_("token de verificación de WhatsApp"), blank=True)
    webchat_enabled = models.BooleanField(_("chat web habilitado"), default=True)
    webchat_allowed_origins = models.JSONField(_("orígenes permitidos del chat web"), default=list, blank=True)
    ai_enabled = models.BooleanField(_("asistente IA activo"), default=True)
    context_messages = models.PositiveSmallIntegerField(_("mensajes de contexto"), default=20)

    class Meta:
        verbose_name = _("configuración de canales")
        verbose_name_plural = _("configuraciones de canales")


class LLMCall(models.Model):
    """One attempt to get an answer from an LLM provider, and what it cost (platform-wide cost record).

    Written by the LLM facade in the caller's transaction. A call that falls back leaves one row
    per attempt: the failed one with its error, then the one that answered (`fallback_used`).
    """

    class CallType(models.TextChoices):
        QUALIFY = "qualify", _("calificación")
        CHAT = "chat", _("conversación")
        JSON = "json", _("JSON estructurado")
        EMBEDDING = "embedding", _("embeddings")

    broker = models.ForeignKey(Broker, verbose_name=_("corredora"), on_delete=models.CASCADE, related_name="llm_calls")
    # The lead lives in the brokerage's schema; a foreign key cannot point across schemas.
    lead_id = models.BigIntegerField(_("lead"), null=True, blank=True)
    provider = models.CharField(_("proveedor"), max_length=20)
    model = models.CharField(_("modelo"), max_length=100)
    call_type = models.CharField(_("tipo de llamada"), max_length=10, choices=CallType.choices)
    input_tokens = models.PositiveIntegerField(_("tokens de entrada"), default=0)
    output_tokens = models.PositiveIntegerField(_("tokens de salida"), default=0)
    cached_tokens = models.PositiveIntegerField(_("tokens en caché"), default=0)
    latency_ms = models.PositiveIntegerField(_("latencia (ms)"), default=0)
    cost_usd = models.DecimalField(_("costo (USD)"), max_digits=12, decimal_places=8, default=0)
    fallback_used = models.BooleanField(_("respaldo usado"), default=False)
    error = models.CharField(_("error"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("fecha"), default=timezone.now, db_index=True, editable=False)

    class Meta:
        verbose_name = _("llamada LLM")
        verbose_name_plural = _("llamadas LLM")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["broker", "-created_at"], name="llmcall_broker_created")]
        constraints = [
            models.CheckConstraint(condition=Q(call_type__in=["qualify", "chat", "json", "embedding"]),
                                   name="llmcall_call_type"),
            # Providers count cached tokens as part of the input.
            models.CheckConstraint(condition=Q(cached_tokens__lte=models.F("input_tokens")),
                                   name="llmcall_cached_within_input"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} {self.call_type} {self.created_at:%Y-%m-%d %H:%M}"
