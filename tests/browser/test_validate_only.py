"""A software editor checks a file without importing it, in a real Chromium: from its home
page to « Vérifier un fichier », a valid file then a refused one, each with the import's
report; nothing is stored (served on the test's connection: tests/browser/live.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.live import ARGS, CHROMIUM, serve_on_test_connection, shot, sign_in
from tests.declarations.test_online_form import version  # noqa: F401
from tests.declarations.test_xml import document

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_an_editor_checks_a_file_against_a_version(version, tmp_path):  # noqa: F811
    good = tmp_path / "bilan.xml"
    good.write_bytes(
        document("<ACT_IMMO>250.5</ACT_IMMO><TOTAL_ACTIF>1</TOTAL_ACTIF>", siren="552081317")
    )
    bad = tmp_path / "mauvais.xml"
    bad.write_bytes(document("<ACT_IMMO>1.234</ACT_IMMO>", siren="552081317"))
    with serve_on_test_connection() as (port, _app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = sign_in(browser, base, "editeur", viewport={"width": 1280, "height": 900})
            page.click("[data-testid=validate-file]")
            expect(page).to_have_url(f"{base}/declarations/verifier/")
            page.select_option("#id_version", str(version.pk))
            page.set_input_files("#id_file", str(good))
            page.click("[data-testid=version-validate] button[type=submit]")
            report = page.locator("[data-testid=import-report]")
            expect(report).to_contain_text("Fichier valide : l'import l'accepterait")
            expect(report).to_contain_text("1 valeur serait appliquée")
            expect(page.locator("[data-testid=import-differences]")).to_contain_text("TOTAL_ACTIF")
            shot(page, "validate-ok")
            page.set_input_files("#id_file", str(bad))
            page.click("[data-testid=version-validate] button[type=submit]")
            expect(report).to_contain_text("un import le refuserait")
            expect(report).to_contain_text("plus de 2 décimales")
            shot(page, "validate-refused")
        finally:
            browser.close()


def test_a_gestionnaire_uploads_a_draft_and_publishes_it(version, tmp_path):  # noqa: F811
    from tests.forms_cms.engine.helpers import workbook_bytes
    from tests.forms_cms.test_drafts import DRAFT_NAMES, DRAFT_SHEETS

    support = tmp_path / "bilan-v2.xlsx"
    support.write_bytes(workbook_bytes(DRAFT_SHEETS, DRAFT_NAMES))
    with serve_on_test_connection() as (port, _app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = sign_in(browser, base, "gestionnaire", viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/formulaires/deposer/")
            page.select_option("#id_document_type", str(version.document_type_id))
            page.select_option("#id_campaign", str(version.campaign_id))
            page.set_input_files("#id_file", str(support))
            page.check("#id_draft")
            page.click("text=Vérifier et enregistrer")
            expect(page.locator("[data-testid=draft-notice]")).to_contain_text("brouillon")
            expect(page.locator("[data-testid=changes]")).to_contain_text("ACT_BROUILLON")
            shot(page, "draft-version")
            page.click("[data-testid=publish]")
            expect(page.locator(".messages")).to_contain_text("publiée")
            expect(page.locator("[data-testid=draft-notice]")).to_have_count(0)
            shot(page, "draft-published")
        finally:
            browser.close()
