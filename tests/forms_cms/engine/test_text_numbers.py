"""Excel's conversion of text to numbers, dates and times (``text_to_number`` and its users)."""

from __future__ import annotations

import datetime as dt

import pytest

from forms_cms.engine.__main__ import parse_value
from forms_cms.engine.functions.dates import datevalue_parse
from forms_cms.engine.text_numbers import date_to_serial
from forms_cms.engine.values import VALUE, text_to_number, to_number

from .helpers import evaluate_cells

TODAY = dt.date(2024, 6, 1)


def serial(y, m, d, hours=0, minutes=0, seconds=0):
    return date_to_serial(dt.date(y, m, d)) + (hours * 3600 + minutes * 60 + seconds) / 86400


CONVERTED = [
    # signs
    ("7482.03-", -7482.03),
    ("1,234.5-", -1234.5),
    ("100 -", -100),
    ("+3", 3),
    ("-3", -3),
    ("- 100", -100),
    ("(100)", -100),
    ("( 100 )", -100),
    ("(1,000)", -1000),
    ("(1e3)", -1000),
    # currency (en-US: "$" before the number, on either side of the sign)
    ("$100", 100),
    ("$ 100", 100),
    ("$1,000.50", 1000.5),
    ("-$100", -100),
    ("$-100", -100),
    ("+$100", 100),
    ("($250)", -250),
    ("$100-", -100),
    # percent
    ("50%", 0.5),
    (" 50 %", 0.5),
    ("-50%", -0.5),
    ("1,000%", 10),
    ("12.5%", 0.125),
    # thousands separators in groups of three
    ("1,000.5", 1000.5),
    ("1,000,000", 1000000),
    ("12,345", 12345),
    ("1,000.", 1000),
    ("1,000e3", 1e6),
    # exponents, decimals, spaces
    ("1e3", 1000),
    ("1E-2", 0.01),
    ("5E+2", 500),
    ("0.5e1", 5),
    (".5", 0.5),
    ("5.", 5),
    ("-.5", -0.5),
    ("  3  ", 3),
    ("3", 3),
    ("-0", 0),
    ("1e-400", 0),
    # mixed fraction
    ("1 1/2", 1.5),
    ("-2 1/4", -2.25),
    # dates
    ("2024-01-05", serial(2024, 1, 5)),
    ("2024-1-5", serial(2024, 1, 5)),
    ("5 Jan 2024", serial(2024, 1, 5)),
    ("5-Jan-2024", serial(2024, 1, 5)),
    ("5-jan-24", serial(2024, 1, 5)),
    ("5 January 2024", serial(2024, 1, 5)),
    ("Jan 5, 2024", serial(2024, 1, 5)),
    ("Jan 5 2024", serial(2024, 1, 5)),
    ("JANUARY 5, 2024", serial(2024, 1, 5)),
    ("Sept 5, 2024", serial(2024, 9, 5)),
    ("Jan 2024", serial(2024, 1, 1)),
    ("Jan-2024", serial(2024, 1, 1)),
    ("31/12/2024", serial(2024, 12, 31)),
    ("05/01/2024", serial(2024, 1, 5)),  # day first, as in France
    ("12/31/2024", serial(2024, 12, 31)),  # month first when day first is impossible
    ("1/2/3", serial(2003, 2, 1)),
    ("1/2/99", serial(1999, 2, 1)),
    ("5/2024", serial(2024, 5, 1)),
    ("29/02/1900", 60),
    ("1900-02-29", 60),
    ("1900-01-01", 1),
    ("9999-12-31", 2958465),
    # dates without a year are in the current year (TODAY: 1 June 2024)
    ("12/5", serial(2024, 5, 12)),
    ("5-5", serial(2024, 5, 5)),
    ("13/12", serial(2024, 12, 13)),
    ("12/13", serial(2024, 12, 13)),
    ("5 Jan", serial(2024, 1, 5)),
    ("Jan 5", serial(2024, 1, 5)),
    ("Jan-05", serial(2024, 1, 5)),
    # times
    ("10:30", 10.5 / 24),
    ("10:30:15", (10 * 3600 + 30 * 60 + 15) / 86400),
    ("10:30:15.5", (10 * 3600 + 30 * 60 + 15.5) / 86400),
    ("10:30 PM", 22.5 / 24),
    ("10:30pm", 22.5 / 24),
    ("12:30:00 AM", 0.5 / 24),
    ("12:00", 0.5),
    ("10 PM", 22 / 24),
    ("0:0", 0),
    ("25:00", 25 / 24),
    ("1:23.5", 83.5 / 86400),
    # date and time
    ("2024-01-05 10:30", serial(2024, 1, 5, 10, 30)),
    ("5/1/2024 10:30 PM", serial(2024, 1, 5, 22, 30)),
    ("Jan 5, 2024 10:30", serial(2024, 1, 5, 10, 30)),
]

