"""Where a block copied from Excel lands in a sheet of the online form (pure: no database).

Excel puts a copied range on the clipboard as lines of tab-separated cells, each as it is
shown (« 1 234,56 », « 12,5 % », « 31/12/2024 »). Pasted on a cell of the grid, the block
fills the sheet from that cell rightwards and downwards over the sheet's *visible* rows and
columns — the grid the person sees, which is the sheet they copied from when they keep their
own copy of the workbook. Each pasted cell then lands on:

- an input cell: its text is an entry, parsed and checked by the save;
- a computed cell (a named formula or an unnamed one): skipped, its formula gives its value;
- anything else (a label, an empty cell, the hidden part of a merged range, a multivalued
  table's rows, which are pasted from within the table): skipped, read-only here;
- nothing, beyond the sheet's last row or column: left out and counted.

An empty pasted cell changes nothing (as in a table's paste, declarations/tables/paste.py):
a block copied with holes never erases by surprise; a cell is cleared by typing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harmonia.french import group_thousands
from openpyxl.utils.cell import column_index_from_string, get_column_letter

from declarations.grid import merged_spans
from declarations.tables.paste import pasted_lines
from forms_cms.fields import FieldInfo, TableMeta

MAX_PASTED_LINES = 5000
MAX_PASTED_CELLS = 50_000
MSG_NOTHING = "Rien à coller : le presse-papiers ne contient pas de valeurs."
MSG_TOO_BIG = (
    "Le collage compte plus de {cap} cellules : collez-le en plusieurs fois, une partie de la "
    "feuille à la fois."
)
MSG_ANCHOR_FIELD = "La cellule « {name} » n'est pas une cellule de la feuille « {sheet} »."
MSG_ANCHOR_ADDRESS = (
    "« {address} » n'est pas une adresse de cellule de la feuille « {sheet} » : indiquez la "
    "cellule en haut à gauche du collage, de A1 à {last} (ex. B3)."
)
MSG_ANCHOR_HIDDEN = "La cellule {address} est masquée dans la feuille « {sheet} »."
_ADDRESS = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
REASON_COMPUTED = "cellule calculée : sa formule donne la valeur"
REASON_READ_ONLY = "cellule en lecture seule (pas une cellule à saisir)"
REASON_TABLE = "ligne d'un tableau : collez ces lignes depuis une cellule du tableau"


class BlockRefused(ValueError):
    """The block or its anchor cannot be placed; the message says what to do."""


@dataclass(frozen=True)
class Landing:
    """A pasted cell and the sheet cell it lands on."""

    address: str  # « C12 », the cell in the sheet
    text: str
    field: FieldInfo | None = None  # the input field, when the cell is one
    reason: str = ""  # why it is skipped, when it is
    label: str = ""  # the skipped cell's field label, when it has one


@dataclass
class Placement:
    entries: list[Landing] = field(default_factory=list)  # on input cells, in block order
    skipped: list[Landing] = field(default_factory=list)  # on computed or read-only cells
    columns_beyond: int = 0  # block columns right of the sheet's last one holding a value
    lines_beyond: int = 0  # block lines below the sheet's last row holding a value


def address_of(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


@dataclass(frozen=True)
class _Grid:
    rows: list[int]  # visible rows, in order
    cols: list[int]  # visible columns, in order
    cells: dict[tuple[int, int], dict]
    spans: dict
    covered: set
    table_rows: set[int]


def _grid(layout: dict, tables: list[TableMeta]) -> _Grid:
    """The sheet's visible rows and columns and its cells, as declarations/grid.py draws
    them (same hidden rows and columns, same merged ranges)."""
    widths = layout.get("columns", [])
    max_row, max_col = layout["max_row"], layout["max_col"]
    heights = {row: height for row, height in layout.get("rows", [])}
    cols = [c for c in range(1, max_col + 1) if c - 1 >= len(widths) or widths[c - 1] != 0]
    rows = [r for r in range(1, max_row + 1) if heights.get(r) != 0]
    spans, covered = merged_spans(layout.get("merged", []), set(rows), set(cols), max_row,
                                  max_col)  # fmt: skip
    table_rows = set()
    for meta in tables:
        table_rows.update(range(meta.first_row, meta.last_row + 1))
    cells = {(e["r"], e["c"]): e for e in layout.get("cells", [])}
    return _Grid(rows, cols, cells, spans, covered, table_rows)


def anchor_of(layout: dict, fields: dict[str, FieldInfo], *, name: str = "",
              address: str = "") -> tuple[int, int]:  # fmt: skip
    """The (row, column) where the block starts: an input field's cell (``name``, what the
    page's script sends) or an address typed in the form without JavaScript (« B3 »)."""
    sheet = layout.get("name", "")
    if name:
        info = fields.get(name)
        if info is None or info.sheet != sheet:
            raise BlockRefused(MSG_ANCHOR_FIELD.format(name=name, sheet=sheet))
        return info.row, info.column
    last = address_of(max(layout["max_row"], 1), max(layout["max_col"], 1))
    cleaned = address.strip().replace("$", "").upper()
    match = _ADDRESS.fullmatch(cleaned)
    if match is None:
        raise BlockRefused(MSG_ANCHOR_ADDRESS.format(address=address.strip()[:20], sheet=sheet,
                                                     last=last))  # fmt: skip
    row, col = int(match[2]), column_index_from_string(match[1])
    if not (1 <= row <= layout["max_row"] and 1 <= col <= layout["max_col"]):
        raise BlockRefused(MSG_ANCHOR_ADDRESS.format(address=cleaned, sheet=sheet, last=last))
    return row, col


