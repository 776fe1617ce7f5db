"""The Excel function library: name → implementation, plus the lazily evaluated ones.

Implementations receive Excel values (see :mod:`forms_cms.engine.values`). Functions registered
with ``refs=True`` receive every reference argument as an :class:`Arr`, even a single cell, so
that they can apply Excel's rule that text and booleans *in references* are ignored while the
same values typed as arguments are converted.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Fn:
    name: str
    py_name: str
    impl: Callable
    refs: bool
    arrays: bool  # takes whole arrays (lookup tables): never applied element by element
    min_args: int
    max_args: int


FUNCTIONS: dict[str, Fn] = {}
# name → code generator (compiler, args, own sheet, depth) → Python expression
LAZY_FUNCTIONS: dict[str, Callable] = {}


def register(name: str, *, refs: bool = False, errors: bool = False, arrays: bool = False):
    """Declare ``impl`` as the implementation of Excel function ``name``.

    Unless ``refs`` or ``errors`` is set (the function handles error values itself), an error
    among the arguments is returned before the function runs: Excel reports the first error
    argument before checking anything else."""

    def decorate(impl):
        params = inspect.signature(impl).parameters.values()
        positional = [prm for prm in params if prm.kind is prm.POSITIONAL_OR_KEYWORD]
        variadic = any(prm.kind is prm.VAR_POSITIONAL for prm in params)
        required = sum(1 for prm in positional if prm.default is prm.empty)
        py_name = "fn_" + name.replace(".", "_")
        runtime_impl = impl if refs or errors else _errors_first(impl)
        FUNCTIONS[name] = Fn(
            name,
            py_name,
            runtime_impl,
            refs,
            arrays,
            required,
            255 if variadic else len(positional),
        )
        return impl

    return decorate


def _errors_first(impl):
    from forms_cms.engine.values import XLError

    def checked(*args):
        for arg in args:
            if arg.__class__ is XLError:
                return arg
        return impl(*args)

    checked.__name__ = impl.__name__
    checked.__wrapped__ = impl
    return checked


def lazy(name: str):
    def decorate(generator):
        LAZY_FUNCTIONS[name] = generator
        return generator

    return decorate


def runtime_namespace() -> dict:
    """Globals for generated formula code: operators, error constants and all functions."""
    from forms_cms.engine import runtime, values

    namespace = {
        name: getattr(runtime, name)
        for name in dir(runtime)
        if name.startswith("op_") or name in {"top", "rng", "ref1", "array_const", "cond", "lifted"}
    }
    from forms_cms.engine.functions.logical import choose_index
    from forms_cms.engine.functions.mathematics import sum_cells
    from forms_cms.engine.tables import RUNTIME

    namespace.update(RUNTIME)
    namespace["choose_index"] = choose_index
    namespace["sum_cells"] = sum_cells
    namespace.update(
        E_NULL=values.NULL, E_DIV0=values.DIV0, E_VALUE=values.VALUE, E_REF=values.REF,
        E_NAME=values.NAME, E_NUM=values.NUM, E_NA=values.NA, XLError=values.XLError,
    )  # fmt: skip
    for fn in FUNCTIONS.values():
        namespace[fn.py_name] = fn.impl
    return namespace


def supported_functions() -> set[str]:
    return set(FUNCTIONS) | set(LAZY_FUNCTIONS)


# register the library
from forms_cms.engine.functions import (  # noqa: E402, F401
    dates,
    info,
    logical,
    lookup,
    mathematics,
    statistics,
    text,
)
