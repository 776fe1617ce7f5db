"""Arithmetic and rounding functions."""

from __future__ import annotations

import math
import operator
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation

from forms_cms.engine.functions import register
from forms_cms.engine.functions.common import _NUMERIC, as_array, number_arg, numbers
from forms_cms.engine.functions.criteria import predicate
from forms_cms.engine.values import DIV0, NUM, VALUE, Arr, XLError, excel_float, to_number


@register("SUM", refs=True)
def sum_(*args):
    ns = numbers(args)
    return ns if ns.__class__ is XLError else excel_float(sum(ns) if ns else 0)


def sum_cells(v, ids):
    """SUM over references only (the common case), straight from the value list."""
    total = 0
    for i in ids:
        x = v[i]
        cls = x.__class__
        if cls is float or cls is int:
            total += x
        elif cls is XLError:
            return x
    return excel_float(total)


@register("PRODUCT", refs=True)
def product(*args):
    ns = numbers(args)
    if ns.__class__ is XLError:
        return ns
    return excel_float(math.prod(ns)) if ns else 0


@register("SUMSQ", refs=True)
def sumsq(*args):
    ns = numbers(args)
    return ns if ns.__class__ is XLError else excel_float(math.fsum(n * n for n in ns))


def conditional_cells(criteria_pairs):
    """Indexes of the cells meeting all (range, criterion) pairs, or an error."""
    first = as_array(criteria_pairs[0][0])
    size = len(first.vals)
    selected = range(size)
    for rng, crit in criteria_pairs:
        rng = as_array(rng)
        if len(rng.vals) != size:
            return VALUE
        test = predicate(crit)
        vals = rng.vals
        selected = [i for i in selected if test(vals[i])]
    return selected


@register("SUMIF", refs=True)
def sumif(rng, criterion, sum_range=None):
    rng = as_array(rng)
    target = rng if sum_range is None else as_array(sum_range)
    test = predicate(criterion)
    total = []
    for i, x in enumerate(rng.vals):
        if test(x):
            y = _aligned(target, rng, i)
            if y.__class__ is XLError:
                return y
            if y.__class__ is int or y.__class__ is float:
                total.append(y)
    return excel_float(sum(total))


def _aligned(target: Arr, rng: Arr, i: int):
    if target is rng:
        return rng.vals[i]
    r, c = divmod(i, rng.cols)
    if r < target.rows and c < target.cols:
        return target.vals[r * target.cols + c]
    return None


@register("SUMIFS", refs=True)
def sumifs(sum_range, *pairs):
    if len(pairs) % 2:
        return VALUE
    sum_range = as_array(sum_range)
    cells = conditional_cells([(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)])
    if cells.__class__ is XLError:
        return cells
    if len(as_array(pairs[0]).vals) != len(sum_range.vals):
        return VALUE
    total = []
    for i in cells:
        y = sum_range.vals[i]
        if y.__class__ is XLError:
            return y
        if y.__class__ is int or y.__class__ is float:
            total.append(y)
    return excel_float(sum(total))


@register("SUMPRODUCT", refs=True)
def sumproduct(*arrays):
    arrays = [as_array(a) for a in arrays]
    size = len(arrays[0].vals)
    for a in arrays:
        if a.rows != arrays[0].rows or a.cols != arrays[0].cols:
            return VALUE
    if all(set(map(type, a.vals)) <= _NUMERIC for a in arrays):  # numbers only: C speed
        if len(arrays) == 2:
            return excel_float(sum(map(operator.mul, arrays[0].vals, arrays[1].vals)))
        return excel_float(sum(map(math.prod, zip(*(a.vals for a in arrays), strict=True))))
    total = []
    for i in range(size):
        prod = 1
        for a in arrays:
            x = a.vals[i]
            if x.__class__ is XLError:
                return x
            prod *= x if (x.__class__ is int or x.__class__ is float) else 0
        total.append(prod)
    return excel_float(sum(total))


_POWERS = [10.0**i for i in range(11)]


def _decimal(x) -> Decimal:
    # Excel works with 15 significant digits: 2.675 rounds to 2.68, 0.1*3 is 0.3
    return Decimal(f"{x:.15g}")


