"""Text functions."""

from __future__ import annotations

import re

from forms_cms.engine.functions import register
from forms_cms.engine.functions.common import number_arg, values_of
from forms_cms.engine.functions.criteria import wildcard_regex
from forms_cms.engine.values import VALUE, Arr, XLError, text_to_number, to_text


def _text(x):
    if x.__class__ is Arr:
        x = x.vals[0] if len(x.vals) == 1 else VALUE
    return to_text(x)


_OMITTED = object()


def _count(x, default):
    if x is _OMITTED:
        return default
    if x is None:
        return 0  # a blank cell or an empty argument counts as 0
    n = number_arg(x)
    return n if n.__class__ is XLError else int(n)


@register("CONCATENATE")
def concatenate(*args):
    parts = []
    for x in args:
        s = _text(x)
        if s.__class__ is XLError:
            return s
        parts.append(s)
    return "".join(parts)


@register("CONCAT", refs=True)
def concat(*args):
    parts = []
    for x, _ in values_of(args):
        s = to_text(x)
        if s.__class__ is XLError:
            return s
        parts.append(s)
    return "".join(parts)


@register("TEXTJOIN", refs=True)
def textjoin(delimiter, ignore_empty, *args):
    delimiter = _text(delimiter)
    if delimiter.__class__ is XLError:
        return delimiter
    parts = []
    for x, _ in values_of(args):
        s = to_text(x)
        if s.__class__ is XLError:
            return s
        if s == "" and ignore_empty not in (False, 0):
            continue
        parts.append(s)
    return delimiter.join(parts)


@register("LEN")
def len_(x):
    s = _text(x)
    return s if s.__class__ is XLError else len(s)


@register("LEFT")
def left(x, n=_OMITTED):
    s, n = _text(x), _count(n, 1)
    if s.__class__ is XLError:
        return s
    if n.__class__ is XLError:
        return n
    return s[:n] if n >= 0 else VALUE


@register("RIGHT")
def right(x, n=_OMITTED):
    s, n = _text(x), _count(n, 1)
    if s.__class__ is XLError:
        return s
    if n.__class__ is XLError:
        return n
    if n < 0:
        return VALUE
    return s[len(s) - n :] if n else ""


@register("MID")
def mid(x, start, n):
    s, start, n = _text(x), _count(start, 1), _count(n, 0)
    for v in (s, start, n):
        if v.__class__ is XLError:
            return v
    if start < 1 or n < 0:
        return VALUE
    return s[start - 1 : start - 1 + n]


@register("UPPER")
def upper(x):
    s = _text(x)
    return s if s.__class__ is XLError else s.upper()


@register("LOWER")
def lower(x):
    s = _text(x)
    return s if s.__class__ is XLError else s.lower()


@register("PROPER")
def proper(x):
    s = _text(x)
    return s if s.__class__ is XLError else re.sub(r"[A-Za-zÀ-ÿ]+", lambda m: m[0].capitalize(), s)


@register("TRIM")
def trim(x):
    s = _text(x)
    return s if s.__class__ is XLError else re.sub(" +", " ", s.strip(" "))


@register("CLEAN")
def clean(x):
    s = _text(x)
    return s if s.__class__ is XLError else "".join(ch for ch in s if ord(ch) >= 32)


@register("EXACT")
def exact(a, b):
    a, b = _text(a), _text(b)
    if a.__class__ is XLError:
        return a
    if b.__class__ is XLError:
        return b
    return a == b


def _find(needle, hay, start, *, search):
    needle, hay, start = _text(needle), _text(hay), _count(start, 1)
    for v in (needle, hay, start):
        if v.__class__ is XLError:
            return v
    if start < 1 or start > len(hay) + (1 if not needle else 0):
        return VALUE
    if search:
        pattern = wildcard_regex(needle).pattern[1:-1]
        m = re.compile(pattern, re.IGNORECASE | re.DOTALL).search(hay, start - 1)
        return VALUE if m is None else m.start() + 1
    pos = hay.find(needle, start - 1)
    return VALUE if pos < 0 else pos + 1


@register("FIND")
def find(needle, hay, start=_OMITTED):
    return _find(needle, hay, start, search=False)


@register("SEARCH")
def search(needle, hay, start=_OMITTED):
    return _find(needle, hay, start, search=True)


@register("SUBSTITUTE")
def substitute(x, old, new, instance=_OMITTED):
    s, old, new = _text(x), _text(old), _text(new)
    for v in (s, old, new):
        if v.__class__ is XLError:
            return v
    if not old:
        return s
    if instance is _OMITTED:
        return s.replace(old, new)
    n = _count(instance, 1)
    if n.__class__ is XLError:
        return n
    if n < 1:
        return VALUE
    pos = -1
    for _ in range(n):
        pos = s.find(old, pos + 1)
        if pos < 0:
            return s
    return s[:pos] + new + s[pos + len(old) :]


@register("REPLACE")
def replace(x, start, n, new):
    s, start, n, new = _text(x), _count(start, 1), _count(n, 0), _text(new)
    for v in (s, start, n, new):
        if v.__class__ is XLError:
            return v
    if start < 1 or n < 0:
        return VALUE
    return s[: start - 1] + new + s[start - 1 + n :]


@register("REPT")
def rept(x, n):
    s, n = _text(x), _count(n, 0)
    if s.__class__ is XLError:
        return s
    if n.__class__ is XLError:
        return n
    if n < 0 or len(s) * n > 32767:
        return VALUE
    return s * n


@register("VALUE")
def value(x):
    if x.__class__ is Arr:
        x = x.vals[0] if len(x.vals) == 1 else VALUE
    cls = x.__class__
    if cls is int or cls is float or cls is XLError:
        return x
    if x is None:
        return 0
    if cls is bool:
        return VALUE
    return text_to_number(x)


@register("CHAR")
def char(x):
    n = number_arg(x)
    if n.__class__ is XLError:
        return n
    n = int(n)
    if not 1 <= n <= 255:
        return VALUE
    return bytes([n]).decode("cp1252", errors="replace")


@register("CODE")
def code(x):
    s = _text(x)
    if s.__class__ is XLError:
        return s
    if not s:
        return VALUE
    try:
        return s[0].encode("cp1252")[0]
    except UnicodeEncodeError:
        return 63
