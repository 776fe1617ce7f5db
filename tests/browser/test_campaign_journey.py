"""In a real Chromium, a campaign from its opening to a receipt: the gestionnaire opens the
campaign and writes its letter in the CMS; the hourly job e-mails it; the organism reads it at
home, states the approval of its accounts (its deadline follows), starts its dossier; the
gestionnaire reminds it from the workspace with a message of their own; the organism
transmits and gets its accusé de réception, on the page and by e-mail."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from accounts.models import User
from forms_cms.models import DocumentType
from forms_cms.services import form_version_import
from tests.browser.live import (
    ARGS,
    CHROMIUM,
    beside,
    run_jobs_beside,
    serve_on_test_connection,
    shot,
    sign_in,
)
from tests.forms_cms.engine.helpers import workbook_bytes
from tests.forms_cms.test_versions import NAMES, SHEETS
from workflow.models import Campaign
from workflow.tasks import campaign_mail_send

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
TODAY = timezone.localdate()
EXERCISE = 2025


def _upload_form(exercise: int) -> None:
    """The gestionnaire's form for the new campaign (the upload has its own browser test)."""
    with schema_context("dhup"):
        form_version_import(
            document_type=DocumentType.objects.get(code="ER_SOCIAUX"),
            campaign=Campaign.objects.get(exercise=exercise),
            file_name="ER 2025.xlsx",
            content=workbook_bytes(SHEETS, NAMES),
            acting_user=User.objects.get(username="gestionnaire"),
        )


def _send_campaign_mail() -> dict:
    with schema_context("public"):
        return campaign_mail_send()


def _organism_addresses() -> set[str]:
    with schema_context("dhup"):
        declarant = User.objects.get(username="organisme")
        return set(
            User.objects.filter(
                membership__organism_id=declarant.membership.organism_id, is_active=True
            ).values_list("email", flat=True)
        )


