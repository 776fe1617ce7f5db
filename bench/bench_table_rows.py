"""A multivalued table of 2,000 rows × 6 columns (two calculated), ten aggregates over it: add
one row and recompute. Target ≤ 1 ms median (issue 15).

Columns: Nom, Capital, Pourcentage, Catégorie (input), Part = [@Capital]*[@Pourcentage] and
Net = [@Part]-[@Capital]*0.1 (calculated, row-local). Ten aggregates: SUM of three columns,
COUNT, COUNTA, MIN, MAX, AVERAGE, a column-range SUM and a SUMPRODUCT. Each measure inserts a
row at a random place (deleted again outside the timing). A second line reports the same
with a column that reads the whole table (``[@Part]/SUM([Part])``, a share), where every row
of that column is recomputed (as Excel does): informative, no target. One JSON line each.
"""

from __future__ import annotations

import io
import random
import statistics
import time

import openpyxl
from form_fixture import report
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table

from forms_cms.engine import CompiledForm, workbook_compile

ROWS = 2000
AGGREGATES = [
    "=SUM(L[Capital])", "=SUM(L[Part])", "=SUM(L[Net])", "=COUNT(L[Capital])",
    "=COUNTA(L[Nom])", "=MIN(L[Capital])", "=MAX(L[Part])", "=AVERAGE(L[Pourcentage])",
    "=SUM(L[[Capital]:[Pourcentage]])", "=SUMPRODUCT(L[Capital],L[Pourcentage])",
]  # fmt: skip


def workbook(share: bool) -> bytes:
    headers = ["Nom", "Capital", "Pourcentage", "Catégorie", "Part", "Net"]
    net = "=L[@Part]/SUM(L[Part])" if share else "=L[@Part]-L[@Capital]*0.1"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Liste"
    for j, h in enumerate(headers):
        ws.cell(1, 1 + j, h)
        wb.defined_names[f"C{j}"] = DefinedName(f"C{j}", attr_text=f"Liste!${chr(65 + j)}$2")
    ws["E2"], ws["F2"] = "=L[@Capital]*L[@Pourcentage]", net
    table = Table(displayName="L", ref="A1:F2")
    table._initialise_columns()
    for column, h in zip(table.tableColumns, headers, strict=True):
        column.name = h
    ws.add_table(table)
    wb.defined_names["MAX_LIGNES_L"] = DefinedName("MAX_LIGNES_L", attr_text="5000")
    for i, formula in enumerate(AGGREGATES, start=1):
        ws.cell(i, 10, formula)
        wb.defined_names[f"AGG{i}"] = DefinedName(f"AGG{i}", attr_text=f"Liste!$J${i}")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def measure(share: bool) -> list[float]:
    form = CompiledForm.loads(workbook_compile(io.BytesIO(workbook(share))).dumps())
    rng = random.Random(15)

    def new_row(i):
        return {"C0": f"Filiale {i}", "C1": float(rng.randint(-1000, 100000)),
                "C2": rng.random(), "C3": rng.choice(("SA", "SAS", "SCI"))}  # fmt: skip

    values = form.evaluate({"L": [new_row(i) for i in range(ROWS)]})
    times = []
    for i in range(300):
        at, row = rng.randrange(ROWS), new_row(i)
        started = time.perf_counter()
        form.row_insert(values, "L", at, row)
        times.append(time.perf_counter() - started)
        form.row_delete(values, "L", at)
    return times


MEASURES = ((False, "table_add_row_recompute", 1), (True, "table_add_row_share_column", None))
for share, name, target in MEASURES:
    times = measure(share)
    report(
        name,
        round(statistics.median(times) * 1000, 4),
        "ms",
        target,
        p95_ms=round(sorted(times)[int(len(times) * 0.95)] * 1000, 4),
        rows=ROWS,
        columns=6,
        aggregates=len(AGGREGATES),
    )
