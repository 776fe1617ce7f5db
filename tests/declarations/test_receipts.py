"""Before « Transmettre » and « Finaliser »: a confirmation saying what will be sent, to which
partners, and the blocking checks (a dialog, or a page without JavaScript); after a
transmission: the organism's accusé de réception, e-mailed to each of its active users and shown
on the dossier page, with a link to the PDF frozen then."""

from __future__ import annotations

import html
import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from accounts.models import Role, User
from declarations.services import dossier_values_save
from forms_cms.controls import control_create
from organisms.models import Membership, Partner
from partners.models import PartnerRule, Transmission
from partners.services import partner_choices_save, partner_rule_update
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.forms_cms.engine.helpers import workbook_bytes
from tests.forms_cms.test_versions import NAMES, SHEETS, upload
from tests.helpers import fire, text_of
from tests.tenants.test_email_links import checked_links
from workflow.models import Dossier, DossierExport, Step, StepChange

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NATIONAL = ["ANCOLS", "Caisse des dépôts", "CGLLS"]  # by kind, then name
REACHED = "4 — Fiabilisation — sous-étape 4.1 — Réception et premier examen"
RECEIPT = "Accusé de réception"
DOCUMENT = "États réglementaires — comptes sociaux"


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


@pytest.fixture
def validated(version, declarant, gestionnaire):  # noqa: F811
    """A dossier at step 3 whose form has one blocking control, satisfied."""
    with schema_context("dhup"):
        control_create(
            version=version,
            values={"code": "B1", "label": "Actif positif", "kind": "comparison",
                    "left": "ACT_IMMO", "operator": ">", "right": "0", "severity": "blocking"},
            acting_user=gestionnaire,
        )  # fmt: skip
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(
            dossier=dossier, entries={"ACT_IMMO": "100", "PAS_CAPITAL": "10"}, acting_user=declarant
        )
    fire(dossier, "validate", declarant)
    return dossier


def step_of(dossier) -> str:
    with schema_context("dhup"):
        return Dossier.objects.get(pk=dossier.pk).step


def receipts(address: str | None = None) -> list:
    found = [m for m in mail.outbox if RECEIPT in m.subject]
    if address is not None:
        found = [m for m in found if address in m.to]
    return found


def text(response) -> str:
    """The page's text without tags, entities decoded, spaces collapsed."""
    page = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r" ([,.)])", r"\1", re.sub(r"[\s\u00a0\u202f]+", " ", page))


def choose_partners(declarant, gestionnaire):  # noqa: F811
    """The organism ticks its préfecture and a federation; the federations' rule sends only
    at step 6. Returns (préfecture, federation)."""
    with schema_context("dhup"):
        organism = declarant.membership.organism
        prefecture = Partner.objects.get(kind="PREFECTURE", departement=organism.departement)
        # the organism's own federation: the only one its documents may go to
        federation = Partner.objects.get(kind="FEDERATION", federation=organism.federation)
        rule = PartnerRule.objects.get(
            document_type__code="ER_SOCIAUX", partner_kind="FEDERATION", partner=None
        )
        partner_rule_update(rule=rule, transmit_at="6", acting_user=gestionnaire)
        partner_choices_save(
            organism=organism,
            document_type=rule.document_type,
            chosen_ids=[prefecture.pk, federation.pk],
            acting_user=declarant,
        )
        return prefecture, federation


# --- the confirmation ---------------------------------------------------------------------------
def test_the_confirmation_page_says_what_is_sent_to_whom_and_the_checks(
    validated,
    declarant,
    gestionnaire,
    client_for,  # noqa: F811
):
    prefecture, federation = choose_partners(declarant, gestionnaire)
    client = client_for("dhup", declarant)
    url = f"/declarations/dossiers/{validated.pk}/etape/transmit/confirmer/"
    response = client.get(url)
    assert response.status_code == 200
    page = text(response)
    number = validated.form_version.number
    assert f"Document : {DOCUMENT}, exercice 2024, version {number} du formulaire" in page
    assert "figées en un PDF et un fichier XML" in page
    # the checks: the form's one blocking control, satisfied, and the required fields
    assert "1 contrôle bloquant satisfait sur 1" in page
    body = response.content.decode()
    assert 'data-passed="1"' in body and 'data-testid="preview-refused"' not in body
    # to whom: the gestionnaires, the imposed partners and the préfecture ticked, now; the
    # federation ticked, at step 6 only
    assert "Les gestionnaires de" in page
    now = re.findall(r'data-testid="partner-now">([^<]+)<', body)
    assert [html.unescape(n) for n in now] == [*NATIONAL, prefecture.name]  # by kind
    assert "(de nouveau : sous-étape 4.8, étape 6)" in page
    later = re.findall(r'data-testid="partner-later">([^<]+)<', body)
    assert [html.unescape(n) for n in later] == [federation.name]
    assert f"{federation.name} (étape 6)" in page
    assert f"étape « {REACHED} »" in page
    assert 'data-testid="confirm-yes"' in body
    # asking changed nothing
    assert step_of(validated) == Step.VALIDATED


