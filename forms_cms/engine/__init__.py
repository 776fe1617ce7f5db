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

from forms_cms.engine.compiler import (
    CompileError,
    ExpressionError,
    Problem,
    book_compile,
    expression_compile,
)
from forms_cms.engine.functions import runtime_namespace, supported_functions
from forms_cms.engine.functions.dates import date_to_serial, serial_to_ymd
from forms_cms.engine.model import CompiledForm, NotAnInput, UnknownName
from forms_cms.engine.reader import Book, book_read, cached_values
from forms_cms.engine.runtime import op_eq, op_ge, op_gt, op_le, op_lt, op_ne
from forms_cms.engine.tables import DEFAULT_MAX_ROWS, Column, TableFull, TableInfo
from forms_cms.engine.values import Arr, XLError

# the interface: compiling and running a form; compiling a formula over field names
# (expression_compile, run in runtime_namespace()); Excel's comparisons, values and dates
__all__ = [
    "Arr",
    "Book",
    "CompileError",
    "Column",
    "CompiledForm",
    "DEFAULT_MAX_ROWS",
    "ExpressionError",
    "NotAnInput",
    "Problem",
    "TableFull",
    "TableInfo",
    "UnknownName",
    "XLError",
    "book_compile",
    "book_read",
    "cached_values",
    "date_to_serial",
    "expression_compile",
    "op_eq",
    "op_ge",
    "op_gt",
    "op_le",
    "op_lt",
    "op_ne",
    "runtime_namespace",
    "serial_to_ymd",
    "supported_functions",
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
