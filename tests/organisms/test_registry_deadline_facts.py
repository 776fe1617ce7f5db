"""The registry's optional columns for the deadline rules: an OPH's accounting regime, the
exercise's closing day, the federation. A column left out changes nothing; a wrong value is
refused with its line and nothing is imported."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from organisms.models import Organism, closing_error
from tests.organisms.test_registry_import import (
    HEADER,
    NEW_A,
    NEW_B,
    csv_bytes,
    run_import,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db
FULL = [*HEADER, "Régime comptable", "Clôture", "Fédération"]


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


def facts(siren: str) -> tuple[str, str, str]:
    with schema_context("dhup"):
        return Organism.objects.values_list("accounting", "closing", "federation").get(siren=siren)


def test_the_new_columns_are_read_from_csv_and_xlsx(gestionnaire):
    content = csv_bytes(
        [
            FULL,
            [NEW_A, "Office de l'Essai", "OPH", "93", "comptabilité publique", "31/12", "OPH"],
            [NEW_B, "SEM de l'Essai", "SEM", "2A", "", "30-06-2024", "Fédération des EPL"],
        ]
    )
    report = run_import("dhup", content, "registre.csv", gestionnaire)
    assert report.ok and report.created == 2
    assert facts(NEW_A) == ("PUBLIQUE", "31/12", "oph")
    assert facts(NEW_B) == ("", "30/06", "epl")

    workbook = xlsx_bytes(
        [
            FULL,
            [NEW_A, "Office de l'Essai", "OPH", "93", "commerce", dt.datetime(2024, 12, 31), "oph"],
            [NEW_B, "SEM de l'Essai", "EPL", "2A", None, None, "epl"],
        ]
    )
    report = run_import("dhup", workbook, "registre.xlsx", gestionnaire)
    assert report.ok and report.updated == 2
    assert facts(NEW_A) == ("COMMERCE", "31/12", "oph")
    assert facts(NEW_B) == ("", "31/12", "epl")  # an empty closing cell: 31 December


def test_a_file_without_the_columns_changes_none_of_them(gestionnaire):
    run_import(
        "dhup",
        csv_bytes([FULL, [NEW_A, "Office", "OPH", "93", "commerce", "30/09", "oph"]]),
        "a.csv",
        gestionnaire,
    )
    report = run_import(
        "dhup", csv_bytes([HEADER, [NEW_A, "Office renommé", "OPH", "93"]]), "b.csv", gestionnaire
    )
    assert report.ok and report.updated == 1
    assert facts(NEW_A) == ("COMMERCE", "30/09", "oph")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["OPH", "93", "privée", "31/12", ""], "Régime comptable « privée » inconnu"),
        (["ESH", "93", "commerce", "31/12", ""], "seuls les OPH en ont un"),
        (["OPH", "93", "", "31/02", ""], "Date de clôture « 31/02 » : ce jour n'existe pas"),
        (["OPH", "93", "", "fin juin", ""], "Date de clôture « fin juin » : écrivez le jour"),
        (["OPH", "93", "", "31/12", "FNAR"], "Fédération « FNAR » inconnue"),
    ],
)
def test_a_wrong_value_names_its_line_and_nothing_is_imported(gestionnaire, row, message):
    content = csv_bytes([FULL, [NEW_B, "Bon", "OPH", "93", "", "", ""], [NEW_A, "Essai", *row]])
    report = run_import("dhup", content, "registre.csv", gestionnaire)
    assert not report.applied
    assert [(line, text) for line, text in report.errors if message in text] and all(
        line == 3 for line, _ in report.errors
    ), report.errors
    with schema_context("dhup"):
        assert not Organism.objects.filter(siren__in=[NEW_A, NEW_B]).exists()


def test_an_oph_becoming_another_family_loses_its_accounting_regime(gestionnaire):
    run_import(
        "dhup",
        csv_bytes([FULL, [NEW_A, "Office", "OPH", "93", "publique", "31/12", ""]]),
        "a.csv",
        gestionnaire,
    )
    report = run_import(
        "dhup", csv_bytes([HEADER, [NEW_A, "Office", "ESH", "93"]]), "b.csv", gestionnaire
    )
    assert report.ok
    assert facts(NEW_A)[0] == ""


def test_closing_days_at_their_boundaries():
    assert closing_error("31/12") is None and closing_error("30/06") is None
    assert closing_error("29/02") is None  # a leap year's last day of February
    assert closing_error("30/02") and closing_error("31/04") and closing_error("00/12")
    assert closing_error("31/13") and closing_error("") and closing_error("12/2024/1")


def test_the_database_refuses_a_regime_outside_the_oph(gestionnaire):
    with schema_context("dhup"):
        esh = Organism.objects.filter(family="ESH").first()
        esh.accounting = "COMMERCE"
        with pytest.raises(IntegrityError), transaction.atomic():
            esh.save()
        esh.refresh_from_db()
        esh.closing = "31/02"
        with pytest.raises(ValidationError):
            esh.full_clean()
