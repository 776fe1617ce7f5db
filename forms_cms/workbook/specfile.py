"""The specification file: the form workbook where every named cell shows its own name.

Software editors and gestionnaires read it to see which name (XML element, API key) sits in
which cell. The sheets keep their look (styles, widths, heights, merges); each named cell —
input or computed — holds its name as text instead of its value or formula, and loses its
data validation (which would reject the text). Unnamed cells are left as they are. The
defined names stay, so the file remains a valid form workbook for reading. Macros are not
kept: the result is always an ``.xlsx``.
"""

from __future__ import annotations

import io

from harmonia.workbook_safety import workbook_load
from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange

from forms_cms.workbook.catalogue import named_cells


def specification_file(source_bytes: bytes) -> bytes:
    """The workbook with each named cell showing its name, as xlsx bytes."""
    wb = workbook_load(source_bytes)
    per_sheet: dict[str, set[tuple[int, int]]] = {}
    for named in named_cells(wb):
        ws = wb[named.sheet]
        cell = ws.cell(row=named.row, column=named.column)
        if isinstance(cell, MergedCell):
            continue  # hidden under a merge: the catalogue refuses such names
        cell.value = named.name
        per_sheet.setdefault(named.sheet, set()).add((named.row, named.column))
    for sheet, cells in per_sheet.items():
        _validations_without(wb[sheet], cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _validations_without(ws, cells: set[tuple[int, int]]) -> None:
    """Take ``cells`` out of every data validation of the sheet (drop emptied ones)."""
    keep = []
    for dv in ws.data_validations.dataValidation:
        ranges = []
        for rng in dv.sqref.ranges:
            inside = [
                rc
                for rc in cells
                if rng.min_row <= rc[0] <= rng.max_row and rng.min_col <= rc[1] <= rng.max_col
            ]
            if inside:
                ranges.extend(_range_minus(rng, set(inside), ws.max_row, ws.max_column))
            else:
                ranges.append(rng.coord)
        if ranges:
            dv.sqref = MultiCellRange(" ".join(ranges))
            keep.append(dv)
    ws.data_validations.dataValidation = keep


def _range_minus(rng: CellRange, holes: set[tuple[int, int]], max_row, max_col) -> list[str]:
    """The cells of ``rng`` (clamped to the used area) except ``holes``, as row runs."""
    runs = []
    for r in range(rng.min_row, min(rng.max_row, max(max_row, rng.min_row)) + 1):
        start = None
        last_col = min(rng.max_col, max(max_col, rng.min_col))
        for c in range(rng.min_col, last_col + 2):
            inside = c <= last_col and (r, c) not in holes
            if inside and start is None:
                start = c
            elif not inside and start is not None:
                first, last = get_column_letter(start), get_column_letter(c - 1)
                runs.append(f"{first}{r}" if start == c - 1 else f"{first}{r}:{last}{r}")
                start = None
    return runs
