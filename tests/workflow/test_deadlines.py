"""Deadlines per family and per organism: the ministry's rules, the approval of the accounts
the organism or its gestionnaire enters, prorogations, and where each role sees them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context
from wagtail.models import ModelLogEntry

from forms_cms.models import DocumentType
from organisms.models import Organism
from tests.conftest import run_queued_jobs
from tests.exchanges import samples
from tests.helpers import text_of, transmit
from workflow.models import AccountsApproval, Campaign, DeadlineRule, Prorogation
from workflow.services.deadlines import deadline_for

from ..declarations.test_online_form import declarant, open_dossier, outsider, version  # noqa: F401

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


@pytest.fixture
def campaign():
    with schema_context("dhup"):
        return Campaign.objects.get(exercise=2024)


@pytest.fixture
def er():
    with schema_context("dhup"):
        return DocumentType.objects.get(code="ER_SOCIAUX")


def page_url(campaign, er, organism):
    return f"/declarations/echeances/{campaign.pk}/{er.pk}/{organism.pk}/"


def french(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def deadline_of(campaign, er, organism):
    with schema_context("dhup"):
        return deadline_for(campaign, er, Organism.objects.get(pk=organism.pk))


def test_the_ministry_platform_has_the_default_rules_and_the_federations_none():
    with schema_context("dhup"):
        rules = {
            (r.document_type.code, r.family, r.accounting): (r.kind, r.day, r.days, r.capped)
            for r in DeadlineRule.objects.select_related("document_type")
        }
    assert rules[("ER_SOCIAUX", "OPH", "PUBLIQUE")] == ("after_approval", "", 15, False)
    assert rules[("ER_SOCIAUX", "OPH", "COMMERCE")] == ("fixed", "15/07", 0, False)
    assert rules[("ER_SOCIAUX", "COOP", "")] == ("month_after_assembly", "", 0, True)
    assert rules[("ER_SEM", "EPL", "")] == ("month_after_assembly", "", 0, True)
    with schema_context("oph"):
        assert not DeadlineRule.objects.exists()  # the federation's date: the campaign's


def test_families_and_regimes_follow_their_rule(campaign, er):
    with schema_context("dhup"):
        ophs = Organism.objects.filter(family="OPH").order_by("pk")[:3]
        publique, commerce, unknown = ophs
        Organism.objects.filter(pk=publique.pk).update(accounting="PUBLIQUE")
        Organism.objects.filter(pk=commerce.pk).update(accounting="COMMERCE")
        Organism.objects.filter(pk=unknown.pk).update(accounting="")
        AccountsApproval.objects.create(
            organism=publique, exercise=2024, approved_on=dt.date(2025, 6, 30)
        )
    assert deadline_of(campaign, er, publique).day == dt.date(2025, 7, 15)
    assert deadline_of(campaign, er, commerce).day == dt.date(2025, 7, 15)
    # an OPH whose regime is not known yet follows the campaign's date
    assert deadline_of(campaign, er, unknown).day == campaign.deadline


def test_a_missing_approval_says_to_be_stated_on_the_dossier_and_in_the_workspace(
    version, declarant, gestionnaire, client_for, campaign, er
):
    dossier = open_dossier(declarant)  # the demo declarant's organism is a coopérative
    page = text_of(client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/"))
    assert "date limite à préciser" in page
    assert f"au plus tard le {french(campaign.deadline)}" in page
    listed = text_of(
        client_for("dhup", gestionnaire).get(
            f"/campagnes/{campaign.pk}/dossiers/?document_type={er.pk}&due=unknown"
        )
    )
    assert declarant.membership.organism.siren in listed
    assert "Date d'approbation des comptes de l'exercice 2024 non renseignée" in listed


def test_the_organism_enters_its_approval_date_and_its_deadline_follows(
    version, declarant, client_for, campaign, er
):
    organism = declarant.membership.organism
    client = client_for("dhup", declarant)
    assembly = TODAY - dt.timedelta(days=3)
    response = client.post(
        page_url(campaign, er, organism),
        {"approval": "1", "approval-approved_on": assembly.isoformat()},
        follow=True,
    )
    assert "Date d'approbation des comptes enregistrée" in text_of(response)
    with schema_context("dhup"):
        approval = AccountsApproval.objects.get(organism=organism, exercise=2024)
        assert approval.approved_on == assembly and approval.entered_by == declarant
        assert ModelLogEntry.objects.filter(
            action="harmonia.approval_entered", object_id=str(approval.pk)
        ).exists()
    expected = min(
        dt.date(assembly.year + assembly.month // 12, assembly.month % 12 + 1, 1)
        + dt.timedelta(days=40),
        campaign.deadline,
    )
    day = deadline_of(campaign, er, organism).day
    assert day.month == (assembly.month % 12) + 1 or day == campaign.deadline
    assert day <= expected
    assert french(day) in text_of(client.get(page_url(campaign, er, organism)))


@pytest.mark.parametrize(
    ("approved_on", "message"),
    [
        (TODAY + dt.timedelta(days=1), "est dans le futur"),
        (dt.date(2024, 12, 31), "précède la clôture de l'exercice 2024 (31/12/2024)"),
        (dt.date(2024, 6, 30), "précède la clôture"),
    ],
)
def test_a_wrong_approval_date_is_refused_with_the_reason(
    declarant, client_for, campaign, er, approved_on, message
):
    organism = declarant.membership.organism
    response = client_for("dhup", declarant).post(
        page_url(campaign, er, organism),
        {"approval": "1", "approval-approved_on": approved_on.isoformat()},
    )
    assert response.status_code == 200 and message in text_of(response)
    with schema_context("dhup"):
        assert not AccountsApproval.objects.filter(organism=organism).exists()


def test_the_deadline_page_is_the_organisms_and_its_gestionnaires_only(
    declarant, outsider, gestionnaire, demo_user, client_for, campaign, er
):
    url = page_url(campaign, er, declarant.membership.organism)
    assert client_for("dhup", declarant).get(url).status_code == 200
    assert client_for("dhup", gestionnaire).get(url).status_code == 200
    assert client_for("dhup", outsider).get(url).status_code == 403
    posted = client_for("dhup", outsider).post(
        url, {"approval": "1", "approval-approved_on": "2025-05-15"}
    )
    assert posted.status_code == 403
    assert client_for("dhup", demo_user("dhup", "partenaire-cdc")).get(url).status_code == 403
    assert client_for("dhup", demo_user("dhup", "editeur")).get(url).status_code == 403
    assert client_for("dhup").get(url).status_code == 302  # to the sign-in page
    # the same address on another platform reads that platform's own objects, never these
    other = client_for("oph", demo_user("oph", "gestionnaire")).get(url)
    assert declarant.membership.organism.siren not in other.content.decode()
    with schema_context("dhup"):
        assert not AccountsApproval.objects.filter(organism=declarant.membership.organism).exists()


def _late_coop(campaign, er, declarant):
    """The declarant's coopérative: accounts approved in May 2025, so due on 30 June 2025."""
    with schema_context("dhup"):
        AccountsApproval.objects.create(
            organism=declarant.membership.organism, exercise=2024, approved_on=dt.date(2025, 5, 20)
        )
    assert deadline_of(campaign, er, declarant.membership.organism).day == dt.date(2025, 6, 30)


