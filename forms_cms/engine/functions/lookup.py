"""Lookup and reference functions."""

from __future__ import annotations

from forms_cms.engine.functions import register
from forms_cms.engine.functions.common import as_array, number_arg
from forms_cms.engine.functions.criteria import wildcard_regex
from forms_cms.engine.runtime import compare
from forms_cms.engine.values import NA, REF, VALUE, Arr, XLError, to_bool


def _exact_position(values, needle):
    """0-based position of the first value equal to ``needle`` (text: wildcards, no case)."""
    if needle.__class__ is str and any(ch in needle for ch in "*?~"):
        pattern = wildcard_regex(needle)
        for i, x in enumerate(values):
            if x.__class__ is str and pattern.match(x):
                return i
        return None
    for i, x in enumerate(values):
        if x is None or x.__class__ is XLError:
            continue
        if _same_kind(x, needle) and compare(x, needle) == 0:
            return i
    return None


def _same_kind(a, b) -> bool:
    num = (int, float)
    if a.__class__ in num:
        return b.__class__ in num
    return a.__class__ is b.__class__


def _approximate_position(values, needle):
    """Excel's binary search for the last value ≤ needle (sorted data).

    Blanks and values of another type than the needle are stepped over towards the start of
    the probe window, which reproduces Excel on most unsorted data too."""
    lo, hi, found = 0, len(values) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        probe = mid
        while probe >= lo and (values[probe] is None or not _same_kind(values[probe], needle)):
            probe -= 1
        if probe < lo:
            lo = mid + 1
            continue
        c = compare(values[probe], needle)
        if c <= 0:
            found = probe
            lo = mid + 1
        else:
            hi = probe - 1
    return found


def _descending_position(values, needle):
    """MATCH(…, -1): scan while values are ≥ needle (values of another type are skipped)."""
    found = None
    for i, x in enumerate(values):
        if x is None or not _same_kind(x, needle):
            continue
        if compare(x, needle) >= 0:
            found = i
        else:
            break
    return found


def _scalar(x):
    if x.__class__ is Arr:
        return x.vals[0] if len(x.vals) == 1 else VALUE
    return x


@register("VLOOKUP", arrays=True)
def vlookup(needle, table, col_index, approximate=True):
    return _lookup(needle, table, col_index, approximate, vertical=True)


@register("HLOOKUP", arrays=True)
def hlookup(needle, table, row_index, approximate=True):
    return _lookup(needle, table, row_index, approximate, vertical=False)


def _lookup(needle, table, index, approximate, vertical):
    needle = _scalar(needle)
    if needle.__class__ is XLError:
        return needle
    if needle is None:
        needle = 0
    table = as_array(table)
    index = number_arg(index)
    if index.__class__ is XLError:
        return index
    index = int(index)
    # an omitted fourth argument is TRUE, an empty one (VLOOKUP(x,t,2,)) is FALSE
    approximate = to_bool(approximate) if approximate is not None else False
    if approximate.__class__ is XLError:
        return approximate
    width = table.cols if vertical else table.rows
    if index < 1:
        return VALUE
    if index > width:
        return REF
    keys = table.col_values(0) if vertical else table.row_values(0)
    pos = _approximate_position(keys, needle) if approximate else _exact_position(keys, needle)
    if pos is None:
        return NA
    result = table.at(pos, index - 1) if vertical else table.at(index - 1, pos)
    return result


@register("MATCH", arrays=True)
def match(needle, haystack, match_type=1):
    needle = _scalar(needle)
    if needle.__class__ is XLError:
        return needle
    haystack = as_array(haystack)
    if haystack.rows != 1 and haystack.cols != 1:
        return NA
    mt = number_arg(match_type if match_type is not None else 0)
    if mt.__class__ is XLError:
        return mt
    values = haystack.vals
    if needle is None:
        if mt == 0:
            return NA
        needle = 0
    if mt == 0:
        pos = _exact_position(values, needle)
    elif mt > 0:
        pos = _approximate_position(values, needle)
    else:
        pos = _descending_position(values, needle)
    return NA if pos is None else pos + 1


@register("INDEX", arrays=True)
def index(array, row=None, col=None):
    array = as_array(array)
    r = number_arg(row if row is not None else 0)
    if r.__class__ is XLError:
        return r
    c = number_arg(col if col is not None else 0)
    if c.__class__ is XLError:
        return c
    r, c = int(r), int(c)
    if r < 0 or c < 0:
        return VALUE
    if col is None and array.rows == 1 and array.cols > 1:
        r, c = 1 if r else 0, r  # a single row: the index is a column
    elif col is None and array.rows > 1 and array.cols > 1:
        return REF
    if r > array.rows or c > array.cols:
        return REF
    if r == 0 and c == 0:
        return array
    if r == 0:
        return Arr(array.rows, 1, array.col_values(c - 1))
    if c == 0:
        if array.cols == 1:
            return array.at(r - 1, 0)
        return Arr(1, array.cols, array.row_values(r - 1))
    return array.at(r - 1, c - 1)


@register("ROWS", refs=True)
def rows(array):
    return as_array(array).rows


@register("COLUMNS", refs=True)
def columns(array):
    return as_array(array).cols
