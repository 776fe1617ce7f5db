"""Date functions on Excel serial numbers (1900 date system, with its 29 February 1900)."""

from __future__ import annotations

import calendar
import datetime as dt
import math

from forms_cms.engine.functions import register
from forms_cms.engine.functions.common import number_arg
from forms_cms.engine.text_numbers import EPOCH, date_to_serial, datetime_text
from forms_cms.engine.values import NUM, VALUE, Arr, XLError, excel_float

MAX_SERIAL = 2958465  # 31/12/9999


def serial_to_ymd(serial) -> tuple[int, int, int]:
    n = int(math.floor(serial))
    if n == 60:
        return (1900, 2, 29)  # the day Excel keeps for Lotus compatibility
    if n == 0:
        return (1900, 1, 0)
    d = EPOCH + dt.timedelta(days=n if n > 60 else n + 1)
    return (d.year, d.month, d.day)


def _serial(x, *, booleans=True):
    """A date argument as a serial number: numbers, date text, or (unless refused) booleans."""
    if x.__class__ is Arr:
        x = x.vals[0] if len(x.vals) == 1 else VALUE
    if x.__class__ is bool and not booleans:
        return VALUE
    n = number_arg(x)
    if n.__class__ is XLError:
        return n
    if n < 0 or n > MAX_SERIAL:
        return NUM
    return n


def datevalue_parse(text: str, today: dt.date | None = None):
    """Serial number (with its time of day) of a date or time written as text, or ``None``.

    The formats are Excel's (:mod:`forms_cms.engine.text_numbers`); ``today`` gives the year
    of a date written without one."""
    parsed = datetime_text(text.strip(" "), today)
    if parsed is None:
        return None
    day, fraction = parsed
    return (day or 0) + (fraction or 0)


@register("DATE")
def date(year, month, day):
    parts = []
    for x in (year, month, day):
        n = number_arg(x)
        if n.__class__ is XLError:
            return n
        parts.append(int(math.floor(n)))
    y, m, d = parts
    if y < 1900:
        y += 1900
    if not 1900 <= y <= 9999:
        return NUM
    y += (m - 1) // 12
    m = (m - 1) % 12 + 1
    if not 1900 <= y <= 9999:
        return NUM
    serial = date_to_serial(dt.date(y, m, 1)) + d - 1
    if serial < 0 or serial > MAX_SERIAL:
        return NUM
    return serial


def _part(index):
    def impl(x):
        s = _serial(x)
        if s.__class__ is XLError:
            return s
        return serial_to_ymd(s)[index]

    return impl


register("YEAR")(_part(0))
register("MONTH")(_part(1))
register("DAY")(_part(2))


@register("TODAY")
def today():
    return date_to_serial(dt.date.today())  # noqa: DTZ011


@register("NOW")
def now():
    moment = dt.datetime.now()  # noqa: DTZ005
    return (
        date_to_serial(moment.date())
        + (moment.hour * 3600 + moment.minute * 60 + moment.second) / 86400
    )


def _real_date(serial) -> dt.date:
    y, m, d = serial_to_ymd(serial)
    if (y, m, d) == (1900, 2, 29):
        return dt.date(1900, 2, 28)
    if d == 0:
        return dt.date(1899, 12, 31)
    return dt.date(y, m, d)


def _shift_months(start, months, end_of_month):
    s = _serial(start, booleans=False)
    if s.__class__ is XLError:
        return s
    if months.__class__ is bool:
        return VALUE
    months = number_arg(months)
    if months.__class__ is XLError:
        return months
    y, m, d = serial_to_ymd(s)
    total = y * 12 + (m - 1) + int(months)
    y, m = divmod(total, 12)
    m += 1
    if not 1900 <= y <= 9999:
        return NUM
    last = calendar.monthrange(y, m)[1]
    day = last if end_of_month else min(d, last)
    return date_to_serial(dt.date(y, m, 1)) + day - 1


@register("EDATE")
def edate(start, months):
    return _shift_months(start, months, False)


@register("EOMONTH")
def eomonth(start, months):
    return _shift_months(start, months, True)


@register("DAYS")
def days(end, start):
    e, s = _serial(end), _serial(start)
    if e.__class__ is XLError:
        return e
    if s.__class__ is XLError:
        return s
    return int(math.floor(e)) - int(math.floor(s))


@register("WEEKDAY")
def weekday(x, kind=1):
    s = _serial(x)
    if s.__class__ is XLError:
        return s
    kind = number_arg(kind if kind is not None else 1)
    if kind.__class__ is XLError:
        return kind
    # serial 1 (1900-01-01, as Excel counts) is a Sunday
    sunday_based = (int(math.floor(s)) - 1) % 7 + 1  # 1 = Sunday
    kind = int(kind)
    if kind == 1:
        return sunday_based
    if kind in (2, 11):
        return (sunday_based + 5) % 7 + 1
    if kind == 3:
        return (sunday_based + 5) % 7
    if 12 <= kind <= 17:
        return (sunday_based - (kind - 10)) % 7 + 1
    return NUM