def test_a_prorogation_moves_the_deadline_and_is_journaled(
    version, declarant, gestionnaire, client_for, campaign, er, demo_user
):
    _late_coop(campaign, er, declarant)
    dossier = open_dossier(declarant)
    from exchanges.services import message_post

    with schema_context("dhup"):
        message_post(
            dossier=dossier,
            author=declarant,
            body="Report de notre AG",
            files=[("decision.pdf", samples.pdf(), "prorogation")],
        )
        decision = dossier.messages.get().attachments.get()
    organism = declarant.membership.organism
    client = client_for("dhup", gestionnaire)
    workspace = f"/campagnes/{campaign.pk}/dossiers/?document_type={er.pk}"
    assert organism.siren in text_of(client.get(workspace + "&due=late"))
    new = TODAY + dt.timedelta(days=10)
    response = client.post(
        page_url(campaign, er, organism),
        {
            "prorogation": "1",
            "prorogation-decided_on": (TODAY - dt.timedelta(days=1)).isoformat(),
            "prorogation-new_deadline": new.isoformat(),
            "prorogation-decision": str(decision.pk),
            "prorogation-comment": "AG reportée par le tribunal",
        },
        follow=True,
    )
    page = text_of(response)
    assert "Prorogation enregistrée" in page and "decision.pdf" in page
    with schema_context("dhup"):
        recorded = Prorogation.objects.get(organism=organism)
        assert recorded.previous_deadline == dt.date(2025, 6, 30)
        assert recorded.new_deadline == new and recorded.decision_id == decision.pk
        assert recorded.recorded_by == gestionnaire
        logged = ModelLogEntry.objects.get(
            action="harmonia.prorogation_recorded", object_id=str(recorded.pk)
        )
        assert logged.data["new_deadline"] == new.isoformat()
    deadline = deadline_of(campaign, er, organism)
    assert deadline.day == new and deadline.prorogated
    # the organism's users are told their new date
    mail.outbox.clear()
    run_queued_jobs()
    told = [m for m in mail.outbox if m.subject.startswith("Prorogation")]
    assert {m.to[0] for m in told} == {declarant.email, demo_user("dhup", "organisme2").email}
    assert french(new) in told[0].subject and "au lieu du 30/06/2025" in told[0].body
    assert organism.siren not in text_of(client.get(workspace + "&due=late"))
    assert organism.siren in text_of(client.get(workspace + "&due=prorogated"))
    assert organism.siren in text_of(client.get(workspace + "&due=soon"))
    own = text_of(client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/"))
    assert french(new) in own and "prorogée" in own


@pytest.mark.parametrize(
    ("new_deadline", "decided_on", "field_message"),
    [
        (
            dt.date(2025, 6, 30),
            TODAY,
            "n'est pas postérieure à la date limite actuelle (30/06/2025)",
        ),
        (dt.date(2025, 6, 1), TODAY, "une prorogation repousse la date limite"),
        (TODAY + dt.timedelta(days=30), TODAY + dt.timedelta(days=2), "datée dans le futur"),
    ],
)
def test_a_wrong_prorogation_is_refused_with_the_reason(
    declarant, gestionnaire, client_for, campaign, er, new_deadline, decided_on, field_message
):
    _late_coop(campaign, er, declarant)
    response = client_for("dhup", gestionnaire).post(
        page_url(campaign, er, declarant.membership.organism),
        {
            "prorogation": "1",
            "prorogation-decided_on": decided_on.isoformat(),
            "prorogation-new_deadline": new_deadline.isoformat(),
        },
    )
    assert response.status_code == 200 and field_message in text_of(response)
    with schema_context("dhup"):
        assert not Prorogation.objects.filter(organism=declarant.membership.organism).exists()


def test_a_decision_from_another_dossier_is_refused(
    version, declarant, outsider, gestionnaire, client_for, campaign, er
):
    from exchanges.services import message_post

    _late_coop(campaign, er, declarant)
    open_dossier(declarant)
    elsewhere = open_dossier(outsider)
    with schema_context("dhup"):
        message_post(
            dossier=elsewhere,
            author=outsider,
            body="Notre décision",
            files=[("autre.pdf", samples.pdf(), "prorogation")],
        )
        foreign = elsewhere.messages.get().attachments.get()
    response = client_for("dhup", gestionnaire).post(
        page_url(campaign, er, declarant.membership.organism),
        {
            "prorogation": "1",
            "prorogation-decided_on": TODAY.isoformat(),
            "prorogation-new_deadline": (TODAY + dt.timedelta(days=20)).isoformat(),
            "prorogation-decision": str(foreign.pk),
        },
    )
    # the other dossier's piece is not even offered: refused as an unknown choice
    assert response.status_code == 200 and "autre.pdf" not in text_of(response)
    with schema_context("dhup"):
        assert not Prorogation.objects.filter(organism=declarant.membership.organism).exists()


def test_only_a_gestionnaire_records_a_prorogation(declarant, client_for, campaign, er):
    response = client_for("dhup", declarant).post(
        page_url(campaign, er, declarant.membership.organism),
        {
            "prorogation": "1",
            "prorogation-decided_on": TODAY.isoformat(),
            "prorogation-new_deadline": (TODAY + dt.timedelta(days=200)).isoformat(),
        },
    )
    assert response.status_code == 403
    with schema_context("dhup"):
        assert not Prorogation.objects.filter(organism=declarant.membership.organism).exists()


def test_a_transmitted_dossier_is_never_late(version, declarant, client_for, campaign, er):
    from declarations.services import dossier_values_save

    _late_coop(campaign, er, declarant)
    dossier = open_dossier(declarant)
    home = text_of(client_for("dhup", declarant).get("/"))
    assert "en retard de" in home
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier,
            entries={"ACT_IMMO": "100", "PAS_CAPITAL": "100"},
            acting_user=declarant,
        )
    transmit(dossier, declarant)
    home = text_of(client_for("dhup", declarant).get("/"))
    assert "en retard de" not in home


