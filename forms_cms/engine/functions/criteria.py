"""Criteria of SUMIF, COUNTIF, SUMIFS… (">5", "<>0", "abc*", 12, TRUE)."""

from __future__ import annotations

import re
from functools import lru_cache

from forms_cms.engine.values import Arr, XLError, text_to_number

_OPERATORS = ("<=", ">=", "<>", "<", ">", "=")


def wildcard_regex(pattern: str) -> re.Pattern:
    """Excel wildcards: ``*`` any text, ``?`` one character, ``~`` escapes."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "~" and i + 1 < len(pattern) and pattern[i + 1] in "*?~":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)


def _is_num(x) -> bool:
    cls = x.__class__
    return cls is int or cls is float


@lru_cache(maxsize=1024)
def _text_predicate(criterion: str):
    op = next((o for o in _OPERATORS if criterion.startswith(o)), "")
    rest = criterion[len(op) :]
    number = text_to_number(rest) if rest.strip() else None
    if number is not None and number.__class__ is not XLError:
        target = number
        if op in ("", "="):
            return lambda x: (
                _is_num(x)
                and x == target
                or (x.__class__ is str and text_to_number(x) == target and op == "")
            )
        if op == "<>":
            return lambda x: not (_is_num(x) and x == target)
        test = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}[op]
        return lambda x: _is_num(x) and test(float(x), float(target))
    upper = rest.upper()
    if upper in ("TRUE", "FALSE"):
        flag = upper == "TRUE"
        if op in ("", "="):
            return lambda x: x.__class__ is bool and x == flag
        if op == "<>":
            return lambda x: not (x.__class__ is bool and x == flag)
        test = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__}[op]
        return lambda x: x.__class__ is bool and test(int(x), int(flag))
    if op in ("", "="):
        if rest == "":
            if op == "=":
                return lambda x: x is None
            return lambda x: x is None or x == ""
        pattern = wildcard_regex(rest)
        return lambda x: x.__class__ is str and pattern.match(x) is not None
    if op == "<>":
        if rest == "":
            return lambda x: x is not None and x != ""
        pattern = wildcard_regex(rest)
        return lambda x: not (x.__class__ is str and pattern.match(x) is not None)
    low = rest.lower()
    test = {"<": str.__lt__, "<=": str.__le__, ">": str.__gt__, ">=": str.__ge__}[op]
    return lambda x: x.__class__ is str and test(x.lower(), low)


def predicate(criterion):
    """A function value → bool for an Excel criterion."""
    if criterion.__class__ is Arr:
        criterion = criterion.vals[0] if criterion.vals else None
    cls = criterion.__class__
    if cls is int or cls is float:
        return lambda x: (
            _is_num(x) and x == criterion or (x.__class__ is str and text_to_number(x) == criterion)
        )
    if cls is bool:
        return lambda x: x.__class__ is bool and x == criterion
    if criterion is None:
        return lambda x: _is_num(x) and x == 0
    if cls is XLError:
        return lambda x: x is criterion
    return _text_predicate(criterion)
