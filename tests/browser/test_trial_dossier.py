"""A gestionnaire tries a draft form version on a trial dossier, in a real Chromium: from the
draft's page to « Essayer sur un dossier de test », the banner, a value typed and saved
(served on the test's connection: tests/browser/live.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.live import ARGS, CHROMIUM, serve_on_test_connection, shot, sign_in
from tests.declarations.test_online_form import version  # noqa: F401
from tests.forms_cms.test_drafts import draft  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

NARROW_NBSP = "\u202f"


def test_a_gestionnaire_tries_a_draft_on_a_trial_dossier(draft):  # noqa: F811
    with serve_on_test_connection() as (port, _app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = sign_in(browser, base, "gestionnaire", viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/formulaires/{draft.pk}/")
            expect(page.get_by_test_id("draft-notice")).to_contain_text("brouillon")
            page.get_by_test_id("trial-open").click()
            banner = page.get_by_test_id("trial-banner")
            expect(banner).to_contain_text("Dossier d'essai sur une version en brouillon")
            expect(banner).to_contain_text("il n'est ni transmis ni compté")
            cell = page.locator('input[data-n="ACT_BROUILLON"]')
            cell.fill("1 234")
            cell.press("Enter")
            expect(page.get_by_test_id("status")).to_contain_text("Enregistré")
            shot(page, "trial-saved")
            page.reload()
            expect(page.locator('input[data-n="ACT_BROUILLON"]')).to_have_value(
                f"1{NARROW_NBSP}234"
            )
        finally:
            browser.close()
