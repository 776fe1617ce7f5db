"""The gestionnaires' private annotations (notes and the « à suivre » flag, issue 14 item 9):
written on the deadline page, shown in the dossier's head and the workspace, journaled; never
seen by the organism, the partners or another platform, in no page, export or API."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context
from wagtail.models import ModelLogEntry

from declarations.services import dossier_values_save
from forms_cms.models import DocumentType
from organisms.models import Organism
from tests.conftest import run_queued_jobs
from tests.helpers import text_of, transmit
from workflow.models import Campaign, FollowUp, PrivateNote
from workflow.services.annotations import (
    MSG_NOTE_EMPTY,
    MSG_ONLY_GESTIONNAIRE,
    NOTE_MAX_LENGTH,
    follow_up_set,
    follow_up_unset,
    note_add,
)

from ..declarations.test_online_form import declarant, open_dossier, outsider, version  # noqa: F401
from .test_deadlines import campaign, er, gestionnaire, page_url  # noqa: F401

pytestmark = pytest.mark.django_db

# distinctive: never in a page by chance
SECRET = "Contentieux-Zephyrin-4821 : bilan douteux, rappeler le directeur"
SECRET_WORD = "Zephyrin-4821"
NOTE_MARKERS = (
    SECRET_WORD,
    "Annotations privées",
    'data-testid="annotations"',
    'data-testid="dossier-annotations"',
    'data-testid="follow-up"',
    'data-testid="row-follow-up"',
)


def annotate(organism, gestionnaire, body=SECRET, flag=True):  # noqa: F811
    """A note (and the flag) on the organism's ER sociaux 2024, through the service."""
    with schema_context("dhup"):
        key = {
            "organism": Organism.objects.get(pk=organism.pk),
            "campaign": Campaign.objects.get(exercise=2024),
            "document_type": DocumentType.objects.get(code="ER_SOCIAUX"),
        }
        note = note_add(body=body, acting_user=gestionnaire, **key)
        if flag:
            follow_up_set(acting_user=gestionnaire, **key)
    return note


def counts():
    with schema_context("dhup"):
        return PrivateNote.objects.count(), FollowUp.objects.count()


def assert_no_annotation(body: str, where) -> None:
    for marker in NOTE_MARKERS:
        assert marker not in body, (where, marker)