def test_the_approval_may_come_from_a_designated_form_field(version, declarant, campaign, er):
    from forms_cms.engine import date_to_serial

    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        DeadlineRule.objects.filter(document_type=er, family="COOP").update(
            approval_field="DATE_AG"
        )
        dossier.values = {**dossier.values, "DATE_AG": date_to_serial(dt.date(2025, 4, 10))}
        dossier.save(update_fields=["values"])
    organism = declarant.membership.organism
    with CaptureQueriesContext(connection) as queries:
        assert deadline_of(campaign, er, organism).day == dt.date(2025, 5, 31)
    # one organism's deadline (on each of its dossier's pages) reads its own dossier's field,
    # not every dossier of the campaign
    read = [q["sql"] for q in queries.captured_queries if '"workflow_dossier"' in q["sql"]]
    assert len(read) == 1 and f'"organism_id" IN ({organism.pk})' in read[0]
    # a date entered on the platform wins over the form's
    with schema_context("dhup"):
        AccountsApproval.objects.create(
            organism=declarant.membership.organism, exercise=2024, approved_on=dt.date(2025, 6, 2)
        )
    assert deadline_of(campaign, er, declarant.membership.organism).day == dt.date(2025, 7, 31)


# --- the rules screen -------------------------------------------------------------------------
RULES_URL = "/campagnes/echeances/"


