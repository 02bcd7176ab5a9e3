from django import forms
from django.utils.translation import gettext_lazy as _

from brokers.models import (
    BrokerChatConfig,
    BrokerLeadConfig,
    BrokerPromptConfig,
    BrokerVoiceConfig,
    User,
    slug_validator,
)
from brokers.services import SECRET_CHAT_FIELDS
from crm.errors import ApplicationError


class ApplicationErrorFormMixin:
    """Shows a service's ApplicationError on the form: on its field when it names one."""

    def add_application_error(self, error: ApplicationError) -> None:
        fields = [f for f in error.details if f in self.fields]
        if fields:
            for field in fields:
                self.add_error(field, error.message if error.code != "weak_password" else error.details[field])
        else:
            self.add_error(None, error.message)


class SignupForm(ApplicationErrorFormMixin, forms.Form):
    broker_name = forms.CharField(label=_("Nombre de la corredora"), max_length=120)
    slug = forms.CharField(
        label=_("Subdominio"), max_length=40, validators=[slug_validator],
        help_text=_("De 3 a 40 letras minúsculas, números o guiones. Ejemplo: propiedades-sur"),
    )
    name = forms.CharField(label=_("Tu nombre"), max_length=120)
    email = forms.EmailField(label=_("Tu correo"))
    phone = forms.CharField(label=_("Teléfono"), max_length=20, required=False)
    password = forms.CharField(label=_("Contraseña"), widget=forms.PasswordInput, strip=False)
    password_confirm = forms.CharField(label=_("Repite la contraseña"), widget=forms.PasswordInput, strip=False)

    def clean_slug(self):
        return self.cleaned_data["slug"].strip().lower()

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("Las contraseñas no coinciden."))
        return data


class LoginForm(forms.Form):
    email = forms.EmailField(label=_("Correo"))
    password = forms.CharField(label=_("Contraseña"), widget=forms.PasswordInput, strip=False)


class UserCreateForm(ApplicationErrorFormMixin, forms.Form):
    name = forms.CharField(label=_("Nombre"), max_length=120)
    email = forms.EmailField(label=_("Correo"))
    role = forms.ChoiceField(label=_("Rol"),
                             choices=[(User.Role.AGENT, _("Agente")), (User.Role.ADMIN, _("Administrador"))])
    password = forms.CharField(label=_("Contraseña inicial"), widget=forms.PasswordInput, strip=False)


class PromptConfigForm(forms.ModelForm):
    identity = forms.CharField(label=_("Identidad"), widget=forms.Textarea(attrs={"rows": 2}))
    goal = forms.CharField(label=_("Objetivo"), widget=forms.Textarea(attrs={"rows": 2}))
    style = forms.CharField(label=_("Estilo"), widget=forms.Textarea(attrs={"rows": 2}))
    rules = forms.CharField(label=_("Reglas"), widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = BrokerPromptConfig
        fields = ["assistant_name", "greeting"]
        widgets = {"greeting": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key in ("identity", "goal", "style", "rules"):
            self.fields[key].initial = self.instance.sections.get(key, "")

    def service_values(self) -> dict:
        data = self.cleaned_data
        sections = {**self.instance.sections, **{k: data[k] for k in ("identity", "goal", "style", "rules")}}
        return {"assistant_name": data["assistant_name"], "greeting": data["greeting"], "sections": sections}


class LeadConfigForm(forms.ModelForm):
    class Meta:
        model = BrokerLeadConfig
        fields = ["cold_max", "warm_max", "qualified_min", "income_qualified_min", "income_potential_min",
                  "max_debt_clp", "inactivity_days", "field_weights", "field_priority", "assignment_rule",
                  "assignment_priority"]
        help_texts = {"assignment_priority": _("Ids de las personas en orden, por ejemplo [12, 7]. Con la regla "
                                               "por prioridad, cada lead nuevo va a quien tenga menos leads "
                                               "abiertos; en empate, a quien esté antes en la lista.")}

    def clean(self):
        data = super().clean()
        cold, warm, qualified = data.get("cold_max"), data.get("warm_max"), data.get("qualified_min")
        if None not in (cold, warm, qualified) and not (cold < warm < qualified <= 100):
            raise forms.ValidationError(_("Los umbrales deben cumplir frío < tibio < calificado ≤ 100."))
        return data

    def clean_assignment_priority(self) -> list[int]:
        ids = self.cleaned_data["assignment_priority"]
        if not isinstance(ids, list) or not all(isinstance(item, int) and not isinstance(item, bool) for item in ids):
            raise forms.ValidationError(_("Escribe una lista de ids, por ejemplo [12, 7]."))
        return ids

    def service_values(self) -> dict:
        return dict(self.cleaned_data)


class SecretFieldsFormMixin:
    """Secrets render empty with a mask as placeholder; left blank they keep the stored value."""

    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from crm.encryption import mask_secret

        for field in self.secret_fields:
            self.fields[field].required = False
            self.fields[field].widget = forms.PasswordInput(
                attrs={"placeholder": mask_secret(getattr(self.instance, field)) or _("sin configurar"),
                       "autocomplete": "off"}
            )

    def service_values(self) -> dict:
        return dict(self.cleaned_data)


class ChatConfigForm(SecretFieldsFormMixin, forms.ModelForm):
    secret_fields = SECRET_CHAT_FIELDS
    webchat_allowed_origins = forms.CharField(
        label=_("Orígenes permitidos del chat web"), required=False,
        help_text=_("Uno por línea, por ejemplo https://www.micorredora.cl"), widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = BrokerChatConfig
        fields = ["ai_enabled", "context_messages", "webchat_enabled", "webchat_allowed_origins",
                  "telegram_bot_token", "telegram_secret_token", "whatsapp_phone_number_id",
                  "whatsapp_access_token", "whatsapp_app_secret", "whatsapp_verify_token"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["webchat_allowed_origins"] = "\n".join(self.instance.webchat_allowed_origins or [])

    def clean_webchat_allowed_origins(self):
        lines = self.cleaned_data["webchat_allowed_origins"].splitlines()
        origins = [line.strip().rstrip("/") for line in lines if line.strip()]
        bad = [o for o in origins if not o.startswith(("http://", "https://"))]
        if bad:
            raise forms.ValidationError(
                _("Cada origen debe empezar con http:// o https://: %(bad)s") % {"bad": ", ".join(bad)})
        return origins


class VoiceConfigForm(SecretFieldsFormMixin, forms.ModelForm):
    secret_fields = ("api_key",)

    class Meta:
        model = BrokerVoiceConfig
        fields = ["enabled", "provider", "voice", "max_call_minutes", "calling_hours", "api_key"]


CONFIG_FORMS = {"prompt": PromptConfigForm, "lead": LeadConfigForm, "chat": ChatConfigForm, "voice": VoiceConfigForm}
