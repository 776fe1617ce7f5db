"""Prefill when a dossier opens (registry, last year's transmission), the carry-over rules
and their uploaded sheet, and the variance checks against last year (issue 16, parts 6–7)."""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from declarations.services import dossier_open, dossier_values_save
from fixtures import hostile_uploads as hostile
from forms_cms.carryover import (
    MappingRefused,
    Origin,
    Rule,
    default_rules,
    mapping_parse,
    variance_flags,
    variance_moved,
    version_rules,
)
from forms_cms.engine import date_to_serial
from forms_cms.fields import FieldInfo
from forms_cms.models import CarryOverRule, CarryOverSettings, DocumentType
from forms_cms.services.carryover import carry_over_rules_replace
from forms_cms.services.runtime import compiled_form, dossier_evaluate
from organisms.models import Organism
from workflow.actions import dossier_prefill, dossier_transition
from workflow.models import Campaign, Dossier, ValueChange
from workflow.services.prefill import previous_transmission, registry_value, transmitted_values

from ..forms_cms.engine.helpers import workbook_bytes
from ..forms_cms.test_versions import upload
from ..helpers import text_of

pytestmark = pytest.mark.django_db

SHEETS = {
    "Identification": {
        "A1": "Identification",
        "A3": "SIREN",
        "B3": "000000000",
        "A4": "Raison sociale",
        "B4": "Nom",
        "A5": "Clôture",
        "B5": datetime.datetime(2024, 12, 31),
        "A6": "Exercice",
        "B6": "=YEAR(B5)",
        "A7": "Commissaire aux comptes",
        "B7": "Cabinet",
    },
    "Bilan": {
        "B2": "Exercice N",
        "C2": "Exercice N-1",
        "A3": "Immobilisations",
        "B3": 1000.5,
        "C3": 900.5,
        "A4": "Capital",
        "B4": 800.5,
        "C4": 700.5,
        "A5": "Total",
        "B5": "=B3+B4",
        "C5": "=C3+C4",
        "A6": "Effectif",
        "B6": 12,
        "D2": "Variation",
        "D3": "=B3-C3",
    },
}
NAMES = {
    "ID_SIREN": "Identification!$B$3",
    "ID_RAISON_SOCIALE": "Identification!$B$4",
    "ID_DATE_CLOTURE": "Identification!$B$5",
    "ID_EXERCICE_CALC": "Identification!$B$6",
    "ID_CAC": "Identification!$B$7",
    "ACT_N": "Bilan!$B$3",
    "ACT_N1": "Bilan!$C$3",
    "CAP_N": "Bilan!$B$4",
    "CAP_N1": "Bilan!$C$4",
    "TOTAL_N": "Bilan!$B$5",
    "TOTAL_N1": "Bilan!$C$5",
    "EFFECTIF": "Bilan!$B$6",
    "ACT_VAR": "Bilan!$D$3",
}


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


@pytest.fixture
def version(gestionnaire):
    return upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)


@pytest.fixture
def declarant(demo_user):
    return demo_user("dhup", "organisme")


@pytest.fixture
def campaign_2023(gestionnaire):
    with schema_context("dhup"):
        return Campaign.objects.create(
            exercise=2023,
            opening_date=datetime.date(2024, 1, 1),
            deadline=datetime.date(2024, 6, 30),
            opened_by=gestionnaire,
        )


def transmitted_2023(declarant, version, campaign, values):
    """A 2023 dossier of the declarant's organism, transmitted with ``values``."""
    with schema_context("dhup"):
        old = Dossier.objects.create(
            organism=declarant.membership.organism,
            campaign=campaign,
            document_type=version.document_type,
            form_version=version,
            values=values,
            computed=dossier_evaluate(compiled_form(version), values),
            step="2",
        )
        dossier_transition(dossier=old, action="validate", acting_user=declarant)
        dossier_transition(dossier=old, action="transmit", acting_user=declarant)
    return old


