"""Sheet layouts (JSON to draw a form) and the specification file (names shown in cells)."""

from __future__ import annotations

import io
import json

from harmonia.workbook_safety import workbook_load
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.colors import Color
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from forms_cms.workbook.catalogue import catalogue_read
from forms_cms.workbook.layout import sheet_layouts
from forms_cms.workbook.specfile import specification_file


def saved(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def form_bytes() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Bilan"
    ws["A1"] = "Bilan simplifié"
    ws["A1"].font = Font(bold=True)
    ws["A1"].fill = PatternFill("solid", fgColor="FFDDEEFF")
    ws.merge_cells("A1:D1")
    ws["C2"] = "Exercice N"
    ws["C2"].alignment = Alignment(horizontal="center", wrap_text=True)
    ws["B3"], ws["B4"], ws["B5"] = "Capital", "Réserves", "Total"
    ws["C3"] = 1000
    ws["C3"].number_format = "#,##0.00"
    ws["C5"] = "=C3+C4"
    ws["C5"].font = Font(bold=True)
    ws["E5"] = "=C5/2"  # unnamed formula
    ws["B7"] = 2024
    ws["D8"].fill = PatternFill("solid", fgColor=Color(theme=4, tint=0.5))  # empty, filled
    ws["D9"].font = Font(italic=True)  # empty, only styled: not listed
    ws.column_dimensions["B"].width = 42
    ws.column_dimensions["E"].hidden = True
    ws.row_dimensions[2].height = 30
    dv = DataValidation(type="decimal", operator="greaterThan", formula1="0", allow_blank=False)
    dv.add("C3:C4")
    dv.add("D3")
    ws.add_data_validation(dv)
    for field, ref in [("CAPITAL", "$C$3"), ("RESERVES", "$C$4"), ("TOTAL", "$C$5")]:
        wb.defined_names[field] = DefinedName(field, attr_text=f"Bilan!{ref}")
    annexe = wb.create_sheet("Annexe")
    annexe.sheet_state = "hidden"
    annexe["A1"] = "Notes"
    return saved(wb)


def layouts_of(data: bytes) -> list[dict]:
    wb = workbook_load(data)
    return sheet_layouts(wb, catalogue_read(wb).fields_by_cell())


def test_layout_of_each_sheet():
    bilan, annexe = layouts_of(form_bytes())
    assert bilan["name"] == "Bilan"
    assert "hidden" not in bilan
    assert (bilan["max_row"], bilan["max_col"]) == (8, 5)
    assert bilan["columns"] == [8.43, 42.0, 8.43, 8.43, 0]
    assert bilan["rows"] == [[2, 30.0]]
    assert bilan["merged"] == [[1, 1, 1, 4]]
    assert annexe == {
        "name": "Annexe",
        "hidden": True,
        "max_row": 1,
        "max_col": 1,
        "columns": [8.43],
        "rows": [],
        "merged": [],
        "cells": [{"r": 1, "c": 1, "kind": "label", "text": "Notes"}],
    }


def test_layout_cells_kinds_and_styles():
    bilan = layouts_of(form_bytes())[0]
    cells = {(cell["r"], cell["c"]): cell for cell in bilan["cells"]}
    assert cells[(1, 1)] == {
        "r": 1,
        "c": 1,
        "kind": "label",
        "text": "Bilan simplifié",
        "bold": True,
        "fill": "#DDEEFF",
    }
    assert cells[(2, 3)] == {
        "r": 2,
        "c": 3,
        "kind": "label",
        "text": "Exercice N",
        "align": "center",
        "wrap": True,
    }
    assert cells[(3, 3)] == {
        "r": 3,
        "c": 3,
        "kind": "input",
        "name": "CAPITAL",
        "text": "1000",
        "fmt": "#,##0.00",
    }
    # a named cell that the file does not even hold is listed
    assert cells[(4, 3)] == {"r": 4, "c": 3, "kind": "input", "name": "RESERVES"}
    assert cells[(5, 3)] == {"r": 5, "c": 3, "kind": "computed", "name": "TOTAL", "bold": True}
    assert cells[(5, 5)] == {"r": 5, "c": 5, "kind": "formula"}
    assert cells[(7, 2)]["text"] == "2024"
    # the theme's accent 1 (openpyxl writes Office 2007's theme: 4F81BD) lightened by 50 %
    assert cells[(8, 4)] == {"r": 8, "c": 4, "kind": "label", "fill": "#A7C0DE"}
    assert (9, 4) not in cells
    assert (1, 2) not in cells  # merged placeholders carry nothing


def test_layout_json_stays_compact():
    wb = Workbook()
    ws = wb.active
    ws.title = "ER"
    names = {}
    for row in range(1, 1001):
        ws.cell(row=row, column=1, value=f"Ligne {row}")
        for column in range(2, 12):
            ws.cell(row=row, column=column).number_format = "#,##0.00"
            names[("ER", row, column)] = f"F_{row}_{column}"
    layouts = sheet_layouts(workbook_load(saved(wb)), names)
    size = len(json.dumps(layouts, separators=(",", ":")))
    assert len(layouts[0]["cells"]) == 11_000
    assert size < 100 * 11_000  # < 100 bytes a cell: ~1 MB for the ER's 10,000 fields


# --- specification file -----------------------------------------------------------------------


def test_specification_file_shows_names_and_keeps_the_look():
    spec = workbook_load(specification_file(form_bytes()))
    ws = spec["Bilan"]
    assert (ws["C3"].value, ws["C4"].value, ws["C5"].value) == ("CAPITAL", "RESERVES", "TOTAL")
    assert ws["C5"].data_type == "s"  # the formula is gone
    assert ws["E5"].value == "=C5/2"  # unnamed cells untouched
    assert ws["B3"].value == "Capital"
    assert ws["C5"].font.b
    assert ws["A1"].font.b
    assert ws["C3"].number_format == "#,##0.00"
    assert ws.column_dimensions["B"].width == 42
    assert ws.row_dimensions[2].height == 30
    assert [str(m) for m in ws.merged_cells.ranges] == ["A1:D1"]
    assert spec["Annexe"].sheet_state == "hidden"
    # the names survive, the validation no longer covers the named cells
    assert spec.defined_names["CAPITAL"].attr_text == "Bilan!$C$3"
    (dv,) = ws.data_validations.dataValidation
    assert str(dv.sqref) == "D3"


def test_specification_file_drops_a_validation_left_empty():
    wb = Workbook()
    ws = wb.active
    ws.title = "Bilan"
    dv = DataValidation(type="list", formula1='"Oui,Non"')
    dv.add("B2")
    ws.add_data_validation(dv)
    wb.defined_names["REPONSE"] = DefinedName("REPONSE", attr_text="Bilan!$B$2")
    spec = workbook_load(specification_file(saved(wb)))
    assert spec["Bilan"]["B2"].value == "REPONSE"
    assert spec["Bilan"].data_validations.dataValidation == []


def test_specification_file_splits_a_validation_range_around_named_cells():
    wb = Workbook()
    ws = wb.active
    ws.title = "Bilan"
    ws["D4"] = 1
    dv = DataValidation(type="whole")
    dv.add("B2:D4")
    ws.add_data_validation(dv)
    wb.defined_names["X"] = DefinedName("X", attr_text="Bilan!$C$3")
    spec = workbook_load(specification_file(saved(wb)))
    (dv,) = spec["Bilan"].data_validations.dataValidation
    assert {str(rng) for rng in dv.sqref.ranges} == {"B2:D2", "B3", "D3", "B4:D4"}
