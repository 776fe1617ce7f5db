"""Carry-over seen in a real Chromium on the ER Sociaux fixture: an organism opens its 2024
dossier; its identification comes from the registry (the exercise reads 2024, not 1900), last
year's transmitted figures fill the N-1 column, marked until edited; a value far from last
year's is flagged beside its cell. Served on the test's connection (tests/browser/live.py)."""

from __future__ import annotations

import datetime
import re

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from fixtures.form_workbooks import form_workbook_build
from forms_cms.services.runtime import compiled_form, dossier_evaluate
from tests.browser.live import ARGS, CHROMIUM, serve_on_test_connection, shot, sign_in
from tests.forms_cms.test_versions import upload
from workflow.models import Campaign, Dossier, DossierExport, StepChange


def marks(classes: str) -> re.Pattern:
    """A cell's classes: ``classes``, then only the workbook's look (fill, alignment)."""
    return re.compile(rf"^{classes}(?: (?:bg-[0-9a-f]{{6}}|a-[a-z]+))*$")


pytestmark = [pytest.mark.browser, pytest.mark.django_db]
NARROW_NBSP = "\u202f"


@pytest.fixture
def er_with_last_year(demo_user, tmp_path):
    """The ER Sociaux fixture for 2024, and the organism's 2023 dossier as transmitted
    (its snapshot written directly: the fixture's required fields are not the point here)."""
    gestionnaire = demo_user("dhup", "gestionnaire")
    declarant = demo_user("dhup", "organisme")
    path = form_workbook_build("er_sociaux", tmp_path / "er_sociaux.xlsx")
    version = upload("dhup", path.read_bytes(), user=gestionnaire, name="ER 2024.xlsx")
    with schema_context("dhup"):
        campaign = Campaign.objects.create(
            exercise=2023,
            opening_date=datetime.date(2024, 1, 1),
            deadline=datetime.date(2024, 6, 30),
            opened_by=gestionnaire,
        )
        values = {"TC_BP_DA_N": 120_000.0, "TC_BP_DB_N": 45_000.0}
        old = Dossier.objects.create(
            organism=declarant.membership.organism,
            campaign=campaign,
            document_type=version.document_type,
            form_version=version,
            values=values,
            computed=dossier_evaluate(compiled_form(version), values),
            step="4",
        )
        change = StepChange.objects.create(
            dossier=old, transition="transmit", from_step="3", to_step="4", changed_by=declarant
        )
        DossierExport.objects.create(
            dossier=old,
            kind=DossierExport.Kind.XML,
            status=DossierExport.Status.DONE,
            step_change=change,
            frozen_values=old.values,
            frozen_computed=old.computed,
        )
    return version


def test_an_organism_sees_carried_over_values(er_with_last_year):
    with serve_on_test_connection() as (port, _app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = sign_in(browser, base, "organisme", viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/declarations/")
            page.click("text=Commencer")
            # the Identification sheet, from the registry
            siren = page.locator('td[id="TC_ID_SIREN"]')
            expect(siren).to_have_class(marks("i text co"))
            expect(siren.locator("input")).to_have_attribute("aria-describedby", "co-registry")
            expect(page.locator("#co-registry")).to_contain_text("repris du répertoire")
            expect(page.locator('td[id="ER_ID_EXERCICE"]')).to_have_text("2024")
            expect(page.locator('td[id="ER_ID_DUREE_MOIS"]')).to_have_text("12")
            shot(page, "carry-over-identification")
            # the N-1 column of the balance sheet, from last year's transmission
            page.click("nav.tabs >> text=Bilan passif")
            carried = page.locator('td[id="TC_BP_DA_N1"]')
            expect(carried).to_have_class(marks("i amount co"))
            expect(carried.locator("input")).to_have_value(f"120{NARROW_NBSP}000,00")
            expect(page.locator("#co-previous")).to_contain_text("repris de l'exercice 2023")
            # a value far from last year's: flagged beside its cell
            current = page.locator('input[data-n="TC_BP_DA_N"]')
            current.fill("300 000")
            current.press("Enter")
            expect(page.get_by_test_id("status")).to_contain_text("Enregistré")
            # edited: no longer marked as carried over
            carried.locator("input").fill("121 000")
            carried.locator("input").press("Enter")
            expect(page.get_by_test_id("status")).to_contain_text("Enregistré")
            expect(carried).not_to_have_class(re.compile(r"(^| )co( |$)"))
            page.reload()
            flagged = page.locator('td[id="TC_BP_DA_N"]')
            expect(flagged).to_have_class(marks("i amount var"))
            expect(flagged.locator("#var-TC_BP_DA_N")).to_have_text(
                f"Écart avec 2023 : 300{NARROW_NBSP}000,00 contre 120{NARROW_NBSP}000,00 en 2023 "
                "(+150 %)."
            )
            expect(page.locator('td[id="TC_BP_DB_N1"]')).to_have_class(marks("i amount co"))
            flagged.scroll_into_view_if_needed()
            shot(page, "carry-over-bilan-passif")
            page.click("text=Lancer la vérification")
            expect(page.get_by_test_id("variances")).to_contain_text("TC_BP_DA_N")
            shot(page, "carry-over-verification")
        finally:
            browser.close()