def open_2024(user):
    with schema_context("dhup"):
        return dossier_open(
            organism=user.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="ER_SOCIAUX"),
            acting_user=user,
        )


# --- the default rules -------------------------------------------------------------------------
def test_default_rules_by_name(version):
    with schema_context("dhup"):
        rules = {r.target: (r.origin, r.source) for r in default_rules(version)}
    assert rules == {
        "ID_SIREN": (Origin.REGISTRY, "siren"),
        "ID_RAISON_SOCIALE": (Origin.REGISTRY, "name"),
        "ID_DATE_CLOTURE": (Origin.REGISTRY, "closing_date"),
        "ACT_N1": (Origin.PREVIOUS, "ACT_N"),
        "CAP_N1": (Origin.PREVIOUS, "CAP_N"),
        # TOTAL_N1 is computed: never a target
    }


# --- prefill when the dossier opens ------------------------------------------------------------
def test_registry_prefill_fills_identification_and_the_exercise(version, declarant):
    dossier = open_2024(declarant)
    organism = declarant.membership.organism
    assert dossier.values["ID_SIREN"] == organism.siren
    assert dossier.values["ID_RAISON_SOCIALE"] == organism.name
    # 31/12/2024 as a serial date: the computed exercise is 2024, not 1900
    assert dossier.values["ID_DATE_CLOTURE"] == 45657.0
    assert dossier.computed["ID_EXERCICE_CALC"] == 2024
    assert dossier.prefilled == {
        "ID_SIREN": "registry",
        "ID_RAISON_SOCIALE": "registry",
        "ID_DATE_CLOTURE": "registry",
    }
    assert dossier.step == "1"  # nothing entered by the organism yet
    with schema_context("dhup"):
        change = ValueChange.objects.get(dossier=dossier, field_name="ID_SIREN")
        assert change.source == ValueChange.Source.REGISTRY
        assert change.get_source_display() == "repris du répertoire"


def test_last_year_prefill_from_the_transmitted_snapshot(version, declarant, campaign_2023):
    old = transmitted_2023(declarant, version, campaign_2023, {"ACT_N": 5000.0, "CAP_N": 0.0})
    with schema_context("dhup"):
        # changed after its transmission: the snapshot's values are carried over, not these
        Dossier.objects.filter(pk=old.pk).update(values={"ACT_N": 1.0, "CAP_N": 1.0})
    dossier = open_2024(declarant)
    assert dossier.values["ACT_N1"] == 5000.0
    assert dossier.values["CAP_N1"] == 0.0
    assert dossier.computed["TOTAL_N1"] == 5000.0
    assert dossier.prefilled["ACT_N1"] == 2023
    with schema_context("dhup"):
        change = ValueChange.objects.get(dossier=dossier, field_name="ACT_N1")
        assert change.source == ValueChange.Source.CARRY_OVER
        assert change.note == "ACT_N de l'exercice 2023"


def test_no_previous_dossier_carries_nothing(version, declarant, campaign_2023):
    dossier = open_2024(declarant)
    assert "ACT_N1" not in dossier.values


def test_an_untransmitted_previous_dossier_carries_nothing(version, declarant, campaign_2023):
    with schema_context("dhup"):
        Dossier.objects.create(
            organism=declarant.membership.organism,
            campaign=campaign_2023,
            document_type=version.document_type,
            form_version=version,
            values={"ACT_N": 5000.0},
            step="2",
        )
    assert "ACT_N1" not in open_2024(declarant).values


