"""In a real Chromium, on the public host: a hotline operator logs a phone call, records the
anomaly it revealed, the correspondent following that platform is e-mailed, signs in and finds
it in the tracker, where the operator's other screens are not offered to them."""

from __future__ import annotations

import os

import pytest
from django.core import mail
from playwright.sync_api import expect, sync_playwright

from organisms.demo import DEMO_PASSWORD
from tests.browser.live import run_jobs_beside, serve_on_test_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHROMIUM = os.environ.get("HARMONIA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
DESCRIPTION = (
    "Le bouton Lancer la vérification ne répond plus sur le formulaire ER sociaux lorsque "
    "le dossier compte plus de deux cents contrôles bloquants ; contournement : recharger la page."
)


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/comptes/connexion/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.login button[type=submit]")
    expect(page.locator(".fr-header__tools .user-identity")).to_be_visible()


def test_a_call_becomes_an_anomaly_that_the_correspondent_reads(db):
    mail.outbox.clear()
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(15_000)
            page = context.new_page()
            sign_in(page, base, "hotline")

            page.goto(f"{base}/operateur/hotline/nouveau/")
            page.select_option("#id_channel", "phone")
            page.select_option("#id_platform", "dhup")
            page.fill("#id_caller_name", "Mme Bernard")
            page.fill("#id_organism_name", "Habitat de l'Ain")
            page.select_option("#id_subject", "controls")
            page.fill("#id_description", "La vérification ne répond plus.")
            page.click("main form button[type=submit]")
            expect(page.locator(".messages")).to_contain_text("Contact enregistré")
            expect(page.locator("main table")).to_contain_text("Mme Bernard")

            page.goto(f"{base}/operateur/anomalies/nouvelle/")
            page.fill("#id_short_description", DESCRIPTION)
            page.select_option("#id_severity", "major")
            page.fill("#id_found_on", "2026-11-30")
            page.fill("#id_reporter", "Mme Bernard, Habitat de l'Ain, par téléphone")
            page.check("input[name=platforms][value=dhup]")
            page.click("main form button[type=submit]")
            expect(page.locator("h1")).to_contain_text("Anomalie ANO-")
            number = page.locator("h1").inner_text().split()[-1]

            assert run_jobs_beside(app) >= 2
            recipients = {m.to[0] for m in mail.outbox}
            assert "correspondant@public.harmonia.test" in recipients
            notice = next(m for m in mail.outbox if m.to == ["correspondant@public.harmonia.test"])
            assert number in notice.subject and "Gravité : Majeure" in notice.body

            context.clear_cookies()
            sign_in(page, base, "correspondant")
            page.goto(f"{base}/operateur/")
            expect(page.locator("main")).to_contain_text("Suivi des anomalies")
            expect(page.locator("main")).not_to_contain_text("Hotline")
            page.click("main a:has-text('Suivi des anomalies')")
            expect(page.locator("h1")).to_have_text("Suivi des anomalies")
            expect(page.locator("main p").first).not_to_contain_text("Correspondants")
            page.click(f"main table a:has-text('{number}')")
            expect(page.locator("main")).to_contain_text("Lancer la vérification")
            expect(page.locator("main")).not_to_contain_text("Demander un reclassement")
            response = page.goto(f"{base}/operateur/hotline/")
            assert response.status == 403
        finally:
            browser.close()


REQUEST = (
    "Permettre aux organismes de télécharger en une fois les PDF de tous leurs dossiers "
    "transmis pour un exercice, dans une archive nommée selon le SIREN et le document concerné."
)


def test_an_evolution_request_is_recorded_then_retained_by_cglls(db, tmp_path):
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(15_000)
            page = context.new_page()
            sign_in(page, base, "maintenance")
            page.goto(f"{base}/operateur/")
            page.click("nav[data-testid=operator-menu] a:has-text('Évolutions')")
            page.fill("#id_description", "Exporter tous les PDF d'un exercice en une seule fois")
            page.fill("#id_requester", "Fédération des OPH")
            page.select_option("#id_requester_kind", "federation")
            page.check("#id_all_federations")
            page.click("main form[method=post] button[type=submit]")
            expect(page.locator("main")).to_contain_text(
                "La description doit compter entre 20 et 40 mots (10 saisis)."
            )
            page.fill("#id_description", REQUEST)
            page.click("main form[method=post] button[type=submit]")
            expect(page.locator(".messages")).to_contain_text("Demande d'évolution enregistrée")
            register = page.locator("[data-testid=evolution-register]")
            expect(register).to_contain_text("toutes les fédérations")
            number = register.locator("tbody tr a").first.inner_text()

            context.clear_cookies()
            sign_in(page, base, "cglls")
            page.goto(f"{base}/operateur/evolutions/{number}/")
            page.select_option("#id_status", "retained")
            page.click("main form button:has-text('Enregistrer la décision')")
            expect(page.locator("[data-testid=evolution-status]")).to_have_text("Retenue")
            page.screenshot(path=str(tmp_path / "evolution.png"), full_page=True)
        finally:
            browser.close()