def test_the_gestionnaire_sets_a_rule_and_the_deadlines_follow(
    gestionnaire, declarant, client_for, campaign, er
):
    client = client_for("dhup", gestionnaire)
    with schema_context("dhup"):
        coop = DeadlineRule.objects.get(document_type=er, family="COOP")
    response = client.post(
        f"{RULES_URL}{coop.pk}/",
        {"document_type": er.pk, "family": "COOP", "kind": "fixed", "day": "30/09", "days": "0"},
        follow=True,
    )
    assert "Règle de date limite enregistrée" in text_of(response)
    day = deadline_of(campaign, er, declarant.membership.organism).day
    assert day == dt.date(2025, 9, 30)
    with schema_context("dhup"):
        assert ModelLogEntry.objects.filter(action="harmonia.deadline_rule_saved").exists()
    # deleted: the campaign's date again
    client.post(f"{RULES_URL}{coop.pk}/", {"delete": "1"})
    assert deadline_of(campaign, er, declarant.membership.organism).day == campaign.deadline


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        (
            {"family": "MOI", "kind": "fixed", "day": ""},
            "Une date fixe demande le jour et le mois",
        ),
        ({"family": "MOI", "kind": "fixed", "day": "31/02"}, "ce jour n'existe pas"),
        ({"family": "MOI", "kind": "after_approval", "days": "0"}, "nombre de jours"),
        ({"family": "MOI", "accounting": "PUBLIQUE", "kind": "campaign"}, "que pour les OPH"),
        ({"family": "COOP", "kind": "campaign"}, "Une règle existe déjà"),
        ({"family": "COOP", "kind": "campaign", "document_type": "99999"}, "Sélectionnez un choix"),
    ],
)
def test_a_wrong_rule_is_refused_with_the_reason(gestionnaire, client_for, er, posted, message):
    with schema_context("dhup"):
        before = list(DeadlineRule.objects.order_by("pk").values())
    data = {"document_type": er.pk, "days": "0", **posted}
    response = client_for("dhup", gestionnaire).post(RULES_URL, data)
    assert response.status_code == 200 and message in text_of(response)
    with schema_context("dhup"):
        assert list(DeadlineRule.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("username", ["organisme", "partenaire-cdc", "editeur", None])
def test_the_rules_screen_is_the_gestionnaires(username, demo_user, client_for, er):
    client = client_for("dhup", demo_user("dhup", username) if username else None)
    assert client.get(RULES_URL).status_code == (302 if username is None else 403)
    posted = client.post(RULES_URL, {"document_type": er.pk, "family": "MOI", "kind": "campaign"})
    assert posted.status_code in (302, 403)
    with schema_context("dhup"):
        assert not DeadlineRule.objects.filter(family="MOI").exists()


def test_another_platforms_gestionnaire_sees_its_own_rules_only(demo_user, client_for):
    page = text_of(client_for("oph", demo_user("oph", "gestionnaire")).get(RULES_URL))
    assert "Aucune règle" in page and "comptes sociaux" not in page


def test_the_gestionnaires_home_lists_a_dossier_late_by_its_own_deadline(
    version, declarant, gestionnaire, client_for, campaign, er
):
    dossier = open_dossier(declarant)
    home = text_of(client_for("dhup", gestionnaire).get("/"))
    late = home.split('data-testid="late-dossiers"', 1)[1].split("</section>", 1)[0]
    assert f"/declarations/dossiers/{dossier.pk}/" not in late  # the campaign's date is ahead
    _late_coop(campaign, er, declarant)  # its own date: 30/06/2025
    home = text_of(client_for("dhup", gestionnaire).get("/"))
    late = home.split('data-testid="late-dossiers"', 1)[1].split("</section>", 1)[0]
    assert f"/declarations/dossiers/{dossier.pk}/" in late
