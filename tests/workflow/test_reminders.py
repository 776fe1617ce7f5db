"""Reminders and the campaign letter: automatic reminders at the campaign's offsets from each
organism's deadline (idempotent, never for a transmitted dossier), the gestionnaire's bulk
reminder from the workspace, the letter written in the CMS and sent once on the opening day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from accounts.models import User
from organisms.models import Organism
from tests.conftest import run_queued_jobs
from tests.helpers import text_of, transmit
from workflow.models import AccountsApproval, Campaign, Prorogation, Reminder
from workflow.services.letters import campaign_letters_send
from workflow.services.reminders import automatic_reminders_send
from workflow.tasks import campaign_mail_send

from ..declarations.test_online_form import declarant, open_dossier, outsider, version  # noqa: F401
from .test_deadlines import TODAY, campaign, er, gestionnaire  # noqa: F401

pytestmark = pytest.mark.django_db


def due_on(organism, day: dt.date) -> None:
    """Make ``organism`` (a coopérative: the month after its general assembly) due on ``day``,
    the last day of a month: its assembly in the month before."""
    assembly = (day.replace(day=1) - dt.timedelta(days=1)).replace(day=10)
    with schema_context("dhup"):
        # the campaign opened long before, so that the days tried here are within it
        Campaign.objects.filter(exercise=2024).update(opening_date=day - dt.timedelta(days=100))
        AccountsApproval.objects.update_or_create(
            organism=organism, exercise=2024, defaults={"approved_on": assembly}
        )


def last_of_month(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def send(today):
    with schema_context("dhup"):
        return automatic_reminders_send(today)


def sent_to(organism) -> list[Reminder]:
    with schema_context("dhup"):
        return list(Reminder.objects.filter(organism=organism).order_by("pk"))


def organism_addresses(organism) -> set[str]:
    with schema_context("dhup"):
        return set(
            User.objects.filter(membership__organism=organism, is_active=True).values_list(
                "email", flat=True
            )
        )


def test_a_reminder_three_days_before_goes_once_to_each_user(declarant, campaign):
    organism = declarant.membership.organism
    deadline = last_of_month(TODAY + dt.timedelta(days=40))
    due_on(organism, deadline)
    today = deadline - dt.timedelta(days=3)
    first = [r for r in send(today) if r.organism_id == organism.pk]
    assert len(first) == 1 and first[0].offset == -3 and first[0].deadline == deadline
    assert set(first[0].recipients) == organism_addresses(organism)
    mail.outbox.clear()
    run_queued_jobs()
    mine = [m for m in mail.outbox if set(m.to) <= organism_addresses(organism)]
    assert len(mine) == len(organism_addresses(organism)) >= 2
    assert all(len(m.to) == 1 for m in mine)  # addresses not disclosed to each other
    assert "Rappel" in mine[0].subject and deadline.strftime("%d/%m/%Y") in mine[0].subject
    assert "dans 3 jours" in mine[0].body and "/declarations/" in mine[0].body
    # the next run (a restarted worker, the next hour, the next day) sends nothing again
    assert not [r for r in send(today) if r.organism_id == organism.pk]
    assert not [r for r in send(today + dt.timedelta(days=1)) if r.organism_id == organism.pk]
    assert len(sent_to(organism)) == 1


@pytest.mark.parametrize(
    ("days_after", "offset"),
    [
        (-16, None),
        (-15, -15),
        (-8, -15),
        (-7, None),
        (-3, -3),
        (0, -3),
        (1, 1),
        (8, 1),
        (9, None),
        (15, 15),
        (22, 15),
        (23, None),
    ],
)
def test_the_latest_offset_reached_is_sent_within_a_week(declarant, days_after, offset):
    """-15, -3, 1, 15: each on its day or, a worker being down, within the following week."""
    organism = declarant.membership.organism
    deadline = last_of_month(TODAY - dt.timedelta(days=60))
    due_on(organism, deadline)
    sent = [
        r for r in send(deadline + dt.timedelta(days=days_after)) if r.organism_id == organism.pk
    ]
    assert [r.offset for r in sent] == ([] if offset is None else [offset])


def test_late_reminder_says_how_late(declarant):
    organism = declarant.membership.organism
    deadline = last_of_month(TODAY - dt.timedelta(days=60))
    due_on(organism, deadline)
    send(deadline + dt.timedelta(days=1))
    mail.outbox.clear()
    run_queued_jobs()
    body = next(m for m in mail.outbox if set(m.to) <= organism_addresses(organism))
    assert body.subject.startswith("En retard") and "1 jour de retard" in body.body


def test_never_for_a_transmitted_dossier(version, declarant):
    from declarations.services import dossier_values_save

    organism = declarant.membership.organism
    deadline = last_of_month(TODAY + dt.timedelta(days=40))
    due_on(organism, deadline)
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier,
            entries={"ACT_IMMO": "100", "PAS_CAPITAL": "100"},
            acting_user=declarant,
        )
    transmit(dossier, declarant)
    assert not [r for r in send(deadline - dt.timedelta(days=3)) if r.organism_id == organism.pk]


def test_a_prorogation_starts_the_reminders_afresh(declarant, gestionnaire, campaign, er):
    organism = declarant.membership.organism
    deadline = last_of_month(TODAY + dt.timedelta(days=40))
    due_on(organism, deadline)
    assert [r.offset for r in send(deadline - dt.timedelta(days=3)) if r.organism_id == organism.pk]
    later = deadline + dt.timedelta(days=30)
    with schema_context("dhup"):
        Prorogation.objects.create(
            organism=organism, campaign=campaign, document_type=er, decided_on=TODAY,
            new_deadline=later, previous_deadline=deadline,
        )  # fmt: skip
    again = [r for r in send(later - dt.timedelta(days=3)) if r.organism_id == organism.pk]
    assert [(r.offset, r.deadline) for r in again] == [(-3, later)]


def test_no_reminder_without_a_deadline_nor_offsets(demo_user, campaign):
    with schema_context("dhup"):
        oph = Organism.objects.filter(family="OPH").exclude(approvals__exercise=2024).first()
        Organism.objects.filter(pk=oph.pk).update(accounting="PUBLIQUE")  # N days after approval
    assert not [
        r for r in send(campaign.deadline + dt.timedelta(days=1)) if r.organism_id == oph.pk
    ]
    with schema_context("dhup"):
        Campaign.objects.filter(pk=campaign.pk).update(reminder_offsets=[])
    assert send(campaign.deadline + dt.timedelta(days=1)) == []


def test_only_the_organisms_bound_to_file_are_reminded(campaign):
    sent = send(campaign.deadline + dt.timedelta(days=1))
    with schema_context("dhup"):
        families = set(
            Organism.objects.filter(pk__in=[r.organism_id for r in sent]).values_list(
                "family", flat=True
            )
        )
        codes = {r.document_type.code for r in Reminder.objects.select_related("document_type")}
    assert sent and {"ER_SOCIAUX", "ER_MOI", "ER_SEM"} <= codes
    assert families <= {"OPH", "ESH", "COOP", "EPL", "MOI", "SAC", "GROUPE"}
    with schema_context("dhup"):
        moi = list(
            Reminder.objects.filter(organism__family="MOI").values_list(
                "document_type__code", flat=True
            )
        )
    assert set(moi) == {"ER_MOI"}


# --- the gestionnaire's bulk reminder -----------------------------------------------------------
def remind_url(campaign):
    return f"/campagnes/{campaign.pk}/dossiers/relancer/"


def test_the_gestionnaire_reminds_a_selection_with_an_edited_message(
    version, declarant, outsider, gestionnaire, client_for, campaign, er
):
    from declarations.services import dossier_values_save

    client = client_for("dhup", gestionnaire)
    mine, other = declarant.membership.organism, outsider.membership.organism
    dossier = open_dossier(outsider)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier, entries={"ACT_IMMO": "100", "PAS_CAPITAL": "100"}, acting_user=outsider
        )
    transmit(dossier, outsider)
    selection = {"document_type": er.pk, "organism": [mine.pk, other.pk]}
    compose = text_of(client.post(remind_url(campaign), selection))
    assert "Relancer 2 organismes" in compose and "n'a pas encore été transmis" in compose
    mail.outbox.clear()
    response = client.post(
        remind_url(campaign),
        {**selection, "send": "1", "subject": "Votre ER 2024", "message": "Merci de transmettre."},
        follow=True,
    )
    page = text_of(response)
    assert "1 organisme relancé" in page and "dossier déjà transmis" in page
    with schema_context("dhup"):
        reminder = Reminder.objects.get()
        assert reminder.organism == mine and reminder.kind == "manual"
        assert reminder.sent_by == gestionnaire and reminder.subject == "Votre ER 2024"
    run_queued_jobs()
    reminded = [m for m in mail.outbox if m.subject == "Votre ER 2024"]
    assert {m.to[0] for m in reminded} == organism_addresses(mine)
    assert "Merci de transmettre." in reminded[0].body
    workspace = text_of(
        client.get(f"/campagnes/{campaign.pk}/dossiers/?document_type={er.pk}&steps=0&steps=1")
    )
    assert TODAY.strftime("%d/%m/%Y") in workspace.split(mine.siren, 1)[1].split("</tr>", 1)[0]
    deadline_page = text_of(client.get(f"/declarations/echeances/{campaign.pk}/{er.pk}/{mine.pk}/"))
    assert "Relances envoyées" in deadline_page and "Votre ER 2024" in deadline_page


@pytest.mark.parametrize(
    ("subject", "message", "error"),
    [("", "Bonjour", "Champ requis"), ("Objet", "", "Champ requis"),
     ("Objet", "x" * 5001, "dépasse 5")],
)  # fmt: skip
def test_a_bad_reminder_is_refused_and_nothing_sent(
    declarant, gestionnaire, client_for, campaign, er, subject, message, error
):
    response = client_for("dhup", gestionnaire).post(
        remind_url(campaign),
        {
            "document_type": er.pk, "organism": [declarant.membership.organism.pk], "send": "1",
            "subject": subject, "message": message,
        },
    )  # fmt: skip
    assert response.status_code == 200 and error in text_of(response)
    with schema_context("dhup"):
        assert not Reminder.objects.exists()


@pytest.mark.parametrize("username", ["organisme", "partenaire-cdc", "editeur", None])
def test_reminders_and_the_campaign_page_are_the_gestionnaires(
    username, demo_user, client_for, campaign, er, declarant
):
    client = client_for("dhup", demo_user("dhup", username) if username else None)
    expected = 302 if username is None else 403
    posted = client.post(
        remind_url(campaign),
        {"document_type": er.pk, "organism": [declarant.membership.organism.pk], "send": "1",
         "subject": "S", "message": "M"},
    )  # fmt: skip
    assert posted.status_code == expected
    assert client.get(f"/campagnes/{campaign.pk}/").status_code == expected
    assert (
        client.post(f"/campagnes/{campaign.pk}/", {"reminder_offsets": "1"}).status_code == expected
    )
    with schema_context("dhup"):
        assert not Reminder.objects.exists()
        assert Campaign.objects.get(pk=campaign.pk).reminder_offsets == [-15, -3, 1, 15]


@pytest.mark.parametrize(
    ("text", "saved", "error"),
    [("-20, -5,  2", [-20, -5, 2], None), ("", [], None), ("-3, quinze", None, "« quinze »"),
     ("-120", None, "entre 90 jours avant et 90 jours après")],
)  # fmt: skip
def test_the_gestionnaire_sets_the_offsets(gestionnaire, client_for, campaign, text, saved, error):
    response = client_for("dhup", gestionnaire).post(
        f"/campagnes/{campaign.pk}/", {"reminder_offsets": text}, follow=True
    )
    with schema_context("dhup"):
        offsets = Campaign.objects.get(pk=campaign.pk).reminder_offsets
    if error:
        assert error in text_of(response) and offsets == [-15, -3, 1, 15]
    else:
        assert "Relances automatiques enregistrées" in text_of(response) and offsets == saved


# --- the campaign letter ------------------------------------------------------------------------
LETTER = "<p>Madame, Monsieur,</p><p>La campagne <b>2024</b> est ouverte.</p>"


def write_letter(campaign, **fields):
    """The test's letter, not sent yet (the demo's was sent at the opening)."""
    with schema_context("dhup"):
        Campaign.objects.filter(pk=campaign.pk).update(
            letter=LETTER, letter_subject="La campagne 2024", letter_sent_at=None, **fields
        )


def no_letter(campaign):
    with schema_context("dhup"):
        Campaign.objects.filter(pk=campaign.pk).update(letter="", letter_sent_at=None)


def test_the_letter_is_sent_once_on_the_opening_day_and_shown_at_home(
    declarant, demo_user, client_for, campaign
):
    no_letter(campaign)
    assert "campaign-letter" not in text_of(client_for("dhup", declarant).get("/"))
    write_letter(campaign)
    mail.outbox.clear()
    sent = campaign_mail_send()
    assert sent["dhup"][0] == 1 and sent["oph"][0] == 0
    with schema_context("dhup"):
        stored = Campaign.objects.get(pk=campaign.pk)
        users = User.objects.filter(role="organisme", is_active=True).exclude(email="").count()
    assert stored.letter_sent_at is not None and stored.letter_recipients == users
    run_queued_jobs()
    letters = [m for m in mail.outbox if m.subject == "La campagne 2024"]
    assert len(letters) == users and all(len(m.to) == 1 for m in letters)
    assert "La campagne 2024 est ouverte." in letters[0].body
    assert "<b>2024</b>" in letters[0].alternatives[0][0]
    assert campaign_mail_send()["dhup"][0] == 0  # once
    home = text_of(client_for("dhup", declarant).get("/"))
    assert "La campagne 2024" in home and "<b>2024</b>" in home
    # a partner's home does not show it
    assert "campaign-letter" not in text_of(
        client_for("dhup", demo_user("dhup", "partenaire-cdc")).get("/")
    )


def test_a_letter_waits_for_its_opening_day(campaign):
    with schema_context("dhup"):
        Campaign.objects.filter(pk=campaign.pk).update(opening_date=TODAY + dt.timedelta(days=2))
    write_letter(campaign)
    with schema_context("dhup"):
        assert campaign_letters_send() == []
        assert [c.pk for c in campaign_letters_send(TODAY + dt.timedelta(days=2))] == [campaign.pk]


def test_the_letter_is_written_in_the_cms_by_the_gestionnaires(
    gestionnaire, declarant, client_for, campaign
):
    url = f"/cms/campagnes/lettres/edit/{campaign.pk}/"
    no_letter(campaign)
    client = client_for("dhup", gestionnaire)
    assert client.get(url).status_code == 200
    page = text_of(client.get(f"/campagnes/{campaign.pk}/"))
    assert f'href="{url}"' in page and "Aucune lettre" in page
    assert client_for("dhup", declarant).get(url).status_code in (302, 403)
