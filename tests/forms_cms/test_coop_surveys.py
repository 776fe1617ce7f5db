"""The coopératives' federation collects three federal surveys (activité, effectif,
sociétariat) filed by every member; databases that had its one « Enquête fédérale » get them
from migration 0007, and platforms_sync's seed does not bring the old one back."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django_tenants.utils import schema_context

from forms_cms.demo import load_demo_forms
from forms_cms.models import DocumentType, FormVersion
from forms_cms.receivers import document_types_seed
from organisms.models import Organism
from tenants.platforms import platform_spec
from workflow.models import Campaign, Dossier
from workflow.selectors import offers_for

from .engine.helpers import workbook_bytes
from .test_versions import NAMES, SHEETS, upload

pytestmark = pytest.mark.django_db

SURVEYS = ["ENQUETE_ACTIVITE", "ENQUETE_EFFECTIF", "ENQUETE_SOCIETARIAT"]
COOP = ["QDIS_COOP", *SURVEYS]
migration = importlib.import_module("forms_cms.migrations.0007_coop_federal_surveys")


def coop_documents() -> list[tuple[str, str]]:
    return list(DocumentType.objects.values_list("code", "label"))


def migrate() -> None:
    """Migration 0007's data step, in the current schema."""
    migration.coop_surveys_split(apps, SimpleNamespace(connection=connection))


def seed() -> None:
    """What platforms_sync does again on every run (forms_cms.receivers)."""
    document_types_seed(platform_spec("coop"))


@pytest.fixture
def before_the_surveys(platforms):
    """The coop schema as it was: QDIS_COOP and ENQUETE_COOP « Enquête fédérale »."""
    with schema_context("coop"):
        old = DocumentType.objects.get(code="ENQUETE_ACTIVITE")
        old.code, old.label = "ENQUETE_COOP", "Enquête fédérale"
        old.save()
        DocumentType.objects.filter(code__in=SURVEYS).delete()
        assert [code for code, _ in coop_documents()] == ["QDIS_COOP", "ENQUETE_COOP"]
    return old


def test_the_coop_platform_collects_three_surveys_filed_by_every_member(platforms):
    with schema_context("coop"):
        assert coop_documents() == [
            ("QDIS_COOP", "Questionnaire du dossier individuel de situation (QDIS COOP)"),
            ("ENQUETE_ACTIVITE", "Enquête activité"),
            ("ENQUETE_EFFECTIF", "Enquête effectif"),
            ("ENQUETE_SOCIETARIAT", "Enquête sociétariat"),
        ]
        for code in SURVEYS:
            assert DocumentType.objects.get(code=code).families == []


def test_a_member_is_offered_the_three_surveys(platforms, monkeypatch):
    from forms_cms import demo

    monkeypatch.setattr(
        demo,
        "DEMO_FORMS",
        {"coop": {code: code.lower() for code in SURVEYS}},
    )
    assert load_demo_forms() == {"coop": SURVEYS}
    with schema_context("coop"):
        for organism in Organism.objects.order_by("siren")[:2]:
            offers = offers_for(organism)
            assert [(o.document_type.code, o.required) for o in offers] == [
                (code, True) for code in SURVEYS
            ], organism.family
            assert {o.campaign.exercise for o in offers} == {2024}


def test_the_migration_renames_an_unused_federal_survey(before_the_surveys):
    old = before_the_surveys
    with schema_context("coop"):
        migrate()
        assert [code for code, _ in coop_documents()] == COOP
        # the same row: its settings (who files it, deadline rules) follow
        assert DocumentType.objects.get(code="ENQUETE_ACTIVITE").pk == old.pk
        seed()
        seed()  # platforms_sync again: nothing recreated, nothing doubled
        assert [code for code, _ in coop_documents()] == COOP
        assert DocumentType.objects.count() == 4
        migrate()  # a second run changes nothing
        assert [code for code, _ in coop_documents()] == COOP


def test_the_migration_keeps_a_federal_survey_with_a_form_version(before_the_surveys, demo_user):
    old = before_the_surveys
    upload(
        "coop",
        workbook_bytes(SHEETS, NAMES),
        user=demo_user("coop", "gestionnaire"),
        document="ENQUETE_COOP",
    )
    with schema_context("coop"):
        migrate()
        seed()
        assert [code for code, _ in coop_documents()] == [*COOP, "ENQUETE_COOP"]
        assert DocumentType.objects.get(code="ENQUETE_COOP").pk == old.pk
        assert FormVersion.objects.get().document_type_id == old.pk


def test_the_migration_keeps_a_federal_survey_with_a_dossier(before_the_surveys, demo_user):
    """A dossier alone (its version on another document) is enough to keep it."""
    old = before_the_surveys
    version = upload(
        "coop",
        workbook_bytes(SHEETS, NAMES),
        user=demo_user("coop", "gestionnaire"),
        document="QDIS_COOP",
    )
    with schema_context("coop"):
        Dossier.objects.create(
            organism=Organism.objects.first(),
            campaign=Campaign.objects.get(exercise=2024),
            document_type=old,
            form_version=version,
        )
        migrate()
        seed()
        assert [code for code, _ in coop_documents()] == [*COOP, "ENQUETE_COOP"]
        assert Dossier.objects.get().document_type.code == "ENQUETE_COOP"


@pytest.mark.parametrize("code", ["dhup", "oph", "esh", "epl"])
def test_the_migration_leaves_the_other_platforms_alone(platforms, code):
    with schema_context(code):
        before = coop_documents()
        migrate()
        assert coop_documents() == before
        assert not DocumentType.objects.filter(code__in=[*SURVEYS, "ENQUETE_COOP"]).exists()
