"""The sheet grid as Excel draws it: merged headers over hidden rows and columns, outline
groups, wrapped titles, the workbook's numbers and dates through their formats."""

from __future__ import annotations

import io

from lxml import html as lxml_html
from openpyxl import Workbook
from openpyxl.styles import Alignment

from declarations.grid import sheet_table
from declarations.pdf.render import sheet_html
from forms_cms.formats import NBSP, NNBSP
from forms_cms.workbook.catalogue import catalogue_read
from forms_cms.workbook.layout import sheet_layouts
from forms_cms.workbook.safety import workbook_load


def layout_of(wb) -> dict:
    out = io.BytesIO()
    wb.save(out)
    book = workbook_load(out.getvalue())
    return sheet_layouts(book, catalogue_read(book).fields_by_cell())[0]


def grid(layout: dict) -> list[list[tuple[str, int, int, str]]]:
    """Each drawn row: (text, colspan, rowspan, class) of its cells, row header left out."""
    table = lxml_html.fromstring(sheet_table(layout, {}, {}, {}, editable=False))
    return [
        [
            (
                td.text_content(),
                int(td.get("colspan", 1)),
                int(td.get("rowspan", 1)),
                td.get("class") or "",
            )
            for td in tr.findall("td")
        ]
        for tr in table.iter("tr")
    ]


def row_headers(layout: dict) -> list[str]:
    table = lxml_html.fromstring(sheet_table(layout, {}, {}, {}, editable=False))
    return [th.text_content() for th in table.iter("th")]


def er_header() -> Workbook:
    """An ER-like header: « Exercice N » over two columns, « Exercice N-1 » over a hidden
    working column and the visible one, « Amortissements » below."""
    wb = Workbook()
    ws = wb.active
    ws.title = "ER"
    ws["A1"] = "Rubrique"
    ws.merge_cells("A1:A2")
    ws["B1"] = "Exercice N"
    ws.merge_cells("B1:C1")
    ws["D1"] = "Exercice N-1"
    ws.merge_cells("D1:E1")
    ws["B2"], ws["C2"], ws["D2"], ws["E2"] = "Brut", "Amortissements", "(calcul)", "Net"
    ws["A3"], ws["B3"], ws["C3"], ws["E3"] = "Terrains", 1, 2, 3
    ws.column_dimensions["D"].hidden = True
    return wb


def test_a_merged_header_over_a_hidden_column_spans_only_visible_columns():
    rows = grid(layout_of(er_header()))
    assert rows[0] == [
        ("Rubrique", 1, 2, "l w"),
        ("Exercice N", 2, 1, "l w"),
        ("Exercice N-1", 1, 1, "l"),  # D is hidden: drawn in E, over « Net »
    ]
    assert [text for text, *_ in rows[1]] == ["Brut", "Amortissements", "Net"]
    assert [text for text, *_ in rows[2]] == ["Terrains", "1", "2", "3"]
    # every drawn row covers the same number of visible columns (A, B, C, E)
    widths = [0, 0, 0]
    for index, row in enumerate(rows):
        for _, colspan, rowspan, _ in row:
            for below in range(index, index + rowspan):
                widths[below] += colspan
    assert widths == [4, 4, 4]


def test_a_range_whose_top_left_cell_is_hidden_draws_its_text_at_the_first_visible_cell():
    wb = Workbook()
    ws = wb.active
    ws["B1"] = "Titre du tableau"
    ws.merge_cells("B1:E2")
    ws["A3"], ws["B3"], ws["C3"], ws["D3"], ws["E3"] = "x", "b", "c", "d", "e"
    ws.column_dimensions["B"].hidden = True
    ws.row_dimensions[1].hidden = True
    layout = layout_of(wb)
    rows = grid(layout)
    assert row_headers(layout) == ["2", "3"]
    assert rows[0] == [("", 1, 1, ""), ("Titre du tableau", 3, 1, "l w")]
    assert [text for text, *_ in rows[1]] == ["x", "c", "d", "e"]
    # the PDF draws it the same way
    table, _ = sheet_html(layout, {}, {}, {})
    assert '<td colspan="3">Titre du tableau</td>' in table


def test_outline_groups_and_column_ranges_hidden_in_excel_are_hidden():
    wb = Workbook()
    ws = wb.active
    for column in range(1, 9):
        ws.cell(row=1, column=column, value=f"col{column}")
    ws.column_dimensions.group("C", "E", hidden=True, outline_level=1)  # one <col min max>
    ws.column_dimensions["G"].hidden = True
    ws.row_dimensions.group(3, 4, hidden=True)
    for row in range(2, 6):
        ws.cell(row=row, column=1, value=f"ligne {row}")
    layout = layout_of(wb)
    assert layout["columns"][2:5] == [0, 0, 0]
    assert [text for text, *_ in grid(layout)[0]] == ["col1", "col2", "col6", "col8"]
    assert row_headers(layout) == ["1", "2", "5"]
    # a stored layout's hidden columns are those of width 0, whatever declared them
    assert layout["columns"][6] == 0


def test_wrapped_titles_wrap_and_free_labels_run_over_their_empty_neighbour():
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "Total des produits d'exploitation de l'exercice"
    ws["B2"] = "Montant brut des immobilisations en fin d'exercice"
    ws["B2"].alignment = Alignment(wrap_text=True, horizontal="center")
    ws["A3"], ws["B3"] = "Libellé long qui touche sa voisine", "voisine"
    rows = grid(layout_of(wb))
    assert rows[0][0][3] == "l ov"  # B1 is empty: Excel lets the text run over it
    assert rows[1][1][3] == "l w"  # wrapped in Excel: wrapped in its column
    assert rows[2][0][3] == "l"  # B3 holds text: no overflow


def test_numbers_and_dates_of_the_workbook_are_shown_through_their_formats():
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["C1"] = 2024, 0.125, 1234567.891
    ws["B1"].number_format = "0.00"
    ws["C1"].number_format = "#,##0.00;[Red](#,##0.00)"
    ws["A2"], ws["B2"], ws["C2"] = -1234.5, 0.0735, 45657
    ws["A2"].number_format = "#,##0.00;[Red](#,##0.00)"
    ws["B2"].number_format = "0.0%"
    ws["C2"].number_format = "mmm-yy"
    ws["A3"] = 0.125  # General: as typed, decimal comma
    layout = layout_of(wb)
    texts = [[text for text, *_ in row] for row in grid(layout)]
    assert texts[0] == ["2024", "0,13", f"1{NNBSP}234{NNBSP}567,89"]
    assert texts[1] == [f"(1{NNBSP}234,50)", f"7,4{NBSP}%", "déc.-24"]
    assert texts[2][0] == "0,125"
    # a layout stored before numbers were kept (no "v") still draws its text
    old = {**layout, "cells": [{k: v for k, v in c.items() if k != "v"} for c in layout["cells"]]}
    assert [text for text, *_ in grid(old)[0]] == ["2024", "0.125", "1234567.891"]
