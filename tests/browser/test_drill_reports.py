"""The operator's staff open an exit drill's report from the menu, on a test platform whose
banner says so."""

from __future__ import annotations

import os

import pytest
from django.test import override_settings
from playwright.sync_api import expect, sync_playwright

from tests.browser.live import serve_on_test_connection
from tests.browser.test_accessibility import audit
from tests.browser.test_operator_space import ARGS, CHROMIUM, sign_in
from tests.reversibility.test_drill_pages import report  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
SHOTS = os.environ.get("HARMONIA_SCREENSHOTS", "")


def test_staff_read_a_drill_report_on_the_test_platform(report):  # noqa: F811
    with (
        override_settings(HARMONIA_ENVIRONMENT="recette"),
        serve_on_test_connection() as (port, app),
        sync_playwright() as playwright,
    ):
        base = f"http://localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(15_000)
            page = context.new_page()
            sign_in(page, base, "hotline")
            banner = page.get_by_test_id("environment-banner")
            expect(banner).to_contain_text("Plateforme de recette (tests)")
            page.get_by_test_id("operator-menu").get_by_role("link", name="Réversibilité").click()
            expect(page.get_by_test_id("drill-list")).to_contain_text("Réussi : aucune différence")
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/drill-list.png", full_page=True)
            page.get_by_test_id("drill-list").get_by_role("link").first.click()
            expect(page.get_by_test_id("drill-differences")).to_have_text("0")
            expect(page.locator("main")).to_contain_text("db_readonly_revoke --role lecture_dhup")
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/drill-detail.png", full_page=True)
            with page.expect_download() as download:
                page.get_by_role("link", name="Télécharger le rapport (PDF)").click()
            assert download.value.suggested_filename.endswith(".pdf")
            # the banner and both pages: 0 critical or serious accessibility violation
            pages = ["/operateur/reversibilite/", f"/operateur/reversibilite/{report.pk}/"]
            assert audit(page, base, pages, "hotline-recette") == {}
        finally:
            browser.close()
