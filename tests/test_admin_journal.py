"""The journal of administrative actions: each action leaves one entry in Wagtail's log naming
who acted, read by the platform's gestionnaires in the CMS's site history.

Controls, aggregates, sub-steps and field edits are journalled by their single write path and
tested with it (tests/forms_cms/test_write_paths.py)."""

from __future__ import annotations

import datetime
import html
import json

import pytest
from django_tenants.utils import schema_context
from wagtail.models import ModelLogEntry

from forms_cms.models import DocumentType
from organisms.models import Organism, Partner, RegistryImport
from organisms.services import organisms_import
from partners.services import (
    partner_choices_save,
    partner_rule_create,
    partner_rule_delete,
    partner_rule_update,
)
from workflow.actions import dossiers_purge
from workflow.models import PurgeLog
from workflow.services import campaign_open
from workflow.services.migration import form_version_migrate

from .forms_cms.engine.helpers import workbook_bytes
from .forms_cms.test_versions import NAMES, SHEETS, upload
from .organisms.test_platform_users import form_data

pytestmark = pytest.mark.django_db

HISTORY = "/cms/reports/site-history/"


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


@pytest.fixture
def declarant(demo_user):
    return demo_user("dhup", "organisme")


@pytest.fixture
def journal(platforms):
    """``journal(action)``: the entries of ``action`` written on dhup since the test began."""
    with schema_context("dhup"):
        start = ModelLogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def entries(action: str) -> list[ModelLogEntry]:
        with schema_context("dhup"):
            return list(
                ModelLogEntry.objects.filter(id__gt=start, action=action)
                .select_related("content_type")
                .order_by("id")
            )

    return entries


def the_one(journal, action: str, instance, user) -> ModelLogEntry:
    (entry,) = journal(action)
    assert entry.content_type.model_class() is type(instance)
    assert entry.object_id == str(instance.pk)
    assert entry.user_id == (user.pk if user else None)
    return entry


def test_api_tokens_issued_and_revoked(client_for, declarant, journal):
    client = client_for("dhup", declarant)
    response = client.post("/declarations/jetons/", {"name": "Logiciel comptable"})
    key = response.context["new_key"]
    from declarations.models import ApiToken

    with schema_context("dhup"):
        token = ApiToken.objects.get(user=declarant)
    issued = the_one(journal, "harmonia.token_issued", token, declarant)
    assert issued.data["name"] == "Logiciel comptable"
    assert issued.data["prefix"] == token.prefix
    assert issued.data["organism"] == declarant.membership.organism.siren
    assert key not in json.dumps(issued.data) + issued.label  # the secret is never journalled
    client.post(f"/declarations/jetons/{token.pk}/revoquer/")
    the_one(journal, "harmonia.token_revoked", token, declarant)


def test_accounts_created_deactivated_and_reactivated(client_for, gestionnaire, journal):
    from accounts.models import User

    with schema_context("dhup"):
        organism = Organism.objects.exclude(memberships__isnull=False).first()
    client = client_for("dhup", gestionnaire)
    client.post("/organismes/comptes/nouveau/", form_data(organism_siren=organism.siren))
    with schema_context("dhup"):
        account = User.objects.get(username="nouvel.utilisateur")
    created = the_one(journal, "harmonia.account_created", account, gestionnaire)
    assert created.data["username"] == "nouvel.utilisateur"
    assert (created.data["role"], created.data["organism"]) == ("organisme", organism.siren)
    client.post(f"/organismes/comptes/{account.pk}/activation/", {"active": "0"})
    deactivated = the_one(journal, "harmonia.account_deactivated", account, gestionnaire)
    assert deactivated.data["username"] == "nouvel.utilisateur"
    client.post(f"/organismes/comptes/{account.pk}/activation/", {"active": "1"})
    the_one(journal, "harmonia.account_activated", account, gestionnaire)
    # deactivating an account already inactive twice journals it once
    client.post(f"/organismes/comptes/{account.pk}/activation/", {"active": "0"})
    client.post(f"/organismes/comptes/{account.pk}/activation/", {"active": "0"})
    assert len(journal("harmonia.account_deactivated")) == 2


def test_registry_import(gestionnaire, journal):
    with schema_context("dhup"):
        organism = Organism.objects.order_by("siren").first()
        content = (
            "SIREN;Raison sociale;Famille;Département\r\n"
            f"{organism.siren};Nouveau nom;{organism.family};{organism.departement}\r\n"
        ).encode()
        report = organisms_import(content=content, file_name="ref.csv", acting_user=gestionnaire)
        applied = RegistryImport.objects.latest("imported_at")
    assert report.updated == 1
    entry = the_one(journal, "harmonia.registry_imported", applied, gestionnaire)
    assert (entry.data["file_name"], entry.data["updated"]) == ("ref.csv", 1)


