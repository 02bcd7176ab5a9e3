from django import forms
from django.utils.translation import gettext_lazy as _


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Respuesta"), max_length=4000)


class HandBackForm(forms.Form):
    note = forms.CharField(label=_("Nota para el asistente (opcional)"), max_length=1000, required=False)