REFUSED = [
    "",
    "   ",
    "1 000",
    "12abc",
    "abc",
    "--5",
    "+-5",
    "-+5",
    "-5-",
    "1,00",
    "1,0000",
    ",123",
    "12,34.5",
    "(100",
    "100)",
    "(-100)",
    "-(100)",
    "(100)-",
    "(50%)",
    "50%-",
    "100-%",
    "%50",
    "50%%",
    "100$",
    "$$100",
    "$1e3",
    "1e3%",
    "$50%",
    "100 €",
    "€100",
    "£100",
    "1e",
    "1e400",
    "0x10",
    "1_000",
    "1.000,5",
    "12.3.4",
    "TRUE",
    "Infinity",
    "nan",
    ".",
    "-",
    "$",
    "%",
    "\t3",
    "3\n",
    "\xa03",  # a non-breaking space is not a space to Excel
    "٣",  # not an ASCII digit
    "1 0/0",
    # dates and times
    "2024-13-01",
    "2024-02-30",
    "2/29/2023",
    "1899-12-31",
    "2024/5",
    "13/13",
    "5.5.2024",
    "Friday, January 5, 2024",
    "Foo 5, 2024",
    "2024-01-05T10:30",
    "13:00 PM",
    "10:60",
    "10:30:60",
    "2024-01-05 25:00",
    "-10:30",
    "10:30-",
    "(10:30)",
    "$10:30",
    "3:",
    "1/2/100",
]


@pytest.mark.parametrize(("text", "expected"), CONVERTED, ids=[repr(c[0]) for c in CONVERTED])
def test_converted(text, expected):
    got = text_to_number(text, TODAY)
    assert got.__class__ is float
    assert got == pytest.approx(expected, rel=1e-15, abs=1e-15)


@pytest.mark.parametrize("text", REFUSED, ids=repr)
def test_refused(text):
    assert text_to_number(text, TODAY) is VALUE


def test_no_negative_zero():
    assert str(text_to_number("-0")) == "0.0"
    assert str(text_to_number("(0)")) == "0.0"


def test_a_date_without_year_is_in_the_current_year():
    year = dt.date.today().year  # noqa: DTZ011
    assert text_to_number("12/5") == date_to_serial(dt.date(year, 5, 12))
    assert datevalue_parse("12/5", dt.date(2023, 1, 1)) == date_to_serial(dt.date(2023, 5, 12))
    assert datevalue_parse(" 12/5 ") == date_to_serial(dt.date(year, 5, 12))


def test_to_number_uses_the_text_rules():
    assert to_number("7482.03-") == -7482.03
    assert to_number("1 000") is VALUE
    assert to_number(" 2024-01-05 ") == 45296


def test_command_line_values_are_read_as_typed_in_a_cell():
    assert parse_value("") is None
    assert parse_value("true") is True
    assert parse_value("1,000.5") == 1000.5
    assert parse_value("7482.03-") == -7482.03
    assert parse_value("2024-01-05") == 45296
    assert parse_value("31/12/2024 12:00") == 45657.5
    assert parse_value("20240105") == 20240105  # a number, not a compact ISO date
    assert parse_value("1 000") == "1 000"
    assert parse_value("SCI du Port") == "SCI du Port"


