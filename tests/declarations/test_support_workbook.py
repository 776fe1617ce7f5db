"""The dossier as its filled Excel support, and a filled support imported back: values and
tables written as Excel types, LibreOffice recomputing the platform's figures, the import's
report, and every refusal (nothing applied)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from openpyxl.workbook.defined_name import DefinedName

from declarations.services import dossier_table_save, dossier_values_save
from declarations.services.imports import dossier_import_workbook
from fixtures import hostile_uploads as hostile
from fixtures.parity_corpus.libreoffice import cached_values, libreoffice_recalculate
from forms_cms import support as support_module
from forms_cms.models import VersionFile
from forms_cms.support import dossier_support
from forms_cms.workbook.filled import MARKER_NAME
from forms_cms.xmlformat import XmlImportRefused
from tests.helpers import text_of
from workflow.models import Dossier, ValueChange

from ..forms_cms.engine.helpers import workbook_bytes
from ..forms_cms.test_versions import NAMES, SHEETS, upload
from .support_helpers import support_workbook
from .test_online_form import open_dossier

pytestmark = pytest.mark.django_db

ENTRIES = {
    "NOM": "Office du Sud",
    "DATE_CLOTURE": "31/12/2024",
    "FORME": "SAS",
    "EFFECTIF": "12",
    "TAUX": "12,5 %",
    "CAPITAL": "1 000,50",
}
ROWS = [
    {"FIL_NOM": "Alpha", "FIL_CAPITAL": "1000", "FIL_POURCENTAGE": "50 %", "FIL_CATEGORIE": "SA"},
    {"FIL_NOM": "Beta", "FIL_CAPITAL": "2500", "FIL_POURCENTAGE": "25 %", "FIL_CATEGORIE": "SAS"},
    {"FIL_NOM": "Gamma", "FIL_CAPITAL": "300", "FIL_POURCENTAGE": "100 %", "FIL_CATEGORIE": "SA"},
    {"FIL_NOM": "Delta", "FIL_CAPITAL": "-200", "FIL_POURCENTAGE": "10 %", "FIL_CATEGORIE": "SCI"},
]


@pytest.fixture
def version(demo_user):
    return upload("dhup", support_workbook(), user=demo_user("dhup", "gestionnaire"))


@pytest.fixture
def declarant(demo_user):
    return demo_user("dhup", "organisme")


@pytest.fixture
def filled(version, declarant):
    """A dossier with every single input entered and four rows in its table."""
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries=ENTRIES, acting_user=declarant)
        dossier_table_save(
            dossier=dossier, table="Filiales", action="replace", rows=ROWS, acting_user=declarant
        )
        dossier.refresh_from_db()
    return dossier


def edited(data: bytes, change) -> bytes:
    """The workbook after ``change(wb)``, saved by openpyxl."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rezipped(data: bytes, extra: dict[str, bytes] | None = None, replace=None) -> bytes:
    """The zip with parts added, or a part's bytes changed by ``replace(name, bytes)``."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            content = source.read(item)
            if replace is not None:
                content = replace(item.filename, content)
            target.writestr(item, content)
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def state(dossier):
    with schema_context("dhup"):
        fresh = Dossier.objects.get(pk=dossier.pk)
        return fresh.values, fresh.revision, ValueChange.objects.filter(dossier=dossier).count()


def refused(dossier, declarant, data: bytes, filename="support.xlsx") -> list[str]:
    """Import ``data``; assert it is refused and nothing changed; the report's messages."""
    before = state(dossier)
    with schema_context("dhup"), pytest.raises(XmlImportRefused) as caught:
        dossier_import_workbook(
            dossier=dossier, data=data, acting_user=declarant, filename=filename
        )
    assert state(dossier) == before
    report = caught.value.report
    return report.errors + [f"{name} : {reason}" for name, reason in report.invalid]


