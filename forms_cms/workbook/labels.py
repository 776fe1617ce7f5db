"""A field's label, read from the sheet around its cell.

* row label: the nearest text cell to the left on the same row;
* column label: the nearest text cell above in the same column (the table's header);

skipping cells that are themselves fields, numbers and formulas. A cell covered by a merged
range reads as the range's top-left value, so a header merged over several columns labels
each of them, and a row label merged over several rows labels each row. The label is
"row label — column label", either part possibly missing; with neither, the field's name.
"""

from __future__ import annotations

from bisect import bisect_left

from forms_cms.workbook.cells import collapse, sheet_cells

SEPARATOR = " — "


class SheetLabels:
    """Text cells of one sheet, indexed by row and by column for nearest-neighbour lookups."""

    def __init__(self, ws, named: set[tuple[int, int]]):
        texts: dict[tuple[int, int], str] = {}
        for cell in sheet_cells(ws):
            key = (cell.row, cell.column)
            if key not in named and cell.data_type == "s" and isinstance(cell.value, str):
                text = collapse(cell.value)
                if text:
                    texts[key] = text
        max_row, max_col = ws.max_row, ws.max_column
        for merged in ws.merged_cells.ranges:
            top_left = (merged.min_row, merged.min_col)
            text = texts.get(top_left)
            if text is None:
                continue
            for r in range(merged.min_row, min(merged.max_row, max_row) + 1):
                for c in range(merged.min_col, min(merged.max_col, max_col) + 1):
                    if (r, c) not in named:
                        texts.setdefault((r, c), text)
        self.texts = texts
        by_row: dict[int, list[int]] = {}
        by_col: dict[int, list[int]] = {}
        for r, c in texts:
            by_row.setdefault(r, []).append(c)
            by_col.setdefault(c, []).append(r)
        self.by_row = {r: sorted(cols) for r, cols in by_row.items()}
        self.by_col = {c: sorted(rows) for c, rows in by_col.items()}

    def row_label(self, row: int, column: int) -> str:
        cols = self.by_row.get(row)
        if not cols:
            return ""
        i = bisect_left(cols, column)
        return self.texts[(row, cols[i - 1])] if i else ""

    def column_label(self, row: int, column: int) -> str:
        rows = self.by_col.get(column)
        if not rows:
            return ""
        i = bisect_left(rows, row)
        return self.texts[(rows[i - 1], column)] if i else ""

    def label(self, row: int, column: int, name: str) -> str:
        parts = [self.row_label(row, column), self.column_label(row, column)]
        parts = [part for part in parts if part]
        if len(parts) == 2 and parts[0] == parts[1]:
            parts = parts[:1]
        return SEPARATOR.join(parts) or name