def block_placement(
    layout: dict,
    fields: dict[str, FieldInfo],
    tables: list[TableMeta],
    anchor: tuple[int, int],
    text: str,
) -> Placement:
    """Where each non-empty cell of the pasted ``text`` lands from ``anchor`` (row, column)."""
    lines = pasted_lines(text)
    if not any(cell.strip() for line in lines for cell in line):
        raise BlockRefused(MSG_NOTHING)
    if len(lines) > MAX_PASTED_LINES or sum(len(line) for line in lines) > MAX_PASTED_CELLS:
        raise BlockRefused(MSG_TOO_BIG.format(cap=group_thousands(str(MAX_PASTED_CELLS))))
    grid = _grid(layout, tables)
    row, col = anchor
    if row not in grid.rows or col not in grid.cols:
        raise BlockRefused(
            MSG_ANCHOR_HIDDEN.format(address=address_of(row, col), sheet=layout.get("name", ""))
        )
    rows = grid.rows[grid.rows.index(row) :]
    cols = grid.cols[grid.cols.index(col) :]
    placement = Placement()
    beyond_columns: set[int] = set()
    for i, line in enumerate(lines):
        filled = [(j, cell) for j, cell in enumerate(line) if cell.strip()]
        if i >= len(rows):
            placement.lines_beyond += bool(filled)
            continue
        for j, cell in filled:
            if j >= len(cols):
                beyond_columns.add(j)
                continue
            landing = _landing(grid, fields, rows[i], cols[j], cell)
            (placement.entries if landing.field else placement.skipped).append(landing)
    placement.columns_beyond = len(beyond_columns)
    return placement


def _landing(grid: _Grid, fields: dict[str, FieldInfo], row: int, col: int, text: str):
    address = address_of(row, col)
    if row in grid.table_rows:
        return Landing(address, text, reason=REASON_TABLE)
    if (row, col) in grid.covered:
        return Landing(address, text, reason=REASON_READ_ONLY)
    entry = grid.cells.get((row, col))
    if (row, col) in grid.spans:  # a merged range: its top-left cell's content
        _, _, r1, c1 = grid.spans[(row, col)]
        entry = grid.cells.get((r1, c1))
    if entry is None:
        return Landing(address, text, reason=REASON_READ_ONLY)
    info = fields.get(entry.get("name", ""))
    label = info.label if info is not None else ""
    if entry["kind"] in ("formula", "computed") or (info is not None and info.computed):
        return Landing(address, text, reason=REASON_COMPUTED, label=label)
    if entry["kind"] != "input" or info is None:
        return Landing(address, text, reason=REASON_READ_ONLY, label=label)
    return Landing(address, text, field=info)
