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
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache

from harmonia.french import NNBSP, group_thousands
from openpyxl.styles.numbers import is_date_format

from forms_cms.engine import date_to_serial, serial_to_ymd

TEXT_MAX_LENGTH = 2000
NBSP = "\u00a0"
MAX_DECIMALS = 30  # Excel shows at most 30 decimals
_WIDE = Context(prec=400)  # room for 1E+308 written in full with 30 decimals
MINUS = "\u2212"  # the minus sign of displayed negatives (typed "-" is accepted too)
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin")
MONTHS += ("juillet", "août", "septembre", "octobre", "novembre", "décembre")
# the abbreviations of the Imprimerie nationale (and of Excel in French)
MONTHS_ABBR = ("janv.", "févr.", "mars", "avr.", "mai", "juin")
MONTHS_ABBR += ("juil.", "août", "sept.", "oct.", "nov.", "déc.")
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
DAYS_ABBR = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
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


def excel_round(value, decimals: int) -> Decimal:
    """``value`` rounded as Excel displays it: from its decimal writing at Excel's 15
    significant digits, half away from zero (0,125 → 0,13; −0,125 → −0,13; 2,675 → 2,68),
    where Python's ``round`` and ``%f`` round the binary value half to even (0,12; 2,67)."""
    exact = value if isinstance(value, Decimal) else _decimal(value)
    step = Decimal(1).scaleb(-min(decimals, MAX_DECIMALS))
    return exact.quantize(step, rounding=ROUND_HALF_UP, context=_WIDE)


def _decimal(value) -> Decimal:
    return Decimal(format(float(value), ".15g"))


def format_number(value: float, decimals: int, *, grouped: bool = True) -> str:
    """1234567.891 → "1 234 567,89" (narrow no-break spaces), negatives with a minus sign,
    rounded half away from zero (:func:`excel_round`)."""
    if math.isnan(value) or math.isinf(value):
        return "#NOMBRE!"
    rounded = excel_round(abs(value), decimals)
    whole, _, fraction = f"{rounded:.{decimals}f}".partition(".")
    sign = MINUS if value < 0 and rounded != 0 else ""
    whole = group_thousands(whole) if grouped else whole
    return sign + whole + ("," + fraction if fraction else "")


def format_year(year) -> str:
    """An exercise or a calendar year: never a thousands separator ("2024", not "2 024")."""
    return (
        str(int(year))
        if isinstance(year, int | float) and not isinstance(year, bool)
        else str(year)
    )


def month_abbr(month: int) -> str:
    """The French abbreviation of a month (1–12): « janv. », « févr. », … « déc. »."""
    return MONTHS_ABBR[month - 1]


def format_value(value, data_type: str = "amount", number_format: str = "") -> str:
    """Display text of a stored or computed value, French conventions.

    Dates are always jj/mm/aaaa (the text an input accepts back); numbers follow the
    workbook's number format as Excel displays it (sections for negatives and zero,
    parentheses, literal text, percent, thousands scaling; colours ignored), with French
    separators; without a format, amounts get two decimals and thousands separators."""
    if value is None:
        return ""
    if isinstance(value, dict) and "error" in value:
        return value["error"]
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, str):
        return value
    if data_type == "date":
        return _date_text(value)
    if math.isnan(value) or math.isinf(value):
        return "#NOMBRE!"
    sections = _number_sections(number_format)
    if sections and (data_type != "percentage" or "%" in number_format):
        return _format_sections(value, sections)
    if data_type == "percentage" or "%" in (number_format or ""):
        decimals = _decimals_of(number_format)
        return format_number(value * 100, 2 if decimals is None else decimals) + NBSP + "%"
    decimals = _decimals_of(number_format)
    if decimals is None:
        decimals = 0 if data_type == "integer" or float(value).is_integer() else 2
    return format_number(float(value), decimals, grouped=_grouped(number_format, data_type))


