"""A form's Excel support filled with a dossier's values, and read back (pure, no Django).

    data = support_fill(source, inputs={"CAPITAL": 1000.0}, tables=[TableFill(...)],
                        marker="ER_SOCIAUX|2024|3|123456789")

(reading one back: ``forms_cms.workbook.cellbook``)

Filling keeps the workbook a live form: every named input cell gets its value (numbers as
numbers, dates as Excel serial numbers under the cell's date format, texts as text), computed
cells keep their formulas (the workbook is flagged to recalculate on load), and each Excel
Table (multivalued list) gets as many data rows as the dossier has rows (one blank row when it
has none: a table always keeps one data row).

Resizing a table is Excel's « insert rows inside the table »: the rows below the table move
down (or up), and with them every reference the workbook makes to them — formulas of every
sheet, defined names, merged cells, data validations, conditional formats, other tables and
array-formula ranges. A range that ends on the table's last data row (``SUM(C4:C4)`` under a
one-row template, a validation over the column) grows with the table, as the engine reads it
(a plain range over a column's data rows covers all its rows). New rows take the styles of the
last data row and its calculated-column formulas, translated to their row.

A hidden defined name :data:`MARKER_NAME` says which form version, exercise and organism the
downloaded support was made for; a support downloaded from the Formulaires page has none and
is recognised by its sheets and defined names.
"""

from __future__ import annotations

import bisect
import io
import re
import zipfile
from copy import copy
from dataclasses import dataclass

from harmonia.workbook_safety import workbook_load
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.formula import ArrayFormula

from forms_cms.workbook.cellbook import cell_target

MARKER_NAME = "HARMONIA_SUPPORT"

_PART = re.compile(r"^(\$?)([A-Za-z]{1,3})?(\$?)(\d+)?$")
_SHEET_REF = re.compile(r"^(?:(?P<sheet>'(?:[^']|'')+'|[^'!:\[\]]+)!)?(?P<ref>[$A-Za-z0-9:]+)$")


@dataclass(frozen=True)
class RowShift:
    """``delta`` rows inserted (or removed, when negative) just below row ``after`` of
    ``sheet`` — the last data row of a table that grows or shrinks."""

    sheet: str
    after: int
    delta: int

    def rows(self, r1: int, r2: int, is_range: bool) -> tuple[int, int]:
        b, d = self.after, self.delta
        new1 = r1 + d if r1 > b else r1
        new2 = r2 + d if r2 > b or (is_range and r1 <= b == r2) else r2
        return new1, max(new1, new2)

    def concerns(self, sheet: str) -> bool:
        return sheet.casefold() == self.sheet.casefold()


class RowMap:
    """Where the rows of ``sheet`` went in a file edited in a spreadsheet, known from the
    cells that can be followed (named cells, tables' first and last data rows): a row that
    holds one goes where it went; another row moves with the nearest such row above it. A
    range's end follows ``ends`` (a table's last data row: the range grows with the table),
    anything else ``starts``. Used like :class:`RowShift` by :func:`formula_shift`."""

    def __init__(self, sheet: str, starts: dict[int, int], ends: dict[int, int]):
        self.sheet = sheet
        self.starts = starts
        self.ends = {**starts, **ends}
        self._keys = sorted(self.ends)

    def _moved(self, row: int) -> int:
        index = bisect.bisect_left(self._keys, row) - 1
        if index < 0:
            return row
        above = self._keys[index]
        return row + self.ends[above] - above

    def rows(self, r1: int, r2: int, is_range: bool) -> tuple[int, int]:
        new1 = self.starts.get(r1) or self._moved(r1)
        if not is_range:
            return new1, new1
        new2 = self.ends.get(r2) or self._moved(r2)
        return new1, max(new1, new2)

    def concerns(self, sheet: str) -> bool:
        return sheet.casefold() == self.sheet.casefold()


def _unquote(sheet: str) -> str:
    if sheet.startswith("'") and sheet.endswith("'"):
        return sheet[1:-1].replace("''", "'")
    return sheet


