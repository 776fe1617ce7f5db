"""Multivalued tables in a dossier: catalogue, row operations, caps, refusals, history."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django_tenants.utils import schema_context
from openpyxl.workbook.defined_name import DefinedName

from declarations.services import SaveRefused, dossier_table_save
from fixtures.parity_corpus.tables import table_workbook
from forms_cms.controls import control_create
from forms_cms.fields import version_fields, version_tables
from forms_cms.models import Field
from forms_cms.verification import dossier_checklist, dossier_verify, required_progress
from workflow.models import Dossier, ValueChange
from workflow.services.migration import form_version_migrate, version_migration_impact

from ..forms_cms.test_versions import upload
from .test_online_form import open_dossier, outsider  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(demo_user):
    content = table_workbook([], max_rows=4)
    return upload("dhup", content, user=demo_user("dhup", "gestionnaire"))


@pytest.fixture
def declarant(demo_user):
    return demo_user("dhup", "organisme")


def save(dossier, user, action, **kw):
    with schema_context("dhup"):
        return dossier_table_save(dossier=dossier, table="Filiales", action=action,
                                  acting_user=user, **kw)  # fmt: skip


def test_catalogue_knows_the_table(version):
    with schema_context("dhup"):
        columns = Field.objects.filter(version=version).exclude(table="")
        assert {f.name: (f.table, f.label, f.kind) for f in columns} == {
            "FIL_NOM": ("Filiales", "Nom", "input"),
            "FIL_CAPITAL": ("Filiales", "Capital", "input"),
            "FIL_POURCENTAGE": ("Filiales", "Pourcentage", "input"),
            "FIL_PART": ("Filiales", "Part", "computed"),
            "FIL_CATEGORIE": ("Filiales", "Catégorie", "input"),
            "FIL_RATIO": ("Filiales", "Ratio", "computed"),
        }
        assert "FIL_NOM" not in version_fields(version)
        meta = version_tables(version)["Filiales"]
        assert meta.max_rows == 4
        assert [c.name for c in meta.inputs] == [
            "FIL_NOM", "FIL_CAPITAL", "FIL_POURCENTAGE", "FIL_CATEGORIE",
        ]  # fmt: skip
        assert "MAX_LIGNES_FILIALES" not in {f.name for f in Field.objects.filter(version=version)}


def test_row_operations_recompute_and_record_history(version, declarant):
    dossier = open_dossier(declarant)
    assert dossier.computed["OUT_TOTAL_CAPITAL"] == 0
    alpha = {"FIL_NOM": "Alpha", "FIL_CAPITAL": "1 000", "FIL_POURCENTAGE": "50 %"}
    save(dossier, declarant, "insert", index=0, entries=alpha)
    result = save(dossier, declarant, "insert", index=1, seen_count=1,
                  entries={"FIL_NOM": "Beta", "FIL_CAPITAL": "3 000,50"})  # fmt: skip
    assert result.computed["OUT_TOTAL_CAPITAL"] == 4000.5
    with schema_context("dhup"):
        dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.values["Filiales"] == [
        {"FIL_NOM": "Alpha", "FIL_CAPITAL": 1000, "FIL_POURCENTAGE": 0.5},
        {"FIL_NOM": "Beta", "FIL_CAPITAL": 3000.5},
    ]
    assert dossier.computed["Filiales"][0]["FIL_PART"] == 500
    assert dossier.step == "2"  # the first row started the filling
    save(dossier, declarant, "update", index=1, entries={"FIL_POURCENTAGE": "10"})
    save(dossier, declarant, "move", index=1, to=0)
    save(dossier, declarant, "paste", index=1,
         rows=[{"FIL_CAPITAL": "7"}, {"FIL_NOM": "Gamma", "FIL_CAPITAL": "8"}])  # fmt: skip
    with schema_context("dhup"):
        dossier = Dossier.objects.get(pk=dossier.pk)
        rows = dossier.values["Filiales"]
        assert [r.get("FIL_NOM") for r in rows] == ["Beta", "Alpha", "Gamma"]
        assert [r["FIL_CAPITAL"] for r in rows] == [3000.5, 7, 8]
        assert dossier.computed["OUT_TOTAL_CAPITAL"] == 3015.5
        save(dossier, declarant, "delete", index=0)
        dossier = Dossier.objects.get(pk=dossier.pk)
        assert [r.get("FIL_NOM") for r in dossier.values["Filiales"]] == ["Alpha", "Gamma"]
        history = ValueChange.objects.filter(dossier=dossier, field_name="Filiales")
        assert history.count() == 6
        last = history.first()
        assert len(last.old_value) == 3 and len(last.new_value) == 2


def test_refusals_name_row_and_column_and_change_nothing(version, declarant):
    dossier = open_dossier(declarant)
    save(dossier, declarant, "replace", rows=[{"FIL_NOM": "A"}, {"FIL_NOM": "B"}])
    with pytest.raises(SaveRefused) as caught:
        save(dossier, declarant, "replace",
             rows=[{"FIL_NOM": "A"}, {"FIL_CAPITAL": "douze"}, {"FIL_PART": "1"}])  # fmt: skip
    messages = list(caught.value.errors.values())
    assert any(m.startswith("Ligne 2, colonne « Capital » : Montant attendu") for m in messages)
    assert "Ligne 3 : la colonne « Part » est calculée." in messages
    with pytest.raises(SaveRefused) as caught:
        save(dossier, declarant, "insert", index=0, entries={"FIL_NOPE": "1"})
    assert "la colonne FIL_NOPE n'existe pas" in str(caught.value)
    with pytest.raises(SaveRefused) as caught:
        save(dossier, declarant, "paste", index=0, rows=[{"FIL_NOM": str(i)} for i in range(5)])
    assert "compte au plus 4 lignes" in str(caught.value)
    with pytest.raises(SaveRefused) as caught:
        save(dossier, declarant, "delete", index=0, seen_count=5)
    assert "modifié entre-temps" in str(caught.value)
    with pytest.raises(SaveRefused):
        save(dossier, declarant, "delete", index=7)
    with schema_context("dhup"):
        dossier = Dossier.objects.get(pk=dossier.pk)
        assert dossier.values["Filiales"] == [{"FIL_NOM": "A"}, {"FIL_NOM": "B"}]


def test_another_organism_cannot_touch_the_table(version, declarant, outsider):  # noqa: F811
    dossier = open_dossier(declarant)
    with pytest.raises(PermissionDenied):
        save(dossier, outsider, "insert", index=0, entries={"FIL_NOM": "X"})


def test_controls_and_their_failing_count_aggregate_tables(version, declarant, demo_user):
    gestionnaire = demo_user("dhup", "gestionnaire")
    with schema_context("dhup"):
        control_create(
            version=version,
            values={"label": "Capital des filiales plafonné", "code": "FIL1",
                    "left": "=SUM(Filiales[Capital])", "operator": "<=", "right": "5000"},
            acting_user=gestionnaire,
        )  # fmt: skip
        with pytest.raises(Exception) as caught:
            control_create(
                version=version,
                values={"label": "x", "code": "FIL2", "left": "=SUM(Filiales[Capitale])",
                        "right": "0"},
                acting_user=gestionnaire,
            )  # fmt: skip
        assert "n'a pas de colonne « Capitale »" in str(caught.value)
    dossier = open_dossier(declarant)
    save(dossier, declarant, "replace", rows=[{"FIL_CAPITAL": "3000"}, {"FIL_CAPITAL": "2500"}])
    with schema_context("dhup"):
        dossier = Dossier.objects.get(pk=dossier.pk)
        assert dossier.failing_controls == 1
        report = dossier_verify(dossier)
        assert [r.code for r in report.blocking_failures] == ["FIL1"]
    save(dossier, declarant, "delete", index=0)
    with schema_context("dhup"):
        assert Dossier.objects.get(pk=dossier.pk).failing_controls == 0


def _renamed_column_workbook() -> bytes:
    """Version 2: the « Catégorie » column's field is now FIL_SECTEUR (one column removed,
    one added, by name)."""
    wb = openpyxl.load_workbook(io.BytesIO(table_workbook([], max_rows=4)))
    definition = wb.defined_names["FIL_CATEGORIE"].attr_text
    del wb.defined_names["FIL_CATEGORIE"]
    wb.defined_names["FIL_SECTEUR"] = DefinedName("FIL_SECTEUR", attr_text=definition)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_migration_keeps_columns_by_name(version, declarant, demo_user):
    gestionnaire = demo_user("dhup", "gestionnaire")
    dossier = open_dossier(declarant)
    save(dossier, declarant, "replace", rows=[
        {"FIL_NOM": "A", "FIL_CAPITAL": "10", "FIL_CATEGORIE": "SA"},
        {"FIL_NOM": "B", "FIL_CATEGORIE": "SAS"},
    ])  # fmt: skip
    v2 = upload("dhup", _renamed_column_workbook(), user=gestionnaire)
    with schema_context("dhup"):
        impact = version_migration_impact(version=v2)
        assert impact.dossiers[0].removed == [("Filiales.FIL_CATEGORIE", "2 lignes")]
        form_version_migrate(version=v2, acting_user=gestionnaire)
        dossier = Dossier.objects.get(pk=dossier.pk)
        assert dossier.form_version_id == v2.pk
        assert dossier.values["Filiales"] == [{"FIL_NOM": "A", "FIL_CAPITAL": 10}, {"FIL_NOM": "B"}]
        assert dossier.computed["OUT_TOTAL_CAPITAL"] == 10
        change = ValueChange.objects.get(dossier=dossier, source="version_migration")
        assert change.field_name == "Filiales"
        assert change.old_value[0]["FIL_CATEGORIE"] == "SA"


def test_required_columns_are_checked_row_by_row(version, declarant):
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        assert version_tables(version)["Filiales"].column("FIL_NOM").required
        assert required_progress(dossier) == (0, 0)  # no row, nothing required
    save(dossier, declarant, "replace", rows=[{"FIL_NOM": "A"}, {"FIL_CAPITAL": "5"}])
    with schema_context("dhup"):
        dossier = Dossier.objects.get(pk=dossier.pk)
        assert required_progress(dossier) == (1, 2)
        missing = [m for s in dossier_checklist(dossier).sheets for m in s.missing]
        assert [(m.name, m.label) for m in missing] == [
            ("Filiales[2].FIL_NOM", "Nom (tableau Filiales, ligne 2)")
        ]


def test_transmission_differences_summarise_tables():
    from declarations.history import transmission_differences
    from workflow.models import DossierExport

    older = DossierExport(frozen_values={"Filiales": [{"FIL_NOM": "A"}]}, frozen_computed={})
    newer = DossierExport(
        frozen_values={"Filiales": [{"FIL_NOM": "A"}, {"FIL_NOM": "B"}]}, frozen_computed={}
    )
    [difference] = transmission_differences(older, newer, {})
    assert (difference.name, difference.before, difference.after) == ("Filiales", "1 ligne",
                                                                       "2 lignes")  # fmt: skip