def test_carry_over_never_overwrites_an_entered_value(version, declarant, campaign_2023):
    transmitted_2023(declarant, version, campaign_2023, {"ACT_N": 5000.0, "CAP_N": 300.0})
    dossier = open_2024(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier,
            entries={"ACT_N1": "4 000", "ID_RAISON_SOCIALE": "Mon nom"},
            acting_user=declarant,
        )
        Dossier.objects.filter(pk=dossier.pk).update(prefilled={})
        dossier.refresh_from_db()
        # a second pass (a dossier reopened) fills only what is empty
        values = {**dossier.values}
        values.pop("CAP_N1")
        Dossier.objects.filter(pk=dossier.pk).update(values=values)
        dossier.refresh_from_db()
        written = dossier_prefill(dossier=dossier, acting_user=declarant)
        assert written == {"CAP_N1": 300.0}
        dossier.refresh_from_db()
    assert dossier.values["ACT_N1"] == 4000.0
    assert dossier.values["ID_RAISON_SOCIALE"] == "Mon nom"
    assert dossier.prefilled == {"CAP_N1": 2023}


def test_opening_again_changes_nothing(version, declarant, campaign_2023):
    dossier = open_2024(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier, entries={"ID_RAISON_SOCIALE": "Mon nom"}, acting_user=declarant
        )
    again = open_2024(declarant)
    assert again.pk == dossier.pk
    assert again.values["ID_RAISON_SOCIALE"] == "Mon nom"


def test_an_edited_value_is_no_longer_marked_as_carried_over(version, declarant):
    dossier = open_2024(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier, entries={"ID_RAISON_SOCIALE": "Mon nom"}, acting_user=declarant
        )
        dossier.refresh_from_db()
    assert "ID_RAISON_SOCIALE" not in dossier.prefilled
    assert "ID_SIREN" in dossier.prefilled


def test_the_version_s_own_rules_replace_the_default(version, declarant, gestionnaire,
                                                      campaign_2023):  # fmt: skip
    transmitted_2023(declarant, version, campaign_2023, {"ACT_N": 5000.0, "ID_CAC": "Cabinet X"})
    with schema_context("dhup"):
        carry_over_rules_replace(
            version=version,
            rules=[
                Rule("ID_CAC", Origin.PREVIOUS, "ID_CAC"),
                Rule("ID_RAISON_SOCIALE", Origin.REGISTRY, "siren"),
            ],
            acting_user=gestionnaire,
        )
    dossier = open_2024(declarant)
    assert dossier.values == {
        "ID_CAC": "Cabinet X",
        "ID_RAISON_SOCIALE": declarant.membership.organism.siren,
    }


# --- the uploaded sheet ------------------------------------------------------------------------
def parse(version, text: str, name="reprise.csv", **kw):
    with schema_context("dhup"):
        return mapping_parse(version, text.encode(), name, **kw)


def refusals(version, text: str, **kw) -> list[str]:
    with pytest.raises(MappingRefused) as caught:
        parse(version, text, **kw)
    return caught.value.errors


def test_mapping_sheet_csv_with_header_and_registry(version):
    rules = parse(version, "champ rempli;repris de\nACT_N1;ACT_N\nID_SIREN;répertoire:siren\n")
    assert rules == [
        Rule("ACT_N1", Origin.PREVIOUS, "ACT_N"),
        Rule("ID_SIREN", Origin.REGISTRY, "siren"),
    ]


def test_mapping_sheet_xlsx(version):
    book = openpyxl.Workbook()
    book.active.append(["ACT_N1", "ACT_N"])
    book.active.append(["CAP_N1", "CAP_N"])
    out = io.BytesIO()
    book.save(out)
    with schema_context("dhup"):
        rules = mapping_parse(version, out.getvalue(), "reprise.xlsx")
    assert [r.target for r in rules] == ["ACT_N1", "CAP_N1"]


