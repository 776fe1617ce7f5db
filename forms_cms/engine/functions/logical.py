"""Logical functions. IF, IFERROR, IFNA, IFS, SWITCH and CHOOSE are compiled into Python
conditional expressions, so only the branch Excel would evaluate is evaluated."""

from __future__ import annotations

from forms_cms.engine import parser as p
from forms_cms.engine.functions import lazy, register
from forms_cms.engine.functions.common import number_arg, values_of
from forms_cms.engine.values import VALUE, XLError, to_bool


def _arity(compiler, name, args, low, high):
    from forms_cms.engine.compiler import _Unsupported

    if not low <= len(args) <= high:
        raise _Unsupported(f"nombre d'arguments incorrect pour {name}", function=name)


def _branch(compiler, node, own, depth):
    # an omitted branch (IF(A1,,2)) is 0, as in Excel
    return "0" if isinstance(node, p.Missing) else compiler.expr(node, own, depth)


@lazy("IF")
def if_(compiler, args, own, depth):
    _arity(compiler, "IF", args, 2, 3)
    t = compiler.new_temp()
    test = compiler.expr(args[0], own, depth)
    yes = _branch(compiler, args[1], own, depth)
    no = _branch(compiler, args[2], own, depth) if len(args) == 3 else "False"
    return f"(({yes}) if ({t} := cond({test})) is True else (({no}) if {t} is False else {t}))"


@lazy("IFERROR")
def iferror(compiler, args, own, depth):
    _arity(compiler, "IFERROR", args, 2, 2)
    t = compiler.new_temp()
    value = compiler.expr(args[0], own, depth)
    fallback = _branch(compiler, args[1], own, depth)
    return f"(({fallback}) if ({t} := ({value})).__class__ is XLError else {t})"


@lazy("IFNA")
def ifna(compiler, args, own, depth):
    _arity(compiler, "IFNA", args, 2, 2)
    t = compiler.new_temp()
    value = compiler.expr(args[0], own, depth)
    fallback = _branch(compiler, args[1], own, depth)
    return f"(({fallback}) if ({t} := ({value})) is E_NA else {t})"


@lazy("IFS")
def ifs(compiler, args, own, depth):
    if len(args) < 2 or len(args) % 2:
        _arity(compiler, "IFS", args, 2, 0)
    code = "E_NA"
    for i in range(len(args) - 2, -1, -2):
        t = compiler.new_temp()
        test = compiler.expr(args[i], own, depth)
        value = _branch(compiler, args[i + 1], own, depth)
        code = (
            f"(({value}) if ({t} := cond({test})) is True else ({code} if {t} is False else {t}))"
        )
    return code


@lazy("SWITCH")
def switch(compiler, args, own, depth):
    if len(args) < 3:
        _arity(compiler, "SWITCH", args, 3, 255)
    t = compiler.new_temp()
    subject = compiler.expr(args[0], own, depth)
    rest = list(args[1:])
    code = _branch(compiler, rest.pop(), own, depth) if len(rest) % 2 else "E_NA"
    for i in range(len(rest) - 2, -1, -2):
        case = compiler.expr(rest[i], own, depth)
        value = _branch(compiler, rest[i + 1], own, depth)
        c = compiler.new_temp()
        code = (
            f"(({value}) if ({c} := op_eq({t}, {case})) is True "
            f"else ({c} if {c}.__class__ is XLError else {code}))"
        )
    return f"({t} if ({t} := ({subject})).__class__ is XLError else {code})"


@lazy("CHOOSE")
def choose(compiler, args, own, depth):
    if len(args) < 2:
        _arity(compiler, "CHOOSE", args, 2, 255)
    t = compiler.new_temp()
    index = compiler.expr(args[0], own, depth)
    code = "E_VALUE"
    for i in range(len(args) - 1, 0, -1):
        value = _branch(compiler, args[i], own, depth)
        code = f"(({value}) if {t} == {i} else {code})"
    return (
        f"({t} if ({t} := choose_index({index}, {len(args) - 1})).__class__ is XLError else {code})"
    )


@lazy("ROW")
def row(compiler, args, own, depth):
    return _position(compiler, args, own, "ROW", lambda ref: ref.r1, 1)


@lazy("COLUMN")
def column(compiler, args, own, depth):
    return _position(compiler, args, own, "COLUMN", lambda ref: ref.c1, 2)


def _position(compiler, args, own, name, pick, index):
    from forms_cms.engine.compiler import _Unsupported

    if not args or isinstance(args[0], p.Missing):
        return str(compiler.current[index])
    if len(args) == 1 and isinstance(args[0], p.Ref):
        ref = args[0]
        first = pick(ref)
        count = (ref.r2 - ref.r1 + 1) if index == 1 else (ref.c2 - ref.c1 + 1)
        if count == 1 or count > 10_000:
            return str(first)
        values = ", ".join(str(first + i) for i in range(count))
        shape = f"{count}, 1" if index == 1 else f"1, {count}"
        return f"array_const({shape}, ({values},))"
    raise _Unsupported(f"{name} n'accepte ici qu'une référence de cellule", function=name)


def choose_index(x, count):
    x = number_arg(x)
    if x.__class__ is XLError:
        return x
    i = int(x)
    return i if 1 <= i <= count else VALUE


def _logicals(args):
    out = []
    for x, from_ref in values_of(args):
        cls = x.__class__
        if cls is XLError:
            return x
        if cls is bool:
            out.append(x)
        elif cls is int or cls is float:
            out.append(x != 0)
        elif from_ref or x is None:
            continue
        else:
            b = to_bool(x)
            if b.__class__ is not XLError:  # other text is ignored, as in a range
                out.append(b)
    return out if out else VALUE


@register("AND", refs=True)
def and_(*args):
    bs = _logicals(args)
    return bs if bs.__class__ is XLError else all(bs)


@register("OR", refs=True)
def or_(*args):
    bs = _logicals(args)
    return bs if bs.__class__ is XLError else any(bs)


@register("XOR", refs=True)
def xor(*args):
    bs = _logicals(args)
    return bs if bs.__class__ is XLError else sum(bs) % 2 == 1


@register("NOT")
def not_(x):
    b = to_bool(x if x is not None else False)
    return b if b.__class__ is XLError else not b


@register("TRUE")
def true():
    return True


@register("FALSE")
def false():
    return False
