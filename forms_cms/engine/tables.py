"""Excel Tables (« champs dynamiques »): lists whose number of rows varies.

A table of the workbook (Insert › Table) keeps its place in the sheet, but its data rows are
not cells of the value list: each column is **one slot** holding a Python list (one value per
row), so a table grows and shrinks without recompiling anything.

- An input column's list is what the organism entered; a calculated column's list is computed
  row by row by a generated function ``r<slot>(v, i)`` (its ``[@Column]`` references read
  ``v[slot][i]``) and as a whole by ``f<slot>(v)``, which is an ordinary formula in the
  evaluation order.
- ``Table[Column]``, ``Table[#Data]``, ``Table[[A]:[B]]`` and plain ranges covering a column's
  data rows in the workbook (``SUM(D10:D14)``) read the lists whatever their length.
- A calculated column that reads its own table only through ``[@Column]`` is *row-local*:
  adding or changing one row recomputes that row only, then what depends on the column.

Workbook conventions (the editors' guide says the same): the table's name is its identity
(the XML element); each column's field name is a defined name on the column's first data
cell, the header text being the label and the name structured references use; a table whose
name begins with ``TC_`` belongs to the tronc commun; a workbook name ``MAX_LIGNES_<TABLE>``
holding a number sets the row cap (default :data:`DEFAULT_MAX_ROWS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import chain

from forms_cms.engine.values import Arr

DEFAULT_MAX_ROWS = 500
MAX_ROWS_PREFIX = "MAX_LIGNES_"
# an XML element name (NCName) made of ASCII letters, digits, "_", "-" and "."
XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class TableFull(ValueError):
    """More rows than the table's cap."""

    def __init__(self, table: str, cap: int):
        self.table = table
        self.cap = cap
        super().__init__(f"{table}: {cap}")


@dataclass
class Column:
    field: str  # the defined name on the first data cell (the XML element)
    header: str  # the header text (the label; structured references use it)
    col: int  # sheet column (1-based)
    slot: int  # the value list's slot holding the column's list
    computed: bool = False


@dataclass
class TableInfo:
    """A table of a compiled form."""

    name: str
    sheet: str
    header_row: int | None
    first_row: int  # first data row in the workbook
    last_row: int  # last data row in the workbook (the template rows)
    totals_row: int | None
    columns: list[Column]
    max_rows: int = DEFAULT_MAX_ROWS
    rows: list[list] = field(default_factory=list)  # the workbook's rows (input columns)
    row_local: list[int] = field(default_factory=list)  # calculated slots, in order

    @property
    def common(self) -> bool:
        return self.name.upper().startswith("TC_")

    @property
    def inputs(self) -> list[Column]:
        return [c for c in self.columns if not c.computed]

    @property
    def computed_columns(self) -> list[Column]:
        return [c for c in self.columns if c.computed]

    @property
    def anchor(self) -> int:
        """The slot whose length is the row count (the first input column)."""
        return self.inputs[0].slot

    def column(self, name: str) -> Column | None:
        key = name.upper()
        for c in self.columns:
            if c.field.upper() == key:
                return c
        return None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "first_row": self.first_row,
            "last_row": self.last_row,
            "totals_row": self.totals_row,
            "max_rows": self.max_rows,
            "rows": self.rows,
            "row_local": self.row_local,
            "columns": [(c.field, c.header, c.col, c.slot, c.computed) for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: dict) -> TableInfo:
        return cls(
            name=data["name"],
            sheet=data["sheet"],
            header_row=data["header_row"],
            first_row=data["first_row"],
            last_row=data["last_row"],
            totals_row=data["totals_row"],
            max_rows=data["max_rows"],
            rows=data["rows"],
            row_local=data["row_local"],
            columns=[Column(*c) for c in data["columns"]],
        )


# runtime helpers (generated code calls them) -------------------------------------------------
_BLANK_ROW = (None,)


def tcol(x: list) -> Arr:
    """A column as a range; an empty table reads as Excel's one blank data row."""
    return Arr(len(x), 1, x) if x else Arr(1, 1, [None])


def tcols(v: list, slots: tuple) -> Arr:
    """Several adjacent columns as a range (row-major)."""
    lists = [v[s] for s in slots]
    n = len(lists[0])
    if any(len(x) != n for x in lists):  # an empty table: Excel's blank row
        n = max(len(x) for x in lists)
        return Arr(n, len(slots), [x[i] if i < len(x) else None for i in range(n) for x in lists])
    if not n:
        return Arr(1, len(slots), [None] * len(slots))
    return Arr(n, len(slots), list(chain.from_iterable(zip(*lists, strict=True))))


def tblank(v: list, inputs: tuple, fn) -> list:
    """A calculated column of an empty table: Excel always keeps one blank data row, whose
    calculated cells still compute (``COUNT``, ``MIN`` or ``LARGE`` over the column see it);
    the row is not one of the table's rows."""
    for slot in inputs:
        v[slot].append(None)
    try:
        return [fn(v, 0)]
    finally:
        for slot in inputs:
            v[slot].pop()


def tcell(x: list, k: int):
    """The k-th row's value of a column (a reference to one cell of the workbook's rows)."""
    return x[k] if k < len(x) else None


def tspan(v: list, above: tuple, slots: tuple, below: tuple, cols: int) -> Arr:
    """A range of the sheet whose rows run across a table: cells above, the table's rows,
    cells below (same columns)."""
    vals = [v[i] for i in above]
    table = tcols(v, slots)
    vals.extend(table.vals)
    vals.extend(v[i] for i in below)
    return Arr(len(vals) // cols, cols, vals)


RUNTIME = {"tcol": tcol, "tcols": tcols, "tcell": tcell, "tspan": tspan, "tblank": tblank}