def test_mapping_sheet_refusals_name_the_line_and_what_to_do(version):
    errors = refusals(
        version,
        "ACT_N1;ACT_N\nINCONNU;ACT_N\nTOTAL_N1;TOTAL_N\nACT_N1;CAP_N\nCAP_N1\n"
        "ID_SIREN;répertoire:telephone\nCAP_N1;\n",
    )
    assert errors == [
        "Ligne 2 : le champ « INCONNU » n'existe pas dans cette version du formulaire. Vérifiez "
        "son nom (le nom défini de la cellule, voir le fichier de spécification).",
        "Ligne 3 : le champ « TOTAL_N1 » est calculé par une formule : il ne peut pas être "
        "rempli par une reprise. Indiquez le champ de saisie qui alimente ce calcul.",
        "Ligne 4 : le champ « ACT_N1 » est déjà rempli par la ligne 1. Gardez une seule ligne "
        "par champ rempli.",
        "Ligne 5 : deux colonnes attendues (champ rempli ; champ repris), 1 trouvée(s). "
        "Corrigez la ligne.",
        "Ligne 6 : « répertoire:telephone » n'est pas une donnée du répertoire. Données "
        "possibles : répertoire:siren, répertoire:name, répertoire:family, "
        "répertoire:departement, répertoire:closing_date, répertoire:opening_date, "
        "répertoire:exercise.",
        "Ligne 7 : deux colonnes attendues (champ rempli ; champ repris), 1 trouvée(s). "
        "Corrigez la ligne.",
    ]


def test_mapping_sheet_unknown_source_in_last_year_s_form(version):
    errors = refusals(version, "ACT_N1;ACT_X\n", previous_fields={"ACT_N"})
    assert errors == [
        "Ligne 1 : le champ « ACT_X » n'existe pas dans le formulaire de l'exercice 2023. "
        "Vérifiez son nom dans le fichier de spécification de cet exercice."
    ]


def test_mapping_sheet_of_another_type_or_too_big_is_refused(version):
    assert "ni un CSV ni un classeur Excel" in refusals(version, "x", name="reprise.pdf")[0]
    big = "ACT_N1;ACT_N\n" * 200_000
    assert "plus de 2 Mo" in refusals(version, big)[0]
    assert refusals(version, "\n\n") == [
        "Le fichier ne contient aucune règle : une ligne par champ (champ rempli ; repris)."
    ]


def mapping_xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["far_cell", "far_dimension", "merged_sheet", "macro_enabled"])
def test_hostile_mapping_workbooks_are_refused(version, kind):
    """Issue 17: read-only openpyxl would pad every row to the declared XFD1048576."""
    build, expected = hostile.HOSTILE[kind]
    content = build(mapping_xlsx([["ACT_N1", "ACT_N"]]))
    with schema_context("dhup"), pytest.raises(MappingRefused) as caught:
        mapping_parse(version, content, "reprise.xlsx")
    assert len(caught.value.errors) == 1 and expected in caught.value.errors[0]


def test_mapping_workbook_is_read_within_its_real_extent(version):
    content = mapping_xlsx([["ACT_N1", "ACT_N"], ["CAP_N1", "CAP_N"]])
    sheet = zipfile.ZipFile(io.BytesIO(content)).read(hostile.SHEET)
    sheet = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:AX5000"', sheet)
    with schema_context("dhup"):
        rules = mapping_parse(
            version, hostile.rezipped(content, {hostile.SHEET: sheet}), "reprise.xlsx"
        )
    assert [r.target for r in rules] == ["ACT_N1", "CAP_N1"]


def test_hostile_mapping_workbook_refused_on_the_page(version, gestionnaire, client_for):
    build, expected = hostile.HOSTILE["far_dimension"]
    upload_file = SimpleUploadedFile("reprise.xlsx", build(mapping_xlsx([["ACT_N1", "CAP_N"]])))
    response = client_for("dhup", gestionnaire).post(
        f"/formulaires/{version.pk}/reprise/", {"action": "upload", "file": upload_file}
    )
    assert response.status_code == 400
    assert expected in text_of(response)
    with schema_context("dhup"):
        assert not CarryOverRule.objects.filter(version_id=version.pk).exists()


# --- variance ----------------------------------------------------------------------------------
P, M = Decimal(50), Decimal(1000)


