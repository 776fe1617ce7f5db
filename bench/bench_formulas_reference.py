"""Reference: the `formulas` package's whole-workbook ExcelModel on the same workbook.

Loads and calculates with ExcelModel, compares with the engine's compile and full
recalculation, and prints one JSON line with both times and the ratios. Takes a minute or
more: skipped (a JSON line saying so) when HARMONIA_BENCH_SKIP_REFERENCE=1 or with --skip.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

from form_fixture import er_workbook, report

from forms_cms.engine import workbook_compile

if "--skip" in sys.argv or os.environ.get("HARMONIA_BENCH_SKIP_REFERENCE") == "1":
    report("formulas_excelmodel_reference", None, "s", None, skipped=True)
    raise SystemExit(0)

import formulas  # noqa: E402


def without_structured_references(path) -> str:
    """A copy where the formulas using structured references (the lists' calculated columns
    and totals, which `formulas` cannot parse) are constants, as the second opinion does."""
    import tempfile
    from pathlib import Path

    from openpyxl import load_workbook

    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("=") and "[" in cell.value:
                    cell.value = 0
    copy = Path(tempfile.mkdtemp()) / Path(path).name
    wb.save(copy)
    return str(copy)


workbook = without_structured_references(er_workbook())
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    model = formulas.ExcelModel().loads(workbook).finish()
    loaded = time.perf_counter()
    model.calculate()
    calculated = time.perf_counter()
started_engine = time.perf_counter()
form = workbook_compile(str(er_workbook()))
compiled = time.perf_counter()
values = form.evaluate()
t0 = time.perf_counter()
form.recalculate(values)
recalculated = time.perf_counter()
load_s, calc_s = loaded - started, calculated - loaded
compile_s, recalc_s = compiled - started_engine, recalculated - t0
report(
    "formulas_excelmodel_reference",
    round(load_s + calc_s, 2),
    "s",
    None,
    excelmodel_load_s=round(load_s, 2),
    excelmodel_calculate_s=round(calc_s, 3),
    engine_compile_s=round(compile_s, 3),
    engine_full_recalculation_s=round(recalc_s, 5),
    load_ratio=round(load_s / compile_s, 1),
    calculate_ratio=round(calc_s / recalc_s),
)
