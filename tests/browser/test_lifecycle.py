"""In a real Chromium: the gestionnaire cannot read the dossier while the organism fills it;
the organism transmits, the gestionnaire hands the dossier back and reads the transmitted
version meanwhile, the organism corrects and transmits again, the gestionnaire sees what
changed and finalises."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from declarations.services import dossier_open, dossier_values_save
from forms_cms.models import DocumentType
from tests.browser.live import ARGS, CHROMIUM, serve_on_test_connection, shot, sign_in
from tests.forms_cms.engine.helpers import workbook_bytes
from tests.forms_cms.test_versions import NAMES, SHEETS, upload
from workflow.models import Campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture
def dossier_url(demo_user):
    gestionnaire = demo_user("dhup", "gestionnaire")
    declarant = demo_user("dhup", "organisme")
    upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    with schema_context("dhup"):
        dossier = dossier_open(
            organism=declarant.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="ER_SOCIAUX"),
            acting_user=declarant,
        )
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "100"}, acting_user=declarant)
    return f"/declarations/dossiers/{dossier.pk}/"


def confirm(page, says: str) -> None:
    """Answer the confirmation an action that cannot be undone asks for."""
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text(says)
    expect(dialog.locator("[data-confirm-no]")).to_be_focused()  # the safe answer first
    dialog.locator("[data-confirm-yes]").click()


def test_transmit_hand_back_transmit_again_finalise(dossier_url):
    with serve_on_test_connection() as (port, _app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            organism = sign_in(browser, base, "organisme")
            manager = sign_in(browser, base, "gestionnaire")
            step = "[data-testid=step]"

            # step 2: the organism's own work — the gestionnaire learns why, sees no value
            manager.goto(base + dossier_url)
            expect(manager.get_by_test_id("values-hidden")).to_contain_text(
                "seul l'organisme a accès aux données"
            )
            expect(manager.get_by_test_id("step")).to_have_text("2 — En cours de saisie")
            expect(manager.locator("[data-testid=sheet]")).to_have_count(0)
            shot(manager, "gestionnaire-step2-hidden")

            organism.goto(base + dossier_url)
            expect(organism.locator(step)).to_have_text("2 — En cours de saisie")
            organism.click("button[data-action=validate]")
            expect(organism.locator(step)).to_have_text("3 — Validé par l'organisme")
            organism.click("button[data-action=transmit]")
            # cancelling leaves the dossier where it was
            organism.locator("dialog[open] [data-confirm-no]").click()
            expect(organism.locator("dialog[open]")).to_have_count(0)
            expect(organism.locator(step)).to_have_text("3 — Validé par l'organisme")
            organism.click("button[data-action=transmit]")
            # what is sent, to whom, the checks: said before confirming
            preview = organism.locator("dialog[open] [data-testid=action-preview]")
            expect(preview).to_contain_text("Caisse des dépôts")
            expect(preview.get_by_test_id("preview-checks")).to_be_visible()
            shot(organism, "organisme-transmit-confirmation")
            confirm(organism, "vous ne pourrez plus le modifier")
            expect(organism.locator(step)).to_have_text(
                "4 — Fiabilisation — sous-étape 4.1 — Réception et premier examen"
            )
            # the accusé de réception, on the page
            expect(organism.get_by_test_id("receipt")).to_contain_text("Caisse des dépôts")
            shot(organism, "organisme-receipt")
            expect(organism.locator('input[data-n="ACT_IMMO"]')).to_be_disabled()

            manager.goto(base + dossier_url)
            manager.fill("input[name=comment]", "Le capital est à renseigner.")
            manager.click("button[data-action=hand_back]")
            confirm(manager, "recevra votre motif par courriel")
            expect(manager.locator(step)).to_contain_text("Main rendue à l'organisme")

            organism.reload()
            immo = organism.locator('input[data-n="ACT_IMMO"]')
            expect(immo).to_be_enabled()  # handed back: the organism corrects
            immo.fill("5 000")
            immo.press("Enter")
            expect(organism.get_by_test_id("status")).to_contain_text("Enregistré")
            # meanwhile the gestionnaire reads what was transmitted, not the work in progress
            manager.reload()
            expect(manager.get_by_test_id("snapshot-notice")).to_be_visible()
            expect(manager.locator('input[data-n="ACT_IMMO"]')).to_have_value("100")
            shot(manager, "gestionnaire-4R-snapshot")
            organism.click("button[data-action=retransmit]")
            confirm(organism, "vous ne pourrez plus le modifier")
            expect(organism.locator(step)).to_contain_text("4 — Fiabilisation")

            manager.reload()
            expect(manager.locator('input[data-n="ACT_IMMO"]')).to_have_value(
                re.compile(r"^5\s?000$")
            )
            manager.click("[data-testid=changes-link]")
            expect(manager.get_by_test_id("changes-entered")).to_contain_text("ACT_IMMO")
            expect(manager.get_by_test_id("changes-entered")).to_contain_text(
                re.compile(r"5\s?000")
            )
            shot(manager, "gestionnaire-changes")
            manager.goto(base + dossier_url)
            manager.click("td#ACT_IMMO")
            manager.click("#cell-history")
            expect(manager.get_by_test_id("history")).to_contain_text("ACT_IMMO")
            expect(manager.get_by_test_id("history")).not_to_contain_text("PAS_CAPITAL")
            shot(manager, "gestionnaire-cell-history")
            manager.goto(base + dossier_url)
            manager.click("button[data-action=finalise]")
            confirm(manager, "la fiabilisation sera close")
            expect(manager.locator(step)).to_have_text("5 — Finalisé")
            expect(manager.locator("details")).to_contain_text("Le capital est à renseigner.")
        finally:
            browser.close()