def format_cell(value, number_format: str = "") -> str:
    """A constant of the workbook (a label) as Excel displays it with the cell's format:
    General numbers without thousands separators ("2024", "0,125"), dates and times by their
    pattern with French month names (« janv. », « décembre »), text through a "@" section."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, str):
        return _text_section(value, number_format)
    if math.isnan(value) or math.isinf(value):
        return "#NOMBRE!"
    fmt = (number_format or "").strip()
    if not fmt or fmt.lower() == "general" or fmt == "@":
        return _general(value)
    if _is_date_format(fmt):
        return _format_date_pattern(value, _split_sections(fmt)[0])
    sections = _number_sections(fmt)
    return _format_sections(value, sections) if sections else _general(value)


def _date_text(value) -> str:
    try:
        year, month, day = serial_to_ymd(value)
    except (OverflowError, ValueError, TypeError):
        return str(value)
    return f"{day:02d}/{month:02d}/{year}"


# --- Excel number formats --------------------------------------------------------------------


def _split_sections(fmt: str) -> list[str]:
    """The format's sections (positive;negative;zero;text), ";" inside quotes kept."""
    sections, current, i = [], [], 0
    while i < len(fmt):
        char = fmt[i]
        if char == '"':
            end = fmt.find('"', i + 1)
            end = len(fmt) if end < 0 else end
            current.append(fmt[i : end + 1])
            i = end + 1
            continue
        if char in "\\_*" and i + 1 < len(fmt):
            current.append(fmt[i : i + 2])
            i += 2
            continue
        if char == "[":
            end = fmt.find("]", i)
            end = len(fmt) if end < 0 else end
            current.append(fmt[i : end + 1])
            i = end + 1
            continue
        if char == ";":
            sections.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    sections.append("".join(current))
    return sections


_TOKEN = re.compile(r'"[^"]*"?|\\.|_.|\*.|\[[^\]]*\]?|general|[0#?.,]+|e[+-][0#?]+|.', re.S | re.I)


@dataclass(frozen=True)
class _Section:
    """One numeric section of a format: literal text around one run of digit placeholders."""

    before: str
    after: str
    int_zeros: int
    max_decimals: int
    min_decimals: int
    grouped: bool
    shift: int  # power of ten applied (+2 a percent sign, −3 a trailing comma)
    general: bool = False
    digits: bool = True
    exponent: int = 0  # digits of a scientific notation's exponent ("0.00E+00": 2)


def _parse_section(section: str) -> _Section | None:
    before: list[str] = []
    after: list[str] = []
    code = None
    shift = 0
    exponent = 0
    general = False
    for piece in _TOKEN.findall(section):
        target = before if code is None and not general else after
        if piece.startswith('"'):
            target.append(piece.strip('"'))
        elif piece.startswith("\\"):
            target.append(piece[1:])
        elif piece[0] in "_*":
            continue  # padding to a character's width, repeated fill: nothing to show
        elif piece.startswith("["):
            inner = piece[1:-1]
            if inner.startswith("$"):  # currency [$€-40C]
                target.append(inner[1:].split("-")[0])
            # colours ([Red], [Rouge]), conditions and locales are not shown
        elif piece[0] in "0#?.,":
            if code is not None or general:
                return None  # a second run of digits (fractions, "00 00"): not handled
            code = piece
        elif piece[0] in "eE" and len(piece) > 1:
            if code is None or exponent:
                return None
            exponent = len(piece) - 2  # "E+00": at least two digits
        elif piece == "%":
            shift += 2
            target.append("%")
        elif piece == "@":
            return None
        elif piece.lower() == "general":
            general = True
        else:
            target.append(piece)
    if general:
        return _Section("".join(before), "".join(after), 0, 0, 0, False, shift, general=True)
    if code is None:  # text only ("-" for zeros), or nothing (an empty section hides)
        return _Section("".join(before), "", 0, 0, 0, False, 0, digits=False)
    last_digit = max(code.rfind(ch) for ch in "0#?")
    if last_digit < 0:
        return None
    shift -= 3 * len(code[last_digit + 1 :].replace(".", ""))  # "#,##0," → thousands
    body = code[: last_digit + 1]
    whole, _, fraction = body.partition(".")
    decimals = [ch for ch in fraction if ch in "0#?"]
    min_decimals = len(fraction) - len(fraction.lstrip("0?")) if fraction else 0
    return _Section(
        "".join(before),
        "".join(after),
        whole.count("0") + whole.count("?"),
        min(len(decimals), MAX_DECIMALS),
        min(min_decimals, MAX_DECIMALS),
        "," in whole.strip(","),
        shift,
        exponent=exponent,
    )