@pytest.mark.parametrize(
    ("previous", "current", "flagged"),
    [
        (10_000, 15_000, False),  # exactly +50 %: not flagged
        (10_000, 15_000.01, True),  # just beyond
        (10_000, 5_000, False),  # exactly −50 %
        (10_000, 4_999.99, True),
        (1_000, 1_999, False),  # +99.9 % but a change of 999 < the minimum amount
        (1_000, 2_000.01, True),  # +100 %, change at least the minimum
        (1_500, 2_500, True),  # change exactly the minimum, +66 %: flagged
        (0, 999.99, False),  # from 0, below the minimum
        (0, 1_000, True),  # from 0, the minimum
        (0, None, False),  # 0 → empty: no change
        (5_000, None, True),  # emptied: counts as 0
        (-10_000, -20_000, True),  # a negative amount doubling
        (10_000, 10_000, False),
    ],
)
def test_variance_boundaries(previous, current, flagged):
    assert variance_moved(previous, current, percent=P, minimum=M) is flagged


def test_variance_flags_beside_fields(version, declarant, campaign_2023):
    transmitted_2023(declarant, version, campaign_2023, {"ACT_N": 10_000.0, "CAP_N": 0.0})
    with schema_context("dhup"):
        dossier = open_2024(declarant)
        dossier_values_save(
            dossier=dossier,
            entries={"ACT_N": "15 000", "CAP_N": "2 000", "ACT_N1": "1"},
            acting_user=declarant,
        )
        dossier.refresh_from_db()
        previous = {
            "ACT_N": 10_000.0,
            "CAP_N": 0.0,
            "TOTAL_N": 10_000.0,
            "ACT_N1": 50.0,
            "EFFECTIF": 5_000,  # empty this year: not filled yet, not compared
            "TOTAL_N1": 5_000.0,  # a computed N-1 column: not compared
            "ACT_VAR": 90_000.0,  # reads an N-1 column (N − N-1): not compared
        }
        flags = variance_flags(version, dossier.values, dossier.computed, previous, exercise=2023)
        # ACT_N exactly +50 %: not flagged; CAP_N from 0; TOTAL_N +70 %; ACT_N1 carried over
        assert sorted(flags) == ["CAP_N", "TOTAL_N"]
        assert flags["TOTAL_N"].message == (
            "Écart avec 2023 : 17\u202f000 contre 10\u202f000 en 2023 (+70 %)."
        )
        assert "valeur nulle ou vide" in flags["CAP_N"].message
        settings = CarryOverSettings(version=version, variance_percent=Decimal(80))
        flags = variance_flags(
            version, dossier.values, dossier.computed, previous, exercise=2023, settings=settings
        )
        assert sorted(flags) == ["CAP_N"]
        assert version_rules(version)  # the default rules, nothing stored


# --- the pages ---------------------------------------------------------------------------------
def cell(page: str, name: str):
    from lxml import html as lxml_html

    return lxml_html.fromstring(page).get_element_by_id(name)


def test_sheet_marks_carried_over_cells_until_edited(version, declarant, campaign_2023,
                                                     client_for):  # fmt: skip
    transmitted_2023(declarant, version, campaign_2023, {"ACT_N": 5000.0})
    dossier = open_2024(declarant)
    client = client_for("dhup", declarant)
    page = text_of(client.get(f"/declarations/dossiers/{dossier.pk}/feuilles/0/"))
    siren = cell(page, "ID_SIREN")
    assert "co" in siren.classes
    assert siren.find(".//input").get("aria-describedby") == "co-registry"
    assert 'id="co-registry" data-testid="legend-carried"' in page
    assert "repris du répertoire : valeur à vérifier" in page
    assert "co" not in cell(page, "ID_CAC").classes
    page = text_of(client.get(f"/declarations/dossiers/{dossier.pk}/feuilles/1/"))
    assert "co" in cell(page, "ACT_N1").classes
    assert cell(page, "ACT_N1").find(".//input").get("aria-describedby") == "co-previous"
    assert "repris de l'exercice 2023 : valeur à vérifier" in page
    response = client.post(
        f"/declarations/dossiers/{dossier.pk}/enregistrer/",
        data=json.dumps({"entries": {"ACT_N1": "4 000"}}),
        content_type="application/json",
    )
    assert response.status_code == 200
    page = text_of(client.get(f"/declarations/dossiers/{dossier.pk}/feuilles/1/"))
    assert "co" not in cell(page, "ACT_N1").classes
    assert "co-previous" not in page  # nothing carried over from 2023 is left


