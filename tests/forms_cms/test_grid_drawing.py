"""The sheet grid as Excel draws it: merged headers over hidden rows and columns, outline
groups, wrapped titles, the workbook's numbers and dates through their formats."""

from __future__ import annotations

import io

from harmonia.workbook_safety import workbook_load
from lxml import html as lxml_html
from openpyxl import Workbook
from openpyxl.styles import Alignment, PatternFill

from declarations.grid import GridTable, sheet_stylesheet, sheet_table
from declarations.pdf.render import sheet_html
from forms_cms.fields import FieldInfo, TableMeta
from forms_cms.formats import NBSP, NNBSP
from forms_cms.workbook.catalogue import catalogue_read
from forms_cms.workbook.layout import sheet_layouts


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
    assert rows[1][1][3] == "l w a-center"  # wrapped in Excel: wrapped in its column
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


# --- multivalued tables: the dossier's rows where the template rows stand --------------------
def _column(name, col, *, computed=False, label=None):
    return FieldInfo(name, "S", 2, col, computed, "amount", "#,##0.00", (), label or name, False)


def _table(name, header, first, last, columns, rows, computed=()):
    meta = TableMeta(name=name, sheet="S", header_row=header, first_row=first, last_row=last,
                     totals_row=None, max_rows=10, columns=tuple(columns))  # fmt: skip
    return GridTable(meta, rows, list(computed))


def _drawn(layout, tables, editable):
    tree = lxml_html.fromstring(sheet_table(layout, {}, {}, {}, editable=editable, tables=tables))
    return [
        (tr.findall("th")[0].text_content(), tr.get("data-tb"), tr.get("data-i"))
        for tr in tree.iter("tr")
    ]


def test_a_table_draws_the_dossier_rows_and_the_rows_below_follow():
    """Template rows 3–5 (a pre-filled workbook), one row in the dossier; row 7 hidden; a
    merged range over the template rows is not drawn (it cannot follow the rows)."""
    layout = {
        "name": "S", "max_row": 8, "max_col": 2, "columns": [8.43, 8.43],
        "rows": [[7, 0]], "merged": [[4, 1, 5, 1]],
        "cells": [{"r": 2, "c": 2, "kind": "label", "text": "Montant"},
                  {"r": 3, "c": 2, "kind": "input", "name": "T_MONTANT"},
                  {"r": 4, "c": 1, "kind": "label", "text": "fusion"},
                  {"r": 8, "c": 1, "kind": "label", "text": "Total"}],
    }  # fmt: skip
    table = _table("T", 2, 3, 5, [_column("T_MONTANT", 2, label="Montant")], [{"T_MONTANT": 5}])
    assert _drawn(layout, [table], editable=True) == [
        ("1", None, None),
        ("2", None, None),
        ("3", "T", "0"),
        ("", "T", None),  # the buttons' row, unnumbered
        ("4", None, None),  # sheet row 6
        ("6", None, None),  # sheet row 8 (7 is hidden)
    ]
    html = sheet_table(layout, {}, {}, {}, editable=True, tables=[table])
    assert "fusion" not in html and "rowspan" not in html
    assert 'value="5,00"' in html and 'id="T"' in html
    # the table ends the sheet: a column is added for its row buttons, only where it is edited
    assert html.count("<col ") == 4 and 'class="tb-act"' in html
    read_only = sheet_table(layout, {}, {}, {}, editable=False, tables=[table])
    assert read_only.count("<col ") == 3
    assert "<button" not in read_only and "tb-tools" not in read_only
    assert _drawn(layout, [table], editable=False)[-1] == ("6", None, None)


def test_two_tables_of_one_sheet_each_move_what_follows_them():
    layout = {
        "name": "S", "max_row": 7, "max_col": 3, "columns": [8.43, 8.43, 8.43],
        "cells": [{"r": 2, "c": 1, "kind": "input", "name": "A_X"},
                  {"r": 5, "c": 1, "kind": "input", "name": "B_X"},
                  {"r": 7, "c": 1, "kind": "label", "text": "Fin"}],
    }  # fmt: skip
    a = _table("A", 1, 2, 2, [_column("A_X", 1)], [{}, {}, {}])
    b = _table("B", 4, 5, 5, [_column("B_X", 1)], [])  # empty: one blank row to type in
    assert [head for head, _, _ in _drawn(layout, [a, b], editable=True)] == [
        "1", "2", "3", "4", "", "5", "6", "7", "", "8", "9",
    ]  # fmt: skip
    tree = lxml_html.fromstring(sheet_table(layout, {}, {}, {}, editable=True, tables=[a, b]))
    blank = tree.xpath('//tr[@data-tb="B" and not(@data-tool)]')
    assert len(blank) == 1 and blank[0].get("data-blank") is not None
    assert tree.xpath('//tr[@data-tb="B"]//input')[0].get("data-r") == "7"


def test_the_workbook_look_is_drawn_by_classes_with_their_stylesheet():
    """No style attribute (the Content-Security-Policy forbids them): fills, alignments,
    widths and heights are classes, the sheet's stylesheet holds their sizes and colours."""
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "Titre"
    ws["A1"].fill = PatternFill("solid", fgColor="FFCC00")
    ws["B1"] = 12.5
    ws["C1"] = "centré"
    ws["C1"].alignment = Alignment(horizontal="center")
    ws.column_dimensions["A"].width = 30
    ws.row_dimensions[1].height = 30
    layout = layout_of(wb)
    html = sheet_table(layout, {}, {}, {}, editable=False)
    assert "style=" not in html
    table = lxml_html.fromstring(html)
    title, number, centred = table.findall(".//td")[:3]
    assert "bg-ffcc00" in title.get("class").split()
    assert "a-right" in number.get("class").split()  # a number goes right unless aligned
    assert "a-center" in centred.get("class").split()
    (row,) = table.findall(".//tr")
    assert row.get("class") == "rh-40"  # 30 points
    width = round(30 * 7 + 5)
    assert f"cw-{width}" in [col.get("class") for col in table.iter("col")]

    css = sheet_stylesheet(layout, [])
    total = table.get("class").split()[1]
    assert f"table.sheet.{total}{{width:" in css
    assert f"table.sheet col.cw-{width}{{width:{width}px}}" in css
    assert "table.sheet tr.rh-40{height:40px}" in css
    assert "table.sheet td.bg-ffcc00.bg-ffcc00.bg-ffcc00{background:#ffcc00}" in css