@lru_cache(maxsize=2048)
def _number_sections(number_format: str) -> tuple[_Section, ...] | None:
    """The parsed numeric sections of a format, or None for General, dates, text formats
    and codes this renderer does not handle (they fall back to the defaults). A form has a few
    dozen formats for thousands of cells: each is parsed once per process."""
    fmt = (number_format or "").strip()
    if not fmt or fmt.lower() == "general" or _is_date_format(fmt):
        return None
    sections = [_parse_section(s) for s in _split_sections(fmt)[:3]]
    if not sections or sections[0] is None or sections[0].general:
        return None
    if any(s is None for s in sections):
        return None
    return tuple(sections)


def _format_sections(value: float, sections: tuple[_Section, ...]) -> str:
    if value < 0 and len(sections) >= 2:
        return _render(abs(value), sections[1], signed=False)
    if value == 0 and len(sections) >= 3:
        return _render(0.0, sections[2], signed=False)
    return _render(value, sections[0], signed=True)


def _render(value: float, section: _Section, *, signed: bool) -> str:
    if section.general:
        text = _general(abs(value) if not signed else value)
        return _literal(section.before) + text + _literal(section.after, after_number=True)
    if not section.digits:
        return _literal(section.before)
    exact = _decimal(abs(value)).scaleb(section.shift)
    power = ""
    if section.exponent:
        exact, power = _scientific(exact, section)
    rounded = excel_round(exact, section.max_decimals)
    whole, _, fraction = f"{rounded:.{section.max_decimals}f}".partition(".")
    if len(fraction) > section.min_decimals:
        fraction = fraction[: section.min_decimals] + fraction[section.min_decimals :].rstrip("0")
    if whole == "0" and not section.int_zeros:
        whole = ""
    whole = whole.zfill(section.int_zeros)
    if section.grouped:
        whole = group_thousands(whole)
    number = whole + ("," + fraction if fraction else "") + power
    sign = MINUS if signed and value < 0 and rounded != 0 else ""
    before = _literal(section.before)
    if not signed and before.startswith("-"):
        before = MINUS + before[1:]  # the negative section's own sign, as the platform writes it
    return sign + before + number + _literal(section.after, after_number=True)


def _scientific(exact: Decimal, section: _Section) -> tuple[Decimal, str]:
    """The mantissa and the "E+24" of a number in scientific notation."""
    power = exact.adjusted() if exact else 0
    mantissa = exact.scaleb(-power)
    if excel_round(mantissa, section.max_decimals) >= 10:  # 9,999 → 1,00E+1
        power += 1
        mantissa = exact.scaleb(-power)
    sign = "-" if power < 0 else "+"
    return mantissa, f"E{sign}{abs(power):0{section.exponent}d}"


def _literal(text: str, *, after_number: bool = False) -> str:
    """Literal text of a format, with French spacing: the percent sign and a currency sign
    after the number are preceded by a no-break space; spaces never break."""
    text = text.replace(" ", NBSP)
    if after_number and text[:1] in ("%", "€"):
        text = NBSP + text
    return text


