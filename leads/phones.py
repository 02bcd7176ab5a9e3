"""Phone numbers as people type them in Chile, turned into E.164."""

import re

_SEPARATORS = re.compile(r"[\s\-().]")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def phone_compact(text: str) -> str:
    """Without the spaces, dashes, dots and parentheses people put in numbers."""
    return _SEPARATORS.sub("", text)


def phone_to_e164(raw: str) -> str:
    """'+56 9 1234 5678', '9 1234 5678', '56912345678', '0056912345678' → '+56912345678'.

    Numbers without a country code are read as Chilean (nine digits: mobiles start with 9).
    Raises ValueError when the text is not a phone number.
    """
    number = phone_compact(raw)
    if number.startswith("00"):
        number = "+" + number[2:]
    if not number.startswith("+"):
        if re.fullmatch(r"[2-9]\d{8}", number):
            number = "+56" + number
        elif re.fullmatch(r"56[2-9]\d{8}", number):
            number = "+" + number
    if not _E164.match(number):
        raise ValueError(f"not a phone number: {raw!r}")
    return number