@register("DATEDIF")
def datedif(start, end, unit):
    s, e = _serial(start), _serial(end)
    if s.__class__ is XLError:
        return s
    if e.__class__ is XLError:
        return e
    if s > e:
        return NUM
    if unit.__class__ is Arr:
        unit = unit.vals[0]
    if unit.__class__ is not str:
        return VALUE
    unit = unit.upper()
    a, b = _real_date(s), _real_date(e)
    months = (b.year - a.year) * 12 + b.month - a.month - (1 if b.day < a.day else 0)
    if unit == "D":
        return int(e) - int(s)
    if unit == "M":
        return months
    if unit == "Y":
        return months // 12
    if unit == "YM":
        return months % 12
    if unit == "MD":
        if b.day >= a.day:
            return b.day - a.day
        prev_month_end = b.replace(day=1) - dt.timedelta(days=1)
        return (
            prev_month_end
            - a.replace(
                year=prev_month_end.year,
                month=prev_month_end.month,
                day=min(a.day, prev_month_end.day),
            )
        ).days + b.day
    if unit == "YD":
        shifted = _safe_replace_year(a, b.year)
        if shifted > b:
            shifted = _safe_replace_year(a, b.year - 1)
        return (b - shifted).days
    return NUM


def _safe_replace_year(d: dt.date, year: int) -> dt.date:
    try:
        return d.replace(year=year)
    except ValueError:
        return d.replace(year=year, day=28)


@register("TIME")
def time(hour, minute, second):
    parts = []
    for x in (hour, minute, second):
        n = number_arg(x)
        if n.__class__ is XLError:
            return n
        parts.append(int(n))
    total = parts[0] * 3600 + parts[1] * 60 + parts[2]
    if total < 0:
        return NUM
    return excel_float((total % 86400) / 86400)


def _time_part(divisor, modulo):
    def impl(x):
        s = _serial(x)
        if s.__class__ is XLError:
            return s
        seconds = round((s - math.floor(s)) * 86400)
        return (seconds // divisor) % modulo

    return impl


register("HOUR")(_time_part(3600, 24))
register("MINUTE")(_time_part(60, 60))
register("SECOND")(_time_part(1, 60))


def _text_arg(x):
    if x.__class__ is Arr:
        x = x.vals[0] if len(x.vals) == 1 else VALUE
    if x.__class__ is XLError:
        return x, None
    if x.__class__ is not str:
        return VALUE, None  # numbers, booleans and empty cells too
    parsed = datetime_text(x.strip(" "))
    return (VALUE, None) if parsed is None else (None, parsed)


@register("DATEVALUE")
def datevalue(x):
    """The day of a date text (a time in it is ignored; a time alone is #VALUE!)."""
    error, parsed = _text_arg(x)
    if error is not None:
        return error
    return VALUE if parsed[0] is None else parsed[0]


@register("TIMEVALUE")
def timevalue(x):
    """The time of day of a time text, in [0, 1) ("25:00" is 1:00; a date alone is #VALUE!)."""
    error, parsed = _text_arg(x)
    if error is not None:
        return error
    day, fraction = parsed
    if fraction is None:
        return VALUE
    # Excel takes the fraction of the whole serial, with its rounding
    serial = (day or 0) + fraction
    return serial - math.floor(serial)


@register("YEARFRAC", errors=True)
def yearfrac(start, end, basis=0):
    # Excel checks the basis before the dates
    if basis.__class__ is bool:
        return VALUE
    basis = number_arg(basis if basis is not None else 0)
    if basis.__class__ is XLError:
        return basis
    s, e = _serial(start, booleans=False), _serial(end, booleans=False)
    if s.__class__ is XLError:
        return s
    if e.__class__ is XLError:
        return e
    basis = int(basis)
    if not 0 <= basis <= 4:
        return NUM
    s, e = int(s), int(e)
    if s > e:
        s, e = e, s
    if s == e:
        return 0
    y1, m1, d1 = serial_to_ymd(s)
    y2, m2, d2 = serial_to_ymd(e)
    if basis == 0:
        if d1 == 31 and d2 == 31:
            d1 = d2 = 30
        elif d1 == 31:
            d1 = 30
        elif d1 == 30 and d2 == 31:
            d2 = 30
        elif m1 == 2 and m2 == 2 and _last_of_feb(y1, d1) and _last_of_feb(y2, d2):
            d1 = d2 = 30
        elif m1 == 2 and _last_of_feb(y1, d1):
            d1 = 30
        return ((y2 - y1) * 360 + (m2 - m1) * 30 + (d2 - d1)) / 360
    if basis == 1:
        a, b = _real_date(s), _real_date(e)
        if y1 == y2 or (y2 == y1 + 1 and (m1 > m2 or (m1 == m2 and d1 >= d2))):
            if y1 == y2:
                year_len = 366 if calendar.isleap(y1) else 365
            elif _feb29_between(a, b):
                year_len = 366
            else:
                year_len = 365
            return (e - s) / year_len
        years = y2 - y1 + 1
        total = sum(366 if calendar.isleap(y) else 365 for y in range(y1, y2 + 1))
        return (e - s) / (total / years)
    if basis == 2:
        return (e - s) / 360
    if basis == 3:
        return (e - s) / 365
    d1 = min(d1, 30)
    d2 = min(d2, 30)
    return ((y2 - y1) * 360 + (m2 - m1) * 30 + (d2 - d1)) / 360


def _last_of_feb(year, day):
    return day == calendar.monthrange(year, 2)[1]


def _feb29_between(a: dt.date, b: dt.date) -> bool:
    for year in range(a.year, b.year + 1):
        if calendar.isleap(year):
            feb29 = dt.date(year, 2, 29)
            if a <= feb29 <= b:
                return True
    return False
