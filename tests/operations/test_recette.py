"""The test platform: recette_prepare on a copy of production (the test database with what
people would have entered), and its refusal anywhere but on a test platform."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context

from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.declarations.test_xml import document

pytestmark = pytest.mark.django_db

SCHEMAS = ["public", "dhup", "oph", "esh", "coop", "epl"]
PERSON = "Maëlys Kerbrat-Quilliou"
PERSON_EMAIL = "maelys.kerbrat@bailleur-exemple.fr"
PERSON_USERNAME = "mkerbrat"
PHONE = "06 12 34 56 78"
CORRESPONDENT = ("Yannick Le Goff-Trémeur", "y.legoff@dreal-exemple.fr")
TEST_PASSWORD = "Recette-Editeurs-2026!"  # noqa: S105
PDF = b"%PDF-1.4 decision originale de l'assemblee\n%%EOF\n"


def seed(declarant, demo_user):  # noqa: F811
    """What people entered in production: accounts, messages, notes, hotline, tokens."""
    from declarations.models import ApiToken
    from exchanges.services import message_post
    from forms_cms.models import DocumentType
    from operations import services as ops
    from operations.models import Correspondent, HotlineContact
    from organisms.services.memberships import platform_user_create
    from workflow.models import Campaign
    from workflow.services.annotations import note_add

    dossier = open_dossier(declarant)
    gestionnaire = demo_user("dhup", "gestionnaire")
    with schema_context("dhup"):
        person = platform_user_create(
            username=PERSON_USERNAME,
            email=PERSON_EMAIL,
            first_name="Maëlys",
            last_name="Kerbrat-Quilliou",
            role="organisme",
            organism=declarant.membership.organism,
            acting_user=gestionnaire,
        )
        message_post(
            dossier=dossier,
            author=declarant,
            body=f"Bonjour, {PERSON} reste joignable au {PHONE} ou à {PERSON_EMAIL}.",
            files=[("decision-ag.pdf", PDF, "document")],
        )
        note_add(
            organism=declarant.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="ER_SOCIAUX"),
            body=f"Appeler {PERSON} au {PHONE}.",
            acting_user=gestionnaire,
        )
        ApiToken.objects.create(user=person, name="PGI", prefix="abcd1234", key_hash="x" * 64)
    with schema_context("public"):
        staff = demo_user("public", "hotline")
        Correspondent.objects.create(name=CORRESPONDENT[0], email=CORRESPONDENT[1])
        HotlineContact.objects.create(
            received_at="2026-11-03T09:15:00+01:00",
            channel="phone",
            platform="dhup",
            caller_name=PERSON,
            subject="entry",
            description=f"{PERSON} demande à être rappelée au {PHONE}.",
            resolution=f"Rappelée au {PHONE}.",
        )
        anomaly = ops.anomaly_create(
            by=staff,
            short_description=" ".join(["mot"] * 22) + f" signalé par {CORRESPONDENT[1]}",
            severity="minor",
            found_on="2026-11-02",
            reporter=PERSON,
            platforms=["dhup"],
        )
        ops.anomaly_change(anomaly, by=staff, status="acknowledged", comment=f"Vu avec {PERSON}.")
    return dossier


def identities() -> set[str]:
    """Every e-mail address and full name of every account of every schema, and the
    correspondents', before the preparation."""
    from accounts.models import User
    from operations.models import Correspondent

    found = {PERSON, PERSON_EMAIL, PHONE, *CORRESPONDENT}
    for schema in SCHEMAS:
        with schema_context(schema):
            for first, last, email in User.objects.values_list("first_name", "last_name", "email"):
                found.add(email)
                if first and last:
                    found.add(f"{first} {last}")
    with schema_context("public"):
        for name, email in Correspondent.objects.values_list("name", "email"):
            found |= {name, email}
    return {value for value in found if value}


def occurrences(values: set[str]) -> list[tuple[str, str, str, str]]:
    """(schema, table, column, value) for each value still found in a text column (text,
    varchar, JSON) of any table of any schema."""
    patterns = sorted(values)
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE table_schema = ANY(%s) AND t.table_type = 'BASE TABLE' "
            "AND data_type IN ('text', 'character varying', 'jsonb', 'json')",
            [SCHEMAS],
        )
        for schema, table, column in cursor.fetchall():
            cursor.execute(
                f'SELECT "{column}"::text FROM "{schema}"."{table}" '  # noqa: S608
                f'WHERE "{column}"::text ILIKE ANY(%s)',
                [[f"%{p}%" for p in patterns]],
            )
            for (text,) in cursor.fetchall():
                found += [(schema, table, column, p) for p in patterns if p.lower() in text.lower()]
    return found