# --------------------------------------------------------------------------- in formulas

TEXTS = {
    "A1": "7482.03-",
    "A2": "(100)",
    "A3": "$1,000.50",
    "A4": "50%",
    "A5": "2024-01-05 10:30",
    "A6": "1 000",
    "A7": " 2024 ",
    "A8": "10:30 PM",
    # a ledger: amounts written as text by an export, and its running total
    "B1": 10000,
    "B2": "7482.03-",
    "B3": "(1,000)",
    "B4": "250.5",
    "C1": "=B1",
    "C2": "=C1+B2",
    "C3": "=C2+B3",
    "C4": "=C3+B4",
}
FORMULAS = [
    ("=A1*1", -7482.03),
    ("=A1+0", -7482.03),
    ("=-A1", 7482.03),
    ("=A4%", 0.005),
    ("=A2/4", -25),
    ("=A3-A2", 1100.5),
    ("=A6*1", VALUE),
    ("=-A6", VALUE),
    ('="7482.03-"*1', -7482.03),
    ('="(100)"+0', -100),
    ('=""*1', VALUE),
    ('="--5"*1', VALUE),
    ("=VALUE(A1)", -7482.03),
    ("=VALUE(A5)", 45296.4375),
    ('=VALUE("$1,000")', 1000),
    ('=VALUE("16:48:00")-VALUE("12:00:00")', 0.2),
    ("=VALUE(A6)", VALUE),
    ('=VALUE("")', VALUE),
    ("=DATEVALUE(A5)", 45296),
    ('=DATEVALUE("10:30")', VALUE),
    ('=DATEVALUE("7482.03-")', VALUE),
    ("=DATEVALUE(2024)", VALUE),
    ("=TIMEVALUE(A5)", 0.4375),
    ("=TIMEVALUE(A8)", 22.5 / 24),
    ('=TIMEVALUE("25:00")', 1 / 24),
    ('=TIMEVALUE("2024-01-05")', VALUE),
    ("=TIMEVALUE(0.5)", VALUE),
    ("=TIMEVALUE(A9)", VALUE),
    ("=ROUND(A1,1)", -7482),
    ('=ROUND("7482.03-",1)', -7482),
    ("=ABS(A2)", 100),
    ('=ABS("(100)")', 100),
    ("=INT(A3)", 1000),
    ("=DATE(A7,1,5)", 45296),
    ('=DATE(" 2024 ","1","5")', 45296),
    ('=SUM("7482.03-",1)', -7481.03),  # typed text converts
    ("=SUM(A1:A4)", 0),  # text in a range is ignored
    ("=SUM(A1,A2)", 0),  # and in a reference
    ("=COUNT(A1:A8)", 0),
    ('=COUNT("7482.03-","(100)","1 000")', 2),
    ("=SUMPRODUCT(--(B1:B4))", 1768.47),
    ("=C4", 1768.47),
    ("=A1=-7482.03", False),  # comparisons do not convert
]


@pytest.fixture(scope="module")
def formula_values():
    sheet = dict(TEXTS)
    for i, (formula, _expected) in enumerate(FORMULAS, 1):
        sheet[f"Z{i}"] = formula
    return evaluate_cells({"S": sheet})


@pytest.mark.parametrize(
    ("index", "formula", "expected"),
    [(i, f, e) for i, (f, e) in enumerate(FORMULAS, 1)],
    ids=[f for f, _ in FORMULAS],
)
def test_in_formulas(formula_values, index, formula, expected):
    got = formula_values[f"S!Z{index}"]
    if expected.__class__ is bool or expected is VALUE:
        assert got is expected
    else:
        assert got == pytest.approx(expected, rel=1e-12)


def test_running_total_below_a_trailing_minus_amount(formula_values):
    totals = [formula_values[f"S!C{i}"] for i in range(1, 5)]
    assert totals == pytest.approx([10000, 2517.97, 1517.97, 1768.47])
