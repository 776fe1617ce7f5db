"""Counting and statistics."""

from __future__ import annotations

import math
import statistics as stats

from forms_cms.engine.functions import register
from forms_cms.engine.functions.common import (
    _NUMERIC,
    as_array,
    number_arg,
    numbers,
)
from forms_cms.engine.functions.mathematics import conditional_cells
from forms_cms.engine.values import DIV0, NUM, VALUE, Arr, XLError, excel_float, to_number


@register("COUNT", refs=True)
def count(*args):
    n = 0
    for arg in args:
        if arg.__class__ is Arr:
            vals = arg.vals
            if set(map(type, vals)) <= _NUMERIC:
                n += len(vals)
            else:
                n += sum(1 for x in vals if x.__class__ is float or x.__class__ is int)
            continue
        n += count_scalar(arg)
    return n


def count_scalar(x) -> int:
    cls = x.__class__
    if cls is int or cls is float:
        return 1
    if x is not None and cls is not XLError:
        return to_number(x).__class__ is not XLError
    return 0


@register("COUNTA", refs=True)
def counta(*args):
    return sum(len(arg.vals) - arg.vals.count(None) if arg.__class__ is Arr else 1 for arg in args)


@register("COUNTBLANK", refs=True)
def countblank(rng):
    return sum(1 for x in as_array(rng).vals if x is None or x == "")


@register("AVERAGE", refs=True)
def average(*args):
    ns = numbers(args)
    if ns.__class__ is XLError:
        return ns
    return excel_float(sum(ns) / len(ns)) if ns else DIV0


@register("MIN", refs=True)
def min_(*args):
    ns = numbers(args)
    if ns.__class__ is XLError:
        return ns
    return min(ns) if ns else 0


@register("MAX", refs=True)
def max_(*args):
    ns = numbers(args)
    if ns.__class__ is XLError:
        return ns
    return max(ns) if ns else 0


@register("MEDIAN", refs=True)
def median(*args):
    ns = numbers(args)
    if ns.__class__ is XLError:
        return ns
    return stats.median(ns) if ns else NUM


def _kth(args, k, largest):
    k = number_arg(k)
    if k.__class__ is XLError:
        return k
    ns = numbers([args])
    if ns.__class__ is XLError:
        return ns
    k = math.ceil(k)
    if not 1 <= k <= len(ns):
        return NUM
    return sorted(ns, reverse=largest)[k - 1]


@register("LARGE", refs=True)
def large(array, k):
    return _kth(array, k, True)


@register("SMALL", refs=True)
def small(array, k):
    return _kth(array, k, False)


def _spread(args, sample, population_fn, sample_fn):
    ns = numbers(args)
    if ns.__class__ is XLError:
        return ns
    if len(ns) < (2 if sample else 1):
        return DIV0
    return excel_float((sample_fn if sample else population_fn)(ns))


# Excel keeps the old names beside the new ones (STDEV = STDEV.S…): one implementation each
@register("STDEV.S", refs=True)
@register("STDEV", refs=True)
def stdev(*args):
    return _spread(args, True, stats.pstdev, stats.stdev)


@register("STDEV.P", refs=True)
@register("STDEVP", refs=True)
def stdevp(*args):
    return _spread(args, False, stats.pstdev, stats.stdev)


@register("VAR.S", refs=True)
@register("VAR", refs=True)
def var(*args):
    return _spread(args, True, stats.pvariance, stats.variance)


@register("VAR.P", refs=True)
@register("VARP", refs=True)
def varp(*args):
    return _spread(args, False, stats.pvariance, stats.variance)


@register("COUNTIF", refs=True)
def countif(rng, criterion):
    cells = conditional_cells([(rng, criterion)])
    return cells if cells.__class__ is XLError else len(cells)


def _pairs(pairs):
    if not pairs or len(pairs) % 2:
        return VALUE
    return [(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)]


@register("COUNTIFS", refs=True)
def countifs(*pairs):
    pairs = _pairs(pairs)
    if pairs.__class__ is XLError:
        return pairs
    cells = conditional_cells(pairs)
    return cells if cells.__class__ is XLError else len(cells)


def _selected_numbers(target, cells):
    target = as_array(target)
    out = []
    for i in cells:
        if i >= len(target.vals):
            continue
        y = target.vals[i]
        if y.__class__ is XLError:
            return y
        if y.__class__ is int or y.__class__ is float:
            out.append(y)
    return out


@register("AVERAGEIF", refs=True)
def averageif(rng, criterion, average_range=None):
    cells = conditional_cells([(rng, criterion)])
    if cells.__class__ is XLError:
        return cells
    ns = _selected_numbers(rng if average_range is None else average_range, cells)
    if ns.__class__ is XLError:
        return ns
    return excel_float(sum(ns) / len(ns)) if ns else DIV0


@register("AVERAGEIFS", refs=True)
def averageifs(average_range, *pairs):
    pairs = _pairs(pairs)
    if pairs.__class__ is XLError:
        return pairs
    cells = conditional_cells(pairs)
    if cells.__class__ is XLError:
        return cells
    ns = _selected_numbers(average_range, cells)
    if ns.__class__ is XLError:
        return ns
    return excel_float(sum(ns) / len(ns)) if ns else DIV0


@register("MAXIFS", refs=True)
def maxifs(max_range, *pairs):
    pairs = _pairs(pairs)
    if pairs.__class__ is XLError:
        return pairs
    cells = conditional_cells(pairs)
    if cells.__class__ is XLError:
        return cells
    ns = _selected_numbers(max_range, cells)
    return ns if ns.__class__ is XLError else (max(ns) if ns else 0)


@register("MINIFS", refs=True)
def minifs(min_range, *pairs):
    pairs = _pairs(pairs)
    if pairs.__class__ is XLError:
        return pairs
    cells = conditional_cells(pairs)
    if cells.__class__ is XLError:
        return cells
    ns = _selected_numbers(min_range, cells)
    return ns if ns.__class__ is XLError else (min(ns) if ns else 0)
