"""Operators as Excel evaluates them; generated formula code calls these.

Each operator has a fast path for two numbers and a general path that coerces (empty → 0,
booleans → 0/1, numeric text → number), propagates errors (left operand first) and works
element-wise on arrays (for SUMPRODUCT-style array expressions).
"""

from __future__ import annotations

import math

from forms_cms.engine.values import (
    DIV0,
    NA,
    NUM,
    VALUE,
    Arr,
    XLError,
    excel_float,
    to_bool,
    to_number,
    to_text,
)


def broadcast(fn, a, b):
    """Apply ``fn`` element-wise when ``a`` or ``b`` is an array (Excel's array expansion)."""
    if a.__class__ is not Arr and b.__class__ is not Arr:
        return fn(a, b)
    ar, ac = (a.rows, a.cols) if a.__class__ is Arr else (1, 1)
    br, bc = (b.rows, b.cols) if b.__class__ is Arr else (1, 1)
    rows, cols = max(ar, br), max(ac, bc)
    out = []
    for r in range(rows):
        for c in range(cols):
            x = _element(a, ar, ac, r, c)
            y = _element(b, br, bc, r, c)
            out.append(NA if x is _OUT or y is _OUT else fn(x, y))
    return Arr(rows, cols, out)


_OUT = object()


def _element(x, rows, cols, r, c):
    if x.__class__ is not Arr:
        return x
    if rows == 1 and cols == 1:
        return x.vals[0]
    rr = 0 if rows == 1 else r
    cc = 0 if cols == 1 else c
    if rr >= rows or cc >= cols:
        return _OUT
    return x.vals[rr * cols + cc]


def _numbers(a, b):
    a = to_number(a)
    if a.__class__ is XLError:
        return a, None
    b = to_number(b)
    if b.__class__ is XLError:
        return b, None
    return a, b


def _add1(a, b):
    a, b = _numbers(a, b)
    return a if b is None else excel_float(a + b)


def _sub1(a, b):
    a, b = _numbers(a, b)
    return a if b is None else excel_float(a - b)


def _mul1(a, b):
    a, b = _numbers(a, b)
    return a if b is None else excel_float(a * b)


def _div1(a, b):
    a, b = _numbers(a, b)
    if b is None:
        return a
    if b == 0:
        return DIV0
    return excel_float(a / b)


def _pow1(a, b):
    a, b = _numbers(a, b)
    if b is None:
        return a
    if a == 0 and b < 0:
        return DIV0
    if a == 0 and b == 0:
        return NUM
    try:
        result = float(a) ** b
    except (OverflowError, ZeroDivisionError):
        return NUM
    if result.__class__ is complex:
        return NUM
    return excel_float(result)


def _cat1(a, b):
    a = to_text(a)
    if a.__class__ is XLError:
        return a
    b = to_text(b)
    if b.__class__ is XLError:
        return b
    return a + b


def op_add(a, b):
    ca, cb = a.__class__, b.__class__
    if (ca is float or ca is int) and (cb is float or cb is int):
        return a + b
    return broadcast(_add1, a, b)


def op_sub(a, b):
    ca, cb = a.__class__, b.__class__
    if (ca is float or ca is int) and (cb is float or cb is int):
        return a - b
    return broadcast(_sub1, a, b)


def op_mul(a, b):
    ca, cb = a.__class__, b.__class__
    if (ca is float or ca is int) and (cb is float or cb is int):
        return a * b
    return broadcast(_mul1, a, b)


def op_div(a, b):
    ca, cb = a.__class__, b.__class__
    if (ca is float or ca is int) and (cb is float or cb is int) and b != 0:
        return a / b
    return broadcast(_div1, a, b)


def op_pow(a, b):
    return broadcast(_pow1, a, b)


def op_cat(a, b):
    if a.__class__ is str and b.__class__ is str:
        return a + b
    return broadcast(_cat1, a, b)


def _neg1(a):
    a = to_number(a)
    return a if a.__class__ is XLError else -a


def op_neg(a):
    if a.__class__ is Arr:
        return Arr(a.rows, a.cols, [_neg1(x) for x in a.vals])
    return _neg1(a)