def test_partner_rules_and_choices(gestionnaire, declarant, journal):
    organism = declarant.membership.organism
    with schema_context("dhup"):
        er = DocumentType.objects.get(code="ER_SOCIAUX")
        rule = partner_rule_create(
            document_type=er, partner_kind="DREAL", mode="imposed", transmit_at="6",
            acting_user=gestionnaire,
        )  # fmt: skip
        rule = partner_rule_update(rule=rule, mode="forbidden", acting_user=gestionnaire)
        prefecture = Partner.objects.get(kind="PREFECTURE", departement=organism.departement)
        partner_choices_save(
            organism=organism, document_type=er, chosen_ids=[prefecture.pk],
            acting_user=declarant,
        )  # fmt: skip
    created = the_one(journal, "harmonia.partner_rule_created", rule, gestionnaire)
    assert created.data == {
        "document_type": "ER_SOCIAUX",
        "partner_kind": "DREAL",
        "partner": None,
        "mode": "imposed",
        "transmit_at": "6",
    }
    updated = the_one(journal, "harmonia.partner_rule_updated", rule, gestionnaire)
    assert (updated.data["before"]["mode"], updated.data["mode"]) == ("imposed", "forbidden")
    choices = the_one(journal, "harmonia.partner_choices_saved", organism, declarant)
    assert choices.data["chosen"] == [prefecture.name]
    assert choices.data["document_type"] == "ER_SOCIAUX"
    with schema_context("dhup"):
        partner_rule_delete(rule=rule, acting_user=gestionnaire)
    deleted = the_one(journal, "harmonia.partner_rule_deleted", rule, gestionnaire)
    assert deleted.deleted and deleted.data["mode"] == "forbidden"


def test_campaign_opened(gestionnaire, journal):
    with schema_context("dhup"):
        campaign = campaign_open(
            exercise=2030,
            document_types=[DocumentType.objects.get(code="ER_SOCIAUX")],
            opening_date=datetime.date(2031, 1, 15),
            deadline=datetime.date(2031, 6, 30),
            acting_user=gestionnaire,
        )
    entry = the_one(journal, "harmonia.campaign_opened", campaign, gestionnaire)
    assert entry.data["exercise"] == 2030 and entry.data["document_types"] == ["ER_SOCIAUX"]
    assert entry.data["deadline"] == "2031-06-30"


def test_form_versions_uploaded_and_migrated(gestionnaire, journal):
    first = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire, name="v1.xlsx")
    uploaded = the_one(journal, "harmonia.form_version_uploaded", first, gestionnaire)
    assert uploaded.data["file_name"] == "v1.xlsx" and uploaded.data["fields"] == len(NAMES)
    second = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire, name="v2.xlsx")
    with schema_context("dhup"):
        form_version_migrate(version=second, acting_user=gestionnaire)
    migrated = the_one(journal, "harmonia.form_version_migrated", second, gestionnaire)
    assert migrated.data["version"] == second.code


def test_purge_run_from_the_command_names_no_user(journal):
    with schema_context("dhup"):
        dossiers_purge(reference=1990, run_by="exploitant")
        purge = PurgeLog.objects.latest("run_at")
    entry = the_one(journal, "harmonia.dossiers_purged", purge, None)
    assert entry.data["run_by"] == "exploitant" and entry.data["dossiers"] == 0


def test_gestionnaires_read_the_journal_in_the_site_history_others_cannot(
    client_for, gestionnaire, declarant, demo_user, journal
):
    labels = [
        "Jeton d'accès API créé",
        "Compte créé",
        "Référentiel des organismes importé",
        "Règle de transmission aux partenaires créée",
        "Choix des partenaires de l'organisme enregistrés",
        "Campagne ouverte",
        "Version de formulaire déposée",
        "Purge des dossiers anciens",
    ]
    client_for("dhup", declarant).post("/declarations/jetons/", {"name": "Logiciel"})
    client = client_for("dhup", gestionnaire)
    with schema_context("dhup"):
        organism = Organism.objects.exclude(memberships__isnull=False).first()
        er = DocumentType.objects.get(code="ER_SOCIAUX")
        prefecture = Partner.objects.get(
            kind="PREFECTURE", departement=declarant.membership.organism.departement
        )
    client.post("/organismes/comptes/nouveau/", form_data(organism_siren=organism.siren))
    with schema_context("dhup"):
        organisms_import(
            content=f"SIREN;Nom;Famille;Département\n{organism.siren};{organism.name};"
            f"{organism.family};{organism.departement}\n".encode(),
            file_name="ref.csv",
            acting_user=gestionnaire,
        )
        partner_rule_create(
            document_type=er, partner_kind="DREAL", mode="imposed", acting_user=gestionnaire
        )
        partner_choices_save(
            organism=declarant.membership.organism, document_type=er,
            chosen_ids=[prefecture.pk], acting_user=declarant,
        )  # fmt: skip
        campaign_open(
            exercise=2030, document_types=[er], opening_date=datetime.date(2031, 1, 1),
            deadline=datetime.date(2031, 6, 30), acting_user=gestionnaire,
        )  # fmt: skip
        dossiers_purge(reference=1990, run_by="exploitant")
    upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    response = client.get(HISTORY)
    assert response.status_code == 200
    page = response.content.decode()
    for label in labels:
        assert html.escape(label) in page, label
    assert "nouvel.utilisateur (Organisme)" in page  # the account the entry is about
    for user in (declarant, demo_user("dhup", "partenaire-cdc")):
        refused = client_for("dhup", user).get(HISTORY)
        assert refused.status_code != 200
        assert "Compte créé" not in refused.content.decode()
