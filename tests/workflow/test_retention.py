"""Retention: dossiers older than five exercises are listed by a dry run, then purged."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from exchanges.models import Attachment, Message
from exchanges.services import message_post
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.exchanges.samples import pdf as pdf_bytes
from workflow.actions import dossier_transition
from workflow.models import Campaign, Dossier, DossierExport, PurgeLog, ValueChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_and_new(version, declarant, demo_user):  # noqa: F811
    """A transmitted 2024 dossier, and a copy of it moved to an old 2018 campaign."""
    from declarations.services import dossier_values_save

    recent = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(dossier=recent, entries={"ACT_IMMO": "5"}, acting_user=declarant)
        campaign = Campaign.objects.create(
            exercise=2018,
            opening_date=datetime.date(2019, 1, 1),
            deadline=datetime.date(2019, 6, 30),
            opened_by=demo_user("dhup", "gestionnaire"),
        )
        old = Dossier.objects.create(
            organism=recent.organism,
            campaign=campaign,
            document_type=recent.document_type,
            form_version=recent.form_version,
            values={"ACT_IMMO": 1.0},
            step="2",
        )
        dossier_transition(dossier=old, action="validate", acting_user=declarant)
        dossier_transition(dossier=old, action="transmit", acting_user=declarant)
        message_post(
            dossier=old,
            author=declarant,
            body="Décision jointe",
            files=[("prorogation.pdf", pdf_bytes(), "prorogation")],
        )
    return old, recent


def test_dry_run_lists_and_deletes_nothing(old_and_new):
    old, recent = old_and_new
    out = StringIO()
    call_command("dossiers_purge", platform="dhup", reference=2024, stdout=out)
    text = out.getvalue()
    assert "exercices antérieurs à 2020 — 1 dossier, 2 documents, 1 pièce jointe" in text
    assert f"2018 ER_SOCIAUX {old.organism.siren}" in text
    assert "Simulation : rien n'a été supprimé" in text
    with schema_context("dhup"):
        assert Dossier.objects.filter(pk=old.pk).exists()
        assert not PurgeLog.objects.exists()


def test_confirmed_purge_deletes_everything_of_old_dossiers_and_logs(old_and_new):
    old, recent = old_and_new
    call_command("dossiers_purge", platform="dhup", reference=2024, confirm=True, stdout=StringIO())
    with schema_context("dhup"):
        assert not Dossier.objects.filter(pk=old.pk).exists()
        assert not DossierExport.objects.filter(dossier_id=old.pk).exists()
        assert not Message.objects.filter(dossier_id=old.pk).exists()
        assert not Attachment.objects.exists()
        assert not ValueChange.objects.filter(dossier_id=old.pk).exists()
        assert Dossier.objects.filter(pk=recent.pk).exists()  # 2024 is kept
        log = PurgeLog.objects.get()
        assert (log.oldest_kept, log.dossiers, log.exports, log.attachments) == (2020, 1, 2, 1)
        assert log.detail == [f"2018 ER_SOCIAUX {old.organism.siren} {old.organism.name}"]
    # the other platforms were not touched
    with schema_context("oph"):
        assert not PurgeLog.objects.exists()