def test_variances_beside_the_cell_and_in_the_verification(version, declarant, gestionnaire,
                                                           campaign_2023, client_for):  # fmt: skip
    transmitted_2023(declarant, version, campaign_2023, {"ACT_N": 10_000.0, "EFFECTIF": 10})
    dossier = open_2024(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier, entries={"ACT_N": "25 000", "EFFECTIF": "12"}, acting_user=declarant
        )
    client = client_for("dhup", declarant)
    page = text_of(client.get(f"/declarations/dossiers/{dossier.pk}/feuilles/1/"))
    act = cell(page, "ACT_N")
    assert "var" in act.classes and "var" not in cell(page, "EFFECTIF").classes
    message = "Écart avec 2023 : 25\u202f000 contre 10\u202f000 en 2023 (+150 %)."
    assert act.get_element_by_id("var-ACT_N").text_content() == message
    assert act.find(".//input").get("aria-describedby") == "var-ACT_N"
    assert "var" in cell(page, "TOTAL_N").classes  # computed cells too
    assert 'data-testid="legend-variance"' in page
    verification = text_of(client.get(f"/declarations/dossiers/{dossier.pk}/verification/"))
    assert verification.count('data-testid="variance"') == 2
    assert message in verification
    assert f'href="/declarations/dossiers/{dossier.pk}/feuilles/1/#ACT_N"' in verification
    # the gestionnaire: nothing before the transmission, the same flags from step 4
    theirs = client_for("dhup", gestionnaire)
    hidden = text_of(theirs.get(f"/declarations/dossiers/{dossier.pk}/feuilles/1/"))
    assert "25\u202f000" not in hidden and "var-ACT_N" not in hidden
    with schema_context("dhup"):
        for action in ("validate", "transmit"):
            dossier_transition(dossier=dossier, action=action, acting_user=declarant)
    page = text_of(theirs.get(f"/declarations/dossiers/{dossier.pk}/feuilles/1/"))
    assert cell(page, "ACT_N").get_element_by_id("var-ACT_N").text_content() == message
    verification = text_of(theirs.get(f"/declarations/dossiers/{dossier.pk}/verification/"))
    assert verification.count('data-testid="variance"') == 2


def test_a_dossier_just_opened_has_no_variance_warning(version, declarant, campaign_2023):
    transmitted_2023(declarant, version, campaign_2023, {"ACT_N": 10_000.0, "CAP_N": 3_000.0})
    dossier = open_2024(declarant)  # ACT_N1 and CAP_N1 carried over, nothing else entered
    with schema_context("dhup"):
        previous = transmitted_values(
            previous_transmission(
                organism=dossier.organism, document_type=dossier.document_type, exercise=2023
            )
        )
        assert previous["TOTAL_N"] == 13_000.0
        assert (
            variance_flags(version, dossier.values, dossier.computed, previous, exercise=2023) == {}
        )
        dossier_values_save(dossier=dossier, entries={"CAP_N": "0"}, acting_user=declarant)
        dossier.refresh_from_db()
        flags = variance_flags(version, dossier.values, dossier.computed, previous, exercise=2023)
    assert sorted(flags) == ["CAP_N"]  # a 0 typed is a value; TOTAL_N at 0 is not filled yet


def test_no_previous_dossier_no_variance(version, declarant, client_for):
    dossier = open_2024(declarant)
    client = client_for("dhup", declarant)
    page = text_of(client.get(f"/declarations/dossiers/{dossier.pk}/verification/"))
    assert "Aucun dossier de l'exercice 2023 n'a été transmis pour ce document" in page
    assert 'class="var' not in text_of(client.get(f"/declarations/dossiers/{dossier.pk}/"))


