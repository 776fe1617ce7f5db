"""Multivalued tables in the harmonised XML: XSD, export, import (replace, empty, refusals),
round trip, editors' API."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from lxml import etree
from openpyxl.workbook.defined_name import DefinedName

from declarations.history import table_change_lines
from declarations.models import ApiToken
from declarations.pdf.render import dossier_pdf, pdf_tables, sheet_html, table_rows_html
from declarations.services import dossier_table_save
from declarations.services.imports import dossier_import_xml
from fixtures.parity_corpus.tables import table_workbook
from forms_cms.fields import version_fields, version_tables
from forms_cms.models import VersionFile
from forms_cms.xmlformat import XmlImportRefused, dossier_xml, version_validator
from tests.helpers import text_of
from workflow.models import Dossier, ValueChange

from ..forms_cms.test_versions import upload
from .test_online_form import open_dossier
from .test_xml import document

pytestmark = pytest.mark.django_db
XS = "{http://www.w3.org/2001/XMLSchema}"


def workbook() -> bytes:
    """The « Filiales » form (cap 3) with one single-cell input field, ACT_IMMO."""
    wb = openpyxl.load_workbook(io.BytesIO(table_workbook([], max_rows=3)))
    sheet = wb["Synthèse"]
    sheet["D1"].number_format = "#,##0.00"
    wb.defined_names["ACT_IMMO"] = DefinedName("ACT_IMMO", attr_text="'Synthèse'!$D$1")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def version(demo_user):
    return upload("dhup", workbook(), user=demo_user("dhup", "gestionnaire"))


@pytest.fixture
def declarant(demo_user):
    return demo_user("dhup", "organisme")


@pytest.fixture
def dossier(version, declarant):
    return open_dossier(declarant)


def doc(dossier, champs: str) -> bytes:
    return document(champs, siren=dossier.organism.siren)


def test_xsd_declares_the_table_with_its_cap_and_typed_columns(version):
    with schema_context("dhup"):
        content = bytes(VersionFile.objects.get(version=version, kind=VersionFile.Kind.XSD).content)
    schema = etree.fromstring(content)
    table = schema.find(f"{XS}element[@name='Filiales']")
    assert table is not None
    row = table.find(f"{XS}complexType/{XS}sequence/{XS}element")
    assert (row.get("name"), row.get("minOccurs"), row.get("maxOccurs")) == ("ligne", "0", "3")
    columns = {
        c.get("name"): (c.get("type"), c.get("minOccurs"))
        for c in row.findall(f"{XS}complexType/{XS}all/{XS}element")
    }
    assert columns == {
        "FIL_NOM": ("h:texte", "0"),
        "FIL_CAPITAL": ("h:montant", "0"),
        "FIL_POURCENTAGE": ("h:pourcentage", "0"),
        "FIL_PART": ("h:montant", "0"),
        "FIL_CATEGORIE": ("h:texte", "0"),
        "FIL_RATIO": ("h:pourcentage", "0"),
    }
    # a column is not a global element: it cannot stand directly in « champs »
    assert schema.find(f"{XS}element[@name='FIL_NOM']") is None
    assert schema.find(f"{XS}element[@name='OUT_TOTAL_CAPITAL']") is not None


def save_rows(dossier, user, rows):
    with schema_context("dhup"):
        for index, entries in enumerate(rows):
            dossier_table_save(dossier=dossier, table="Filiales", action="insert", index=index,
                               seen_count=index, entries=entries, acting_user=user)  # fmt: skip
        return Dossier.objects.get(pk=dossier.pk)


def export(dossier) -> bytes:
    with schema_context("dhup"):
        return dossier_xml(Dossier.objects.get(pk=dossier.pk))


def import_(dossier, user, data: bytes):
    with schema_context("dhup"):
        return dossier_import_xml(
            dossier=Dossier.objects.get(pk=dossier.pk), data=data, acting_user=user
        )


def table_of(data: bytes) -> list[dict]:
    root = etree.fromstring(data)
    table = next(e for e in root[0] if etree.QName(e).localname == "Filiales")
    return [{etree.QName(c).localname: c.text for c in line} for line in table]


ALPHA = {"FIL_NOM": "Alpha", "FIL_CAPITAL": "1 000", "FIL_POURCENTAGE": "50 %"}
BETA = {"FIL_NOM": "Beta", "FIL_CAPITAL": "3 000,50", "FIL_CATEGORIE": "SA"}


def test_export_writes_the_rows_with_their_calculated_columns(dossier, declarant):
    save_rows(dossier, declarant, [ALPHA, BETA])
    data = export(dossier)
    with schema_context("dhup"):
        assert version_validator(dossier.form_version).validate(etree.fromstring(data))
    rows = table_of(data)
    assert rows[0] == {
        "FIL_NOM": "Alpha",
        "FIL_CAPITAL": "1000.00",
        "FIL_POURCENTAGE": "0.5",
        "FIL_PART": "500.00",
        "FIL_RATIO": rows[0]["FIL_RATIO"],
    }
    assert list(rows[1]) == ["FIL_NOM", "FIL_CAPITAL", "FIL_PART", "FIL_CATEGORIE", "FIL_RATIO"]
    assert rows[1]["FIL_CATEGORIE"] == "SA"
    # the table comes after the single-cell fields
    names = [etree.QName(e).localname for e in etree.fromstring(data)[0]]
    assert names[-1] == "Filiales" and "OUT_TOTAL_CAPITAL" in names


def test_export_of_an_untouched_dossier_has_an_empty_table(dossier):
    data = export(dossier)
    assert b"<Filiales/>" in data
    with schema_context("dhup"):
        assert version_validator(dossier.form_version).validate(etree.fromstring(data))


def test_import_replaces_all_rows_in_one_write(dossier, declarant):
    save_rows(dossier, declarant, [ALPHA, BETA])
    data = doc(
        dossier,
        "<OUT_TOTAL_CAPITAL>1</OUT_TOTAL_CAPITAL>"
        "<Filiales><ligne><FIL_NOM>Gamma</FIL_NOM><FIL_CAPITAL>300</FIL_CAPITAL>"
        "<FIL_PART>999</FIL_PART></ligne></Filiales>",
    )
    with schema_context("dhup"):
        before = Dossier.objects.get(pk=dossier.pk).revision
    report = import_(dossier, declarant, data)
    with schema_context("dhup"):
        after = Dossier.objects.get(pk=dossier.pk)
        change = ValueChange.objects.filter(dossier=dossier, field_name="Filiales").first()
    assert after.values["Filiales"] == [{"FIL_NOM": "Gamma", "FIL_CAPITAL": 300.0}]
    assert after.computed["OUT_TOTAL_CAPITAL"] == 300
    assert after.revision == before + 1  # one write
    assert [name for name, _, _ in report.applied] == ["Filiales"]
    assert change.source == ValueChange.Source.IMPORT
    assert change.new_value == [{"FIL_NOM": "Gamma", "FIL_CAPITAL": 300.0}]
    assert len(change.old_value) == 2
    assert "Filiales/FIL_PART" in report.computed_ignored
    assert ("Filiales ligne 1 FIL_PART", 999.0, 0.0) in report.computed_differences


def test_a_file_without_the_table_leaves_it_and_an_empty_element_empties_it(dossier, declarant):
    save_rows(dossier, declarant, [ALPHA])
    import_(dossier, declarant, doc(dossier, "<ACT_IMMO>5</ACT_IMMO>"))
    with schema_context("dhup"):
        assert len(Dossier.objects.get(pk=dossier.pk).values["Filiales"]) == 1
    report = import_(dossier, declarant, doc(dossier, "<Filiales/>"))
    assert [name for name, _, _ in report.applied] == ["Filiales"]
    with schema_context("dhup"):
        after = Dossier.objects.get(pk=dossier.pk)
    assert after.values["Filiales"] == []
    assert after.computed["OUT_TOTAL_CAPITAL"] == 0


def refusal(dossier, user, champs: str):
    with schema_context("dhup"):
        before = Dossier.objects.get(pk=dossier.pk)
    with pytest.raises(XmlImportRefused) as caught:
        import_(dossier, user, doc(dossier, "<ACT_IMMO>7</ACT_IMMO>" + champs))
    with schema_context("dhup"):
        after = Dossier.objects.get(pk=dossier.pk)
    assert (after.values, after.revision) == (before.values, before.revision)
    return caught.value.report


def test_more_rows_than_the_cap_are_refused_naming_table_and_cap(dossier, declarant):
    save_rows(dossier, declarant, [ALPHA])
    lines = "".join(f"<ligne><FIL_NOM>F{i}</FIL_NOM></ligne>" for i in range(4))
    report = refusal(dossier, declarant, f"<Filiales>{lines}</Filiales>")
    assert report.errors == [
        "Le tableau « Filiales » a 4 lignes dans le fichier ; il en admet 3 au plus : "
        "retirez-en 1 (aucune ligne n'a été importée)."
    ]


def test_unknown_column_and_wrong_value_name_table_row_and_column(dossier, declarant):
    report = refusal(
        dossier,
        declarant,
        "<Filiales>\n<ligne><FIL_NOM>A</FIL_NOM></ligne>"
        "<ligne><FIL_NOM>B</FIL_NOM><FIL_INCONNU>1</FIL_INCONNU></ligne></Filiales>",
    )
    assert report.unknown == [
        (
            "Filiales",
            "ligne 2 : colonne « FIL_INCONNU » inconnue dans ce tableau (colonnes : FIL_NOM, "
            "FIL_CAPITAL, FIL_POURCENTAGE, FIL_PART, FIL_CATEGORIE, FIL_RATIO)",
        )
    ]
    # all on one line: the row is still found
    report = refusal(
        dossier,
        declarant,
        "<Filiales><ligne><FIL_CAPITAL>1</FIL_CAPITAL></ligne><ligne><FIL_CAPITAL>1</FIL_CAPITAL>"
        "</ligne><ligne><FIL_CAPITAL>douze</FIL_CAPITAL></ligne></Filiales>",
    )
    assert report.invalid == [
        (
            "Filiales",
            "ligne 3, colonne « Capital (FIL_CAPITAL) » : montant attendu (chiffres, point "
            "décimal, 2 décimales au plus, ex. 1234.56)",
        )
    ]
    report = refusal(
        dossier,
        declarant,
        "<Filiales><ligne><FIL_NOM>A</FIL_NOM><FIL_NOM>B</FIL_NOM></ligne></Filiales>",
    )
    assert report.invalid == [("Filiales", "ligne 1 : colonne « FIL_NOM » présente plusieurs fois")]
    # a column directly in champs, or something else than a row in the table
    report = refusal(dossier, declarant, "<FIL_NOM>A</FIL_NOM>")
    assert [name for name, _ in report.unknown] == ["FIL_NOM"]
    report = refusal(dossier, declarant, "<Filiales><FIL_NOM>A</FIL_NOM></Filiales>")
    assert [name for name, _ in report.invalid] == ["Filiales"]


@pytest.mark.parametrize(
    "rows", [[], [ALPHA], [ALPHA, BETA, {"FIL_NOM": "Vide"}]], ids=["vide", "une", "trois"]
)
def test_round_trip_gives_the_same_bytes(dossier, declarant, rows):
    save_rows(dossier, declarant, rows)
    first = export(dossier)
    report = import_(dossier, declarant, first)
    assert report.applied == [] and "Filiales" in report.unchanged
    assert export(dossier) == first
    # and into another state: the file's rows come back exactly
    import_(dossier, declarant, doc(dossier, "<Filiales><ligne/><ligne/></Filiales>"))
    assert export(dossier) != first
    import_(dossier, declarant, first)
    assert export(dossier) == first


def test_editors_api_imports_and_exports_a_table(version, declarant, client_for):
    with schema_context("dhup"):
        _, key = ApiToken.issue(user=declarant, name="Logiciel comptable")
    client = client_for("dhup")
    siren = declarant.membership.organism.siren
    body = document(
        "<Filiales><ligne><FIL_NOM>Alpha</FIL_NOM><FIL_CAPITAL>10.5</FIL_CAPITAL></ligne>"
        "</Filiales>",
        siren=siren,
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    response = client.post(
        "/api/v1/declarations/import", body, content_type="application/xml", **headers
    )
    assert response.status_code == 200, response.content
    assert response.json()["rapport"]["applique"] == [
        {"champ": "Filiales", "avant": None, "apres": [{"FIL_NOM": "Alpha", "FIL_CAPITAL": 10.5}]}
    ]
    exported = client.get("/api/v1/declarations/ER_SOCIAUX/2024/xml", **headers)
    assert table_of(exported.content) == [
        {"FIL_NOM": "Alpha", "FIL_CAPITAL": "10.50", "FIL_PART": "0.00", "FIL_RATIO": "0"}
    ]
    lines = "<ligne/>" * 4
    refused = client.post(
        "/api/v1/declarations/import",
        document(f"<Filiales>{lines}</Filiales>", siren=siren),
        content_type="application/xml",
        **headers,
    )
    assert refused.status_code == 422
    assert "admet 3 au plus" in refused.json()["rapport"]["erreurs"][0]


def test_xml_page_reports_a_table_by_its_row_count(dossier, declarant, client_for):
    client = client_for("dhup", declarant)
    body = doc(dossier, "<Filiales><ligne/><ligne/></Filiales>")
    url = f"/declarations/dossiers/{dossier.pk}/xml/"
    response = client.post(url, {"file": SimpleUploadedFile("d.xml", body)})
    assert response.status_code == 200
    assert "2 lignes" in response.content.decode()


def test_xml_page_says_which_rows_changed_and_labels_calculated_differences(
    dossier, declarant, client_for
):
    save_rows(dossier, declarant, [ALPHA, BETA])
    body = doc(
        dossier,
        "<Filiales><ligne><FIL_NOM>Alpha</FIL_NOM><FIL_CAPITAL>2500</FIL_CAPITAL>"
        "<FIL_PART>1234.5</FIL_PART></ligne></Filiales>",
    )
    client = client_for("dhup", declarant)
    url = f"/declarations/dossiers/{dossier.pk}/xml/"
    page = text_of(client.post(url, {"file": SimpleUploadedFile("d.xml", body)}))
    applied = page[page.index('data-testid="import-applied"') :]
    assert "2 lignes" in applied and "1 ligne" in applied
    assert "Capital :" in applied and "2\u202f500,00" in applied.replace("\xa0", "\u202f")
    differences = page[page.index('data-testid="import-differences"') :]
    assert "Filiales, ligne 1 — Part" in differences
    assert "1\u202f234,50" in differences.replace("\xa0", "\u202f")  # French format


def test_history_describes_a_table_change_as_rows_added_removed_changed(
    dossier, declarant, client_for
):
    save_rows(dossier, declarant, [ALPHA, BETA])
    import_(
        dossier,
        declarant,
        doc(
            dossier,
            "<Filiales><ligne><FIL_NOM>Alpha</FIL_NOM><FIL_CAPITAL>2000</FIL_CAPITAL>"
            "<FIL_POURCENTAGE>0.5</FIL_POURCENTAGE></ligne>"
            "<ligne><FIL_NOM>Gamma</FIL_NOM></ligne><ligne><FIL_NOM>Delta</FIL_NOM></ligne>"
            "</Filiales>",
        ),
    )
    with schema_context("dhup"):
        change = ValueChange.objects.filter(dossier=dossier, field_name="Filiales").first()
        meta = version_tables(dossier.form_version)["Filiales"]
    lines = table_change_lines(meta, change.old_value, change.new_value)
    assert [line.replace("\u202f", " ") for line in lines] == [
        "ligne 1 modifiée : Capital : 1 000,00 → 2 000,00",
        "ligne 2 modifiée : Nom : Beta → Gamma ; Capital : 3 000,50 → vide ; Catégorie : SA → vide",
        "ligne 3 ajoutée (Nom : Delta)",
    ]
    assert table_change_lines(meta, [{"FIL_NOM": "A"}, {"FIL_NOM": "B"}], [{"FIL_NOM": "B"}]) == [
        "ligne 1 supprimée (Nom : A)"
    ]
    response = client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/historique/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Tableau « Filiales »" in page and "ligne 3 ajoutée (Nom : Delta)" in page


def test_pdf_prints_a_table_rows_under_a_repeated_header(dossier, declarant):
    saved = save_rows(dossier, declarant, [ALPHA, BETA])
    with schema_context("dhup"):
        tables = pdf_tables(saved, None, None)
        pdf = dossier_pdf(saved)
    assert pdf.startswith(b"%PDF")
    ((meta, rows, computed_rows),) = tables
    html = table_rows_html(meta, rows, computed_rows)
    head, body = html.split("</thead>")
    assert "<thead>" in head and "Nom" in head and "Part" in head and "Beta" not in head
    assert body.count("<tr>") == 2 and "Alpha" in body and "Beta" in body
    assert "500,00" in body  # the calculated column
    assert "Aucune ligne." in table_rows_html(meta, [], None)


def test_pdf_draws_a_table_where_it_stands_in_its_sheet(dossier, declarant):
    """The sheet's rows above the table, then every row of the list, then the totals below
    it; the template row is not drawn a second time."""
    saved = save_rows(dossier, declarant, [ALPHA, BETA])
    with schema_context("dhup"):
        tables = pdf_tables(saved, None, None)
        layout = saved.form_version.sheets.get(name="Filiales").layout
        fields = version_fields(saved.form_version)
    html, _ = sheet_html(layout, fields, saved.values, saved.computed, tables)
    title, list_and_after = html.split('<table class="multi">')
    assert "Filiales et participations" in title and "Alpha" not in title
    rows, after = list_and_after.split("</table>", 1)
    assert "Alpha" in rows and "Beta" in rows
    assert "Total" in after and "Alpha" not in after
    assert html.count('<table class="multi">') == 1
