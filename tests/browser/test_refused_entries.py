"""A refused entry in the online form, in a real Chromium: it stays in its cell as typed,
marked invalid with its French message beside it, is never reported as saved and is not
stored; leaving the page while it is on screen asks first; correcting it saves it and removes
the mark. A conflict with a colleague's change is not reported as saved either. Served on the
test's connection (tests/browser/live.py): nothing is committed."""

from __future__ import annotations

import os
import re
import tempfile
import threading

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from declarations.services import dossier_values_save
from organisms.demo import DEMO_PASSWORD
from tests.browser.live import Serialized, serve_on_test_connection
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from workflow.models import Dossier, ValueChange

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHROMIUM = os.environ.get("HARMONIA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
NARROW_NBSP = "\u202f"
# screenshots to look at after a run (the system temporary folder: /tmp)
SCREENSHOTS = os.environ.get("HARMONIA_SCREENSHOTS") or tempfile.gettempdir()


@pytest.fixture
def dossier(version, declarant):  # noqa: F811
    """The organism's dossier with one stored amount (made before the server starts)."""
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_values_save(dossier=dossier, entries={"ACT_IMMO": "1000"}, acting_user=declarant)
    return dossier


def beside(app: Serialized, work):
    """``work()`` on the test's connection, from a thread of its own and while no request is
    in flight (Django refuses database access in the thread where Playwright runs)."""
    from django.db import connections as handler

    outcome: dict = {}

    def run():
        handler["default"] = app.connection
        with app.lock:
            try:
                outcome["value"] = work()
            except BaseException as exc:  # re-raised in the test's thread
                outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def stored(app: Serialized, pk: int) -> dict:
    def read():
        with schema_context("dhup"):
            return dict(Dossier.objects.get(pk=pk).values)

    return beside(app, read)


def manual_changes(app: Serialized, pk: int, name: str) -> int:
    def count():
        with schema_context("dhup"):
            return ValueChange.objects.filter(dossier_id=pk, field_name=name).count()

    return beside(app, count)


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/comptes/connexion/")
    page.fill("#id_username", "organisme")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.login button[type=submit]")
    expect(page).to_have_url(f"{base}/")


def expect_marked(page, field, message: str) -> None:
    """Marked invalid, with ``message`` visible beside it and tied to it."""
    expect(field).to_have_attribute("aria-invalid", "true")
    described = field.get_attribute("aria-describedby")
    assert described, "the message is not tied to the cell"
    note = page.locator(f"[id='{described}']")
    expect(note).to_be_visible()
    expect(note).to_contain_text(message)
    # beside the cell: on its right, on the same row
    cell, box = field.bounding_box(), note.bounding_box()
    assert 0 <= box["x"] - (cell["x"] + cell["width"]) < 8 and abs(box["y"] - cell["y"]) < 4


def expect_unmarked(page, field) -> None:
    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(field).not_to_have_attribute("aria-describedby", re.compile(".+"))
    expect(field.locator("xpath=..").locator(".cell-message")).to_have_count(0)


def test_a_refused_entry_stays_marked_is_not_saved_and_leaving_asks_first(dossier):
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(locale="fr-FR", viewport={"width": 1100, "height": 700})
            context.set_default_timeout(10_000)
            page = context.new_page()
            dialogs: list[str] = []

            def stay(dialog):
                dialogs.append(dialog.type)
                dialog.dismiss()  # "stay on this page"

            page.on("dialog", stay)
            sign_in(page, base)
            page.goto(f"{base}/declarations/dossiers/{dossier.pk}/")
            status = page.get_by_test_id("status")
            total = page.locator('td[data-n="TOTAL_ACTIF"]')
            immo = page.locator('input[data-n="ACT_IMMO"]')
            stocks = page.locator('input[data-n="TC_ACT_STOCKS"]')
            expect(total).to_have_text(f"1{NARROW_NBSP}000")

            # not an amount at all: refused on the spot, kept as typed, marked, not stored
            stocks.fill("deux")
            stocks.press("Enter")
            expect_marked(page, stocks, "Montant attendu")
            expect(stocks).to_have_value("deux")
            expect(status).to_have_text(re.compile(r"^Non enregistré : Montant attendu"))
            expect(total).to_have_text(f"1{NARROW_NBSP}000")

            # an amount the server refuses (three decimals): its message, same treatment
            immo.fill("12,345")
            immo.press("Enter")
            expect_marked(page, immo, "Deux décimales au plus")
            expect(immo).to_have_value("12,345")
            expect(status).to_have_text(re.compile(r"^Non enregistré : Deux décimales au plus"))
            assert stored(app, dossier.pk) == {"ACT_IMMO": 1000.0}
            assert manual_changes(app, dossier.pk, "TC_ACT_STOCKS") == 0
            page.screenshot(path=f"{SCREENSHOTS}/refused-entries-marked.png", full_page=True)

            # correcting one saves it; the status says so and that the other is still refused
            immo.fill("2 000")
            immo.press("Enter")
            expect_unmarked(page, immo)
            expect(total).to_have_text(f"2{NARROW_NBSP}000")
            expect(status).to_contain_text("Enregistré.")
            expect(status).to_contain_text("Une saisie refusée n'est pas enregistrée")
            expect_marked(page, stocks, "Montant attendu")
            assert stored(app, dossier.pk) == {"ACT_IMMO": 2000.0}

            # following another sheet's tab while "deux" is on screen: the browser asks first
            sheet_url = page.url
            page.locator("nav.tabs a", has_text="Passif").click(no_wait_after=True)
            for _ in range(50):  # the dialog event arrives while Playwright waits
                if dialogs:
                    break
                page.wait_for_timeout(100)
            assert dialogs == ["beforeunload"]
            assert page.url == sheet_url  # stayed: the entry is still there to correct
            expect(stocks).to_have_value("deux")

            # corrected: mark and message gone, saved, and leaving no longer asks
            stocks.fill("250,50")
            stocks.press("Enter")
            expect_unmarked(page, stocks)
            expect(total).to_have_text(f"2{NARROW_NBSP}250,50")
            expect(status).to_have_text(re.compile(r"^Enregistré\. 1 cellule"))
            expect(status).not_to_contain_text("refusée")
            page.screenshot(path=f"{SCREENSHOTS}/refused-entries-corrected.png", full_page=True)
            assert stored(app, dossier.pk) == {"ACT_IMMO": 2000.0, "TC_ACT_STOCKS": 250.5}
            page.locator("nav.tabs a", has_text="Passif").click()
            expect(page.locator('input[data-n="PAS_CAPITAL"]')).to_be_visible()
            assert dialogs == ["beforeunload"]  # no second warning
        finally:
            browser.close()


def test_a_conflict_shows_the_colleagues_value_and_is_not_reported_as_saved(dossier, demo_user):
    colleague = demo_user("dhup", "organisme2")  # bound to the same organism
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(locale="fr-FR")
            context.set_default_timeout(10_000)
            page = context.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
            sign_in(page, base)
            page.goto(f"{base}/declarations/dossiers/{dossier.pk}/")
            immo = page.locator('input[data-n="ACT_IMMO"]')
            expect(immo).to_have_value(f"1{NARROW_NBSP}000")

            def colleague_saves():
                with schema_context("dhup"):
                    dossier_values_save(
                        dossier=dossier, entries={"ACT_IMMO": "3000"}, acting_user=colleague
                    )

            beside(app, colleague_saves)
            immo.fill("5000")
            immo.press("Enter")
            # as before: the colleague's value is shown, with the message saying who and when
            expect(immo).to_have_value(f"3{NARROW_NBSP}000")
            expect_marked(page, immo, "Modifié entre-temps par")
            status = page.get_by_test_id("status")
            expect(status).to_contain_text("Votre saisie n'a pas été enregistrée")
            expect(status).not_to_contain_text("Enregistré")
            assert stored(app, dossier.pk) == {"ACT_IMMO": 3000.0}
            page.screenshot(path=f"{SCREENSHOTS}/refused-entries-conflict.png", full_page=True)
            # nothing typed is left unsaved on screen: leaving does not ask
            page.locator("nav.tabs a", has_text="Passif").click()
            expect(page.locator('input[data-n="PAS_CAPITAL"]')).to_be_visible()
            assert dialogs == []
        finally:
            browser.close()