def test_without_javascript_the_form_gets_the_confirmation_page_then_transmits(
    validated,
    declarant,
    client_for,  # noqa: F811
):
    client = client_for("dhup", declarant)
    step_url = f"/declarations/dossiers/{validated.pk}/etape/"
    mail.outbox.clear()
    unconfirmed = client.post(step_url, {"action": "transmit"})
    assert unconfirmed.status_code == 200
    assert 'data-testid="confirm-page"' in unconfirmed.content.decode()
    assert "Caisse des dépôts" in text(unconfirmed)
    assert step_of(validated) == Step.VALIDATED
    run_queued_jobs()
    assert receipts() == []  # nothing sent by asking
    # the page's form: action, confirmation=1
    form = unconfirmed.content.decode()
    assert '<input type="hidden" name="confirmation" value="1">' in form
    assert f'action="{step_url}"' in form
    confirmed = client.post(step_url, {"action": "transmit", "confirmation": "1"})
    assert confirmed.status_code == 302
    assert step_of(validated) == Step.FIABILISATION


def test_a_failing_blocking_control_is_said_and_the_refused_transmission_sends_nothing(
    validated,
    declarant,
    gestionnaire,
    client_for,  # noqa: F811
):
    with schema_context("dhup"):
        # a control added after the validation, failing
        control_create(
            version=validated.form_version,
            values={"code": "B2", "label": "Stocks positifs", "kind": "comparison",
                    "left": "TC_ACT_STOCKS", "operator": ">", "right": "0",
                    "severity": "blocking"},
            acting_user=gestionnaire,
        )  # fmt: skip
    client = client_for("dhup", declarant)
    response = client.get(f"/declarations/dossiers/{validated.pk}/etape/transmit/confirmer/")
    page, body = text(response), response.content.decode()
    assert "1 contrôle bloquant en échec sur 2" in page
    assert 'data-passed="0"' in body and "La transmission sera refusée" in page
    assert 'data-testid="confirm-yes"' not in body
    assert f"/declarations/dossiers/{validated.pk}/verification/#a-completer" in body
    # confirmed anyway (an old page): refused by the write gate, nothing recorded nor sent
    mail.outbox.clear()
    refused = client.post(
        f"/declarations/dossiers/{validated.pk}/etape/",
        {"action": "transmit", "confirmation": "1"},
        follow=True,
    )
    assert "« Transmettre » refusé" in text_of(refused)
    assert step_of(validated) == Step.VALIDATED
    run_queued_jobs()
    assert receipts() == [] and mail.outbox == []
    with schema_context("dhup"):
        assert not StepChange.objects.filter(dossier=validated, transition="transmit").exists()
        assert not Transmission.objects.filter(dossier=validated).exists()


def test_the_dossier_page_dialog_carries_the_same_preview(validated, declarant, client_for):  # noqa: F811
    page = client_for("dhup", declarant).get(f"/declarations/dossiers/{validated.pk}/")
    body = page.content.decode()
    dialog = body[body.index('<dialog id="confirmer-transmit"') :]
    dialog = dialog[: dialog.index("</dialog>")]
    assert 'data-testid="action-preview"' in dialog
    assert "1 contrôle bloquant satisfait sur 1" in html.unescape(dialog).replace("\u202f", " ")
    assert re.findall(r'data-testid="partner-now">([^<]+)<', dialog) == [
        "ANCOLS",
        "Caisse des dépôts",
        "CGLLS",
    ]
    assert "data-confirm-yes" in dialog


