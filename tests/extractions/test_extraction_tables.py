"""Multivalued tables in the extractions: one line per row × column with its row number (long
CSV), a file per table keyed by SIREN and row number (wide CSV), a sheet per table (XLSX), the
rows in the XML (valid against the version's XSD)."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest
from django_tenants.utils import schema_context
from lxml import etree

from declarations.services import dossier_table_save
from forms_cms.xmlformat import version_validator
from tests.declarations.test_online_form import declarant, open_dossier  # noqa: F401
from tests.helpers import transmit

from ..forms_cms.test_versions import upload
from ..partners.test_partner_tables import version  # noqa: F401
from .test_extractions import (  # noqa: F401
    _extraction_storage,
    ask,
    campaign,
    download,
    gestionnaire,
    last_extraction,
    long_rows,
    made,
)

pytestmark = pytest.mark.django_db

ROWS = [
    {"FIL_NOM": "Alpha SA", "FIL_CAPITAL": "1 000", "FIL_POURCENTAGE": "50 %"},
    {"FIL_NOM": "=Béta & fils", "FIL_CAPITAL": "3 000,50"},
]


@pytest.fixture
def dossier(version, declarant):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        for index, entries in enumerate(ROWS):
            dossier_table_save(
                dossier=dossier, table="Filiales", action="insert", index=index,
                seen_count=index, entries=entries, acting_user=declarant,
            )  # fmt: skip
    transmit(dossier, declarant)
    with schema_context("dhup"):
        _ = dossier.organism, dossier.form_version
    return dossier


def test_long_csv_lines_per_row_and_column(dossier, gestionnaire, campaign, client_for):
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "long_csv")
    rows = [r for r in long_rows(download(client, made(last_extraction().pk))) if r["Liste"]]
    cells = {(r["Ligne"], r["Champ"]): r["Valeur"] for r in rows}
    assert cells[("1", "FIL_NOM")] == "Alpha SA"
    assert cells[("1", "FIL_CAPITAL")] == "1000.00"
    assert cells[("1", "FIL_POURCENTAGE")] == "0.5"
    assert cells[("1", "FIL_PART")] == "500.00"  # the calculated column beside the inputs
    assert cells[("2", "FIL_NOM")] == "'=Béta & fils"  # never run as a formula
    assert cells[("2", "FIL_CAPITAL")] == "3000.50"
    assert {r["Liste"] for r in rows} == {"Filiales"}
    assert {r["Libellé"] for r in rows if r["Champ"] == "FIL_NOM"} == {"Nom"}


def test_wide_csv_has_a_file_per_table(dossier, gestionnaire, campaign, client_for):
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "wide_csv")
    with zipfile.ZipFile(io.BytesIO(download(client, made(last_extraction().pk)))) as zf:
        (table_file,) = [n for n in zf.namelist() if "-liste-" in n]
        assert table_file.endswith("-liste-Filiales.csv")
        lines = list(
            csv.reader(io.StringIO(zf.read(table_file).decode("utf-8-sig")), delimiter=";")
        )
    assert lines[0][:3] == ["SIREN", "Ligne", "FIL_NOM"]
    assert lines[1][:3] == ["SIREN", "Ligne", "Nom"]
    assert [line[:3] for line in lines[3:]] == [
        [dossier.organism.siren, "1", "Alpha SA"],
        [dossier.organism.siren, "2", "'=Béta & fils"],
    ]


def test_xlsx_has_a_sheet_per_table(dossier, gestionnaire, campaign, client_for):
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "wide_xlsx")
    book = openpyxl.load_workbook(io.BytesIO(download(client, made(last_extraction().pk))))
    assert book.sheetnames == ["Dossiers", "Filiales"]
    sheet = book["Filiales"]
    names = [c.value for c in sheet[1]]
    assert names[:2] == ["SIREN", "Ligne"] and "FIL_CAPITAL" in names
    data = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    capital = names.index("FIL_CAPITAL")
    assert [(r[0], r[1], r[capital]) for r in data] == [
        (dossier.organism.siren, 1, 1000),
        (dossier.organism.siren, 2, 3000.5),
    ]
    assert data[1][names.index("FIL_NOM")] == "=Béta & fils"  # text, not a formula
    assert sheet.cell(4, names.index("FIL_POURCENTAGE") + 1).number_format == "0.00%"


def test_the_tables_xml_is_valid(dossier, gestionnaire, campaign, client_for):
    client = client_for("dhup", gestionnaire)
    ask(client, campaign, "xml_zip")
    with zipfile.ZipFile(io.BytesIO(download(client, made(last_extraction().pk)))) as zf:
        (name,) = zf.namelist()
        document = etree.fromstring(zf.read(name))
    with schema_context("dhup"):
        validator = version_validator(dossier.form_version)
    assert validator.validate(document), validator.error_log
    assert len(document.findall(".//{*}Filiales/{*}ligne")) == 2


__all__ = ["upload"]
