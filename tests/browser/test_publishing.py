"""In a real Chromium: a gestionnaire publishes a wiki page in the Wagtail admin, and an
editor subscribed to the wiki receives the e-mail (Django's locmem backend in tests)."""

from __future__ import annotations

import os

import pytest
from django.core import mail
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from faq_wiki.models import PlatformHomePage
from organisms.demo import DEMO_PASSWORD
from subscriptions.services import subscription_create
from tests.browser.live import run_jobs_beside, serve_on_test_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHROMIUM = os.environ.get("HARMONIA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture
def setup(demo_user, monkeypatch):
    from subscriptions import services

    monkeypatch.setattr(services, "DIGEST_DELAY_SECONDS", 0)
    editor = demo_user("dhup", "editeur")
    with schema_context("dhup"):
        subscription_create(user=editor, scope="wiki")
        home = PlatformHomePage.objects.get()
    return editor, home.pk


def test_a_published_wiki_page_reaches_the_subscribed_editor(setup):
    editor, home_pk = setup
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.goto(f"{base}/comptes/connexion/")
            page.fill("#id_username", "gestionnaire")
            page.fill("#id_password", DEMO_PASSWORD)
            page.click("form.login button[type=submit]")
            expect(page).to_have_url(f"{base}/")

            page.goto(f"{base}/cms/pages/add/faq_wiki/wikipage/{home_pk}/")
            page.fill("#id_title", "Calendrier de la campagne 2024")
            page.fill("#id_intro", "Les dates à retenir pour la campagne.")
            # Wagtail's script fills the slug from the title: wait for it (under load, publishing
            # before it ran was refused « erreurs de validation »)
            expect(page.locator("#id_slug")).to_have_value("calendrier-de-la-campagne-2024")
            page.locator(
                "footer .dropdown-toggle, footer [data-w-dropdown-target=toggle]"
            ).first.click()
            page.locator("button[name=action-publish]").click()
            expect(page.locator(".messages")).to_contain_text("Calendrier de la campagne 2024")

            assert run_jobs_beside(app) >= 1
        finally:
            browser.close()
    sent = [m for m in mail.outbox if editor.email in m.to]
    assert len(sent) == 1
    assert "Calendrier de la campagne 2024" in sent[0].body
    assert "desabonnement" in sent[0].body