def test_finalise_confirmation_says_what_it_means_and_who_receives(
    validated,
    declarant,
    gestionnaire,
    client_for,  # noqa: F811
):
    fire(validated, "transmit", declarant)
    with schema_context("dhup"):
        # the CGLLS also receives the dossier when it is finalised
        rule = PartnerRule.objects.get(
            document_type__code="ER_SOCIAUX", partner_kind="CGLLS", partner=None
        )
        partner_rule_update(rule=rule, transmit_at="4.1,5", acting_user=gestionnaire)
    manager = client_for("dhup", gestionnaire)
    url = f"/declarations/dossiers/{validated.pk}/etape/finalise/confirmer/"
    response = manager.get(url)
    assert response.status_code == 200
    page, body = text(response), response.content.decode()
    assert "la fiabilisation sera close" in page
    assert "étape « 5 — Finalisé »" in page
    assert re.findall(r'data-testid="partner-now">([^<]+)<', body) == ["CGLLS"]
    # the others still receive it at step 6 (4.1 and 4.8 are behind it)
    assert "ANCOLS (étape 6)" in page and "Caisse des dépôts (étape 6)" in page
    assert "sous-étape 4.8" not in page
    assert 'data-testid="preview-checks"' not in body  # no checks to finalise
    # the dialog on the page says the same; the organism may not ask
    dialog = manager.get(f"/declarations/dossiers/{validated.pk}/").content.decode()
    dialog = dialog[dialog.index('<dialog id="confirmer-finalise"') :]
    assert "5 — Finalisé" in dialog[: dialog.index("</dialog>")]
    assert client_for("dhup", declarant).get(url).status_code == 403
    # without confirmation nothing moves; with it the dossier is finalised
    step_url = f"/declarations/dossiers/{validated.pk}/etape/"
    assert manager.post(step_url, {"action": "finalise"}).status_code == 200
    assert step_of(validated) == Step.FIABILISATION
    manager.post(step_url, {"action": "finalise", "confirmation": "1"})
    assert step_of(validated) == Step.FINALISED
    with schema_context("dhup"):
        assert sorted(
            Transmission.objects.filter(
                dossier=validated, step_change__transition="finalise"
            ).values_list("partner__name", flat=True)
        ) == ["CGLLS"]


def test_a_hand_back_asked_without_javascript_keeps_its_reason(
    validated,
    declarant,
    gestionnaire,
    client_for,  # noqa: F811
):
    fire(validated, "transmit", declarant)
    manager = client_for("dhup", gestionnaire)
    response = manager.post(
        f"/declarations/dossiers/{validated.pk}/etape/",
        {"action": "hand_back", "comment": "Précisez le capital."},
    )
    assert response.status_code == 200
    assert 'value="Précisez le capital."' in html.unescape(response.content.decode())
    assert step_of(validated) == Step.FIABILISATION


def test_an_action_not_possible_at_this_step_is_refused_with_its_reason(
    validated,
    declarant,
    client_for,  # noqa: F811
):
    client = client_for("dhup", declarant)
    response = client.get(
        f"/declarations/dossiers/{validated.pk}/etape/retransmit/confirmer/", follow=True
    )
    assert "pas possible à l'étape « 3 — Validé par l'organisme »" in text_of(response)
    assert client.get(
        f"/declarations/dossiers/{validated.pk}/etape/validate/confirmer/"
    ).status_code == 404  # asks no confirmation  # fmt: skip


# --- the receipt --------------------------------------------------------------------------------
def test_transmitting_sends_one_receipt_per_active_user_of_the_organism(
    validated,
    declarant,
    demo_user,  # noqa: F811
):
    colleague = demo_user("dhup", "organisme2")  # same organism
    elsewhere = demo_user("dhup", "organisme-moi")  # another organism
    with schema_context("dhup"):
        gone = User.objects.create(
            username="organisme-parti", email="parti@dhup.harmonia.test",
            role=Role.ORGANISME, is_active=False,
        )  # fmt: skip
        Membership.objects.create(user=gone, organism=declarant.membership.organism)
    mail.outbox.clear()
    change = fire(validated, "transmit", declarant)
    run_queued_jobs()
    assert len(receipts()) == 2
    (mine,) = receipts(declarant.email)
    (theirs,) = receipts(colleague.email)
    assert receipts(gone.email) == [] and receipts(elsewhere.email) == []
    assert all(len(m.to) == 1 for m in receipts())  # addresses not disclosed to each other
    with schema_context("dhup"):
        dossier = Dossier.objects.select_related("form_version").get(pk=validated.pk)
        pdf = DossierExport.objects.get(step_change=change, kind="pdf")
        sent_to = list(
            Transmission.objects.filter(step_change=change)
            .order_by("partner__kind", "partner__name")
            .values_list("partner__name", flat=True)
        )
    at = change.changed_at.astimezone(PARIS)
    assert f"Accusé de réception — {DOCUMENT} 2024" in mine.subject
    body = mine.body
    assert body.startswith("Bonjour Olivier Déclarant 1,")
    assert theirs.body.startswith("Bonjour Odile Déclarant 2,")
    for fact in (
        f"- Document : {DOCUMENT}",
        "- Exercice : 2024",
        f"- Version du formulaire : {dossier.form_version.number}",
        f"- Transmis le {at:%d/%m/%Y à %H:%M} (heure de Paris), par Olivier Déclarant 1",
        f"- Étape atteinte : {REACHED}",
        f"- Partenaires destinataires : {', '.join(NATIONAL)}",
    ):
        assert fact in body, fact
    assert sent_to == NATIONAL  # what the partners' sending recorded, the same
    # the gestionnaires' notice of the same transmission says the same (Paris) time
    (notice,) = [m for m in mail.outbox if "Dossier transmis" in m.subject]
    assert f"le {at:%d/%m/%Y à %H:%M}." in notice.body
    # the link: the PDF frozen at this transmission, on the platform's host
    assert checked_links(mine, "dhup") == ["declarations:snapshot", "declarations:dossier"]
    assert f"/declarations/dossiers/{dossier.pk}/transmis/{pdf.pk}/" in body