def ref_shift(text: str, own_sheet: str | None, shift: RowShift | RowMap) -> str:
    """An A1 reference (``Sheet!$A$1:B4``, ``C5``, ``3:7``) after ``shift``; anything else
    (names, structured references, whole columns, other sheets) as it is."""
    match = _SHEET_REF.match(text)
    if match is None:
        return text
    sheet = match["sheet"]
    sheet = own_sheet if sheet is None else _unquote(sheet)
    if sheet is None or not shift.concerns(sheet):
        return text
    parts = match["ref"].split(":")
    if len(parts) > 2:
        return text
    parsed = [_PART.match(part) for part in parts]
    if any(p is None or p[4] is None for p in parsed):  # a whole column, a name…
        return text
    if any(p[2] is None and p[3] for p in parsed):
        return text
    rows = [int(p[4]) for p in parsed]
    is_range = len(parts) == 2
    r1, r2 = (min(rows), max(rows)) if is_range else (rows[0], rows[0])
    new1, new2 = shift.rows(r1, r2, is_range)
    if (new1, new2) == (r1, r2):
        return text
    news = [new1, new2] if is_range and rows[0] <= rows[-1] else [new2, new1]
    if not is_range:
        news = [new1]
    written = "".join(
        f"{p[1]}{p[2] or ''}{p[3]}{row}" + (":" if i < len(parsed) - 1 else "")
        for i, (p, row) in enumerate(zip(parsed, news, strict=True))
    )
    prefix = f"{match['sheet']}!" if match["sheet"] else ""
    return prefix + written


def formula_shift(formula: str, own_sheet: str | None, shift: RowShift | RowMap) -> str:
    """A formula (``=…``, or a defined name's text without ``=``) after ``shift``."""
    # quick exit: a formula of another sheet that never names the shifted one
    elsewhere = own_sheet is None or not shift.concerns(own_sheet)
    if elsewhere and shift.sheet.casefold() not in formula.casefold():
        return formula
    bare = not formula.startswith("=")
    tokens = Tokenizer("=" + formula if bare else formula)
    changed = False
    for item in tokens.items:
        if item.type == Token.OPERAND and item.subtype == Token.RANGE:
            new = ref_shift(item.value, own_sheet, shift)
            if new != item.value:
                item.value, changed = new, True
    if not changed:
        return formula
    text = tokens.render()
    return text[1:] if bare else text


def _range_shift(coord: str, shift: RowShift, grow_cols: tuple[int, int] | None) -> str:
    """A cell range of the shifted sheet (merged cells, sqref): ranges below move; a range
    ending on the table's last row grows when it lies within ``grow_cols``."""
    c1, r1, c2, r2 = range_boundaries(coord)
    within = grow_cols is not None and grow_cols[0] <= c1 and c2 <= grow_cols[1]
    new1, new2 = shift.rows(r1, r2, within or r1 != r2)
    if not within and r1 == r2 == shift.after:
        new1, new2 = r1, r2
    if (new1, new2) == (r1, r2):
        return coord
    return CellRange(min_col=c1, min_row=new1, max_col=c2, max_row=new2).coord


def _sqref_shift(sqref, shift: RowShift, grow_cols) -> MultiCellRange:
    return MultiCellRange(
        " ".join(_range_shift(r.coord, shift, grow_cols) for r in MultiCellRange(str(sqref)))
    )


def table_bounds(table) -> tuple[int, int, int, int]:
    """(first column, last column, first data row, last data row) of an Excel Table."""
    c1, r1, c2, r2 = range_boundaries(table.ref)
    header = 1 if table.headerRowCount is None else int(table.headerRowCount)
    return c1, c2, r1 + header, r2 - int(table.totalsRowCount or 0)


def _formula_of(value):
    if isinstance(value, ArrayFormula):
        return value.text
    if isinstance(value, str) and value.startswith("="):
        return value
    return None


