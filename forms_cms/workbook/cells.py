"""Cell access that never creates cells, and what a cell holds (formula or constant).

openpyxl's ``ws.cell()``/``ws[...]``/``iter_rows()`` create every cell they visit: reading a
sheet through them would grow it to its full rectangle. These helpers read the sheet's own
cell store instead (``Worksheet._cells``, keyed by ``(row, column)``), the only place that
holds exactly the cells the file contains.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

Address = tuple[str, int, int]  # (sheet, row, column), 1-based


def cell_at(ws, row: int, column: int):
    """The cell at (row, column) if the file has one, else None (nothing is created)."""
    return ws._cells.get((row, column))


def sheet_cells(ws) -> Iterator:
    """The cells the sheet holds, in no particular order."""
    return iter(list(ws._cells.values()))


def formula_of(cell) -> str:
    """The cell's formula text ("=…"), or "" for constants and empty cells."""
    if cell is None:
        return ""
    value = cell.value
    if isinstance(value, ArrayFormula):
        return value.text or "="
    if isinstance(value, DataTableFormula):
        return "=TABLE()"
    if cell.data_type == "f" and isinstance(value, str):
        return value
    return ""


def display_text(value) -> str:
    """A constant as text: integral floats without ".0", dates in ISO form."""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def collapse(text: str) -> str:
    """Whitespace stripped and collapsed to single spaces."""
    return " ".join(text.split())
