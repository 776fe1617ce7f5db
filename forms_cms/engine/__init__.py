"""The formula engine: a pure package (no Django), used by the platform through this interface.

form = workbook_compile("ER.xlsx")      # parse + compile every formula once (at upload)
data = form.dumps()                      # the stored artifact
form = CompiledForm.loads(data)          # in any process, in milliseconds
v = form.evaluate({"CAPITAL": 1000})     # all values (list indexed by cell id)
form.set_inputs(v, {"CAPITAL": 2000})    # recomputes only the dependents
form.values_by_name(v)                   # {name: value}
"""

from __future__ import annotations

import time
from pathlib import Path

from forms_cms.engine.compiler import CompileError, ExpressionError, Problem, book_compile
from forms_cms.engine.model import CompiledForm, NotAnInput, UnknownName
from forms_cms.engine.reader import Book, book_read, cached_values
from forms_cms.engine.values import XLError

__all__ = [
    "Book",
    "CompileError",
    "CompiledForm",
    "ExpressionError",
    "NotAnInput",
    "Problem",
    "UnknownName",
    "XLError",
    "book_compile",
    "book_read",
    "cached_values",
    "workbook_compile",
]


def workbook_compile(source: str | Path | object, *, workbook=None, fallback=None) -> CompiledForm:
    """Read and compile a workbook; raises :class:`CompileError` naming every bad formula.

    ``fallback`` (saved values by address) is for parity measurements only: cells that cannot
    be compiled keep their saved value instead of failing (``form.skipped`` lists them)."""
    started = time.perf_counter()
    book = book_read(source, workbook=workbook)
    read = time.perf_counter()
    result = book_compile(book, fallback)
    form = CompiledForm.from_result(result)
    form.skipped = result.skipped
    form.stats.update(read_s=read - started, total_s=time.perf_counter() - started)
    return form
