"""Chilean formats for templates: money as people in Chile write it ("4.000 UF", "$95.000.000")."""

from decimal import Decimal

from django import template
from django.utils.numberformat import format as number_format

register = template.Library()


@register.filter
def money(amount: Decimal | int | None, currency: str = "CLP") -> str:
    """`{{ lead.budget_amount|money:lead.budget_currency }}` (CLP, UF or USD); "" when there is no amount."""
    if amount is None or amount == "":
        return ""
    amount = Decimal(amount)
    places = 0 if amount == amount.to_integral_value() else 2
    if currency == "USD":  # LLM costs: cents are too coarse below a dollar
        places = 4 if abs(amount) < 1 else 2
    digits = number_format(amount, ",", decimal_pos=places, grouping=3, thousand_sep=".", force_grouping=True)
    if currency == "USD":
        return f"US${digits}"
    return f"{digits} UF" if currency == "UF" else f"${digits}"
