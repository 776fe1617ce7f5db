"""Excel values as the engine represents them.

- empty cell: ``None``
- number: ``int`` or ``float`` (dates are serial numbers, as in Excel)
- text: ``str``; boolean: ``bool``
- error: one of the :class:`XLError` singletons (``DIV0``, ``VALUE``…), compared by identity
- array or range: :class:`Arr` (row-major values, with the sheet position when it comes from a
  range, so that implicit intersection works)
"""

from __future__ import annotations

import math
import re

from forms_cms.engine.text_numbers import datetime_text, number_text


class XLError:
    """An Excel error value (#DIV/0!, #VALUE!…). One instance per code."""

    __slots__ = ("code",)
    _by_code: dict[str, XLError] = {}

    def __init__(self, code: str):
        self.code = code

    @classmethod
    def get(cls, code: str) -> XLError:
        code = code.upper()
        if code not in cls._by_code:
            cls._by_code[code] = cls(code)
        return cls._by_code[code]

    def __repr__(self) -> str:
        return self.code

    def __reduce__(self):  # pickling keeps singletons
        return (XLError.get, (self.code,))


NULL = XLError.get("#NULL!")
DIV0 = XLError.get("#DIV/0!")
VALUE = XLError.get("#VALUE!")
REF = XLError.get("#REF!")
NAME = XLError.get("#NAME?")
NUM = XLError.get("#NUM!")
NA = XLError.get("#N/A")
ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")


class Arr:
    """A rectangular block of values: a range read from the sheet, or an array result.

    ``sheet``/``row``/``col`` locate a range's top-left cell (1-based) or are ``None``."""

    __slots__ = ("rows", "cols", "vals", "sheet", "row", "col")

    def __init__(self, rows, cols, vals, sheet=None, row=None, col=None):
        self.rows = rows
        self.cols = cols
        self.vals = vals
        self.sheet = sheet
        self.row = row
        self.col = col

    def at(self, r: int, c: int):
        """Value at 0-based row ``r`` and column ``c``."""
        return self.vals[r * self.cols + c]

    def row_values(self, r: int) -> list:
        return self.vals[r * self.cols : (r + 1) * self.cols]

    def col_values(self, c: int) -> list:
        return self.vals[c :: self.cols]

    def __repr__(self) -> str:
        return f"Arr({self.rows}x{self.cols}, {self.vals!r})"


_DIGIT = re.compile(r"[0-9]")


def text_to_number(s: str, today=None):
    """Excel's conversion of text to a number, or #VALUE! (rules: :mod:`.text_numbers`).

    ``"3"`` → 3, ``"7482.03-"`` → -7482.03, ``"(100)"`` → -100, ``"$1,000"`` → 1000,
    ``"50%"`` → 0.5, ``"2024-01-05 10:30"`` → 45296.4375; ``today`` gives the year of a date
    written without one ("12/5")."""
    t = s.strip(" ")
    if not _DIGIT.search(t):
        return VALUE
    n = number_text(t)
    if n is not None:
        return n
    parsed = datetime_text(t, today)
    if parsed is None:
        return VALUE
    day, fraction = parsed
    return float((day or 0) + (fraction or 0))


def to_number(x):
    """Coerce a scalar for arithmetic: empty → 0, TRUE → 1, numeric text → number."""
    cls = x.__class__
    if cls is int or cls is float:
        return x
    if x is None:
        return 0
    if cls is bool:
        return int(x)
    if cls is str:
        return text_to_number(x)
    if cls is XLError:
        return x
    if cls is Arr:
        return to_number(x.vals[0]) if len(x.vals) == 1 else VALUE
    return VALUE


def to_text(x):
    """Coerce a scalar to text as ``&`` does: numbers in Excel's General format."""
    cls = x.__class__
    if cls is str:
        return x
    if x is None:
        return ""
    if cls is bool:
        return "TRUE" if x else "FALSE"
    if cls is int or cls is float:
        return number_to_text(x)
    if cls is XLError:
        return x
    if cls is Arr:
        return to_text(x.vals[0]) if len(x.vals) == 1 else VALUE
    return VALUE


def to_bool(x):
    """Coerce a scalar to a condition: numbers ≠ 0, "TRUE"/"FALSE"; other text → #VALUE!."""
    cls = x.__class__
    if cls is bool:
        return x
    if cls is int or cls is float:
        return x != 0
    if x is None:
        return False
    if cls is str:
        u = x.upper()
        if u == "TRUE":
            return True
        if u == "FALSE":
            return False
        return VALUE
    if cls is XLError:
        return x
    if cls is Arr:
        return to_bool(x.vals[0]) if len(x.vals) == 1 else VALUE
    return VALUE


def number_to_text(n) -> str:
    """Excel's General format for a number shown as text (up to 15 significant digits)."""
    if n.__class__ is int:
        return str(n)
    if n == 0:
        return "0"
    if n.is_integer() and abs(n) < 1e15:
        return str(int(n))
    a = abs(n)
    if 1e-9 <= a < 1e15:
        digits = 15 - (int(math.floor(math.log10(a))) + 1)
        s = f"{round(n, max(digits, 0)):.{max(digits, 0)}f}"
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        return s
    mantissa, exp = f"{n:.14E}".split("E")
    mantissa = mantissa.rstrip("0").rstrip(".")
    e = int(exp)
    return f"{mantissa}E{'+' if e >= 0 else '-'}{abs(e):02d}"


def excel_float(n):
    """Normalise a computed number: Excel has no infinities or NaN."""
    if n.__class__ is float and (math.isinf(n) or math.isnan(n)):
        return NUM
    return n
