"""The pure pieces of the Excel support round trip: moving references when a table grows or
shrinks, comparing formulas, reading a workbook lean (shared formulas, saved results)."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName

from forms_cms.workbook.cellbook import CellBookError, cell_book
from forms_cms.workbook.filled import (
    RowShift,
    TableFill,
    formula_key,
    formula_shift,
    ref_shift,
    risky_parts,
    support_fill,
)

GROW = RowShift("Listes", after=10, delta=3)  # three rows added under row 10
SHRINK = RowShift("Listes", after=10, delta=-2)


@pytest.mark.parametrize(
    "ref, own, expected",
    [
        ("C11", "Listes", "C14"),  # below: moves
        ("$C$12", "Listes", "$C$15"),
        ("C10", "Listes", "C10"),  # the last data row itself: stays
        ("C4:C10", "Listes", "C4:C13"),  # a range ending on the last data row grows
        ("C4:C20", "Listes", "C4:C23"),  # a range across the table grows
        ("C4:C9", "Listes", "C4:C9"),  # above: stays
        ("Listes!$B$12:$D$12", "Bilan", "Listes!$B$15:$D$15"),
        ("'Listes'!C11", "Bilan", "'Listes'!C14"),
        ("C11", "Bilan", "C11"),  # another sheet's own cell
        ("Bilan!C11", "Listes", "Bilan!C11"),
        ("11:12", "Listes", "14:15"),  # whole rows
        ("C:C", "Listes", "C:C"),  # whole columns: nothing to move
        ("FILIALES[Capital]", "Listes", "FILIALES[Capital]"),
        ("TOTAL_FILIALES", "Listes", "TOTAL_FILIALES"),
    ],
)
def test_references_move_with_the_rows(ref, own, expected):
    assert ref_shift(ref, own, GROW) == expected


def test_shrinking_moves_up_and_narrows():
    assert ref_shift("C14", "Listes", SHRINK) == "C12"
    assert ref_shift("C4:C10", "Listes", SHRINK) == "C4:C8"


def test_formulas_and_defined_names_are_rewritten():
    formula = '=SUM(Listes!C4:C10)+Listes!C12*2+SUM(FILIALES[Capital])+"C12"'
    assert (
        formula_shift(formula, "Bilan", GROW)
        == '=SUM(Listes!C4:C13)+Listes!C15*2+SUM(FILIALES[Capital])+"C12"'
    )
    assert formula_shift("Listes!$C$12", None, GROW) == "Listes!$C$15"  # a name's text
    untouched = "=SUM(Bilan!C4:C20)"
    assert formula_shift(untouched, "Actif", GROW) is untouched  # never names the sheet


def test_formula_key_ignores_how_a_spreadsheet_writes_the_same_formula():
    assert formula_key("=_xlfn.IFERROR(VLOOKUP(\"a b\",'Listes'!A1:B2,2,FALSE()),0)") == (
        formula_key('=IFERROR(VLOOKUP("a b", Listes!a1:b2, 2, FALSE), 0)')
    )
    assert formula_key("=T[[#This Row],[Capital]]*2") == formula_key("=T[@Capital]*2")
    assert formula_key('="a b"') != formula_key('="ab"')  # strings kept as they are
    assert formula_key("=A1*2") != formula_key("=A1*3")


def _two_tables_workbook() -> bytes:
    """Two tables stacked on one sheet, a total under each (plain and structured), a merged
    title and a validation between them, a name and a formula elsewhere reading below."""
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.table import Table

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Listes"
    for top, name in ((1, "HAUT"), (8, "BAS")):
        ws.cell(top, 1, "Nom")
        ws.cell(top, 2, "Montant")
        ws.cell(top, 3, "Double")
        ws.cell(top + 1, 3, f"={name}[[#This Row],[Montant]]*2")
        table = Table(displayName=name, ref=f"A{top}:C{top + 1}")
        table._initialise_columns()
        for column, header in zip(table.tableColumns, ["Nom", "Montant", "Double"], strict=True):
            column.name = header
        ws.add_table(table)
        ws.cell(top + 3, 2, f"=SUM(B{top + 1}:B{top + 1})")
        wb.defined_names[f"TOTAL_{name}"] = DefinedName(
            f"TOTAL_{name}", attr_text=f"Listes!$B${top + 3}"
        )
        wb.defined_names[f"{name}_NOM"] = DefinedName(
            f"{name}_NOM", attr_text=f"Listes!$A${top + 1}"
        )
        wb.defined_names[f"{name}_MONTANT"] = DefinedName(
            f"{name}_MONTANT", attr_text=f"Listes!$B${top + 1}"
        )
    ws["A12"].hyperlink = "https://www.example.org/notice"
    ws.print_area = "A1:C12"
    ws["A6"] = "Titre fusionné"
    ws.merge_cells("A6:C6")
    check = DataValidation(type="decimal", operator="greaterThan", formula1="0")
    check.add("B9")
    ws.add_data_validation(check)
    other = wb.create_sheet("Synthèse")
    other["A1"] = "=Listes!B4+Listes!B11"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_two_stacked_tables_grow_and_everything_below_follows():
    data = support_fill(
        _two_tables_workbook(),
        inputs={},
        tables=[
            TableFill(
                "HAUT", ["HAUT_NOM", "HAUT_MONTANT"], [{"HAUT_MONTANT": i} for i in (1, 2, 3)]
            ),
            TableFill("BAS", ["BAS_NOM", "BAS_MONTANT"], [{"BAS_MONTANT": i} for i in (4, 5)]),
        ],
    )
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["Listes"]
    assert ws.tables["HAUT"].ref == "A1:C4"
    assert ws.tables["BAS"].ref == "A10:C12"  # moved down by two, then one row added
    assert [ws.cell(r, 2).value for r in (2, 3, 4)] == [1, 2, 3]
    assert [ws.cell(r, 2).value for r in (11, 12)] == [4, 5]
    assert ws["B6"].value == "=SUM(B2:B4)" and ws["B14"].value == "=SUM(B11:B12)"
    assert ws["C4"].value == "=HAUT[[#This Row],[Montant]]*2"
    assert ws["C12"].value == "=BAS[[#This Row],[Montant]]*2"
    assert wb.defined_names["TOTAL_HAUT"].attr_text == "Listes!$B$6"
    assert wb.defined_names["TOTAL_BAS"].attr_text == "Listes!$B$14"
    assert wb.defined_names["BAS_NOM"].attr_text == "Listes!$A$11"
    assert [str(r) for r in ws.merged_cells.ranges] == ["A8:C8"]
    assert str(ws.data_validations.dataValidation[0].sqref) == "B11:B12"
    assert wb["Synthèse"]["A1"].value == "=Listes!B6+Listes!B14"
    assert ws["A15"].hyperlink.target == "https://www.example.org/notice"
    assert ws["A12"].hyperlink is None
    assert ws.print_area == "'Listes'!$A$1:$C$15"
    assert wb.calculation.fullCalcOnLoad


def test_cell_book_reads_shared_formulas_saved_results_and_scoped_names():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Feuille 1"
    for r in (1, 2, 3):
        ws.cell(r, 1, r * 10)
        ws.cell(r, 2, f"=A{r}*2")
    ws["C1"] = "texte"
    local = DefinedName("LOCAL", attr_text="'Feuille 1'!$B$3")
    ws.defined_names["LOCAL"] = local
    wb.defined_names["TOTAL"] = DefinedName("TOTAL", attr_text="'Feuille 1'!$B$1")
    wb.defined_names["TEXTE"] = DefinedName("TEXTE", attr_text="'Feuille 1'!$C$1")
    wb.defined_names["DEUX"] = DefinedName("DEUX", attr_text="'Feuille 1'!$B$2")
    out = io.BytesIO()
    wb.save(out)

    def shared(name, content):  # as Excel writes a filled-down formula, with saved results
        if not name.startswith("xl/worksheets/sheet"):
            return content
        content = content.replace(
            b"<f>A1*2</f><v></v>", b'<f t="shared" ref="B1:B3" si="0">A1*2</f><v>20</v>'
        )
        content = re.sub(
            rb"<f>A([23])\*2</f><v></v>",
            lambda m: b'<f t="shared" si="0"/><v>' + str(int(m[1]) * 20).encode() + b"</v>",
            content,
        )
        return content

    rewritten = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(out.getvalue())) as source,
        zipfile.ZipFile(rewritten, "w") as target,
    ):
        for item in source.infolist():
            target.writestr(item, shared(item.filename, source.read(item)))
    book = cell_book(rewritten.getvalue())
    assert book.sheets == ["Feuille 1"]
    assert book.cell("Feuille 1", 1, 2) == (20.0, "=A1*2")
    assert book.cell("Feuille 1", 3, 2) == (60.0, "=A3*2")  # translated to its own cell
    assert book.cell("Feuille 1", 2, 2) == (40.0, "=A2*2")
    assert book.cell("Feuille 1", 1, 3) == ("texte", None)
    assert book.cell("Feuille 1", 1, 1) == (None, None)  # unnamed, outside any table: unread
    assert book.names["TOTAL"] == ("Feuille 1", 1, 2)
    assert book.names["LOCAL"] == ("Feuille 1", 3, 2)
    assert risky_parts(rewritten.getvalue()) == (False, False)


def test_cell_book_refuses_damaged_xml():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("xl/workbook.xml", b"<workbook><sheets>")
    with pytest.raises(CellBookError):
        cell_book(out.getvalue())
