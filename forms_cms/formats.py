"""French entry and display of field values: "1 234 567,89", "12,5 %", "31/12/2024".

Values are stored as the formula engine represents them: numbers (percentages as fractions,
dates as Excel serial numbers), text, booleans. These functions turn what a person types into
such a value — or a message saying what is wrong and what to type — and back into text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from forms_cms.engine import date_to_serial, serial_to_ymd

TEXT_MAX_LENGTH = 2000
NBSP = "\u00a0"
NNBSP = "\u202f"
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class Invalid:
    """A value that cannot be accepted: ``message`` says why and what to type instead."""

    message: str


def _clean_number(text: str) -> str:
    t = text.strip().replace(NBSP, "").replace(NNBSP, "").replace(" ", "").replace("€", "")
    t = t.replace("\u2212", "-")  # the minus sign the display uses
    if t.startswith("(") and t.endswith(")"):  # accounting negatives: (1 234,50)
        t = "-" + t[1:-1]
    if t.count(",") == 1 and t.count(".") >= 1:  # 1.234.567,89 → 1234567,89
        t = t.replace(".", "")
    return t


def parse_number(text: str):
    t = _clean_number(text)
    if not _NUMBER.match(t):
        return None
    return float(t.replace(",", "."))


def parse_value(data_type: str, text, *, choices=()):
    """The stored value for what was typed in a field of ``data_type``, or :class:`Invalid`.

    An empty entry clears the field (``None``)."""
    if text is None:
        return None
    text = str(text)
    if not text.strip():
        return None
    if data_type in ("amount", "integer"):
        number = parse_number(text)
        if number is None:
            return Invalid(
                "Montant attendu : des chiffres, avec une virgule pour les décimales "
                "(ex. 1 234 567,89 ou -250)."
                if data_type == "amount"
                else "Nombre entier attendu (ex. 1 250)."
            )
        if data_type == "integer":
            if not number.is_integer():
                return Invalid("Nombre entier attendu, sans décimales (ex. 1 250).")
            return float(number)
        if abs(number) >= 1e15:
            return Invalid("Montant trop grand (15 chiffres au plus).")
        if round(number, 2) != number:
            return Invalid("Deux décimales au plus pour un montant (ex. 1 234,56).")
        return number
    if data_type == "percentage":
        t = text.strip().rstrip("%").strip()
        number = parse_number(t)
        if number is None:
            return Invalid("Pourcentage attendu (ex. 12,5 %).")
        return number / 100
    if data_type == "date":
        return parse_date(text)
    if data_type == "choice":
        wanted = text.strip()
        for choice in choices:
            if choice.casefold() == wanted.casefold():
                return choice
        return Invalid("Choisissez l'une des valeurs : " + ", ".join(choices) + ".")
    if len(text) > TEXT_MAX_LENGTH:
        return Invalid(f"Texte trop long : {TEXT_MAX_LENGTH} caractères au plus.")
    return text.strip()


def parse_date(text: str):
    t = text.strip()
    if m := _ISO_DATE.match(t):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _DATE.match(t):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
        if year < 100:
            year += 2000 if year < 50 else 1900
    else:
        return Invalid("Date attendue au format jj/mm/aaaa (ex. 31/12/2024).")
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return Invalid(f"Cette date n'existe pas : {day:02d}/{month:02d}/{year}.")
    if not 1900 <= year <= 2100:
        return Invalid("Année attendue entre 1900 et 2100.")
    return float(date_to_serial(date))


def group_thousands(digits: str) -> str:
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return NNBSP.join(out)


def format_number(value: float, decimals: int, *, grouped: bool = True) -> str:
    """1234567.891 → "1 234 567,89" (narrow no-break spaces), negatives with a minus sign."""
    if math.isnan(value) or math.isinf(value):
        return "#NOMBRE!"
    text = f"{abs(value):.{decimals}f}"
    whole, _, fraction = text.partition(".")
    sign = "−" if value < 0 and float(text) != 0 else ""
    whole = group_thousands(whole) if grouped else whole
    return sign + whole + ("," + fraction if fraction else "")


def _grouped(number_format: str, data_type: str) -> bool:
    """Thousands separators as the workbook's format says (a "," in Excel's format code);
    without a format, amounts are grouped and other numbers are not."""
    fmt = re.sub(r'"[^"]*"|\[[^\]]*\]', "", number_format or "")
    if fmt and fmt != "General":
        return "," in fmt.split(";")[0]
    return data_type == "amount"


def _decimals_of(number_format: str) -> int | None:
    fmt = re.sub(r'"[^"]*"|\[[^\]]*\]', "", number_format or "").split(";")[0]
    if m := re.search(r"[0#]\.([0#]+)", fmt):
        return len(m[1])
    if re.search(r"[0#]", fmt):
        return 0
    return None


def format_value(value, data_type: str = "amount", number_format: str = "") -> str:
    """Display text of a stored or computed value, French conventions."""
    if value is None:
        return ""
    if isinstance(value, dict) and "error" in value:
        return value["error"]
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, str):
        return value
    if data_type == "date":
        try:
            year, month, day = serial_to_ymd(value)
        except (OverflowError, ValueError):
            return str(value)
        return f"{day:02d}/{month:02d}/{year}"
    if data_type == "percentage" or "%" in (number_format or ""):
        decimals = _decimals_of(number_format)
        return format_number(value * 100, 2 if decimals is None else decimals) + NBSP + "%"
    decimals = _decimals_of(number_format)
    if decimals is None:
        decimals = 0 if data_type == "integer" or float(value).is_integer() else 2
    return format_number(float(value), decimals, grouped=_grouped(number_format, data_type))


def entry_text(value, data_type: str = "amount") -> str:
    """What an input box shows for editing: no thousands separators, comma decimals."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if data_type == "date":
        return format_value(value, "date")
    if data_type == "percentage":
        return _plain(value * 100)
    return _plain(value)


def _plain(number: float) -> str:
    text = f"{number:.10f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if text not in ("-0", "") else "0"
