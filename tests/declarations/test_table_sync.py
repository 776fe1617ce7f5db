"""« Rapatrier » a tronc commun table: taken whole, by column name, erasing only on request."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django_tenants.utils import schema_context
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table

from declarations.services import dossier_open, dossier_table_save
from declarations.services.pairing import tc_pairing_grant
from declarations.services.sync import dossier_sync, sync_preview
from forms_cms.models import DocumentType
from organisms.models import Organism
from workflow.models import Campaign, Dossier, ValueChange

from ..forms_cms.test_versions import upload

pytestmark = pytest.mark.django_db


def board_workbook(columns: dict[str, str]) -> bytes:
    """A form whose table TC_ADMINISTRATEURS has ``columns`` (header → field name), and a
    count of the board's members."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Conseil"
    for j, (header, name) in enumerate(columns.items()):
        ws.cell(1, 1 + j, header)
        ws.cell(2, 1 + j).number_format = "@"
        letter = chr(65 + j)
        wb.defined_names[name] = DefinedName(name, attr_text=f"Conseil!${letter}$2")
    table = Table(displayName="TC_ADMINISTRATEURS", ref=f"A1:{chr(64 + len(columns))}2")
    table._initialise_columns()
    for column, header in zip(table.tableColumns, columns, strict=True):
        column.name = header
    ws.add_table(table)
    ws["H1"] = "=COUNTA(TC_ADMINISTRATEURS[Nom])"
    wb.defined_names["NB_ADMINISTRATEURS"] = DefinedName("NB_ADMINISTRATEURS",
                                                         attr_text="Conseil!$H$1")  # fmt: skip
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


ER_COLUMNS = {"Nom": "TC_ADM_NOM", "Qualité": "TC_ADM_QUALITE", "Mandat": "ER_ADM_MANDAT"}
QDIS_COLUMNS = {"Nom": "TC_ADM_NOM", "Qualité": "TC_ADM_QUALITE"}


@pytest.fixture
def pair(demo_user):
    """The oph organisme's QDIS on oph (one board member typed), its ER on dhup (two, with a
    mandate column the QDIS does not have), the ER's organism allowing the oph account."""
    upload("dhup", board_workbook(ER_COLUMNS), user=demo_user("dhup", "gestionnaire"))
    upload("oph", board_workbook(QDIS_COLUMNS), user=demo_user("oph", "gestionnaire"),
           document="QDIS_OPH")  # fmt: skip
    user = demo_user("oph", "organisme")
    owner = demo_user("dhup", "organisme2")
    with schema_context("dhup"):
        owner.membership.organism = Organism.objects.get(siren=user.membership.organism.siren)
        owner.membership.save()
        er = dossier_open(
            organism=owner.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="ER_SOCIAUX"),
            acting_user=owner,
        )
        dossier_table_save(dossier=er, table="TC_ADMINISTRATEURS", action="replace",
                           acting_user=owner, rows=[
            {"TC_ADM_NOM": "Dupont", "TC_ADM_QUALITE": "Président", "ER_ADM_MANDAT": "2027"},
            {"TC_ADM_NOM": "Martin", "TC_ADM_QUALITE": "Trésorière"},
        ])  # fmt: skip
        tc_pairing_grant(dossier=er, account_email=user.email, acting_user=owner)
    with schema_context("oph"):
        qdis = dossier_open(
            organism=user.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="QDIS_OPH"),
            acting_user=user,
        )
        dossier_table_save(dossier=qdis, table="TC_ADMINISTRATEURS", action="replace",
                           acting_user=user, rows=[{"TC_ADM_NOM": "Ancien"}])  # fmt: skip
    return user, qdis, er, owner


def test_a_common_table_is_pulled_whole(pair):
    user, qdis, _, _ = pair
    with schema_context("oph"):
        preview = sync_preview(dossier=qdis, acting_user=user)
        [line] = preview.lines
        assert (line.name, line.current_text, line.incoming_text) == (
            "TC_ADMINISTRATEURS", "1 ligne", "2 lignes",
        )  # fmt: skip
        assert not line.erasing
        dossier_sync(dossier=qdis, acting_user=user)
        qdis = Dossier.objects.get(pk=qdis.pk)
        assert qdis.values["TC_ADMINISTRATEURS"] == [
            {"TC_ADM_NOM": "Dupont", "TC_ADM_QUALITE": "Président"},
            {"TC_ADM_NOM": "Martin", "TC_ADM_QUALITE": "Trésorière"},
        ]
        assert qdis.computed["NB_ADMINISTRATEURS"] == 2
        change = ValueChange.objects.filter(dossier=qdis, field_name="TC_ADMINISTRATEURS").first()
        assert change.source == ValueChange.Source.SYNCHRONISATION
        assert sync_preview(dossier=qdis, acting_user=user).lines == []


def test_an_empty_table_erases_only_when_asked(pair):
    user, qdis, er, owner = pair
    with schema_context("dhup"):
        dossier_table_save(dossier=er, table="TC_ADMINISTRATEURS", action="replace",
                           acting_user=owner, rows=[])  # fmt: skip
    with schema_context("oph"):
        [line] = sync_preview(dossier=qdis, acting_user=user).lines
        assert line.erasing
        dossier_sync(dossier=qdis, acting_user=user)
        assert Dossier.objects.get(pk=qdis.pk).values["TC_ADMINISTRATEURS"] == [
            {"TC_ADM_NOM": "Ancien"}
        ]
        dossier_sync(dossier=qdis, acting_user=user, names=[], erase=["TC_ADMINISTRATEURS"])
        assert Dossier.objects.get(pk=qdis.pk).values["TC_ADMINISTRATEURS"] == []