def test_the_receipt_link_requires_the_organisms_access(
    validated,
    declarant,
    demo_user,
    client_for,  # noqa: F811
):
    change = fire(validated, "transmit", declarant)
    run_queued_jobs()
    with schema_context("dhup"):
        pdf = DossierExport.objects.get(step_change=change, kind="pdf")
        assert pdf.status == DossierExport.Status.DONE
    url = f"/declarations/dossiers/{validated.pk}/transmis/{pdf.pk}/"
    owner = client_for("dhup", declarant).get(url)
    assert owner.status_code == 200 and owner.content.startswith(b"%PDF")
    colleague = client_for("dhup", demo_user("dhup", "organisme2")).get(url)
    assert colleague.status_code == 200
    assert client_for("dhup", demo_user("dhup", "gestionnaire")).get(url).status_code == 200
    anonymous = client_for("dhup").get(url)
    assert anonymous.status_code == 302 and "/comptes/" in anonymous["Location"]
    assert client_for("dhup", demo_user("dhup", "organisme-moi")).get(url).status_code == 404
    for username in ("partenaire-cdc", "editeur"):
        assert client_for("dhup", demo_user("dhup", username)).get(url).status_code == 403
    with schema_context("oph"):
        on_oph = Dossier.objects.filter(pk=validated.pk).exists()
    other = client_for("oph", demo_user("oph", "gestionnaire")).get(url)
    if not on_oph:  # (a dossier of the same number there is another platform's)
        assert other.status_code == 404
    assert b"%PDF" not in other.content
    # a deactivated organism user follows the link in vain: signed out, sent to sign in
    with schema_context("dhup"):
        User.objects.filter(username="organisme2").update(is_active=False)
    deactivated = client_for("dhup", demo_user("dhup", "organisme2")).get(url)
    assert deactivated.status_code == 302 and "/comptes/" in deactivated["Location"]


def test_the_dossier_page_shows_the_receipt(validated, declarant, demo_user, client_for):  # noqa: F811
    client = client_for("dhup", declarant)
    before = client.get(f"/declarations/dossiers/{validated.pk}/").content.decode()
    assert 'data-testid="receipt"' not in before
    change = fire(validated, "transmit", declarant)
    page = client.get(f"/declarations/dossiers/{validated.pk}/")
    shown = text(page)
    at = change.changed_at.astimezone(PARIS)
    number = validated.form_version.number
    assert RECEIPT in shown
    assert f"Document : {DOCUMENT}, exercice 2024, version {number} du formulaire" in shown
    assert f"Transmis le {at:%d/%m/%Y à %H:%M} par Olivier Déclarant 1" in shown
    assert f"Étape atteinte : {REACHED}" in shown
    assert f"Partenaires destinataires : {', '.join(NATIONAL)}" in shown
    assert "en préparation" in shown  # the PDF: not made yet
    run_queued_jobs()
    with schema_context("dhup"):
        pdf = DossierExport.objects.get(step_change=change, kind="pdf")
    body = client.get(f"/declarations/dossiers/{validated.pk}/").content.decode()
    block = body[body.index('data-testid="receipt"') :]
    block = block[: block.index("</section>")]
    assert f'href="/declarations/dossiers/{validated.pk}/transmis/{pdf.pk}/"' in block
    # the gestionnaire's page shows it too (facts of the journal, no value)
    manager = client_for("dhup", demo_user("dhup", "gestionnaire"))
    assert 'data-testid="receipt"' in manager.get(
        f"/declarations/dossiers/{validated.pk}/"
    ).content.decode()  # fmt: skip