# --- the gestionnaire's page -------------------------------------------------------------------
def test_gestionnaire_page_shows_rules_and_edits_thresholds(version, gestionnaire, client_for):
    client = client_for("dhup", gestionnaire)
    url = f"/formulaires/{version.pk}/reprise/"
    page = text_of(client.get(url))
    assert "Règles par défaut, déduites des noms des champs (5 règles)" in page
    assert 'data-target="ID_SIREN"' in page and 'data-target="ACT_N1"' in page
    response = client.post(
        url, {"action": "thresholds", "variance_percent": "30", "variance_minimum": "500,50"}
    )
    assert response.status_code == 302
    with schema_context("dhup"):
        settings = CarryOverSettings.objects.get(version=version)
        assert (settings.variance_percent, settings.variance_minimum) == (30, Decimal("500.50"))
        assert not settings.customised
    refused = client.post(
        url, {"action": "thresholds", "variance_percent": "-1", "variance_minimum": "0"}
    )
    assert refused.status_code == 200 and "supérieure ou égale à 0" in text_of(refused)
    csv_text = client.get(f"{url}regles.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[:2] == [
        "champ rempli;repris de",
        "ID_DATE_CLOTURE;répertoire:closing_date",
    ]


def test_gestionnaire_uploads_a_mapping_sheet(version, gestionnaire, client_for):
    client = client_for("dhup", gestionnaire)
    url = f"/formulaires/{version.pk}/reprise/"
    upload_file = SimpleUploadedFile("reprise.csv", b"ACT_N1;CAP_N\nID_CAC;ID_CAC\n")
    response = client.post(url, {"action": "upload", "file": upload_file})
    assert response.status_code == 302
    with schema_context("dhup"):
        assert version_rules(version) == [
            Rule("ACT_N1", Origin.PREVIOUS, "CAP_N"),
            Rule("ID_CAC", Origin.PREVIOUS, "ID_CAC"),
        ]
    bad = SimpleUploadedFile("reprise.csv", b"TOTAL_N;ACT_N\nACT_N1;ACT_N\n")
    refused = client.post(url, {"action": "upload", "file": bad})
    assert refused.status_code == 400
    text = text_of(refused)
    assert "Rien n'a été modifié" in text
    assert "Ligne 1 : le champ « TOTAL_N » est calculé par une formule" in text
    with schema_context("dhup"):  # nothing changed on refusal
        assert [r.source for r in version_rules(version)] == ["CAP_N", "ID_CAC"]
    # one rule edited on the page, one deleted, then back to the default rules
    client.post(url, {"action": "add", "target": "CAP_N1", "origin": "previous", "source": "CAP_N"})
    client.post(url, {"action": "delete", "target": "ID_CAC"})
    with schema_context("dhup"):
        assert [r.target for r in version_rules(version)] == ["ACT_N1", "CAP_N1"]
    refused = client.post(
        url, {"action": "add", "target": "TOTAL_N1", "origin": "previous", "source": "X"}
    )
    assert "est calculé : il ne peut pas être repris" in text_of(refused)
    refused = client.post(
        url, {"action": "add", "target": "CAP_N1", "origin": "previous", "source": "CAP N"}
    )
    assert "Un nom de champ : lettres, chiffres" in text_of(refused)
    refused = client.post(
        url, {"action": "add", "target": "CAP_N1", "origin": "registry", "source": "CAP_N"}
    )
    assert "Donnée du répertoire inconnue" in text_of(refused)
    with schema_context("dhup"):
        assert [r.source for r in version_rules(version)] == ["CAP_N", "CAP_N"]
    client.post(url, {"action": "reset"})
    with schema_context("dhup"):
        assert len(version_rules(version)) == 5


