"""Read what the engine needs from an ``.xlsx``: cells (constants and formulas) and names.

Dates become Excel serial numbers and error cells become :class:`XLError` values, so the
engine only ever sees Excel's own value types.
"""

from __future__ import annotations

import datetime as dt
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet import _reader as openpyxl_reader
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from forms_cms.engine.values import ERROR_CODES, XLError

Address = tuple[str, int, int]  # (sheet, row, column), 1-based


@dataclass
class TableDef:
    """An Excel Table (ListObject) as written in the workbook."""

    name: str
    sheet: str
    r1: int  # first row (the header row when there is one)
    c1: int
    r2: int  # last row (the totals row when there is one)
    c2: int
    header_rows: int
    totals_rows: int
    headers: list[str]  # column names, as structured references write them
    calculated: dict[int, str] = field(default_factory=dict)  # column index → formula

    @property
    def data_r1(self) -> int:
        return self.r1 + self.header_rows

    @property
    def data_r2(self) -> int:
        return self.r2 - self.totals_rows

    @property
    def header_row(self) -> int | None:
        return self.r1 if self.header_rows else None

    @property
    def totals_row(self) -> int | None:
        return self.r2 if self.totals_rows else None


@dataclass
class Book:
    """A workbook's content as the engine sees it."""

    sheets: list[str]
    constants: dict[Address, object] = field(default_factory=dict)
    formulas: dict[Address, str] = field(default_factory=dict)
    # (sheet or None for workbook scope, NAME in upper case) → (name as written, definition)
    names: dict[tuple[str | None, str], tuple[str, str]] = field(default_factory=dict)
    # multi-cell array formulas (CSE / spilled): anchor → covered range text
    array_formulas: dict[Address, str] = field(default_factory=dict)
    bounds: dict[str, tuple[int, int]] = field(default_factory=dict)  # sheet → (max row, max col)
    array_cells: set[Address] = field(default_factory=set)  # single-cell array formulas
    tables: list[TableDef] = field(default_factory=list)


def cell_value(value):
    """An openpyxl cell value in the engine's representation."""
    if isinstance(value, dt.datetime):
        from forms_cms.engine.functions.dates import date_to_serial

        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        serial = date_to_serial(value.date())
        return serial + seconds / 86400 if seconds else serial
    if isinstance(value, dt.date):
        from forms_cms.engine.functions.dates import date_to_serial

        return date_to_serial(value)
    if isinstance(value, dt.time):
        return to_excel(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 86400
    if isinstance(value, str) and value in ERROR_CODES:
        return XLError.get(value)
    return value


_SERIALS_LOCK = threading.Lock()


def _keep_serial(value, epoch=None, timedelta=False):
    return value


def load_workbook(source, *, data_only: bool = False, serial_dates: bool = True):
    """Load with openpyxl, quietly.

    With ``serial_dates`` date cells keep the serial number Excel stored: openpyxl's
    conversion to ``datetime`` cannot tell 28 and 29 February 1900 apart (serials 59 and 60)
    and shifts every date before March 1900 by one day."""
    with warnings.catch_warnings():
        # openpyxl warns about workbook features it drops (slicers, extensions…)
        warnings.simplefilter("ignore", UserWarning)
        if not serial_dates:
            return openpyxl.load_workbook(source, data_only=data_only, rich_text=False)
        with _SERIALS_LOCK:
            original = openpyxl_reader.from_excel
            openpyxl_reader.from_excel = _keep_serial
            try:
                return openpyxl.load_workbook(source, data_only=data_only, rich_text=False)
            finally:
                openpyxl_reader.from_excel = original


def book_read(source: str | Path | object, *, workbook=None) -> Book:
    """Read a workbook (path or file object), or use an already loaded openpyxl workbook."""
    wb = workbook if workbook is not None else load_workbook(source)
    book = Book(sheets=list(wb.sheetnames))
    for ws in wb.worksheets:
        title = ws.title
        max_row = max_col = 0
        # the cells the file holds, in reading order: ``iter_rows()`` would create every cell
        # of the sheet's rectangle, up to the last one used (read-only sheets have no store)
        cells = (
            (cell for _, cell in sorted(ws._cells.items()))
            if hasattr(ws, "_cells")
            else (cell for row in ws.iter_rows() for cell in row)
        )
        for cell in cells:
            value = cell.value
            if value is None:
                continue
            address = (title, cell.row, cell.column)
            max_row = max(max_row, cell.row)
            max_col = max(max_col, cell.column)
            if isinstance(value, ArrayFormula):
                if value.ref and ":" in value.ref and not _single_cell(value.ref):
                    book.array_formulas[address] = value.ref
                else:
                    book.array_cells.add(address)
                book.formulas[address] = value.text or "="
            elif isinstance(value, DataTableFormula):
                book.array_formulas[address] = "TABLE"
                book.formulas[address] = "=TABLE()"
            elif cell.data_type == "f":
                book.formulas[address] = value
            else:
                book.constants[address] = cell_value(value)
        book.bounds[title] = (max_row, max_col)
        for table in ws.tables.values():
            book.tables.append(_table_def(title, table))
        for name, defn in ws.defined_names.items():
            book.names[(title, name.upper())] = (name, defn.attr_text)
    for name, defn in wb.defined_names.items():
        if defn.localSheetId is not None:
            sheet = wb.sheetnames[defn.localSheetId]
            book.names[(sheet, name.upper())] = (name, defn.attr_text)
        else:
            book.names[(None, name.upper())] = (name, defn.attr_text)
    return book


def cached_values(source) -> dict[Address, object]:
    """The values Excel (or LibreOffice) saved with the formulas, for parity checks."""
    wb = load_workbook(source, data_only=True)
    values = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    values[(ws.title, cell.row, cell.column)] = cell_value(cell.value)
    return values


def _single_cell(ref: str) -> bool:
    a, _, b = ref.partition(":")
    return a.replace("$", "") == b.replace("$", "")


def _table_def(sheet: str, table) -> TableDef:
    from openpyxl.utils.cell import range_boundaries

    c1, r1, c2, r2 = range_boundaries(table.ref)
    calculated = {}
    headers = []
    for i, column in enumerate(table.tableColumns):
        headers.append(column.name or "")
        formula = column.calculatedColumnFormula
        if formula is not None:
            text = getattr(formula, "attr_text", None) or str(formula)
            calculated[i] = text if text.startswith("=") else "=" + text
    return TableDef(
        name=table.displayName or table.name,
        sheet=sheet,
        r1=r1,
        c1=c1,
        r2=r2,
        c2=c2,
        header_rows=1 if table.headerRowCount is None else int(table.headerRowCount),
        totals_rows=int(table.totalsRowCount or 0),
        headers=headers,
        calculated=calculated,
    )