def _pct1(a):
    a = to_number(a)
    return a if a.__class__ is XLError else a / 100


def op_pct(a):
    if a.__class__ is Arr:
        return Arr(a.rows, a.cols, [_pct1(x) for x in a.vals])
    return _pct1(a)


# Comparison: numbers < text < booleans; text is compared without regard to case; an empty
# cell is 0, "" or FALSE depending on what it is compared with.
_RANK = {int: 0, float: 0, str: 1, bool: 2}


def compare(a, b):
    """-1, 0 or 1 as Excel orders two scalars, or the error to propagate."""
    if a.__class__ is XLError:
        return a
    if b.__class__ is XLError:
        return b
    if a is None:
        a = _blank_like(b)
    if b is None:
        b = _blank_like(a)
    ra, rb = _RANK.get(a.__class__, 3), _RANK.get(b.__class__, 3)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 1:
        a, b = a.lower(), b.lower()
    elif ra == 0 and a != b and math.isclose(a, b, rel_tol=1e-15, abs_tol=0):
        return 0  # Excel compares to 15 significant digits
    return (a > b) - (a < b)


def _blank_like(other):
    if other is None:
        return 0
    cls = other.__class__
    if cls is str:
        return ""
    if cls is bool:
        return False
    return 0


def _comparison(test):
    def one(a, b):
        c = compare(a, b)
        return c if c.__class__ is XLError else test(c)

    def op(a, b):
        ca, cb = a.__class__, b.__class__
        if (ca is float or ca is int) and (cb is float or cb is int):
            if a == b or math.isclose(a, b, rel_tol=1e-15, abs_tol=0):
                return test(0)  # Excel compares numbers to 15 significant digits
            return test(-1 if a < b else 1)
        return broadcast(one, a, b)

    return op


op_eq = _comparison(lambda c: c == 0)
op_ne = _comparison(lambda c: c != 0)
op_lt = _comparison(lambda c: c < 0)
op_le = _comparison(lambda c: c <= 0)
op_gt = _comparison(lambda c: c > 0)
op_ge = _comparison(lambda c: c >= 0)


def cond(x):
    """Condition of IF: True, False or the error to return."""
    if x.__class__ is bool:
        return x
    return to_bool(x)


def top(x, sheet=None, row=None, col=None):
    """A formula's final value: empty → 0; a range → implicit intersection with the cell."""
    if x is None:
        return 0
    if x.__class__ is Arr:
        if x.rows == 1 and x.cols == 1:
            v = x.vals[0]
        elif (
            x.sheet is not None
            and x.sheet == sheet
            and x.cols == 1
            and x.row <= row < x.row + x.rows
        ):
            v = x.vals[row - x.row]
        elif (
            x.sheet is not None
            and x.sheet == sheet
            and x.rows == 1
            and x.col <= col < x.col + x.cols
        ):
            v = x.vals[col - x.col]
        elif x.sheet is None and x.vals:
            v = x.vals[0]  # an array result in a single cell shows its first element
        else:
            return VALUE
        return 0 if v is None else v
    return x


def rng(v, ids, rows, cols, sheet=None, row=None, col=None):
    """A range's current values."""
    return Arr(rows, cols, [v[i] for i in ids], sheet, row, col)


def ref1(x):
    """A single-cell reference passed to a function that treats references specially."""
    return Arr(1, 1, [x])


def array_const(rows, cols, vals):
    return Arr(rows, cols, list(vals))


def lifted(fn, *args):
    """Apply a scalar function element by element over array arguments (array formulas)."""
    arrays = [a for a in args if a.__class__ is Arr]
    if not arrays:
        return fn(*args)
    rows = max(a.rows for a in arrays)
    cols = max(a.cols for a in arrays)
    out = []
    for r in range(rows):
        for c in range(cols):
            items = [_element(a, a.rows, a.cols, r, c) if a.__class__ is Arr else a for a in args]
            out.append(NA if any(x is _OUT for x in items) else fn(*items))
    return Arr(rows, cols, out)