def test_gestionnaire_page_refused_to_other_roles_and_platforms(version, client_for, demo_user,
                                                                 gestionnaire):  # fmt: skip
    base = f"/formulaires/{version.pk}/reprise/"
    urls = [base, f"{base}regles.csv"]
    for username in ("organisme", "partenaire-cdc", "editeur"):
        client = client_for("dhup", demo_user("dhup", username))
        for url in urls:
            assert client.get(url).status_code == 403, (username, url)
        assert client.post(base, {"action": "reset"}).status_code == 403
        posted = client.post(
            base, {"action": "thresholds", "variance_percent": "1", "variance_minimum": "1"}
        )
        assert posted.status_code == 403
    other_platform = client_for("oph", demo_user("oph", "gestionnaire"))
    for url in urls:
        assert other_platform.get(url).status_code == 404, url
    assert other_platform.post(base, {"action": "reset"}).status_code == 404
    anonymous = client_for("dhup")
    for url in urls:
        assert anonymous.get(url).status_code == 302
    with schema_context("dhup"):
        assert not CarryOverSettings.objects.filter(version=version).exists()
    assert 'data-testid="carry-over-link"' not in text_of(
        client_for("dhup", demo_user("dhup", "organisme")).get(f"/formulaires/{version.pk}/")
    )
    assert 'data-testid="carry-over-link"' in text_of(
        client_for("dhup", gestionnaire).get(f"/formulaires/{version.pk}/")
    )


# --- registry values ---------------------------------------------------------------------------
def info(data_type: str, choices=()) -> FieldInfo:
    return FieldInfo("F", "S", 1, 1, False, data_type, "", tuple(choices), "F", False)


FAMILIES = ("OPH", "ESH", "Coopérative HLM", "SEM / EPL", "Autre")


@pytest.mark.parametrize(
    ("family", "expected"),
    [("OPH", "OPH"), ("COOP", "Coopérative HLM"), ("EPL", "SEM / EPL"), ("MOI", "Autre")],
)
def test_the_family_is_the_choice_naming_it(family, expected):
    organism = Organism(siren="412345678", name="X", family=family, departement="69")
    assert registry_value("family", info("choice", FAMILIES), organism=organism,
                          exercise=2024) == expected  # fmt: skip
    assert registry_value("family", info("choice", ("A", "B")), organism=organism,
                          exercise=2024) is None  # fmt: skip


def test_exercise_dates_follow_the_organism_s_closing_day():
    organism = Organism(siren="412345678", name="X", family="EPL", departement="69")
    organism.closing = "30/06"

    def value(attribute, data_type="date"):
        return registry_value(attribute, info(data_type), organism=organism, exercise=2024)

    assert value("closing_date") == float(date_to_serial(datetime.date(2024, 6, 30)))
    assert value("opening_date") == float(date_to_serial(datetime.date(2023, 7, 1)))
    assert value("closing_date", "text") == "30/06/2024"
    assert value("exercise", "integer") == 2024
    assert value("departement", "text") == "69"
    organism.closing = "29/02"  # a leap-day closing in a common year: the 28th
    assert registry_value("closing_date", info("date"), organism=organism, exercise=2023) == (
        float(date_to_serial(datetime.date(2023, 2, 28)))
    )
    assert value("telephone", "text") is None


def test_a_migrated_dossier_keeps_its_marks_for_the_fields_it_keeps(version, declarant,
                                                                    gestionnaire):  # fmt: skip
    from workflow.actions import dossier_version_migrate

    dossier = open_2024(declarant)
    with schema_context("dhup"):
        dossier_version_migrate(
            dossier=dossier,
            version=version,
            inputs={"ID_SIREN", "ID_DATE_CLOTURE"},
            acting_user=gestionnaire,
            note="test",
        )
        dossier.refresh_from_db()
    assert dossier.prefilled == {"ID_SIREN": "registry", "ID_DATE_CLOTURE": "registry"}
    assert "ID_RAISON_SOCIALE" not in dossier.values
