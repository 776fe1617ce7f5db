"""Compile the ER-Sociaux-sized workbook: read, parse every formula, generate, compile.

Target ≤ 5 s, once per form version. Prints one JSON line (best of 3)."""

from __future__ import annotations

import time

from form_fixture import er_workbook, report

from forms_cms.engine import workbook_compile

workbook = er_workbook()
times = []
for _ in range(3):
    started = time.perf_counter()
    form = workbook_compile(workbook)
    form.dumps()
    times.append(time.perf_counter() - started)
report(
    "form_compile_er_sociaux",
    round(min(times), 3),
    "s",
    5,
    formulas=len(form.order),
    # single-cell names, and the lists' columns (a name on each column's first data cell)
    fields=len(form.names) + sum(len(t.columns) for t in form.tables.values()),
    tables=len(form.tables),
)
