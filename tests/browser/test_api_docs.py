"""The read API's interactive docs in a real Chromium: Swagger UI loads from the platform's own
host (no request leaves it), lists the operations, and a gestionnaire's token pasted into
« Authorize » reads a campaign's dossiers from the page. Served on the test's connection
(tests/browser/live.py): nothing is committed."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from declarations.models import ApiToken
from tests.browser.live import serve_on_test_connection
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHROMIUM = os.environ.get("HARMONIA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def test_the_docs_page_works_from_our_own_host(version, declarant, demo_user):  # noqa: F811
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        _, key = ApiToken.issue(user=demo_user("dhup", "gestionnaire"), name="Swagger")
    hosts, errors = set(), []
    with serve_on_test_connection() as (port, _app), sync_playwright() as p:
        base = f"http://dhup.localhost:{port}"
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(locale="fr-FR")
            page.set_default_timeout(15_000)
            page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/api/v1/docs")
            expect(page.get_by_text("Harmonia — API").first).to_be_visible()
            operation = page.locator("#operations-Lecture-api_views_dossiers")
            expect(operation).to_be_visible()
            expect(page.locator("#operations-Lecture-api_views_dossier_values")).to_be_visible()
            expect(page.get_by_text("/api/v1/declarations/import").first).to_be_visible()
            # authorise with the token, then try the list of a campaign's dossiers
            page.locator("button.authorize").first.click()
            page.locator(".modal-ux input").first.fill(key)
            page.locator(".modal-ux button.authorize").click()
            page.locator(".modal-ux button.btn-done").click()
            operation.locator(".opblock-summary").click()
            operation.locator("button.try-out__btn").click()
            operation.locator("input[placeholder='exercice']").fill("2024")
            operation.locator("input[placeholder='formulaire']").fill("ER_SOCIAUX")
            operation.locator("button.execute").click()
            status = operation.locator(".live-responses-table .response .response-col_status")
            expect(status.first).to_have_text("200")
            expect(operation.locator(".live-responses-table")).to_contain_text(
                declarant.membership.organism.siren
            )
        finally:
            browser.close()
    assert hosts == {f"dhup.localhost:{port}"}, hosts  # no CDN, nothing from outside
    assert errors == []
    assert dossier.pk