def test_open_write_the_letter_remind_transmit_receipt():
    mail.outbox.clear()
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            manager = sign_in(browser, base, "gestionnaire")
            # 1. the gestionnaire opens the campaign: its page asks for the letter
            manager.goto(base + "/campagnes/ouvrir/")
            manager.fill("#id_exercise", str(EXERCISE))
            manager.locator("input[name=document_types]").first.check()
            manager.fill("#id_opening_date", TODAY.isoformat())
            manager.fill("#id_deadline", (TODAY + dt.timedelta(days=60)).isoformat())
            manager.get_by_role("button", name="Ouvrir la campagne").click()
            expect(manager.get_by_test_id("letter-status")).to_contain_text(
                "Aucune lettre n'est encore rédigée"
            )
            # 2. … written in the CMS's rich text editor
            manager.click("text=Rédiger la lettre dans l'éditeur de contenus")
            manager.fill("#id_letter_subject", f"Campagne {EXERCISE} : à vos états")
            editor = manager.locator(".Draftail-Editor [contenteditable=true]").first
            editor.click()
            # (no « / » typed: it opens the editor's command menu)
            manager.keyboard.type("Madame, Monsieur, la campagne 2025 est ouverte pour 60 jours.")
            # the editor writes its content into the form's field a moment after typing
            expect(manager.locator("input[name=letter]")).to_have_value(re.compile("ouverte"))
            manager.get_by_role("button", name="Enregistrer", exact=True).click()
            expect(manager.get_by_role("link", name=f"Campagne {EXERCISE}")).to_be_visible()
            manager.goto(base + "/campagnes/")
            manager.click(f"text=Lettre et relances de la campagne {EXERCISE}")
            expect(manager.get_by_test_id("letter")).to_contain_text("la campagne 2025 est ouverte")
            expect(manager.get_by_test_id("letter-status")).to_contain_text("dans l'heure")
            shot(manager, "journey-campaign-letter")
            beside(app, lambda: _upload_form(EXERCISE))

            # 3. the hourly job sends it, once
            assert beside(app, _send_campaign_mail)["dhup"][0] == 1
            assert run_jobs_beside(app) > 0
            letters = [m for m in mail.outbox if m.subject == f"Campagne {EXERCISE} : à vos états"]
            addresses = beside(app, _organism_addresses)
            assert {m.to[0] for m in letters} >= addresses
            assert "la campagne 2025 est ouverte" in letters[0].body

            # 4. the organism reads it at home, states its approval date, starts its dossier
            organism = sign_in(browser, base, "organisme")
            expect(organism.get_by_test_id("campaign-letter").first).to_contain_text("à vos états")
            row = organism.locator(f"tr[data-document=ER_SOCIAUX][data-exercise='{EXERCISE}']")
            expect(row.get_by_test_id("deadline-unknown")).to_be_visible()
            shot(organism, "journey-organism-home")
            row.get_by_text("Saisir la date d'approbation des comptes").click()
            assembly = TODAY - dt.timedelta(days=2)
            organism.fill("#id_approval-approved_on", assembly.isoformat())
            organism.click("button[name=approval]")
            expect(organism.locator(".messages")).to_contain_text(
                "Date d'approbation des comptes enregistrée"
            )
            # within the month following the assembly's, and at the latest the campaign's
            expect(organism.get_by_test_id("deadline-rule")).to_contain_text(
                "mois suivant celui de l'assemblée générale"
            )
            shot(organism, "journey-organism-deadline")
            organism.goto(base + "/")
            row.get_by_test_id("next-action").click()
            immo = organism.locator('input[data-n="ACT_IMMO"]')
            immo.fill("100")
            immo.press("Enter")
            expect(organism.get_by_test_id("status")).to_contain_text("Enregistré")
            expect(organism.get_by_test_id("dossier-deadline")).to_contain_text("dans")

            # 5. the gestionnaire reminds it, reading the message before it goes
            manager.goto(base + "/campagnes/")
            campaign_row = manager.locator(
                "tr", has_text=f"Lettre et relances de la campagne {EXERCISE}"
            )
            campaign_row.get_by_role("link", name="Dossiers", exact=True).click()
            siren_row = manager.locator("table[data-testid=workspace] tr[data-siren]").first
            siren_row.locator("input[name=organism]").check()
            manager.get_by_test_id("remind-selected").click()
            expect(manager.get_by_test_id("remind-organisms")).to_have_count(1)
            manager.fill("#id_message", "Il manque le capital : merci de compléter et transmettre.")
            shot(manager, "journey-remind")
            manager.click("button[name=send]")
            expect(manager.locator("body")).to_contain_text("1 organisme relancé")
            expect(siren_row.get_by_test_id("last-reminded")).to_have_text(
                TODAY.strftime("%d/%m/%Y")
            )
            mail.outbox.clear()
            assert run_jobs_beside(app) > 0
            reminded = [m for m in mail.outbox if "Il manque le capital" in m.body]
            assert {m.to[0] for m in reminded} == addresses

            # 6. the organism transmits and gets its receipt, on the page and by e-mail
            organism.reload()
            organism.click("button[data-action=validate]")
            expect(organism.get_by_test_id("step")).to_have_text("3 — Validé par l'organisme")
            organism.click("button[data-action=transmit]")
            dialog = organism.locator("dialog[open]")
            expect(dialog.get_by_test_id("action-preview")).to_contain_text("Caisse des dépôts")
            dialog.locator("[data-confirm-yes]").click()
            expect(organism.get_by_test_id("step")).to_contain_text("4 — Fiabilisation")
            expect(organism.get_by_test_id("receipt")).to_contain_text("Caisse des dépôts")
            shot(organism, "journey-receipt")
            mail.outbox.clear()
            assert run_jobs_beside(app) > 0
            receipts = [m for m in mail.outbox if "Accusé de réception" in m.subject]
            assert {m.to[0] for m in receipts} == addresses
            # transmitted: no more « late », no more reminders
            organism.goto(base + "/")
            expect(row.get_by_test_id("late")).to_have_count(0)
            expect(row.get_by_test_id("due-soon")).to_have_count(0)
        finally:
            browser.close()
