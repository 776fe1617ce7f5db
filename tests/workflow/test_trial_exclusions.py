"""A trial dossier counts nowhere and leaves nowhere: ``Dossier.objects`` (the default
manager, and the related managers) leaves trials out. To prove it is the manager and not the
steps that keeps it out, the trial here is forced to step 4, transmitted, with values."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Role, User
from declarations.services import dossier_values_save
from operations import activity
from organisms.services.memberships import membership_bind
from tests.api.test_read_api import LIST, get, key_of
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.extractions.test_extractions import (  # noqa: F401
    _extraction_storage,
    ask,
    campaign,
    download,
    last_extraction,
    made,
    texts_of,
)
from tests.forms_cms.test_drafts import draft  # noqa: F401
from tests.helpers import transmit
from workflow.actions import dossier_trial_open
from workflow.models import Dossier, Reminder
from workflow.services.reminders import automatic_reminders_send

from .test_reminders import due_on, last_of_month

pytestmark = pytest.mark.django_db

SECRET = "987654"  # the trial's value: in no list, count, file or report


@pytest.fixture
def counted_trial(draft, demo_user):  # noqa: F811
    """The draft's trial dossier with a value, made to look transmitted (step 4)."""
    gestionnaire = demo_user("dhup", "gestionnaire")
    with schema_context("dhup"):
        trial = dossier_trial_open(version=draft, acting_user=gestionnaire)
        dossier_values_save(
            dossier=trial, entries={"ACT_BROUILLON": SECRET}, acting_user=gestionnaire
        )
        Dossier.all_objects.filter(pk=trial.pk).update(step="4", transmitted_at=timezone.now())
        trial = Dossier.all_objects.select_related("organism").get(pk=trial.pk)
        assert trial.values["ACT_BROUILLON"] == int(SECRET)
    return trial


@pytest.fixture
def real(version, declarant):  # noqa: F811
    """A real dossier, transmitted."""
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "5"}, acting_user=declarant)
    transmit(dossier, declarant)
    return dossier


def absent(text: str, trial) -> bool:
    return trial.organism.siren not in text and SECRET not in text and "987 654" not in text


def test_managers(counted_trial, real):
    with schema_context("dhup"):
        assert list(Dossier.objects.values_list("pk", flat=True)) == [real.pk]
        assert not counted_trial.organism.dossiers.exists()  # related managers too
        assert counted_trial.campaign.dossiers.filter(pk=counted_trial.pk).count() == 0
        assert Dossier.all_objects.filter(trial=True).count() == 1


def test_not_in_the_workspace_list_nor_its_counts(counted_trial, real, client_for, demo_user):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    everyone = "?" + "&".join(f"steps={s}" for s in ("1", "2", "3", "4", "4R", "5", "6"))
    page = client.get(f"/campagnes/{real.campaign_id}/dossiers/{everyone}").content.decode()
    assert "1 dossier listé" in page and real.organism.siren in page
    assert absent(page, counted_trial)
    listing = client.get("/declarations/").content.decode()
    assert absent(listing, counted_trial)


def test_not_in_an_extraction(counted_trial, real, client_for, demo_user, campaign):  # noqa: F811
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    page = client.get(f"/extractions/campagne/{campaign.pk}/").content.decode()
    assert "1 dossier</strong> sera extrait" in page
    assert ask(client, campaign, "long_csv").status_code == 302
    extraction = made(last_extraction().pk)
    assert extraction.status == "done", extraction.error
    assert extraction.included == [real.pk]
    assert absent(texts_of("long_csv", download(client, extraction)), counted_trial)


def test_not_in_partner_or_api_lists(counted_trial, real, client_for, demo_user):
    for role in ("partenaire-cdc", "partenaire-prefecture"):
        client = client_for("dhup", demo_user("dhup", role))
        for url in ("/", "/partenaires/"):
            response = client.get(url)
            assert absent(response.content.decode(), counted_trial), (role, url)
    client = client_for("dhup")
    listing = get(client, LIST, key_of(demo_user("dhup", "gestionnaire"))).json()
    assert [d["id"] for d in listing["dossiers"]] == [real.pk]
    single = get(
        client, f"/api/v1/dossiers/{counted_trial.pk}", key_of(demo_user("dhup", "gestionnaire"))
    )
    assert single.status_code == 404


def test_not_counted_as_filed_by_the_reminders(counted_trial, real):
    """The test organism, were it active (the test platform's editors' account), is reminded
    as an organism that has not transmitted: its trial is no dossier of the campaign."""
    organism = counted_trial.organism
    with schema_context("dhup"):
        organism.is_active, organism.family = True, "COOP"
        organism.save(update_fields=["is_active", "family"])
        user = User.objects.create_user(
            username="essai-org", password="x", role=Role.ORGANISME, email="essai@example.org"
        )
        membership_bind(user=user, organism=organism)
    deadline = last_of_month(timezone.localdate() + dt.timedelta(days=40))
    due_on(organism, deadline)
    with schema_context("dhup"):
        automatic_reminders_send(deadline - dt.timedelta(days=3))
        assert Reminder.objects.filter(organism=organism).exists()


def test_not_in_the_activity_report(counted_trial, real):
    figures = activity.activity_figures("dhup", 2024)
    er = next(d for d in figures.documents if d.code == "ER_SOCIAUX")
    counts = {line.code: line.count for line in er.steps}
    assert counts["4"] == 1 and sum(counts.values()) == 1  # the real one only