def test_a_retransmission_after_a_hand_back_sends_a_receipt_too(
    validated,
    declarant,
    gestionnaire,
    client_for,  # noqa: F811
):
    fire(validated, "transmit", declarant)
    fire(validated, "move", gestionnaire, substep="4.3")
    fire(validated, "hand_back", gestionnaire, comment="Capital à justifier")
    with schema_context("dhup"):
        dossier_values_save(dossier=validated, entries={"PAS_CAPITAL": "20"},
                            acting_user=declarant)  # fmt: skip
    run_queued_jobs()
    mail.outbox.clear()
    change = fire(validated, "retransmit", declarant)
    run_queued_jobs()
    (receipt,) = receipts(declarant.email)
    again = "4 — Fiabilisation — sous-étape 4.3 — Demande de précisions à l'organisme"
    assert "a bien été transmis à nouveau" in receipt.body
    assert f"- Étape atteinte : {again}" in receipt.body
    # 4.3 is no moment of the rules: no partner at this step
    assert "- Partenaires destinataires : aucun à cette étape" in receipt.body
    with schema_context("dhup"):
        pdf = DossierExport.objects.get(step_change=change, kind="pdf")
    assert f"/transmis/{pdf.pk}/" in receipt.body
    shown = text(client_for("dhup", declarant).get(f"/declarations/dossiers/{validated.pk}/"))
    at = change.changed_at.astimezone(PARIS)
    assert f"Transmis à nouveau le {at:%d/%m/%Y à %H:%M}" in shown
    assert f"Étape atteinte : {again}" in shown


def test_other_steps_send_no_receipt(validated, declarant, gestionnaire):  # noqa: F811
    fire(validated, "transmit", declarant)
    run_queued_jobs()
    mail.outbox.clear()
    fire(validated, "move", gestionnaire, substep="4.8")
    fire(validated, "finalise", gestionnaire)
    run_queued_jobs()
    assert receipts() == []


def test_the_dossier_page_reads_previews_and_receipt_in_a_bounded_number_of_queries(
    version,
    declarant,
    gestionnaire,
    client_for,
    django_assert_max_num_queries,  # noqa: F811
):
    """As many queries whether the dossier goes to three partners or to five: the partners and
    the receipt's facts are read in one query each, never one per partner."""
    counts = []
    for organism_choices in (False, True):
        dossier = open_dossier(declarant)
        with schema_context("dhup"):
            Dossier.objects.filter(pk=dossier.pk).update(step=Step.FILLING)
            dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "100"},
                                acting_user=declarant)  # fmt: skip
        if organism_choices:
            choose_partners(declarant, gestionnaire)  # two more partners
        fire(dossier, "validate", declarant)
        client = client_for("dhup", declarant)
        url = f"/declarations/dossiers/{dossier.pk}/"
        client.get(url)  # per-process caches (compiled form, fields)
        # the transmit dialog's preview (and the organism's deadline in the dossier's head)
        with django_assert_max_num_queries(29) as before:
            client.get(url)
        fire(dossier, "transmit", declarant)
        with django_assert_max_num_queries(27) as after:  # the receipt
            page = client.get(url)
        assert 'data-testid="receipt"' in page.content.decode()
        counts.append((len(before.captured_queries), len(after.captured_queries)))
        with schema_context("dhup"):  # the next round starts from a new dossier
            Transmission.objects.filter(dossier=dossier).delete()
            DossierExport.objects.filter(dossier=dossier).delete()
            Dossier.objects.filter(pk=dossier.pk).delete()
    assert counts[0] == counts[1]


def test_the_receipt_names_the_version_transmitted_even_after_the_dossier_moved_on(
    validated,
    declarant,
    gestionnaire,
    client_for,  # noqa: F811
):
    fire(validated, "transmit", declarant)
    transmitted = validated.form_version.number
    newer = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire, name="v2.xlsx")
    assert newer.number != transmitted
    with schema_context("dhup"):
        Dossier.objects.filter(pk=validated.pk).update(form_version=newer)
    shown = text(client_for("dhup", declarant).get(f"/declarations/dossiers/{validated.pk}/"))
    assert f"version {newer.number} du formulaire" in shown  # the header: the dossier now
    assert f"2024, version {transmitted} du formulaire" in shown  # the receipt: as sent