# --- writing them ---------------------------------------------------------------------------
def test_the_gestionnaire_writes_notes_and_the_flag_on_the_deadline_page_journaled(
    declarant, gestionnaire, client_for, campaign, er
):
    organism = declarant.membership.organism  # no dossier opened: annotated all the same
    url = page_url(campaign, er, organism)
    client = client_for("dhup", gestionnaire)
    page = text_of(client.get(url))
    assert "Annotations privées (visibles des seuls gestionnaires)" in page
    assert "Aucune note pour l'instant." in page and "Marquer « à suivre »" in page
    response = client.post(url, {"note": "1", "note-body": "  Première note\nsur deux lignes "})
    assert response.status_code == 302 and response["Location"].endswith("#annotations")
    client.post(url, {"note": "1", "note-body": SECRET})
    page = text_of(client.get(url))
    assert "Note ajoutée aux annotations privées." in page
    # newest first, with the author and the date
    assert page.index(SECRET) < page.index("Première note<br>sur deux lignes")
    author = gestionnaire.get_full_name() or gestionnaire.username
    assert page.count(f"{author}, le ") >= 2
    with schema_context("dhup"):
        first, second = PrivateNote.objects.order_by("pk")
        assert first.body == "Première note\nsur deux lignes"  # kept as written, trimmed
        assert (second.author, second.organism_id) == (gestionnaire, organism.pk)
        assert (second.campaign_id, second.document_type_id) == (campaign.pk, er.pk)
    # the flag, on then off
    client.post(url, {"follow_up": "set"})
    client.post(url, {"follow_up": "set"})  # twice: one flag, one journal row
    page = text_of(client.get(url))
    assert 'data-testid="follow-up">À suivre</span>' in page
    assert "Retirer la marque « à suivre »" in page
    with schema_context("dhup"):
        assert FollowUp.objects.get().flagged_by == gestionnaire
    client.post(url, {"follow_up": "unset"})
    assert "Marquer « à suivre »" in text_of(client.get(url))
    with schema_context("dhup"):
        assert not FollowUp.objects.exists()
        journal = list(
            ModelLogEntry.objects.filter(action__startswith="harmonia.").values_list(
                "action", "data", "user_id"
            )
        )
    actions = [action for action, _, _ in journal]
    assert actions.count("harmonia.note_added") == 2
    assert actions.count("harmonia.follow_up_set") == 1
    assert actions.count("harmonia.follow_up_unset") == 1
    assert all(user_id == gestionnaire.pk for _, _, user_id in journal)
    added = [data for action, data, _ in journal if action == "harmonia.note_added"]
    assert added[0]["organism"] == organism.siren and added[0]["document"] == "ER_SOCIAUX"
    # the journal says who wrote a note where, not what it says
    assert all(SECRET_WORD not in str(data) for _, data, _ in journal)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", MSG_NOTE_EMPTY),
        ("   \n\t ", MSG_NOTE_EMPTY),
        (
            "x" * (NOTE_MAX_LENGTH + 1),
            f"La note compte {NOTE_MAX_LENGTH + 1} caractères : {NOTE_MAX_LENGTH} au plus.",
        ),
    ],
)
def test_an_empty_or_too_long_note_is_refused_with_the_reason_and_nothing_saved(
    declarant, gestionnaire, client_for, campaign, er, body, message
):
    url = page_url(campaign, er, declarant.membership.organism)
    response = client_for("dhup", gestionnaire).post(url, {"note": "1", "note-body": body})
    assert response.status_code == 200
    page = text_of(response)
    assert message in page
    assert 'role="alert"' in page
    assert counts() == (0, 0)
    with schema_context("dhup"):
        assert not ModelLogEntry.objects.filter(action="harmonia.note_added").exists()


def test_a_note_of_the_longest_length_is_kept(declarant, gestionnaire, campaign, er):
    note = annotate(declarant.membership.organism, gestionnaire, body="é" * NOTE_MAX_LENGTH)
    assert len(note.body) == NOTE_MAX_LENGTH


@pytest.mark.parametrize("username", ["organisme", "partenaire-cdc", "editeur", None])
def test_the_service_refuses_anyone_but_a_gestionnaire(
    username, declarant, demo_user, campaign, er
):
    user = demo_user("dhup", username) if username else AnonymousUser()
    with schema_context("dhup"):
        key = {"organism": declarant.membership.organism, "campaign": campaign}
        key["document_type"] = er
        for write in (
            lambda: note_add(body="Une note", acting_user=user, **key),
            lambda: follow_up_set(acting_user=user, **key),
            lambda: follow_up_unset(acting_user=user, **key),
        ):
            with pytest.raises(PermissionDenied, match=MSG_ONLY_GESTIONNAIRE):
                write()
    assert counts() == (0, 0)


def test_a_document_outside_the_campaign_is_refused(declarant, gestionnaire, campaign):
    with schema_context("dhup"):
        outside = DocumentType.objects.exclude(pk__in=campaign.document_types.values("pk")).first()
        if outside is None:
            outside = DocumentType.objects.create(code="AUTRE", label="Autre document")
        with pytest.raises(ValidationError, match="n'est pas demandé par cette campagne"):
            note_add(
                organism=declarant.membership.organism,
                campaign=campaign,
                document_type=outside,
                body="Une note",
                acting_user=gestionnaire,
            )
    assert counts() == (0, 0)


