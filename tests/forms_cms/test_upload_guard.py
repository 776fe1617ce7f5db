"""The upload guard (``harmonia.workbook_safety``) against hostile workbooks: each refused with
a French message naming the part, sheet or cell, before openpyxl reads anything; a legitimate
workbook passes and its real extent is measured."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from harmonia.workbook_safety import (
    LIST_CAPS,
    ExtentCaps,
    WorkbookFileError,
    WorkbookUnreadable,
    workbook_file_check,
    workbook_open,
)

from fixtures import hostile_uploads as hostile
from fixtures.form_workbooks import form_workbook_build


def refusal(data: bytes, filename: str = "formulaire.xlsx", **caps) -> WorkbookFileError:
    with pytest.raises(WorkbookFileError) as info:
        workbook_file_check(data, filename, **caps)
    assert f"« {filename} »" in info.value.message
    return info.value


@pytest.mark.parametrize("name", sorted(hostile.HOSTILE))
def test_every_hostile_file_is_refused_with_its_reason(name):
    build, expected = hostile.HOSTILE[name]
    error = refusal(build())
    assert expected in error.message
    assert not isinstance(error, WorkbookUnreadable)  # refused for what it holds
    assert error.message.rstrip().endswith(".")


def test_the_messages_say_what_to_do():
    assert "supprimez les lignes et les colonnes vides" in refusal(hostile.far_cell()).message
    assert "« Bilan »" in refusal(hostile.far_cell()).message
    macro = refusal(hostile.macro_enabled(), "support.xlsm").message
    assert "(xl/vbaProject.bin)" in macro and "« Classeur Excel (*.xlsx) »" in macro
    assert "Rompre la liaison" in refusal(hostile.external_link()).message
    assert "objet.doc" in refusal(hostile.external_relationship()).message


def test_a_far_cell_without_a_dimension_is_found_by_its_address():
    data = hostile.far_cell()
    sheet = zipfile.ZipFile(io.BytesIO(data)).read(hostile.SHEET)
    data = hostile.rezipped(data, {hostile.SHEET: re.sub(rb"<dimension [^>]*/>", b"", sheet)})
    message = refusal(data).message
    assert "a une ligne n° 1\u202f048\u202f576" in message


def test_a_far_cell_in_a_near_row_is_found_by_its_address():
    """openpyxl places a cell by its own ``r``, whatever its row says."""
    base = hostile.workbook_bytes()
    sheet = zipfile.ZipFile(io.BytesIO(base)).read(hostile.SHEET)
    sheet = re.sub(rb"<dimension [^>]*/>", b"", sheet)
    sheet = sheet.replace(b"</row>", b'<c r="XFD2"><v>1</v></c></row>', 1)
    message = refusal(hostile.rezipped(base, {hostile.SHEET: sheet})).message
    assert "a une cellule en XFD2" in message


def test_a_character_reference_in_an_address_does_not_hide_it():
    base = hostile.workbook_bytes()
    sheet = zipfile.ZipFile(io.BytesIO(base)).read(hostile.SHEET)
    sheet = re.sub(rb"<dimension [^>]*/>", b"", sheet)
    sheet = sheet.replace(b"</row>", b'<c r="&#88;FD1"><v>1</v></c></row>', 1)
    assert (
        "a une cellule en XFD1" in refusal(hostile.rezipped(base, {hostile.SHEET: sheet})).message
    )


def test_prefixed_spreadsheetml_is_measured_too():
    body = (
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<x:sheetData><x:row r="1"><x:c r="ZZZ1"><x:v>1</x:v></x:c></x:row></x:sheetData>'
        b"</x:worksheet>"
    )
    data = hostile.rezipped(hostile.workbook_bytes(), {hostile.SHEET: body})
    assert "a une cellule en ZZZ1" in refusal(data).message


def test_a_merged_range_inside_the_caps_but_too_large_is_refused():
    data = hostile.merged_sheet(ref="A1:CV2000")  # 200,000 cells, within rows and columns
    message = refusal(data).message
    assert "fusionne trop de cellules (A1:CV2000)" in message


def test_too_many_cells_and_too_large_an_area():
    caps = ExtentCaps(max_cells=1_000)
    assert (
        "plus de 1\u202f000 cellules"
        in refusal(hostile.many_cells(1_001), extent_caps=caps).message
    )
    workbook_file_check(hostile.many_cells(900), "f.xlsx", extent_caps=caps)
    base = hostile.workbook_bytes()
    sheet = zipfile.ZipFile(io.BytesIO(base)).read(hostile.SHEET)
    sheet = re.sub(rb"<dimension [^>]*/>", b"", sheet)
    sheet = sheet.replace(b"</sheetData>", b'<row r="40000"><c r="AMJ40000"/></row></sheetData>')
    message = refusal(hostile.rezipped(base, {hostile.SHEET: sheet})).message
    assert "s'étend sur 40\u202f000 lignes et 1\u202f024 colonnes" in message


def test_element_and_size_budgets():
    caps = ExtentCaps(max_elements=500)
    assert "plus de 500 éléments XML" in refusal(hostile.many_cells(300), extent_caps=caps).message
    caps = ExtentCaps(max_xml_bytes=1024)
    assert (
        "au-delà de la limite de 0,0 Mo"
        in refusal(hostile.many_cells(300), extent_caps=caps).message
    )


def test_registry_caps_are_narrower():
    data = hostile.many_cells(10)  # columns A..J
    workbook_file_check(data, "referentiel.xlsx", extent_caps=LIST_CAPS)
    wide = hostile.workbook_bytes((["x"] * 51,))
    message = refusal(wide, "referentiel.xlsx", extent_caps=LIST_CAPS).message
    assert "jusqu'à AY1" in message and "50 colonnes" in message


def test_an_external_hyperlink_and_form_controls_are_accepted():
    workbook_file_check(hostile.hyperlink(), "f.xlsx")
    controls = hostile.rezipped(
        hostile.workbook_bytes(),
        {"xl/ctrlProps/ctrlProp1.xml": b'<formControlPr objectType="CheckBox"/>'},
    )
    workbook_file_check(controls, "f.xlsx")


def test_damaged_xml_is_unreadable_not_a_crash():
    data = hostile.rezipped(hostile.workbook_bytes(), {hostile.SHEET: b"<worksheet><sheetData>"})
    error = refusal(data)
    assert isinstance(error, WorkbookUnreadable)
    assert "partie « xl/worksheets/sheet1.xml » illisible" in error.message


def test_legitimate_workbook_extent_is_measured(tmp_path):
    """ER Sociaux, the largest form (9,804 named cells), is far inside every cap."""
    path = tmp_path / "er_sociaux.xlsx"
    form_workbook_build("er_sociaux", path)
    data = path.read_bytes()
    extent = workbook_file_check(data, "er_sociaux.xlsx")
    caps = ExtentCaps()
    assert max(s.max_row for s in extent.sheets) == 356
    assert max(s.max_col for s in extent.sheets) == 17
    assert extent.cells == 13_500
    assert sum(s.merged_cells for s in extent.sheets) == 314
    assert extent.cells * 7 < caps.max_cells  # a margin of seven ER Sociaux
    assert {s.name for s in extent.sheets} >= {"Listes annexes"}
    wb = workbook_open(data, "er_sociaux.xlsx")
    for sheet in extent.sheets:
        ws = wb[sheet.name]
        assert (ws.max_row, ws.max_column) == (sheet.max_row, sheet.max_col) or sheet.cells == 0


def test_a_sheet_outside_the_worksheets_folder_is_measured_too():
    """openpyxl reads a sheet wherever the workbook's relationship puts it."""
    data = hostile.far_cell()
    archive = zipfile.ZipFile(io.BytesIO(data))
    rels = archive.read("xl/_rels/workbook.xml.rels").replace(
        b"worksheets/sheet1.xml", b"elsewhere/data.xml"
    )
    moved = hostile.rezipped(
        data,
        {
            hostile.SHEET: None,
            "xl/elsewhere/data.xml": archive.read(hostile.SHEET),
            "xl/_rels/workbook.xml.rels": rels,
        },
    )
    assert "« Bilan »" in refusal(moved).message


def test_shared_strings_are_counted_wherever_they_lie():
    strings = "".join(f"<si><t>{n}</t></si>" for n in range(30))
    part = f'<sst xmlns="{hostile.MAIN}" count="30">{strings}</sst>'.encode()
    rels = zipfile.ZipFile(io.BytesIO(hostile.workbook_bytes())).read("xl/_rels/workbook.xml.rels")
    rels = rels.replace(
        b"</Relationships>",
        b'<Relationship Id="rId99" Target="/xl/textes/strings.xml" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
    )
    data = hostile.rezipped(
        hostile.workbook_bytes(),
        {"xl/textes/strings.xml": part, "xl/_rels/workbook.xml.rels": rels},
    )
    assert workbook_file_check(data, "f.xlsx").shared_strings == 30
    message = refusal(data, extent_caps=ExtentCaps(max_shared_strings=20)).message
    assert "plus de 20 textes différents" in message