def workbook_rows_shift(wb, shift: RowShift, grow_cols: tuple[int, int] | None) -> None:
    """Move the rows of ``shift.sheet`` below ``shift.after`` by ``shift.delta`` and rewrite
    every reference to them (see the module's docstring)."""
    ws = wb[shift.sheet]
    b, d = shift.after, shift.delta
    # the cells themselves (removed rows first when shrinking)
    if d < 0:
        for key in [k for k in ws._cells if b + d < k[0] <= b]:
            del ws._cells[key]
    moving = sorted((k for k in ws._cells if k[0] > b), reverse=d > 0)
    for row, col in moving:
        cell = ws._cells.pop((row, col))
        cell.row = row + d
        ws._cells[(row + d, col)] = cell
        link = getattr(cell, "_hyperlink", None)
        if link is not None:  # written from the cell's own reference at save time
            link.ref = f"{get_column_letter(col)}{row + d}"
    dims = ws.row_dimensions
    if d < 0:
        for r in [r for r in dims if b + d < r <= b]:
            del dims[r]
    for r in sorted((r for r in list(dims) if r > b), reverse=d > 0):
        dim = dims.pop(r)
        dim.index = r + d
        dims[r + d] = dim
    # formulas of every sheet
    for sheet in wb.worksheets:
        own = sheet.title
        for cell in sheet._cells.values():
            value = cell._value
            if cell.data_type != "f" or value is None:
                continue
            if isinstance(value, ArrayFormula):
                value.text = formula_shift(value.text, own, shift)
                if shift.concerns(own) and value.ref:
                    value.ref = _range_shift(value.ref, shift, None)
            elif isinstance(value, str):
                cell._value = formula_shift(value, own, shift)
        if sheet is not ws:
            for dv in sheet.data_validations.dataValidation:
                _validation_formulas_shift(dv, own, shift)
    # defined names (workbook and sheet scopes)
    scopes = [wb.defined_names] + [sheet.defined_names for sheet in wb.worksheets]
    for scope, sheet in zip(scopes, [None, *wb.worksheets], strict=True):
        for dn in scope.values():
            if dn.attr_text:
                dn.attr_text = formula_shift(dn.attr_text, sheet.title if sheet else None, shift)
    # the shifted sheet's own structures
    if ws.print_area:  # the printed area grows with the table it covers
        area = formula_shift("=" + ws.print_area, ws.title, shift)[1:]
        ws.print_area = [_unquote(a.rpartition("!")[2]).replace("$", "") for a in area.split(",")]
    ws.merged_cells.ranges = {
        CellRange(_range_shift(r.coord, shift, None)) for r in ws.merged_cells.ranges
    }
    for dv in ws.data_validations.dataValidation:
        dv.sqref = _sqref_shift(dv.sqref, shift, grow_cols)
        _validation_formulas_shift(dv, ws.title, shift)
    formats = ConditionalFormattingList()
    for cf in ws.conditional_formatting:
        sqref = str(_sqref_shift(cf.sqref, shift, grow_cols))
        for rule in cf.rules:
            rule.formula = [formula_shift("=" + f, ws.title, shift)[1:] for f in rule.formula]
            formats.add(sqref, rule)
    ws.conditional_formatting = formats
    for table in ws.tables.values():
        c1, r1, c2, r2 = range_boundaries(table.ref)
        if r1 > b:
            table.ref = _range_shift(table.ref, shift, None)
            if table.autoFilter is not None and table.autoFilter.ref:
                table.autoFilter.ref = _range_shift(table.autoFilter.ref, shift, None)


def _validation_formulas_shift(dv, own: str, shift: RowShift) -> None:
    for attr in ("formula1", "formula2"):
        text = getattr(dv, attr)
        if text and not text.startswith('"'):
            setattr(dv, attr, formula_shift("=" + text, own, shift)[1:])


def table_resize(wb, ws, table, count: int) -> int:
    """Give ``table`` ``count`` data rows (at least one); returns the rows added (negative:
    removed). New rows copy the last data row's styles and calculated formulas."""
    c1, c2, d1, d2 = table_bounds(table)
    count = max(count, 1)
    delta = count - (d2 - d1 + 1)
    if delta == 0:
        return 0
    workbook_rows_shift(wb, RowShift(ws.title, d2, delta), (c1, c2))
    start, end = range_boundaries(table.ref)[1], range_boundaries(table.ref)[3] + delta
    table.ref = CellRange(min_col=c1, min_row=start, max_col=c2, max_row=end).coord
    if table.autoFilter is not None and table.autoFilter.ref:
        table.autoFilter.ref = CellRange(
            min_col=c1, min_row=start, max_col=c2, max_row=end - int(table.totalsRowCount or 0)
        ).coord
    if delta > 0:
        template = {col: ws._cells.get((d2, col)) for col in range(c1, c2 + 1)}
        height = ws.row_dimensions[d2].height if d2 in ws.row_dimensions else None
        for row in range(d2 + 1, d2 + delta + 1):
            for col, source in template.items():
                if source is None:
                    continue
                cell = ws.cell(row=row, column=col)
                if source.has_style:
                    cell._style = copy(source._style)
                formula = _formula_of(source._value)
                if formula is not None:
                    origin = f"{get_column_letter(col)}{d2}"
                    cell.value = Translator(formula, origin=origin).translate_formula(
                        f"{get_column_letter(col)}{row}"
                    )
            if height is not None:
                ws.row_dimensions[row].height = height
    return delta