def _round(x, digits, mode):
    x = number_arg(x)
    if x.__class__ is XLError:
        return x
    digits = number_arg(digits)
    if digits.__class__ is XLError:
        return digits
    digits = int(digits) if digits >= 0 else -int(-digits)
    if mode is ROUND_HALF_UP and x.__class__ is float and 0 <= digits <= 10 and abs(x) < 1e9:
        # fast path: Python's round() is exact except at (near) halves, which it rounds to
        # even; those go through Decimal below, as Excel rounds them away from zero
        scaled = abs(x) * _POWERS[digits]
        if abs(scaled - math.floor(scaled) - 0.5) > 1e-6:
            return round(x, digits)
    elif x.__class__ is int and digits >= 0:
        return x
    try:
        result = _decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=mode)
    except InvalidOperation:
        return NUM
    value = float(result)
    return int(value) if digits <= 0 and abs(value) < 2**53 else value


@register("ROUND", errors=True)
def round_(x, digits=0):
    if x.__class__ is XLError:
        return x
    if digits.__class__ is XLError:
        return digits
    return _round(x, digits, ROUND_HALF_UP)


@register("ROUNDUP")
def roundup(x, digits=0):
    return _round(x, digits, ROUND_UP)


@register("ROUNDDOWN")
def rounddown(x, digits=0):
    return _round(x, digits, ROUND_DOWN)


@register("TRUNC")
def trunc(x, digits=0):
    return _round(x, digits, ROUND_DOWN)


def unary_math(name, fn, *, domain=lambda x: True):
    def impl(x):
        x = number_arg(x)
        if x.__class__ is XLError:
            return x
        if not domain(x):
            return NUM
        try:
            return excel_float(fn(x))
        except (ValueError, OverflowError):
            return NUM
        except ZeroDivisionError:
            return DIV0

    impl.__name__ = name.lower()
    register(name)(impl)


unary_math("ABS", abs)
unary_math("INT", lambda x: int(math.floor(x)))
unary_math("SIGN", lambda x: (x > 0) - (x < 0))
unary_math("SQRT", math.sqrt, domain=lambda x: x >= 0)
unary_math("EXP", math.exp)
unary_math("LN", math.log, domain=lambda x: x > 0)
unary_math("LOG10", math.log10, domain=lambda x: x > 0)
unary_math("SIN", math.sin)
unary_math("COS", math.cos)
unary_math("TAN", math.tan)
unary_math("ASIN", math.asin, domain=lambda x: -1 <= x <= 1)
unary_math("ACOS", math.acos, domain=lambda x: -1 <= x <= 1)
unary_math("ATAN", math.atan)
unary_math("SINH", math.sinh)
unary_math("COSH", math.cosh)
unary_math("TANH", math.tanh)
unary_math("DEGREES", math.degrees)
unary_math("RADIANS", math.radians)
unary_math("FACT", lambda x: math.factorial(int(x)), domain=lambda x: x >= 0)
unary_math("EVEN", lambda x: math.copysign(math.ceil(abs(x) / 2) * 2, x) if x else 0)


def _odd(x):
    n = math.ceil(abs(x))
    if n % 2 == 0:
        n += 1
    return math.copysign(n, x) if x < 0 else n


unary_math("ODD", _odd)


def _two(a, b):
    a = number_arg(a)
    if a.__class__ is XLError:
        return a, None
    b = number_arg(b)
    if b.__class__ is XLError:
        return b, None
    return a, b


@register("MOD")
def mod(a, b):
    a, b = _two(a, b)
    if b is None:
        return a
    if b == 0:
        return DIV0
    return excel_float(a - b * math.floor(a / b))


@register("QUOTIENT")
def quotient(a, b):
    a, b = _two(a, b)
    if b is None:
        return a
    if b == 0:
        return DIV0
    return int(a / b)


@register("POWER")
def power(a, b):
    from forms_cms.engine.runtime import op_pow

    return op_pow(a, b)


@register("LOG")
def log(x, base=10):
    x, base = _two(x, base)
    if base is None:
        return x
    if x <= 0 or base <= 0:
        return NUM
    if base == 1:
        return DIV0
    return math.log(x) / math.log(base)


@register("ATAN2")
def atan2(x, y):
    x, y = _two(x, y)
    if y is None:
        return x
    if x == 0 and y == 0:
        return DIV0
    return math.atan2(y, x)


@register("PI")
def pi():
    return math.pi


@register("CEILING")
def ceiling(x, significance=1):
    x, s = _two(x, significance)
    if s is None:
        return x
    if s == 0:
        return 0
    if x > 0 > s:
        return NUM
    return excel_float(math.ceil(float(_decimal(x / s))) * s)


