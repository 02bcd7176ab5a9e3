"""Reading the CSV files people upload (Excel in Spanish, mostly) and the numbers written in them.

Shared by the lead import (`leads/imports.py`) and the unit import (`properties/imports.py`).
"""

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal

_MONEY = re.compile(r"(?P<pre>\$|uf|clp)?\s*(?P<number>\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:[.,]\d{1,2})?)"
                    r"\s*(?P<post>uf|clp|pesos)?")


def csv_decode(data: bytes) -> str:
    """UTF-8 (with or without Excel's BOM), else Windows-1252: what Excel in Spanish saves."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    """`;` (Excel with a Chilean locale), `,` or tab: whichever the header line has most of."""
    header = text.split("\n", 1)[0]
    return max((";", ",", "\t"), key=header.count)


def csv_records(text: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))


def csv_header(text: str) -> list[str]:
    return [column.strip() for column in next(csv_records(text), [])]


def number_parse(text: str) -> Decimal:
    """'3.500' → 3500, '3.500,5' → 3500.5, '3500.50' → 3500.50 (dots group thousands, a comma is decimal)."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", text):
        return Decimal(text.replace(".", "").replace(",", "."))
    return Decimal(text.replace(",", "."))


def money_parse(text: str) -> tuple[Decimal, str | None] | None:
    """The amount and the currency written with it ('UF', 'CLP' or None) of a plain money cell."""
    match = _MONEY.fullmatch(text.strip().lower())
    if match is None:
        return None
    unit = match["pre"] or match["post"]
    return number_parse(match["number"]), None if unit is None else ("UF" if unit == "uf" else "CLP")
