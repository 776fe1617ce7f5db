"""In a real Chromium: failed sign-ins on the ministry platform show up in the operator's
security screen on the public host; the maintenance operator sets an alert rule (refused first
for want of a recipient), and the check sends one e-mail."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import expect, sync_playwright

from operations.services_security import security_alerts_check
from tests.browser.live import (
    ARGS,
    CHROMIUM,
    beside,
    run_jobs_beside,
    serve_on_test_connection,
    shot,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_failed_sign_ins_become_an_alert(db):
    mail.outbox.clear()
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_context(locale="fr-FR").new_page()
            for _ in range(3):
                page.goto(f"http://dhup.localhost:{port}/comptes/connexion/")
                page.fill("#id_username", "gestionnaire")
                page.fill("#id_password", "pas-le-bon")
                page.click("form.login button[type=submit]")
                expect(page.locator("main")).to_contain_text("Identifiant ou mot de passe")

            page = sign_in(browser, base, "maintenance", landing="/operateur/")
            page.click("nav a:has-text('Sécurité')")
            expect(page.locator("h1")).to_have_text("Supervision de la sécurité")
            page.select_option("#id_type", "login_failed")
            page.select_option("#id_plateforme", "dhup")
            page.click("main form.filters button[type=submit]")
            expect(page.locator("main table")).to_contain_text("Ministère (DHUP)")
            expect(page.locator("main")).to_contain_text("3 événements")
            shot(page, "security-events")

            page.click("main a:has-text('Règles d')")
            page.click("main a:has-text('Nouvelle règle')")
            page.select_option("#id_kind", "login_failed")
            page.fill("#id_threshold", "3")
            page.fill("#id_window_minutes", "10")
            page.uncheck("#id_notify_cglls")
            page.uncheck("#id_notify_maintenance")
            page.click("main form button[type=submit]")
            expect(page.locator("main")).to_contain_text("Une règle sans destinataire")
            page.check("#id_notify_maintenance")
            page.fill("#id_emails", "soc@example.org")
            page.click("main form button[type=submit]")
            expect(page.locator("main table").first).to_contain_text("Échec de connexion")
            shot(page, "security-rules")

            assert len(beside(app, security_alerts_check)) == 1
            assert beside(app, security_alerts_check) == []  # one per window
            assert run_jobs_beside(app) == 1
            [message] = mail.outbox
            assert "soc@example.org" in message.to
            assert "- Ministère (DHUP) : 3" in message.body
            page.reload()
            expect(page.locator("main")).to_contain_text("soc@example.org")
        finally:
            browser.close()