def test_posting_a_note_or_the_flag_is_refused_to_the_other_roles(
    declarant, outsider, demo_user, client_for, campaign, er
):
    url = page_url(campaign, er, declarant.membership.organism)
    posts = ({"note": "1", "note-body": SECRET}, {"follow_up": "set"}, {"follow_up": "unset"})
    expected = {
        "owner": (client_for("dhup", declarant), 403),  # its own deadline page: not its notes
        "outsider": (client_for("dhup", outsider), 403),
        "partner": (client_for("dhup", demo_user("dhup", "partenaire-cdc")), 403),
        "prefecture": (client_for("dhup", demo_user("dhup", "partenaire-prefecture")), 403),
        "editeur": (client_for("dhup", demo_user("dhup", "editeur")), 403),
        "anonymous": (client_for("dhup"), 302),
    }
    for role, (client, status) in expected.items():
        for data in posts:
            response = client.post(url, data)
            assert response.status_code == status, (role, data)
            if role == "anonymous":
                assert "/comptes/" in response["Location"]
            assert_no_annotation(response.content.decode(), role)
    assert counts() == (0, 0)
    # another platform's gestionnaire: the same address is its own platform's, never dhup's
    client_for("oph", demo_user("oph", "gestionnaire")).post(url, posts[0])
    assert counts() == (0, 0)


# --- who reads them -------------------------------------------------------------------------
def test_the_deadline_page_shows_the_annotations_to_gestionnaires_only(
    declarant, outsider, gestionnaire, demo_user, client_for, campaign, er
):
    organism = declarant.membership.organism
    annotate(organism, gestionnaire)
    url = page_url(campaign, er, organism)
    seen = text_of(client_for("dhup", gestionnaire).get(url))
    assert SECRET in seen and 'data-testid="follow-up"' in seen  # the positive control
    own = client_for("dhup", declarant).get(url)
    assert own.status_code == 200  # the organism reads its deadline, not the annotations
    assert_no_annotation(text_of(own), "owner")
    for username in ("partenaire-cdc", "editeur"):
        response = client_for("dhup", demo_user("dhup", username)).get(url)
        assert response.status_code == 403
        assert_no_annotation(text_of(response), username)
    response = client_for("dhup", outsider).get(url)
    assert response.status_code == 403
    assert_no_annotation(text_of(response), "outsider")
    anonymous = client_for("dhup").get(url)
    assert anonymous.status_code == 302 and "/comptes/" in anonymous["Location"]
    # the same address on another platform reads that platform's own objects, never these
    other = client_for("oph", demo_user("oph", "gestionnaire")).get(url)
    assert SECRET_WORD not in text_of(other) and organism.siren not in text_of(other)
    with schema_context("oph"):
        assert not PrivateNote.objects.exists() and not FollowUp.objects.exists()