def test_download_writes_excel_types_and_all_table_rows(filled, declarant, client_for):
    client = client_for("dhup", declarant)
    response = client.get(f"/declarations/dossiers/{filled.pk}/support.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    fiche = wb["Fiche"]
    assert fiche["B1"].value == "Office du Sud" and fiche["B1"].data_type == "s"
    assert fiche["B2"].value == dt.datetime(2024, 12, 31)  # a date under its date format
    assert fiche["B2"].number_format == "dd/mm/yyyy"
    assert fiche["B3"].value == "SAS"
    assert (fiche["B4"].value, fiche["B5"].value, fiche["B6"].value) == (12, 0.125, 1000.5)
    assert fiche["B7"].value == "=B6*B5+'Synthèse'!B1"  # computed cells keep their formulas
    sheet = wb["Filiales"]
    table = sheet.tables["Filiales"]
    assert table.ref == "B3:G7"  # header + four rows (the template had one)
    assert [sheet.cell(r, 2).value for r in range(4, 8)] == ["Alpha", "Beta", "Gamma", "Delta"]
    assert sheet["C7"].value == -200 and sheet["D5"].value == 0.25
    for r in range(4, 8):  # the calculated column in every row
        assert sheet.cell(r, 5).value.startswith("=Filiales[[#This Row],[Capital]]")
        assert sheet.cell(r, 3).number_format == "#,##0.00"  # the template row's style
    # what lay below the table moved down, and the references to it with it
    assert sheet["B9"].value == "Total" and sheet["C9"].value == "=SUM(C4:C7)"
    assert wb.defined_names["OUT_BELOW_CAPITAL"].attr_text == "Filiales!$C$9"
    assert wb["Synthèse"]["B3"].value == "=SUM(Filiales!$C$4:$C$7)"
    assert str(sheet.data_validations.dataValidation[0].sqref) == "B4:B7"
    marker = wb.defined_names[MARKER_NAME]
    assert marker.hidden and filled.organism.siren in marker.attr_text


def test_support_form_sent_without_a_file_says_so(filled, declarant, client_for):
    client = client_for("dhup", declarant)
    response = client.post(f"/declarations/dossiers/{filled.pk}/xml/", {"kind": "support"})
    page = text_of(response)
    assert page.count("Champ requis.") == 1  # under the support's field, not the XML's
    assert page.index("Importer un support Excel rempli") < page.index("Champ requis.")


def test_dossier_and_xml_pages_link_the_support(filled, declarant, client_for):
    client = client_for("dhup", declarant)
    url = f"/declarations/dossiers/{filled.pk}/support.xlsx"
    page = text_of(client.get(f"/declarations/dossiers/{filled.pk}/"))
    assert url in page and "Télécharger le support Excel rempli" in page
    assert page.index("Télécharger en PDF") < page.index("Télécharger le support Excel rempli")
    xml_page = text_of(client.get(f"/declarations/dossiers/{filled.pk}/xml/"))
    assert url in xml_page and "Importer un support Excel rempli" in xml_page


def test_libreoffice_recomputes_the_platform_figures(filled, tmp_path):
    """The downloaded support, recalculated by LibreOffice: every computed cell and every
    calculated column of every row equals what the platform computed."""
    with schema_context("dhup"):
        data = dossier_support(filled)
    source = tmp_path / "in" / "support.xlsx"
    source.parent.mkdir()
    source.write_bytes(data)
    (output,) = libreoffice_recalculate([source], tmp_path / "out")
    wb = openpyxl.load_workbook(output)
    saved = cached_values(Path(output))
    checked = 0
    for name, dn in wb.defined_names.items():
        if name not in filled.computed:
            continue
        ((sheet, coord),) = list(dn.destinations)
        value = saved[(sheet, coord.replace("$", ""))]
        assert value == pytest.approx(filled.computed[name], abs=1e-9), name
        checked += 1
    assert checked >= 20
    rows = filled.computed["Filiales"]
    assert len(rows) == 4
    for index, row in enumerate(rows):
        r = 4 + index
        assert saved[("Filiales", f"E{r}")] == pytest.approx(row["FIL_PART"])
        assert saved[("Filiales", f"G{r}")] == pytest.approx(row["FIL_RATIO"])


def test_round_trip_unchanged_then_edited(filled, declarant, client_for):
    with schema_context("dhup"):
        data = dossier_support(filled)
        report = dossier_import_workbook(dossier=filled, data=data, acting_user=declarant)
    assert report.applied == [] and "Filiales" in report.unchanged and "NOM" in report.unchanged

    def change(wb):
        wb["Fiche"]["B6"] = 2000  # capital
        wb["Fiche"]["B1"] = None  # cleared
        wb["Fiche"]["B2"] = dt.datetime(2025, 6, 30)
        wb["Filiales"]["C5"] = 2600  # Beta's capital

    client = client_for("dhup", declarant)
    upload_file = SimpleUploadedFile("support.xlsx", edited(data, change))
    response = client.post(f"/declarations/dossiers/{filled.pk}/xml/", {"support": upload_file})
    page = text_of(response)
    assert response.status_code == 200
    assert "Import du support Excel effectué" in page, page
    assert "Champ requis." not in page  # the XML form is left alone
    with schema_context("dhup"):
        fresh = Dossier.objects.get(pk=filled.pk)
        assert fresh.values["CAPITAL"] == 2000
        assert "NOM" not in fresh.values
        assert fresh.values["DATE_CLOTURE"] == 45838  # 30/06/2025
        assert fresh.values["Filiales"][1]["FIL_CAPITAL"] == 2600
        assert len(fresh.values["Filiales"]) == 4
        assert fresh.computed["CAPITAL_PONDERE"] == pytest.approx(2000 * 0.125 + 3700)
        sources = set(
            ValueChange.objects.filter(dossier=filled, field_name="CAPITAL").values_list(
                "source", flat=True
            )
        )
        assert ValueChange.Source.IMPORT in sources


def test_table_rows_added_removed_and_blank_rows_dropped(filled, declarant):
    with schema_context("dhup"):
        data = dossier_support(filled)
        shorter = dict(filled.values)
        shorter["Filiales"] = filled.values["Filiales"][:1]

    def blank_rows(wb):  # rows 2–4 emptied: the table keeps them, the import drops them
        for r in range(5, 8):
            for c in (2, 3, 4, 6):
                wb["Filiales"].cell(r, c).value = None

    with schema_context("dhup"):
        report = dossier_import_workbook(
            dossier=filled, data=edited(data, blank_rows), acting_user=declarant
        )
        fresh = Dossier.objects.get(pk=filled.pk)
    assert [name for name, _old, _new in report.applied] == ["Filiales"]
    assert [row["FIL_NOM"] for row in fresh.values["Filiales"]] == ["Alpha"]
    # and the download shrinks the table back to one row, the total moving up again
    with schema_context("dhup"):
        wb = openpyxl.load_workbook(io.BytesIO(dossier_support(fresh)))
    assert wb["Filiales"].tables["Filiales"].ref == "B3:G4"
    assert wb["Filiales"]["C6"].value == "=SUM(C4:C4)"


def test_computed_values_saved_by_the_spreadsheet_are_compared(filled, declarant, tmp_path):
    """A support recalculated by LibreOffice carries computed values: one changed by hand in
    the file is reported as a difference, and not applied."""
    with schema_context("dhup"):
        data = dossier_support(filled)
    source = tmp_path / "in" / "support.xlsx"
    source.parent.mkdir()
    source.write_bytes(data)
    (output,) = libreoffice_recalculate([source], tmp_path / "out")
    recalculated = output.read_bytes()
    with zipfile.ZipFile(io.BytesIO(recalculated)) as z:
        sheet_part = next(
            n for n in z.namelist() if n.startswith("xl/worksheets/sheet") and b"B6*B5" in z.read(n)
        )

    def tamper(name, content):
        if name != sheet_part:
            return content
        # the cached value of B7 (CAPITAL_PONDERE)
        return re.sub(rb'(<c r="B7"[^>]*>.*?<v>)[^<]*(</v>)', rb"\g<1>1\g<2>", content, count=1)

    with schema_context("dhup"):
        report = dossier_import_workbook(
            dossier=filled, data=rezipped(recalculated, replace=tamper), acting_user=declarant
        )
        fresh = Dossier.objects.get(pk=filled.pk)
    assert [(n, imported) for n, imported, _now in report.computed_differences] == [
        ("CAPITAL_PONDERE", 1)
    ]
    assert fresh.computed["CAPITAL_PONDERE"] != 1
    assert "CAPITAL_PONDERE" in report.computed_ignored


def test_support_from_the_forms_page_filled_by_hand(filled, declarant, version):
    """The version's own workbook (no marker), a row typed just under the table (Excel
    stretches the table over it and moves nothing)."""
    with schema_context("dhup"):
        source = bytes(
            VersionFile.objects.get(version=version, kind=VersionFile.Kind.SOURCE).content
        )

    def fill(wb):
        wb["Fiche"]["B1"] = "Saisi à la main"
        wb["Fiche"]["B6"] = "1 234,56"  # an amount typed as text, French style: accepted
        sheet = wb["Filiales"]
        for r, (nom, capital) in enumerate([("Un", 10), ("Deux", 20)], start=4):
            sheet.cell(r, 2, nom)
            sheet.cell(r, 3, capital)
            sheet.cell(r, 4, 0.5)
        sheet["E5"] = sheet["E4"].value
        sheet["G5"] = sheet["G4"].value
        sheet.tables["Filiales"].ref = "B3:G5"

    with schema_context("dhup"):
        dossier_import_workbook(dossier=filled, data=edited(source, fill), acting_user=declarant)
        fresh = Dossier.objects.get(pk=filled.pk)
    assert fresh.values["NOM"] == "Saisi à la main"
    assert fresh.values["CAPITAL"] == 1234.56
    assert "FORME" not in fresh.values  # blank in the workbook: cleared
    assert [r["FIL_NOM"] for r in fresh.values["Filiales"]] == ["Un", "Deux"]


# --- refusals: a clear message, nothing applied ------------------------------------------------


@pytest.fixture
def support(filled):
    with schema_context("dhup"):
        return dossier_support(filled)


def test_formula_typed_over_an_input_cell(filled, declarant, support):
    def change(wb):
        wb["Fiche"]["B6"] = "=1000*2"
        wb["Filiales"]["C5"] = "=C4*2"

    messages = refused(filled, declarant, edited(support, change))
    assert (
        "Feuille « Fiche », cellule B6 (CAPITAL) : une formule a été saisie dans un champ de "
        "saisie" in messages[0]
    )
    assert "Feuille « Filiales », cellule C5 (tableau Filiales, ligne 2, colonne" in messages[1]


def test_formula_of_a_computed_cell_changed_or_replaced(filled, declarant, support):
    def change(wb):
        wb["Fiche"]["B7"] = "=B6*2"
        wb["Fiche"]["B9"] = 2024
        wb["Filiales"]["E6"] = 12

    messages = refused(filled, declarant, edited(support, change))
    assert any(
        m.startswith("Feuille « Fiche », cellule B7 (CAPITAL_PONDERE) : la formule de ce champ "
                     "calculé a été modifiée") for m in messages
    ), messages  # fmt: skip
    assert any(m.startswith("Feuille « Fiche », cellule B9 (ANNEE)") and "remplacée par une "
               "valeur" in m for m in messages)  # fmt: skip
    assert any("cellule E6 (tableau Filiales, ligne 3" in m and "remplacée" in m for m in messages)


def test_text_in_an_amount_cell_and_a_choice_out_of_its_list(filled, declarant, support):
    def change(wb):
        wb["Fiche"]["B6"] = "beaucoup"
        wb["Fiche"]["B3"] = "SARL"
        wb["Fiche"]["B4"] = 12.5

    messages = refused(filled, declarant, edited(support, change))
    assert any(m.startswith("Feuille « Fiche », cellule B6 (CAPITAL) : « beaucoup » n'est pas")
               for m in messages), messages  # fmt: skip
    assert any("cellule B3 (FORME)" in m and "SA, SAS, SCI" in m for m in messages)
    assert any("cellule B4 (EFFECTIF)" in m and "entier" in m for m in messages)


def test_renamed_sheet_missing_name_and_altered_table(filled, declarant, support):
    def rename(wb):
        wb["Fiche"].title = "Ma fiche"

    messages = refused(filled, declarant, edited(support, rename))
    assert any("La feuille « Fiche » est absente du classeur" in m for m in messages), messages

    def unname(wb):
        del wb.defined_names["CAPITAL"]

    messages = refused(filled, declarant, edited(support, unname))
    assert any("Le nom CAPITAL (feuille « Fiche ») n'existe plus" in m for m in messages)

    def headers(wb):
        wb["Filiales"].tables["Filiales"].tableColumns[1].name = "Montant"
        wb["Filiales"]["C3"] = "Montant"

    messages = refused(filled, declarant, edited(support, headers))
    assert any("Le tableau « Filiales » n'a plus ses colonnes" in m for m in messages)


def test_more_rows_than_the_cap(filled, declarant, support):
    def grow(wb):  # the cap is 5: six rows
        sheet = wb["Filiales"]
        sheet.tables["Filiales"].ref = "B3:G9"
        for r in (8, 9):
            sheet.cell(r, 2, f"F{r}")

    messages = refused(filled, declarant, edited(support, grow))
    assert any("Le tableau « Filiales » a 6 lignes" in m for m in messages), messages


def test_macros_external_links_and_what_is_not_a_workbook(filled, declarant, support):
    messages = refused(filled, declarant, support, filename="support.xlsm")
    assert "contient des macros" in messages[0]
    messages = refused(filled, declarant, rezipped(support, {"xl/vbaProject.bin": b"\0" * 64}))
    assert "contient des macros" in messages[0]
    link = b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    linked = rezipped(support, {"xl/externalLinks/externalLink1.xml": link})
    messages = refused(filled, declarant, linked)
    assert "liaisons vers d'autres classeurs" in messages[0]
    messages = refused(filled, declarant, b"NOM;CAPITAL\nOffice;1000\n", filename="support.csv")
    assert "n'est pas un classeur Excel (.xlsx)" in messages[0]
    messages = refused(filled, declarant, b"PK\x03\x04 broken", filename="support.xlsx")
    assert "endommagé" in messages[0]


@pytest.mark.parametrize("kind", sorted(hostile.HOSTILE))
def test_hostile_supports_are_refused_and_nothing_changes(filled, declarant, support, kind):
    """Issue 17: a far cell, a sheet-wide merge, a bomb, macros, links, OLE or ActiveX in a
    filled support: the guard's French message, the dossier untouched."""
    build, expected = hostile.HOSTILE[kind]
    messages = refused(filled, declarant, build(support))
    assert len(messages) == 1 and expected in messages[0], messages


def test_hostile_support_refused_on_the_import_page(filled, declarant, support, client_for):
    before = state(filled)
    build, expected = hostile.HOSTILE["far_cell"]
    response = client_for("dhup", declarant).post(
        f"/declarations/dossiers/{filled.pk}/xml/",
        {"support": SimpleUploadedFile("support.xlsx", build(support))},
    )
    assert response.status_code == 200
    assert expected in text_of(response)
    assert state(filled) == before


def test_file_too_big_refused_before_parsing(filled, declarant, support, monkeypatch, client_for):
    monkeypatch.setattr(support_module, "MAX_SUPPORT_BYTES", len(support) - 1)
    messages = refused(filled, declarant, support)
    assert "au-delà de la limite" in messages[0]
    # the page refuses it from its size alone
    from declarations import views_xml

    monkeypatch.setattr(views_xml, "MAX_SUPPORT_BYTES", len(support) - 1)
    before = state(filled)
    response = client_for("dhup", declarant).post(
        f"/declarations/dossiers/{filled.pk}/xml/",
        {"support": SimpleUploadedFile("support.xlsx", support)},
    )
    assert "Le fichier dépasse" in text_of(response)
    assert state(filled) == before


def test_zip_bomb_refused_from_the_directory(filled, declarant, support):
    bomb = rezipped(support, {"xl/media/padding.bin": b"\0" * (81 * 1024 * 1024)})
    messages = refused(filled, declarant, bomb)
    assert "démesuré" in messages[0]


def test_workbook_of_another_form_or_version(filled, declarant, support, client_for):
    other = workbook_bytes(SHEETS, NAMES)
    messages = refused(filled, declarant, other)
    assert "Ce classeur n'est pas le support du formulaire" in messages[0]

    def older(wb):
        text = wb.defined_names[MARKER_NAME].attr_text.split("|")
        text[2] = "7"
        wb.defined_names[MARKER_NAME].attr_text = "|".join(text)

    messages = refused(filled, declarant, edited(support, older))
    assert "Ce classeur est le support du formulaire ER_SOCIAUX version 7" in messages[0]
    assert "version 1" in messages[0]

    def another_siren(wb):
        text = wb.defined_names[MARKER_NAME].attr_text.split("|")
        text[3] = '999999999"'
        wb.defined_names[MARKER_NAME].attr_text = "|".join(text)

    messages = refused(filled, declarant, edited(support, another_siren))
    assert "SIREN 999999999" in messages[0]
    # on the page: the French message, « Classeur refusé »
    response = client_for("dhup", declarant).post(
        f"/declarations/dossiers/{filled.pk}/xml/",
        {"support": SimpleUploadedFile("autre.xlsx", other)},
    )
    page = text_of(response)
    assert "Classeur refusé — aucune valeur n'a été modifiée" in page
    assert "n'est pas le support du formulaire" in page


def test_marker_added_by_hand_to_another_workbook_is_not_trusted(filled, declarant):
    with schema_context("dhup"):
        siren = filled.organism.siren

    def mark(wb):
        wb.defined_names[MARKER_NAME] = DefinedName(
            MARKER_NAME, attr_text=f'"ER_SOCIAUX|2024|1|{siren}"'
        )

    messages = refused(filled, declarant, edited(workbook_bytes(SHEETS, NAMES), mark))
    assert any("La feuille « Fiche » est absente" in m for m in messages), messages


# --- the ER Sociaux: five tables stacked on one sheet, each with its totals below -------------


def _plausible(rng, info):
    if info.data_type == "amount":
        return round(rng.uniform(-1e5, 5e6), 2)
    if info.data_type == "integer":
        return float(rng.randint(0, 5000))
    if info.data_type == "percentage":
        return round(rng.random(), 4)
    if info.data_type == "date":
        return float(45292 + rng.randint(0, 365))
    if info.data_type == "choice":
        return rng.choice(info.choices)
    return f"Texte {rng.randint(1, 999)}"


def test_er_sociaux_tables_grown_and_recomputed_by_libreoffice(demo_user, tmp_path):
    """Every input of the ER Sociaux and 3, 0, 7, 2 and 5 rows in its five lists (stacked on
    « Listes annexes », their totals below each): LibreOffice recomputes every computed field
    and every calculated cell as the platform did, and the recalculated file imports back
    unchanged, without a single difference."""
    import random

    from declarations.services.imports import dossier_import_workbook as import_workbook
    from fixtures.form_workbooks import form_workbook_build
    from forms_cms.fields import version_fields, version_tables
    from workflow.actions import dossier_values_apply

    path = form_workbook_build("er_sociaux", tmp_path / "er.xlsx")
    er = upload("dhup", path.read_bytes(), user=demo_user("dhup", "gestionnaire"))
    declarant = demo_user("dhup", "organisme")
    dossier = open_dossier(declarant)
    rng = random.Random(16)
    with schema_context("dhup"):
        values = {
            name: _plausible(rng, info)
            for name, info in version_fields(er).items()
            if not info.computed
        }
        tables = version_tables(er)
        for count, (name, meta) in zip((3, 0, 7, 2, 5), tables.items(), strict=True):
            values[name] = [{c.name: _plausible(rng, c) for c in meta.inputs} for _ in range(count)]
        dossier_values_apply(
            dossier=dossier, values=values, acting_user=declarant, source=ValueChange.Source.IMPORT
        )
        dossier.refresh_from_db()
        data = dossier_support(dossier)
    source = tmp_path / "in" / "er.xlsx"
    source.parent.mkdir()
    source.write_bytes(data)
    (output,) = libreoffice_recalculate([source], tmp_path / "out")
    saved = cached_values(Path(output))
    wb = openpyxl.load_workbook(output)
    compared = 0
    with schema_context("dhup"):
        fields = version_fields(er)
    for name, info in fields.items():
        if not info.computed:
            continue
        dn = wb.defined_names.get(name) or wb[info.sheet].defined_names.get(name)
        ((sheet, coord),) = list(dn.destinations)
        value = saved[(sheet.replace("''", "'"), coord.replace("$", ""))]
        platform = dossier.computed[name]
        if isinstance(platform, dict):
            assert value == platform["error"], name
        elif isinstance(platform, int | float):
            assert value == pytest.approx(platform, rel=1e-9, abs=1e-6), name
        else:
            assert value == platform, name
        compared += 1
    assert compared > 3000
    for name, meta in tables.items():
        sheet = wb[meta.sheet]
        table = sheet.tables[name]
        first_col, first_row = openpyxl.utils.cell.range_boundaries(table.ref)[:2]
        rows = dossier.computed.get(name) or []
        assert len(rows) == len(dossier.values[name])
        offset = first_col - meta.columns[0].column
        for index, row in enumerate(rows):
            for column in meta.columns:
                if column.computed:
                    letter = openpyxl.utils.get_column_letter(column.column + offset)
                    value = saved[(meta.sheet, f"{letter}{first_row + 1 + index}")]
                    assert value == pytest.approx(row[column.name]), (name, index, column.name)
    with schema_context("dhup"):
        report = import_workbook(dossier=dossier, data=output.read_bytes(), acting_user=declarant)
    assert report.applied == [] and report.computed_differences == []
    assert len(report.computed_ignored) > 3000


def test_support_of_another_version_without_marker_gets_a_hint(filled, declarant, version):
    """A support from Formulaires whose formulas differ (a formula fixed by another version):
    each cell named, and a hint to take this dossier's support."""
    with schema_context("dhup"):
        source = bytes(
            VersionFile.objects.get(version=version, kind=VersionFile.Kind.SOURCE).content
        )

    def older(wb):
        wb["Fiche"]["B7"] = "=B6*B5"

    messages = refused(filled, declarant, edited(source, older))
    assert messages[0].startswith("Feuille « Fiche », cellule B7 (CAPITAL_PONDERE)")
    assert "autre version du formulaire" in messages[-1]


def test_download_query_count_is_bounded(
    filled, declarant, client_for, django_assert_max_num_queries
):
    client = client_for("dhup", declarant)
    url = f"/declarations/dossiers/{filled.pk}/support.xlsx"
    client.get(url)  # the version's workbook, fields and tables cached in the process
    # session, user and membership, the dossier with its relations, the policy's reads
    with django_assert_max_num_queries(11, info="support download"):
        assert client.get(url).status_code == 200


def test_rows_inserted_in_excel_anywhere_are_followed(filled, declarant, support):
    """A row inserted at the top of two sheets (as Excel does it: everything below moves,
    and every reference to it): the named cells show where each row went, the formulas
    moved with them are the version's, and the values are read where they now stand."""
    from forms_cms.workbook.filled import RowShift, workbook_rows_shift

    def insert(wb):
        workbook_rows_shift(wb, RowShift("Fiche", 0, 1), None)
        workbook_rows_shift(wb, RowShift("Filiales", 0, 2), None)
        wb["Fiche"]["A1"] = "Une ligne ajoutée"
        wb["Fiche"]["B7"] = 5000  # CAPITAL, one row lower than in the version
        wb["Filiales"]["C7"] = 2600  # Beta's capital, two rows lower

    data = edited(support, insert)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb["Fiche"]["B8"].value == "=B7*B6+'Synthèse'!B1"  # moved as Excel moves it
    with schema_context("dhup"):
        report = dossier_import_workbook(dossier=filled, data=data, acting_user=declarant)
        fresh = Dossier.objects.get(pk=filled.pk)
    assert sorted(name for name, _old, _new in report.applied) == ["CAPITAL", "Filiales"]
    assert fresh.values["CAPITAL"] == 5000
    assert fresh.values["Filiales"][1]["FIL_CAPITAL"] == 2600

    def changed(wb):  # a formula really changed is still refused, rows inserted or not
        insert(wb)
        wb["Fiche"]["B8"] = "=B7*B6"

    messages = refused(filled, declarant, edited(support, changed))
    assert messages[0].startswith("Feuille « Fiche », cellule B8 (CAPITAL_PONDERE)")
