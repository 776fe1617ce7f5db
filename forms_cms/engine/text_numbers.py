"""Excel's reading of text as a number, a date or a time.

Excel turns text into a number wherever it needs one (arithmetic, unary minus, percent, VALUE,
a text typed as a numeric argument) with the rules of cell entry. Numbers follow Excel's en-US
conventions, as the formula language does (decimal point, comma thousands separator, "$"):

- surrounding spaces, a leading ``+`` or ``-``, a trailing ``-`` ("7482.03-" → -7482.03),
  parentheses for negatives ("(100)", "($1,000.50)"), ``$`` before or after the sign
  ("-$100", "$-100"), a trailing percent ("50%", "50 %"), an exponent ("1E-2"), thousands
  separators in groups of three ("1,000,000.5" but not "1,00"), a mixed fraction ("1 1/2");
- not: inner spaces ("1 000"), two signs ("--5", "-5-"), other currencies ("€", "£"), letters,
  non-breaking or tab spaces, "TRUE".

Dates and times are what Excel accepts too: ISO "2024-01-05", "5 Jan 2024", "5-Jan-2024",
"Jan 5, 2024", "Jan 2024", "10:30", "10:30:15.5", "10:30 PM", "10 PM", "25:00" (hours past a
day when alone), "1:23.5" (minutes, seconds), a date then a time. Numeric dates are read
day first as in France ("12/5" is 12 May of the current year, "05/01/2024" 5 January), month
first when day first is impossible ("12/31/2024"); two-digit years are 1930-2029; dates before
1900 are refused and 29/02/1900 is Excel's serial 60.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re

EPOCH = dt.date(1899, 12, 30)
DAY_FIRST = True  # numeric dates: 5/1/2024 is 5 January (France), not May 1 (en-US)


def date_to_serial(d: dt.date) -> int:
    """Excel 1900-system serial of a date: 1 is 1 January 1900, 61 is 1 March 1900 (60 is
    Excel's fictitious 29 February 1900)."""
    n = (d - EPOCH).days
    return n if n > 60 else n - 1


# --------------------------------------------------------------------------- numbers


def _compile(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.ASCII)  # "٣" or "３" are not digits to Excel


_PLAIN = _compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_BODY = r"(?P<body>\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+\.?\d*|\.\d+)(?P<exp>[eE][+-]?\d+)?"
_SIGNED = _compile(
    rf"(?P<sign>[+-]?) *(?P<cur>\$?) *(?P<sign2>[+-]?) *{_BODY}(?: *(?P<pct>%)| *(?P<minus>-))?"
)
_PARENS = _compile(rf"\( *(?P<cur>\$?) *{_BODY} *\)")
_FRACTION = _compile(r"(?P<sign>[+-]?)(?P<whole>\d+) +(?P<num>\d+)/(?P<den>\d+)")


def number_text(t: str):
    """The number written in ``t`` (stripped of spaces), or ``None``; dates are not numbers here.

    A number too large for a double ("1e400") is ``None`` too."""
    if _PLAIN.fullmatch(t):
        return _finite(float(t))
    negative = False
    if m := _SIGNED.fullmatch(t):
        sign, sign2, cur = m["sign"], m["sign2"], m["cur"]
        if sign2 and (sign or not cur):  # "--5", "+-5"; "$-100" is fine
            return None
        if m["minus"] and (sign or sign2):  # "-5-"
            return None
        negative = "-" in (sign, sign2, m["minus"])
        percent = m["pct"] is not None
    elif m := _PARENS.fullmatch(t):
        cur, negative, percent = m["cur"], True, False
    elif m := _FRACTION.fullmatch(t):
        den = int(m["den"])
        if den == 0:
            return None
        n = int(m["whole"]) + int(m["num"]) / den
        return _finite(-n if m["sign"] == "-" else n)
    else:
        return None
    if m["exp"] and (cur or percent):  # "$1e3", "1e3%"
        return None
    if cur and percent:
        return None
    n = float(m["body"].replace(",", "") + (m["exp"] or ""))
    if percent:
        n /= 100
    return _finite(-n if negative else n)


def _finite(n: float):
    if math.isinf(n):
        return None
    return 0.0 if n == 0 else n  # no negative zero in Excel


# --------------------------------------------------------------------------- dates and times

_MONTHS = {
    name: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        1,
    )
    for name in names
}
_TIME = (
    r"(?P<h>\d{1,4}):(?P<m>\d{1,2})(?::(?P<s>\d{1,2}(?:\.\d*)?)|(?P<sf>\.\d+))?"
    r"(?: *(?P<ampm>[AaPp][Mm]))?"
    r"|(?P<h2>\d{1,2}) *(?P<ampm2>[AaPp][Mm])"
)
_TIME_ONLY = _compile(_TIME)
_DATE_TIME = _compile(rf"(?P<date>.*?[^ ]) +(?:{_TIME})")
_NUMERIC_DATE = _compile(r"(?P<a>\d{1,4})(?P<sep>[/-])(?P<b>\d{1,4})(?:(?P=sep)(?P<c>\d{1,4}))?")
_DAY_MONTH = _compile(
    r"(?P<d>\d{1,2})(?P<sep>[ -])(?P<mon>[A-Za-z]{3,9})\.?(?:(?P=sep)(?P<y>\d{1,4}))?"
)
_MONTH_DAY = _compile(
    r"(?P<mon>[A-Za-z]{3,9})\.?(?: +|-)(?P<d>\d{1,2})(?:(?:, *| +)(?P<y>\d{1,4}))?"
)
_MONTH_YEAR = _compile(r"(?P<mon>[A-Za-z]{3,9})\.?(?: +|-)(?P<y>\d{4})")


