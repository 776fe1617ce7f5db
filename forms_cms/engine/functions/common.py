"""Argument handling shared by the function library."""

from __future__ import annotations

from forms_cms.engine.values import VALUE, Arr, XLError, to_number

_NUMERIC = frozenset((float, int))


def values_of(args):
    """Yield (value, from_reference) for every scalar in the arguments, ranges flattened."""
    for arg in args:
        if arg.__class__ is Arr:
            for x in arg.vals:
                yield x, True
        else:
            yield arg, False


def numbers(args, *, on_text_arg=VALUE):
    """Numbers of an aggregate (SUM, AVERAGE, MIN…) with Excel's rules, or the first error.

    In references and arrays only numbers count (text, booleans, blanks are skipped); typed
    arguments are converted (TRUE → 1, "3" → 3) and unconvertible text is #VALUE!."""
    out = []
    for arg in args:
        if arg.__class__ is Arr:
            vals = arg.vals
            kinds = set(map(type, vals))  # at C speed: a 2,000-row column costs ~20 µs
            if kinds <= _NUMERIC:
                out.extend(vals)
                continue
            if XLError in kinds:
                for x in vals:
                    if x.__class__ is XLError:
                        return x
            out.extend([x for x in vals if x.__class__ is float or x.__class__ is int])
            continue
        x = arg
        cls = x.__class__
        if cls is int or cls is float:
            out.append(x)
        elif cls is XLError:
            return x
        elif x is None:
            continue
        else:
            n = to_number(x)
            if n.__class__ is XLError:
                return on_text_arg if cls is str else n
            out.append(n)
    return out


def number_arg(x):
    """A scalar numeric argument (errors returned as is)."""
    if x.__class__ is Arr:
        if len(x.vals) != 1:
            return VALUE
        x = x.vals[0]
    return to_number(x)


def as_array(x) -> Arr:
    return x if x.__class__ is Arr else Arr(1, 1, [x])