@register("FLOOR")
def floor(x, significance=1):
    x, s = _two(x, significance)
    if s is None:
        return x
    if s == 0:
        return DIV0
    if x > 0 > s:
        return NUM
    return excel_float(math.floor(float(_decimal(x / s))) * s)


@register("MROUND")
def mround(x, multiple):
    x, m = _two(x, multiple)
    if m is None:
        return x
    if m == 0:
        return 0
    if (x > 0 > m) or (x < 0 < m):
        return NUM
    q = _decimal(x / m).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return excel_float(float(q) * m)


@register("GCD", refs=True)
def gcd(*args):
    ns = numbers(args)
    if ns.__class__ is XLError:
        return ns
    if any(n < 0 for n in ns):
        return NUM
    return math.gcd(*(int(n) for n in ns))


@register("LCM", refs=True)
def lcm(*args):
    ns = numbers(args)
    if ns.__class__ is XLError:
        return ns
    if any(n < 0 for n in ns):
        return NUM
    return math.lcm(*(int(n) for n in ns))


@register("NPV", refs=True)
def npv(rate, *values):
    rate = to_number(rate)
    if rate.__class__ is XLError:
        return rate
    ns = numbers(values)
    if ns.__class__ is XLError:
        return ns
    if rate == -1:
        return DIV0
    total = 0.0
    for i, v in enumerate(ns):
        total += v / (1 + rate) ** (i + 1)
    return excel_float(total)


def _financial_args(*xs):
    out = []
    for x in xs:
        x = number_arg(x)
        if x.__class__ is XLError:
            return x
        out.append(x)
    return out


@register("PMT")
def pmt(rate, nper, pv, fv=0, when=0):
    args = _financial_args(rate, nper, pv, fv, when)
    if args.__class__ is XLError:
        return args
    rate, nper, pv, fv, when = args
    if nper == 0:
        return NUM
    if rate == 0:
        return excel_float(-(pv + fv) / nper)
    factor = (1 + rate) ** nper
    return excel_float(
        -(rate * (pv * factor + fv)) / ((1 + rate * (1 if when else 0)) * (factor - 1))
    )


@register("PV")
def pv(rate, nper, payment, fv=0, when=0):
    args = _financial_args(rate, nper, payment, fv, when)
    if args.__class__ is XLError:
        return args
    rate, nper, payment, fv, when = args
    if rate == 0:
        return excel_float(-fv - payment * nper)
    factor = (1 + rate) ** nper
    due = 1 + rate * (1 if when else 0)
    return excel_float(-(fv + payment * due * (factor - 1) / rate) / factor)


@register("FV")
def fv(rate, nper, payment, pv=0, when=0):
    args = _financial_args(rate, nper, payment, pv, when)
    if args.__class__ is XLError:
        return args
    rate, nper, payment, pv, when = args
    if rate == 0:
        return excel_float(-pv - payment * nper)
    factor = (1 + rate) ** nper
    due = 1 + rate * (1 if when else 0)
    return excel_float(-(pv * factor + payment * due * (factor - 1) / rate))


@register("SLN")
def sln(cost, salvage, life):
    args = _financial_args(cost, salvage, life)
    if args.__class__ is XLError:
        return args
    cost, salvage, life = args
    if life == 0:
        return DIV0
    return excel_float((cost - salvage) / life)


_SUBTOTALS = {
    1: "AVERAGE", 2: "COUNT", 3: "COUNTA", 4: "MAX", 5: "MIN", 6: "PRODUCT", 7: "STDEV",
    8: "STDEVP", 9: "SUM", 10: "VAR", 11: "VARP",
}  # fmt: skip


@register("SUBTOTAL", refs=True)
def subtotal(function_num, *refs):
    """SUBTOTAL(109, Table[Column]): what a table's totals row writes. Rows are never hidden
    in a form, so 1–11 and 101–111 are the same; a nested SUBTOTAL in the range is not
    skipped (Excel skips it: don't total subtotals)."""
    from forms_cms.engine.functions import FUNCTIONS

    code = to_number(function_num.vals[0] if function_num.__class__ is Arr else function_num)
    if code.__class__ is XLError:
        return code
    name = _SUBTOTALS.get(int(code) % 100 if code >= 100 else int(code))
    if name is None or not refs:
        return VALUE
    return FUNCTIONS[name].impl(*refs)
