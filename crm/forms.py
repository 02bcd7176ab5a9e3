"""Form fields shared by the dashboard's pages."""

from decimal import Decimal

from django import forms
from django.utils.numberformat import format as number_format


def chilean_number(value: str) -> str:
    """"$95.000.000" → "95000000", "2,5" → "2.5": what people here type, as Python reads numbers."""
    return value.strip().lstrip("$").replace(" ", "").replace(".", "").replace(",", ".")


class ChileanAmountInput(forms.TextInput):
    """Shows 95000000 as "95.000.000" and 2.5 as "2,5", whatever the thousand-separator setting."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", **(attrs or {})})

    def format_value(self, value):
        if value in (None, ""):
            return None
        try:
            amount = Decimal(str(value))
        except ArithmeticError:
            return str(value)  # redisplaying what the person typed, as they typed it
        places = 0 if amount == amount.to_integral_value() else 2
        return number_format(amount, ",", decimal_pos=places, grouping=3, thousand_sep=".", force_grouping=True)


class ChileanDecimalField(forms.DecimalField):
    widget = ChileanAmountInput

    def to_python(self, value):
        return super().to_python(chilean_number(value) if isinstance(value, str) else value)


class ChileanIntegerField(forms.IntegerField):
    widget = ChileanAmountInput

    def to_python(self, value):
        return super().to_python(chilean_number(value) if isinstance(value, str) else value)
