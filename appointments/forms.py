"""Forms of the availability settings page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from appointments.models import Availability, AvailabilityBlock, BookingSettings
from brokers.models import User

WEEKDAYS = [(0, _("Lunes")), (1, _("Martes")), (2, _("Miércoles")), (3, _("Jueves")), (4, _("Viernes")),
            (5, _("Sábado")), (6, _("Domingo"))]


class _AgentField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.name


class AvailabilityForm(forms.ModelForm):
    weekday = forms.TypedChoiceField(label=_("Día"), choices=WEEKDAYS, coerce=int)

    class Meta:
        model = Availability
        fields = ["agent", "weekday", "start_time", "end_time", "appointment_type", "slot_minutes"]
        widgets = {"start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                   "end_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        if team is None:  # an AGENT: always their own
            del self.fields["agent"]
        else:
            self.fields["agent"] = _AgentField(queryset=team, required=False, label=_("Ejecutivo"),
                                               empty_label=_("Toda la corredora"))

    def clean(self):
        data = super().clean()
        if data.get("start_time") and data.get("end_time") and data["end_time"] <= data["start_time"]:
            self.add_error("end_time", _("Debe ser posterior a la hora de inicio."))
        return data


class BlockForm(forms.ModelForm):
    class Meta:
        model = AvailabilityBlock
        fields = ["agent", "start_at", "end_at", "reason", "recurring_weekly"]
        widgets = {"start_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                   "end_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")}

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        if team is None:
            del self.fields["agent"]
        else:
            self.fields["agent"] = _AgentField(queryset=team, required=False, label=_("Ejecutivo"),
                                               empty_label=_("Toda la corredora"))

    def clean(self):
        data = super().clean()
        start, end = data.get("start_at"), data.get("end_at")
        if start and end:
            if end <= start:
                self.add_error("end_at", _("Debe ser posterior al inicio."))
            elif data.get("recurring_weekly") and (end - start).days >= 7:
                self.add_error("end_at", _("Un bloqueo semanal dura menos de una semana."))
        return data


class BookingSettingsForm(forms.ModelForm):
    virtual_meeting_url = forms.URLField(label=_("Enlace de reunión virtual"), required=False, assume_scheme="https")

    class Meta:
        model = BookingSettings
        fields = ["agent_rule", "office_address", "virtual_meeting_url", "what_to_bring", "min_notice_minutes"]