def dossier_figures(schema: str) -> dict[int, str]:
    """Each dossier's values and computed values, as a digest."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT id, md5("values"::text || computed::text) FROM "{schema}".workflow_dossier'  # noqa: S608
        )
        return dict(cursor.fetchall())


def test_recette_prepare_leaves_no_person_and_keeps_the_figures(
    version,  # noqa: F811
    declarant,  # noqa: F811
    demo_user,
    client_for,
    capsys,
):
    from accounts.models import User
    from declarations.models import ApiToken
    from exchanges.models import Attachment, Message
    from organisms.models import Organism
    from workflow.models import Dossier

    seed(declarant, demo_user)
    before = identities()
    assert occurrences(before)  # the scan finds them while they are there
    figures = {s: dossier_figures(s) for s in SCHEMAS[1:]}
    assert figures["dhup"]
    organisms = {}
    for schema in SCHEMAS[1:]:
        with schema_context(schema):
            organisms[schema] = Organism.objects.count()

    with override_settings(HARMONIA_ENVIRONMENT="recette"):
        call_command("recette_prepare", password=TEST_PASSWORD)
    out = capsys.readouterr().out
    assert "Plateforme de recette prête" in out and TEST_PASSWORD in out
    with override_settings(HARMONIA_ENVIRONMENT="recette"):
        call_command("recette_prepare", password=TEST_PASSWORD)  # again: the same test account

    assert occurrences(before) == []
    # the figures are kept, each platform has one more organism: the editors' test one
    for schema, kept in figures.items():
        after = dossier_figures(schema)
        assert {pk: after[pk] for pk in kept} == kept, schema
    for schema in SCHEMAS:
        with schema_context(schema):
            users = User.objects.exclude(username="test-editeurs")
            assert not any(u.has_usable_password() for u in users), schema
            if schema == "public":
                continue
            assert Organism.objects.count() == organisms[schema] + 1
            editor = User.objects.get(username="test-editeurs")
            assert editor.membership.organism.memberships.count() == 1
            assert editor.check_password(TEST_PASSWORD)
            assert editor.membership.organism.name.startswith("Organisme de test")
    with schema_context("dhup"):
        from wagtail.models import ModelLogEntry

        # the journal of the account's creation names the new username, keeps the role
        created = ModelLogEntry.objects.filter(action="harmonia.account_created").latest("pk")
        person = User.objects.get(pk=created.object_id)
        assert created.data["username"] == person.username == f"organisme-{person.pk}"
        assert created.data["email"] == person.email and created.data["role"] == "organisme"
        assert created.label == person.username
        assert not ApiToken.objects.active().exists()
        (attachment,) = Attachment.objects.all()
        content = bytes(attachment.content)
        assert content.startswith(b"%PDF-") and content != PDF
        assert attachment.filename == f"piece-jointe-{attachment.pk}.pdf"
        assert all("texte remplacé" in m.body for m in Message.objects.all())
        # the editors' organism has a dossier of the campaign, which its account may open
        test_dossier = Dossier.objects.get(organism__name__startswith="Organisme de test")
        assert test_dossier.campaign.exercise == 2024
        assert test_dossier.document_type.code == "ER_SOCIAUX"
        _, key = ApiToken.issue(user=User.objects.get(username="test-editeurs"), name="PGI")
        siren = test_dossier.organism.siren
    # an editor imports into it through the editors' API with that account's token
    imported = client_for("dhup").post(
        "/api/v1/declarations/import",
        document("<ACT_IMMO>250.5</ACT_IMMO>", siren=siren),
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert imported.status_code == 200, imported.content
    assert imported.json()["dossier"] == test_dossier.pk


def test_recette_prepare_refuses_outside_a_test_platform_and_changes_nothing(demo_user):
    from accounts.models import User

    def state():
        with schema_context("dhup"):
            return sorted(User.objects.values_list("username", "email", "password"))

    before = state()
    for env in ("production", "development"):
        with (
            override_settings(HARMONIA_ENVIRONMENT=env),
            pytest.raises(CommandError) as refused,
        ):
            call_command("recette_prepare")
        message = str(refused.value)
        assert "Refusé : recette_prepare ne s'exécute que sur une plateforme de recette" in message
        assert f"cet environnement est « {env} »" in message
        assert "Rien n'a été modifié" in message and "Nothing was changed" in message
    assert state() == before


# a form whose identification sheet holds free text: a person's name, an address, a place,
# remarks (with a phone number), and a figure
TEXT_SHEETS = {
    "Identification": {
        "A1": "Signataire des comptes",
        "B1": "x",
        "A2": "Courriel du contact",
        "B2": "x",
        "A3": "Commune du siège",
        "B3": "x",
        "A4": "Observations",
        "B4": "x",
        "A5": "Logements",
        "B5": 10,
        "A6": "Signataire (rappel)",
        "B6": "=B1",
    },
}
TEXT_NAMES = {
    "SIGNATAIRE": "Identification!$B$1",
    "CONTACT": "Identification!$B$2",
    "COMMUNE": "Identification!$B$3",
    "OBSERVATIONS": "Identification!$B$4",
    "LOGEMENTS": "Identification!$B$5",
    "RAPPEL": "Identification!$B$6",
}
SIGNATORY = ("Gwenaëlle Le Bihan-Ruz", "Erwan Quéméner-Lagadec")
CONTACT = "g.lebihan@office-exemple.fr"


def test_recette_prepare_replaces_the_people_in_the_dossiers_and_keeps_their_figures(
    declarant,  # noqa: F811
    demo_user,
):
    """The people a dossier names (a signatory, a contact's address, a phone number in a
    remark) leave the dossier, its history, its snapshot and what partners received; the
    figures and the places stay; a name copied by a formula gets the same pseudonym."""
    from declarations.services import dossier_values_save
    from forms_cms.fields import version_fields
    from partners.models import Transmission
    from tests.conftest import run_queued_jobs
    from tests.forms_cms.engine.helpers import workbook_bytes
    from tests.forms_cms.test_versions import upload
    from tests.helpers import transmit
    from workflow.models import Dossier, DossierExport, ValueChange

    version = upload(
        "dhup", workbook_bytes(TEXT_SHEETS, TEXT_NAMES), user=demo_user("dhup", "gestionnaire")
    )
    with schema_context("dhup"):
        types = {n: f.data_type for n, f in version_fields(version).items()}
    assert types["SIGNATAIRE"] == types["OBSERVATIONS"] == "text"
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier,
            entries={"SIGNATAIRE": SIGNATORY[0], "CONTACT": CONTACT, "COMMUNE": "Quimper",
                     "OBSERVATIONS": f"Rappeler au {PHONE} ou écrire à {CONTACT}.",
                     "LOGEMENTS": "1250"},
            acting_user=declarant,
        )  # fmt: skip
        dossier.refresh_from_db()
        dossier_values_save(
            dossier=dossier, entries={"SIGNATAIRE": SIGNATORY[1]}, acting_user=declarant
        )
        dossier.refresh_from_db()
        assert dossier.computed["RAPPEL"] == SIGNATORY[1]
    transmit(dossier, declarant)
    run_queued_jobs()  # the PDF snapshot and the partners' copies
    with schema_context("dhup"):
        assert Transmission.objects.filter(dossier=dossier).exists()
        snapshot = DossierExport.objects.filter(dossier=dossier, content__isnull=False).first()
        assert snapshot is not None and snapshot.frozen_values["SIGNATAIRE"] == SIGNATORY[1]
    people = {*SIGNATORY, CONTACT, PHONE}
    assert {found[3] for found in occurrences(people)} == people  # the scan sees them

    with override_settings(HARMONIA_ENVIRONMENT="recette"):
        call_command("recette_prepare", password=TEST_PASSWORD)

    assert occurrences(people) == []
    with schema_context("dhup"):
        dossier = Dossier.objects.get(pk=dossier.pk)
        pseudonym = dossier.values["SIGNATAIRE"]
        assert pseudonym.startswith("Personne ")
        assert dossier.computed["RAPPEL"] == pseudonym  # the formula's copy: the same one
        assert dossier.values["CONTACT"].startswith("Personne ")
        assert dossier.values["COMMUNE"] == "Quimper"  # a place is not a person
        assert dossier.values["OBSERVATIONS"] == "Rappeler au [téléphone] ou écrire à [adresse]."
        assert dossier.values["LOGEMENTS"] == 1250
        (old, new) = (
            ValueChange.objects.filter(dossier=dossier, field_name="SIGNATAIRE")
            .values_list("new_value", flat=True)
            .order_by("pk")
        )
        assert old.startswith("Personne ") and new == pseudonym and old != new
        for transmission in Transmission.objects.filter(dossier=dossier):
            assert transmission.values == dossier.values
        snapshot.refresh_from_db()
        assert snapshot.frozen_values == dossier.values
        # the snapshot's PDF printed the names: the placeholder now
        assert bytes(snapshot.content).startswith(b"%PDF-")