def datetime_text(t: str, today: dt.date | None = None):
    """``(day serial or None, time of day or None)`` of a date and/or time text, or ``None``.

    ``t`` is stripped of spaces; ``today`` gives the year of dates written without one. The
    time of day is a fraction of a day, above 1 for "25:00" alone."""
    if m := _TIME_ONLY.fullmatch(t):
        fraction = _time_fraction(m, alone=True)
        return None if fraction is None else (None, fraction)
    fraction = None
    if m := _DATE_TIME.fullmatch(t):
        fraction = _time_fraction(m, alone=False)
        if fraction is None:
            return None
        t = m["date"]
    serial = _date_serial(t, today)
    return None if serial is None else (serial, fraction)


def _time_fraction(m, *, alone: bool):
    if m["h2"] is not None:  # "10 PM"
        hours, minutes, seconds, ampm = int(m["h2"]), 0, 0.0, m["ampm2"]
    elif m["sf"] is not None:  # "1:23.5" is minutes and seconds
        if m["ampm"]:
            return None
        hours, minutes, seconds, ampm = 0, int(m["h"]), float(m["m"] + m["sf"]), None
    else:
        hours, minutes, seconds, ampm = int(m["h"]), int(m["m"]), float(m["s"] or 0), m["ampm"]
    if ampm:
        if hours > 12:
            return None
        hours = hours % 12 + (12 if ampm[0] in "Pp" else 0)
    elif hours > 23 and not alone:
        return None
    if minutes > 59 or seconds >= 60:
        return None
    return (hours * 3600 + minutes * 60 + seconds) / 86400


def _date_serial(t: str, today: dt.date | None):
    if m := _NUMERIC_DATE.fullmatch(t):
        a, b, c = m["a"], m["b"], m["c"]
        if c is not None:
            if len(a) == 4:  # 2024-01-05
                return _serial(int(a), int(b), int(c)) if len(b) <= 2 and len(c) <= 2 else None
            if len(a) > 2 or len(b) > 2:
                return None
            year = _year(c)
            first, second = (int(a), int(b)) if DAY_FIRST else (int(b), int(a))
            return _serial(year, second, first) or _serial(year, first, second)
        if len(a) > 2:
            return None
        if len(b) == 4:  # 5/2024: May 2024
            return _serial(int(b), int(a), 1)
        if len(b) > 2:
            return None
        year = _current_year(today)
        first, second = (int(a), int(b)) if DAY_FIRST else (int(b), int(a))
        return _serial(year, second, first) or _serial(year, first, second)
    if m := _DAY_MONTH.fullmatch(t):
        month = _MONTHS.get(m["mon"].lower())
        year = _current_year(today) if m["y"] is None else _year(m["y"])
        return None if month is None else _serial(year, month, int(m["d"]))
    if m := _MONTH_DAY.fullmatch(t):
        month = _MONTHS.get(m["mon"].lower())
        year = _current_year(today) if m["y"] is None else _year(m["y"])
        return None if month is None else _serial(year, month, int(m["d"]))
    if m := _MONTH_YEAR.fullmatch(t):
        month = _MONTHS.get(m["mon"].lower())
        return None if month is None else _serial(int(m["y"]), month, 1)
    return None


def _current_year(today: dt.date | None) -> int:
    return (today or dt.date.today()).year  # noqa: DTZ011 - Excel uses the local date


def _year(text: str):
    """A written year: four digits as they are, one or two digits in 1930-2029."""
    if len(text) == 4:
        return int(text)
    if len(text) <= 2:
        y = int(text)
        return y + (2000 if y < 30 else 1900)
    return None


def _serial(year, month: int, day: int):
    """Serial of a valid date in 1900-9999 (29/02/1900 is 60), else ``None``."""
    if year is None or not 1900 <= year <= 9999 or not 1 <= month <= 12 or day < 1:
        return None
    if (year, month, day) == (1900, 2, 29):
        return 60
    if day > calendar.monthrange(year, month)[1]:
        return None
    return date_to_serial(dt.date(year, month, day))