def _general(value) -> str:
    """Excel's General format with a decimal comma: whole numbers in full and without
    thousands separators (a year stays "2024"), others to 10 significant digits."""
    number = _decimal(value)
    if number == 0:
        return "0"
    size = abs(number)
    if size >= Decimal("1e11") or size < Decimal("1e-9"):
        mantissa, _, exponent = f"{float(value):.5E}".partition("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return (mantissa + "E" + exponent).replace(".", ",").replace("-", MINUS, 1)
    whole_digits = len(str(int(size))) if size >= 1 else 1
    decimals = max(0, 10 - whole_digits)
    rounded = excel_round(size, decimals)
    text = f"{rounded:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    sign = MINUS if number < 0 else ""
    return sign + text.replace(".", ",")


def _text_section(text: str, number_format: str) -> str:
    sections = _split_sections(number_format or "")
    chosen = sections[3] if len(sections) >= 4 else next((s for s in sections if "@" in s), "")
    if "@" not in chosen:
        return text
    out = []
    for piece in _TOKEN.findall(chosen):
        if piece == "@":
            out.append(text)
        elif piece.startswith('"'):
            out.append(piece.strip('"'))
        elif piece.startswith("\\"):
            out.append(piece[1:])
        elif piece[0] in "_*[":
            continue
        else:
            out.append(piece)
    return "".join(out)


# --- Excel date formats ----------------------------------------------------------------------

_DATE_TOKEN = re.compile(
    r'"[^"]*"?|\\.|_.|\*.|\[[^\]]*\]?|AM/PM|A/P|yyyy|yy|e+|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d'
    r"|hh|h|ss|s|\.0+|.",
    re.I | re.S,
)


_CODES = frozenset("dDmMyYhHsSeE")


def _is_date_format(fmt: str) -> bool:
    return is_date_format(fmt)


def _format_date_pattern(value: float, pattern: str) -> str:
    """A serial date-time by an Excel date pattern, French names (« 31 déc. 2024 »)."""
    if value < 0:
        return "#" * 8  # Excel cannot show a negative date
    try:
        year, month, day = serial_to_ymd(value)
    except (OverflowError, ValueError):
        return _general(value)
    seconds = round((value - math.floor(value)) * 86400)
    hour, minute, second = seconds // 3600 % 24, seconds // 60 % 60, seconds % 60
    tokens = _DATE_TOKEN.findall(pattern)
    twelve = any(t.upper() in ("AM/PM", "A/P") for t in tokens)
    out: list[str] = []
    last_was_hour = False
    for index, token in enumerate(tokens):
        low = token.lower()
        if low in ("m", "mm"):
            following = next((t.lower() for t in tokens[index + 1 :] if t[0] in _CODES), "")
            if last_was_hour or following.startswith("s"):
                out.append(f"{minute:0{len(low)}d}")
                last_was_hour = False
                continue
            out.append(f"{month:0{len(low)}d}")
        elif low == "mmm":
            out.append(MONTHS_ABBR[month - 1])
        elif low == "mmmm":
            out.append(MONTHS[month - 1])
        elif low == "mmmmm":
            out.append(MONTHS[month - 1][0])
        elif low == "d" or low == "dd":
            out.append(f"{day:0{len(low)}d}")
        elif low in ("ddd", "dddd"):
            weekday = dt.date(year, month, max(day, 1)).weekday()
            out.append((DAYS_ABBR if low == "ddd" else DAYS)[weekday])
        elif low == "yy":
            out.append(f"{year % 100:02d}")
        elif low == "yyyy" or (low and set(low) == {"e"}):
            out.append(str(year))
        elif low in ("h", "hh"):
            shown = (hour % 12 or 12) if twelve else hour
            out.append(f"{shown:0{len(low)}d}")
            last_was_hour = True
            continue
        elif low in ("s", "ss"):
            out.append(f"{second:0{len(low)}d}")
        elif low in ("am/pm", "a/p"):
            out.append(("AM" if hour < 12 else "PM") if low == "am/pm" else "AP"[hour >= 12])
        else:  # literal text (it may stand between the hour and its minutes)
            if token.startswith('"'):
                out.append(token.strip('"'))
            elif token.startswith("\\"):
                out.append(token[1:])
            elif token[0] not in "_*[" and not low.startswith(".0"):
                out.append(token)
            continue
        last_was_hour = False
    return "".join(out)


# --- the defaults of an unformatted value ----------------------------------------------------


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
