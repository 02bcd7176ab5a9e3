"""Forms of the catalogue pages: the unit form (ADMIN) and the CSV upload."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brokers.forms import ApplicationErrorFormMixin
from crm.forms import ChileanDecimalField
from properties.models import Project, PropertyType, Unit


class UnitForm(ApplicationErrorFormMixin, forms.Form):
    code = forms.CharField(label=_("Código"), max_length=40)
    project = forms.ModelChoiceField(label=_("Proyecto"), queryset=Project.objects.none(), required=False,
                                     empty_label=_("Sin proyecto"))
    property_type = forms.ChoiceField(label=_("Tipo"), choices=PropertyType.choices)
    status = forms.ChoiceField(label=_("Estado"), choices=Unit.Status.choices)
    comuna = forms.CharField(label=_("Comuna"), max_length=120, required=False,
                             help_text=_("Vacía: la del proyecto."))
    address = forms.CharField(label=_("Dirección"), max_length=200, required=False)
    bedrooms = forms.IntegerField(label=_("Dormitorios"), min_value=0, max_value=20, initial=0)
    bathrooms = forms.IntegerField(label=_("Baños"), min_value=0, max_value=20, initial=0)
    area_m2 = ChileanDecimalField(label=_("Superficie (m²)"), max_digits=8, decimal_places=2, min_value=0,
                                  required=False)
    price = ChileanDecimalField(label=_("Precio"), max_digits=14, decimal_places=2, min_value=0)
    price_currency = forms.ChoiceField(label=_("Moneda"), choices=Unit.Currency.choices)
    description = forms.CharField(label=_("Descripción"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photo_urls = forms.CharField(label=_("Fotos (URL)"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                 help_text=_("Una dirección por línea."))
    subsidy_ds1 = forms.BooleanField(label=_("Acepta subsidio DS1"), required=False)
    subsidy_ds19 = forms.BooleanField(label=_("Acepta subsidio DS19"), required=False)

    def __init__(self, *args: Any, unit: Unit | None = None, **kwargs: Any) -> None:
        initial = {}
        if unit is not None:
            initial = {name: getattr(unit, name) for name in self.base_fields if hasattr(unit, name)}
            initial["price"] = unit.price_uf if unit.price_currency == Unit.Currency.UF else unit.price_clp
            initial["photo_urls"] = "\n".join(unit.photo_urls)
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["project"].queryset = Project.objects.order_by("name")

    def clean_photo_urls(self) -> list[str]:
        urls = [line.strip() for line in self.cleaned_data["photo_urls"].splitlines() if line.strip()]
        validate = forms.URLField(max_length=500, assume_scheme="https")
        for url in urls:
            validate.clean(url)
        return urls


class UnitImportForm(forms.Form):
    file = forms.FileField(label=_("Archivo CSV"),
                           help_text=_("Columnas: código, proyecto, tipo, dormitorios, baños, m², precio, estado, "
                                       "comuna, dirección, descripción, fotos."))
