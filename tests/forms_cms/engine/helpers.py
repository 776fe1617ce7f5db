"""Build small workbooks in memory and evaluate them with the engine."""

from __future__ import annotations

import io

import openpyxl
from openpyxl.workbook.defined_name import DefinedName

from forms_cms.engine import CompiledForm, workbook_compile


def workbook_bytes(sheets: dict[str, dict[str, object]], names: dict[str, str] | None = None):
    """``sheets``: sheet name → {"A1": value or "=formula"}; ``names``: name → reference."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, cells in sheets.items():
        ws = wb.create_sheet(title)
        for coordinate, value in cells.items():
            ws[coordinate] = value
    for name, ref in (names or {}).items():
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def compile_cells(sheets, names=None) -> CompiledForm:
    return workbook_compile(io.BytesIO(workbook_bytes(sheets, names)))


def evaluate_cells(sheets, names=None, inputs=None) -> dict[str, object]:
    """Evaluate and return every cell's value by "Sheet!A1" address."""
    from openpyxl.utils.cell import get_column_letter

    form = compile_cells(sheets, names)
    v = form.evaluate(inputs)
    out = {}
    for cid, address in enumerate(form.cells):
        if address is not None:
            sheet, row, col = address
            out[f"{sheet}!{get_column_letter(col)}{row}"] = v[cid]
    return out


def formula_value(formula: str, cells: dict[str, object] | None = None):
    """Value of ``formula`` placed in Z1 of a sheet "S" holding ``cells``."""
    sheet = dict(cells or {})
    sheet["Z1"] = formula
    return evaluate_cells({"S": sheet})["S!Z1"]
