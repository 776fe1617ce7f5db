"""An organisme user declares in a real Chromium: types values and sees the totals change,
runs the verification and sees a blocking failure, fixes it, imports an XML file, downloads
the PDF. Served on the test's connection (tests/browser/live.py): nothing is committed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from forms_cms.controls import control_create
from organisms.demo import DEMO_PASSWORD
from tests.browser.live import run_jobs_beside, serve_on_test_connection, shot
from tests.forms_cms.engine.helpers import workbook_bytes
from tests.forms_cms.test_versions import NAMES, SHEETS, upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHROMIUM = os.environ.get("HARMONIA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
NARROW_NBSP = "\u202f"


@pytest.fixture
def prepared(demo_user, tmp_path):
    """A form with a blocking control, and an XML file for the organism (made before the
    server starts: no query runs in the test thread while a request may be in flight)."""
    gestionnaire = demo_user("dhup", "gestionnaire")
    declarant = demo_user("dhup", "organisme")
    version = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    with schema_context("dhup"):
        control_create(
            version=version,
            values={
                "code": "C001",
                "label": "Capital renseigné",
                "kind": "comparison",
                "left": "PAS_CAPITAL",
                "operator": ">",
                "right": "0",
                "severity": "blocking",
            },
            acting_user=gestionnaire,
        )
    siren = declarant.membership.organism.siren
    xml = tmp_path / "import.xml"
    xml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<declaration xmlns="urn:harmonia:formulaire:ER_SOCIAUX:1" formulaire="ER_SOCIAUX" '
        f'version="1" siren="{siren}" exercice="2024"><champs>'
        "<TC_ACT_STOCKS>250.50</TC_ACT_STOCKS></champs></declaration>",
        encoding="utf-8",
    )
    return xml


def test_an_organisme_user_declares(prepared, tmp_path):
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(locale="fr-FR", accept_downloads=True)
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.goto(f"{base}/comptes/connexion/")
            page.fill("#id_username", "organisme")
            page.fill("#id_password", DEMO_PASSWORD)
            page.click("form.login button[type=submit]")
            expect(page).to_have_url(f"{base}/")

            # open the dossier (created on first access) and type values
            page.goto(f"{base}/declarations/")
            page.click("text=Commencer")
            expect(page.get_by_test_id("step")).to_have_text("1 — Initialisé")
            immo = page.locator('input[data-n="ACT_IMMO"]')
            immo.fill("1 000")
            immo.press("Enter")
            total = page.locator('td[data-n="TOTAL_ACTIF"]')
            expect(total).to_have_text(f"1{NARROW_NBSP}000")
            expect(page.get_by_test_id("status")).to_contain_text("Enregistré")
            # the first value moved the dossier to step 2, without reloading the page
            expect(page.get_by_test_id("step")).to_have_text("2 — En cours de saisie")
            # a wrong entry is refused on the spot and says what to type
            stocks = page.locator('input[data-n="TC_ACT_STOCKS"]')
            stocks.fill("beaucoup")
            stocks.press("Enter")
            expect(page.get_by_test_id("status")).to_contain_text("Montant attendu")
            expect(total).to_have_text(f"1{NARROW_NBSP}000")

            # the verification shows the blocking failure, with a link to the cell
            page.click("text=Lancer la vérification")
            expect(page.get_by_test_id("summary")).to_contain_text("1 bloquant en échec")
            page.locator('[data-code="C001"] a').first.click()
            capital = page.locator('input[data-n="PAS_CAPITAL"]')
            expect(capital).to_be_focused()
            # the sheet's tab counts the failing control, as the other tabs count theirs
            here = page.locator("[data-testid=sheet-tabs] a[aria-current=page]")
            expect(here).to_have_attribute("data-blocking", "1")
            expect(here).to_contain_text("1 contrôle bloquant")
            shot(page, "declaring-sheet")
            capital.fill("500")
            capital.press("Enter")
            expect(page.get_by_test_id("status")).to_contain_text("Enregistré")
            page.click("text=Lancer la vérification")
            expect(page.get_by_test_id("summary")).to_contain_text("Aucun contrôle bloquant")

            # import an XML file
            page.goto(page.url.replace("/verification/", "/xml/"))
            page.set_input_files("input[type=file]", str(prepared))
            page.click("button:has-text('Importer')")
            expect(page.get_by_test_id("import-report")).to_contain_text("Import effectué")
            expect(page.get_by_test_id("import-report")).to_contain_text("TC_ACT_STOCKS")

            # the PDF, made in the background
            page.click("text=retour au formulaire")
            expect(page.locator('td[data-n="TOTAL_ACTIF"]')).to_have_text(f"1{NARROW_NBSP}250,50")
            page.click("text=Télécharger en PDF")
            expect(page.get_by_test_id("pdf-export")).to_be_visible()
            assert run_jobs_beside(app) == 1
            with page.expect_download() as download:
                page.locator("#pdf-download a").click()
            pdf = Path(download.value.path()).read_bytes()
            assert pdf.startswith(b"%PDF")
            page.screenshot(path=str(tmp_path / "declaring.png"))
        finally:
            browser.close()
