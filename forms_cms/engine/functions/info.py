"""IS… functions and error helpers."""

from __future__ import annotations

from forms_cms.engine.functions import register
from forms_cms.engine.functions.common import number_arg
from forms_cms.engine.values import ERROR_CODES, NA, VALUE, Arr, XLError


def _scalar(x):
    if x.__class__ is Arr:
        return x.vals[0] if len(x.vals) == 1 else VALUE
    return x


@register("ISBLANK", refs=True)
def isblank(x):
    return _scalar(x) is None


@register("ISNUMBER", refs=True)
def isnumber(x):
    x = _scalar(x)
    return x.__class__ is int or x.__class__ is float


@register("ISTEXT", refs=True)
def istext(x):
    return _scalar(x).__class__ is str


@register("ISNONTEXT", refs=True)
def isnontext(x):
    return _scalar(x).__class__ is not str


@register("ISLOGICAL", refs=True)
def islogical(x):
    return _scalar(x).__class__ is bool


@register("ISERROR", refs=True)
def iserror(x):
    return _scalar(x).__class__ is XLError


@register("ISERR", refs=True)
def iserr(x):
    x = _scalar(x)
    return x.__class__ is XLError and x is not NA


@register("ISNA", refs=True)
def isna(x):
    return _scalar(x) is NA


def _parity(x):
    x = _scalar(x)
    if x.__class__ is bool:
        return VALUE
    n = number_arg(x)
    return n if n.__class__ is XLError else int(n) % 2


@register("ISEVEN", refs=True)
def iseven(x):
    n = _parity(x)
    return n if n.__class__ is XLError else n == 0


@register("ISODD", refs=True)
def isodd(x):
    n = _parity(x)
    return n if n.__class__ is XLError else n == 1


@register("NA")
def na():
    return NA


@register("ERROR.TYPE", errors=True)
def error_type(x):
    if x.__class__ is XLError:
        return ERROR_CODES.index(x.code) + 1
    return NA


@register("N", refs=True)
def n(x):
    x = _scalar(x)
    cls = x.__class__
    if cls is int or cls is float or cls is XLError:
        return x
    if cls is bool:
        return int(x)
    return 0


@register("T", refs=True)
def t(x):
    x = _scalar(x)
    return x if x.__class__ is str or x.__class__ is XLError else ""


@register("TYPE", errors=True)
def type_(x):
    cls = x.__class__
    if cls is Arr:
        return 64
    if cls is str:
        return 2
    if cls is bool:
        return 4
    if cls is XLError:
        return 16
    return 1