def test_no_note_nor_flag_in_anything_the_organism_or_a_partner_reads(
    version, declarant, gestionnaire, demo_user, client_for, campaign, er
):
    from declarations.models import ApiToken
    from partners.models import Transmission

    dossier = open_dossier(declarant)
    organism = declarant.membership.organism
    annotate(organism, gestionnaire)
    base = f"/declarations/dossiers/{dossier.pk}/"
    own_pages = [
        "/",
        "/declarations/",
        base,
        f"{base}feuilles/0/",
        f"{base}verification/",
        f"{base}historique/",
        f"{base}modifications/",
        f"{base}xml/",
        f"{base}xml/export/",
        f"{base}rapatrier/",
        f"{base}tronc-commun/",
        f"/echanges/dossiers/{dossier.pk}/",
        page_url(campaign, er, organism),
    ]
    owner = client_for("dhup", declarant)

    def owner_reads_nothing(moment):
        for url in own_pages:
            response = owner.get(url)
            assert response.status_code == 200, (moment, url, response.status_code)
            assert_no_annotation(text_of(response), (moment, url))

    owner_reads_nothing("opened")
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier, entries={"ACT_IMMO": "100", "PAS_CAPITAL": "10"}, acting_user=declarant
        )
    transmit(dossier, declarant)
    run_queued_jobs()  # the transmission's PDF and XML
    annotate(organism, gestionnaire, body=f"Après transmission : {SECRET}", flag=False)
    owner_reads_nothing("transmitted")
    # the positive control: the gestionnaire reads them in the same places
    staff = client_for("dhup", gestionnaire)
    head = text_of(staff.get(base))
    assert 'data-testid="dossier-annotations"' in head and "2 notes" in head
    assert SECRET_WORD in text_of(staff.get(page_url(campaign, er, organism)))
    # the editors' API, with the organism's key
    with schema_context("dhup"):
        _, key = ApiToken.issue(user=declarant, name="Logiciel comptable")
    exported = client_for("dhup").get(
        "/api/v1/declarations/ER_SOCIAUX/2024/xml", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert exported.status_code == 200
    assert_no_annotation(exported.content.decode(), "api")
    # the partners: their list, the transmission and its XML
    with schema_context("dhup"):
        transmission = Transmission.objects.get(dossier=dossier, partner__kind="CDC")
        xml = transmission.snapshots.get(kind="xml")
    cdc = client_for("dhup", demo_user("dhup", "partenaire-cdc"))
    for url in (
        "/partenaires/",
        f"/partenaires/{transmission.pk}/",
        f"/partenaires/{transmission.pk}/documents/{xml.pk}/",
    ):
        response = cdc.get(url)
        assert response.status_code == 200, url
        assert_no_annotation(text_of(response), ("partner", url))
    for url in (base, page_url(campaign, er, organism), f"/campagnes/{campaign.pk}/dossiers/"):
        assert cdc.get(url).status_code == 403, url


def test_the_dossier_head_shows_the_flag_and_the_count_to_gestionnaires(
    version, declarant, gestionnaire, client_for, campaign, er
):
    dossier = open_dossier(declarant)
    staff = client_for("dhup", gestionnaire)
    base = f"/declarations/dossiers/{dossier.pk}/"
    # before the transmission the gestionnaire reads the dossier's head, not its values
    page = text_of(staff.get(base))
    assert "Annotations privées : aucune note" in page and 'data-testid="follow-up"' not in page
    annotate(declarant.membership.organism, gestionnaire)
    page = text_of(staff.get(base))
    line = page[page.index('data-testid="dossier-annotations"') :][:600]
    assert "À suivre" in line and "Annotations privées : 1 note" in line
    link = page_url(campaign, er, declarant.membership.organism) + "#annotations"
    assert link in line
    assert SECRET_WORD not in page  # the count, not the text


# --- the workspace --------------------------------------------------------------------------
def workspace(campaign, er, query=""):
    return f"/campagnes/{campaign.pk}/dossiers/?document_type={er.pk}{query}"


def test_the_workspace_filters_searches_and_marks_the_annotated(
    version, declarant, outsider, gestionnaire, client_for, campaign, er
):
    open_dossier(declarant)
    open_dossier(outsider)
    organism = declarant.membership.organism
    other = outsider.membership.organism
    annotate(organism, gestionnaire)
    annotate(organism, gestionnaire, body="Deuxième note", flag=False)
    with schema_context("dhup"):
        # an organism without a dossier, flagged: the filter lists it all the same
        waiting = (
            Organism.objects.filter(is_active=True, family__in=["OPH", "ESH", "COOP"])
            .exclude(pk__in=[organism.pk, other.pk])
            .first()
        )
    annotate(waiting, gestionnaire, body="Relancer par téléphone")
    client = client_for("dhup", gestionnaire)
    everything = text_of(client.get(workspace(campaign, er)))
    assert organism.siren in everything and other.siren in everything
    row = everything[everything.index(f'data-siren="{organism.siren}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="row-follow-up">À suivre</span>' in row
    assert 'data-testid="row-notes"' in row and "2 notes" in row
    assert "#annotations" in row
    other_row = everything[everything.index(f'data-siren="{other.siren}"') :]
    assert 'data-testid="row-' not in other_row[: other_row.index("</tr>")].replace(
        'data-testid="row-deadline"', ""
    )
    assert SECRET_WORD not in everything  # marks, not the notes' text
    # « à suivre »: the two flagged, begun or not
    flagged = text_of(client.get(workspace(campaign, er, "&follow_up=on")))
    assert "2 dossiers listés" in flagged
    assert organism.siren in flagged and waiting.siren in flagged
    assert other.siren not in flagged
    # the search box reads the notes' text too, whatever its case
    found = text_of(client.get(workspace(campaign, er, "&q=zephyrin-4821")))
    assert "1 dossier listé" in found and organism.siren in found
    assert other.siren not in found
    assert "0 dossier listé" in text_of(client.get(workspace(campaign, er, "&q=Xylophage-77")))
    # another campaign's notes are not this campaign's
    with schema_context("dhup"):
        later = Campaign.objects.exclude(pk=campaign.pk).filter(document_types=er).first()
    if later is not None:
        listed = text_of(client.get(workspace(later, er, "&q=zephyrin-4821")))
        assert organism.siren not in listed
    # the exports: an « À suivre » column, never the notes' text
    exported = client.get(f"/campagnes/{campaign.pk}/dossiers/export.csv?document_type={er.pk}")
    text = exported.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    column = table[0].index("À suivre")
    values = {line[0]: line[column] for line in table[1:]}
    assert values[organism.siren] == "oui" and values[other.siren] == "non"
    assert SECRET_WORD not in text and "Deuxième note" not in text
    xlsx = client.get(f"/campagnes/{campaign.pk}/dossiers/export.xlsx?document_type={er.pk}")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("À suivre")
    cells = {line[0]: line[column] for line in rows[1:]}
    assert cells[organism.siren] == "oui" and cells[other.siren] == "non"
    assert not any(SECRET_WORD in str(value) for line in rows for value in line)


def test_another_platforms_workspace_shows_none_of_these(
    declarant, gestionnaire, demo_user, client_for
):
    annotate(declarant.membership.organism, gestionnaire)
    client = client_for("oph", demo_user("oph", "gestionnaire"))
    with schema_context("oph"):
        campaign = Campaign.objects.order_by("-exercise").first()
        document = campaign.document_types.order_by("position").first()
    base = f"/campagnes/{campaign.pk}/dossiers/?document_type={document.pk}"
    for query in ("", "&follow_up=on", "&q=Zephyrin", "&steps=0"):
        page = text_of(client.get(base + query))
        assert SECRET_WORD not in page and 'data-testid="row-follow-up"' not in page
        assert 'data-testid="row-notes"' not in page
    assert "0 dossier listé" in text_of(client.get(base + "&follow_up=on"))


def test_the_workspace_reads_the_annotations_in_two_queries_whatever_the_rows(
    gestionnaire, client_for, campaign, er
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("dhup", gestionnaire)
    # the rows are the annotated organisms (found by their notes): 2, then every filer
    url = workspace(campaign, er, "&steps=0&q=suivi-77")
    with schema_context("dhup"):
        filers = list(er.filers(Organism.objects.filter(is_active=True)).order_by("pk"))
    assert len(filers) > 20
    measured = []
    for annotated in (filers[:2], filers):
        with schema_context("dhup"):
            PrivateNote.objects.all().delete()
            FollowUp.objects.all().delete()
            PrivateNote.objects.bulk_create(
                PrivateNote(
                    organism=o, campaign=campaign, document_type=er, body=f"Suivi-77 n° {i}"
                )
                for i, o in enumerate(annotated)
                for _ in range(2)
            )
            FollowUp.objects.bulk_create(
                FollowUp(organism=o, campaign=campaign, document_type=er) for o in annotated
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert response.content.decode().count('data-testid="row-follow-up"') == min(
            len(annotated), 100
        )  # one page of a hundred rows
        measured.append(len(queries))
    assert measured[0] == measured[1], measured
