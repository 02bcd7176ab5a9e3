"""Forms of the lead pages: edit a lead, move it along the pipeline, assign it (one or many), merge, note."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brokers.forms import ApplicationErrorFormMixin
from brokers.models import User
from crm.forms import ChileanDecimalField, ChileanIntegerField
from leads.models import Lead
from leads.phones import phone_to_e164
from pipeline.models import Stage


class LeadForm(ApplicationErrorFormMixin, forms.Form):
    """The fields a person keeps up to date; the channel identity comes from the channel itself."""

    name = forms.CharField(label=_("Nombre"), max_length=120, required=False)
    phone = forms.CharField(label=_("Teléfono"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"placeholder": "+56912345678", "inputmode": "tel"}))
    email = forms.EmailField(label=_("Correo"), required=False)
    location = forms.CharField(label=_("Comuna o ciudad"), max_length=120, required=False)
    property_type = forms.CharField(label=_("Tipo de propiedad"), max_length=30, required=False)
    bedrooms = forms.IntegerField(label=_("Dormitorios"), min_value=0, max_value=20, required=False)
    # People here write "4.000" for four thousand and "2,5" for two and a half.
    budget_amount = ChileanDecimalField(label=_("Presupuesto"), max_digits=16, decimal_places=2, min_value=0,
                                        required=False)
    budget_currency = forms.ChoiceField(label=_("Moneda"), required=False,
                                        choices=[("", "—"), *Lead.Currency.choices])
    monthly_income = ChileanIntegerField(label=_("Renta mensual (CLP)"), min_value=0, required=False)
    dicom_status = forms.ChoiceField(label=_("Situación DICOM"), choices=Lead.Dicom.choices, required=False)
    debt_amount = ChileanIntegerField(label=_("Deuda (CLP)"), min_value=0, required=False)
    tags = forms.CharField(label=_("Etiquetas"), required=False, help_text=_("Separadas por comas."))
    source = forms.CharField(label=_("Origen"), max_length=60, required=False)
    notes = forms.CharField(label=_("Notas"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, lead: Lead, **kwargs: Any) -> None:
        initial = {name: getattr(lead, name) for name in self.base_fields}
        initial["tags"] = ", ".join(lead.tags)
        super().__init__(*args, initial=initial, **kwargs)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"]
        try:
            return phone_to_e164(phone) if phone else ""
        except ValueError:
            raise forms.ValidationError(_("Teléfono inválido; usa por ejemplo +56912345678.")) from None

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_tags(self) -> list[str]:
        tags = [tag.strip()[:40] for tag in self.cleaned_data["tags"].split(",") if tag.strip()]
        return list(dict.fromkeys(tags))

    def changes(self) -> dict[str, Any]:
        """What the person changed, in lead_update's terms."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class StageMoveForm(forms.Form):
    stage = forms.ChoiceField(label=_("Mover a"), choices=Stage.choices)
    reason = forms.CharField(label=_("Motivo del cambio"), max_length=200, required=False)
    close_reason = forms.CharField(label=_("Motivo de cierre"), max_length=200, required=False,
                                   help_text=_("Obligatorio al mover a Ganado o Perdido."))


class AssignForm(forms.Form):
    """To a person of the brokerage, or (left empty) to the next agent in turn."""

    agent = forms.ModelChoiceField(label=_("Asignar a"), queryset=User.objects.none(), required=False,
                                   empty_label=_("Siguiente agente en turno"))

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = people
        self.fields["agent"].label_from_instance = lambda person: person.name


class IdListField(forms.Field):
    """Ids sent as repeated fields (`?leads=1&leads=2`): which of them the person may touch is not decided here."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Selección inválida.")}

    def to_python(self, value: list[str] | None) -> list[int]:
        try:
            return [int(item) for item in value or []]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class BulkAssignForm(AssignForm):
    leads = IdListField(error_messages={"required": _("Selecciona al menos un lead.")})


class MergeForm(forms.Form):
    duplicate_id = forms.IntegerField(label=_("Número del otro lead"), min_value=1,
                                      help_text=_("Ese lead se fusiona en este y luego se elimina."))


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Nota"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