@dataclass
class TableFill:
    """A table's rows for :func:`support_fill`: ``inputs`` are its input column fields (in
    any order), each row maps some of them to values."""

    name: str
    inputs: list[str]
    rows: list[dict[str, object]]


def named_cells_map(wb) -> dict[str, tuple[str, int, int]]:
    """Every defined name pointing at one cell: NAME (upper) → (sheet, row, column). Names
    of workbook scope, then those scoped to a sheet (the catalogue accepts both)."""
    out: dict[str, tuple[str, int, int]] = {}
    scopes = [(None, wb.defined_names)] + [(ws.title, ws.defined_names) for ws in wb.worksheets]
    for own, names in scopes:
        for name, dn in names.items():
            where = cell_target(dn.attr_text or "", own)
            if where is not None:
                out.setdefault(name.upper(), where)
    return out


def tables_map(wb) -> dict[str, tuple]:
    """Every Excel Table: NAME (upper) → (worksheet, table)."""
    return {
        (table.displayName or table.name).upper(): (ws, table)
        for ws in wb.worksheets
        for table in ws.tables.values()
    }


def _put(cell, value) -> None:
    if type(cell).__name__ == "MergedCell":
        return
    if isinstance(value, bool) or value is None:
        cell.value = None if value is None else value
        return
    if isinstance(value, int | float):
        cell.value = value
        return
    text = str(value)
    cell.value = text
    if text.startswith("="):  # a text that looks like a formula stays a text
        cell.data_type = "s"


def support_fill(
    source: bytes,
    *,
    inputs: dict[str, object],
    tables: list[TableFill],
    marker: str | None = None,
) -> bytes:
    """The support with the given input values and table rows (see the module's docstring).
    Names or tables absent from the workbook are skipped (the caller built them from it)."""
    wb = workbook_load(source)
    found = tables_map(wb)
    # bottom-up, so that resizing a table never moves one not yet resized
    present = [t for t in tables if t.name.upper() in found]
    present.sort(key=lambda t: -table_bounds(found[t.name.upper()][1])[3])
    for fill in present:
        ws, table = found[fill.name.upper()]
        table_resize(wb, ws, table, len(fill.rows))
    cells = named_cells_map(wb)
    for name, value in inputs.items():
        where = cells.get(name.upper())
        if where is not None:
            _put(wb[where[0]].cell(row=where[1], column=where[2]), value)
    for fill in present:
        ws, table = found[fill.name.upper()]
        _c1, _c2, d1, _d2 = table_bounds(table)
        columns = {f: cells[f.upper()][2] for f in fill.inputs if f.upper() in cells}
        rows = fill.rows or [{}]
        for index, row in enumerate(rows):
            for field, col in columns.items():
                _put(ws.cell(row=d1 + index, column=col), row.get(field))
    if marker is not None:
        text = marker.replace('"', "'")
        wb.defined_names[MARKER_NAME] = DefinedName(MARKER_NAME, attr_text=f'"{text}"', hidden=True)
    wb.calculation.fullCalcOnLoad = True
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- reading an uploaded support ------------------------------------------------------------


def risky_parts(data: bytes) -> tuple[bool, bool]:
    """(has macros, has links to other workbooks) — from the zip's directory alone."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n.lower() for n in archive.namelist()]
    macros = any(n.endswith("vbaproject.bin") or n.startswith("xl/macrosheets/") for n in names)
    links = any(n.startswith("xl/externallinks/") for n in names)
    return macros, links


_PREFIXES = re.compile(r"_xl(?:fn|ws|udf)\.", re.IGNORECASE)
_THIS_ROW = re.compile(r"\[\[#THISROW\],\[([^\]]*)\]\]")
_AT = re.compile(r"\[@\[([^\]]*)\]\]")


def formula_key(formula: str) -> str:
    """A formula as compared between the version and an upload: without the ``=``, the
    ``_xlfn.`` prefixes, spaces, sheet-name quotes and case outside strings, ``[#This Row]``
    as ``@`` (spreadsheets write these differently, the formula is the same)."""
    text = formula.lstrip("=")
    parts = text.split('"')
    for i in range(0, len(parts), 2):  # outside string literals
        part = _PREFIXES.sub("", parts[i])
        part = part.replace(" ", "").replace("\n", "").replace("'", "").upper()
        parts[i] = part.replace("TRUE()", "TRUE").replace("FALSE()", "FALSE")  # LibreOffice
    text = '"'.join(parts)
    text = _THIS_ROW.sub(r"[@\1]", text)
    return _AT.sub(r"[@\1]", text)
