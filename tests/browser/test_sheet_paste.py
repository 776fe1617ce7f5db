"""An organisme user pastes a 3×3 block copied from Excel on a sheet, in a real Chromium: the
values land on the input cells, the computed cell inside the block keeps its formula, the
refused value is reported with its cell and the report is read near the grid; one save. Then
the same without JavaScript, through the form under the sheet. Served on the test's
connection (tests/browser/live.py): nothing is committed."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from tests.browser.live import ARGS, CHROMIUM, beside, serve_on_test_connection, shot, sign_in
from tests.declarations.test_sheet_paste import grid_workbook
from tests.forms_cms.test_versions import upload
from workflow.models import Dossier, ValueChange

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

NNBSP = "\u202f"
NBSP = "\u00a0"
# Grille!B2:D4 as Excel copies it (French display), with C3 a formula and « douze » in C4
BLOCK = f"1{NNBSP}234,56\t2 000\t12,5 %\r\n300\t999\t7 %\r\n10,5\tdouze\t0,5 %\r\n"


@pytest.fixture
def version(demo_user):
    return upload("dhup", grid_workbook(), user=demo_user("dhup", "gestionnaire"))


def test_an_organisme_user_pastes_a_block_from_excel(version):
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = sign_in(browser, base, "organisme", viewport={"width": 1280, "height": 900})
            page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page.goto(f"{base}/declarations/")
            page.click("text=Commencer")

            def cell(name: str):
                return page.locator(f'input[data-n="{name}"]')

            def computed(name: str):
                return page.locator(f'td[data-n="{name}"]')

            report = page.get_by_test_id("paste-report")
            expect(report).to_be_empty()
            expect(report).to_have_attribute("aria-live", "polite")
            page.evaluate("text => navigator.clipboard.writeText(text)", BLOCK)
            cell("LOY_N1").click()
            page.keyboard.press("Control+V")

            expect(report).to_contain_text(
                "7 valeurs collées ; 1 cellule ignorée (calculée ou en lecture seule) ; "
                "1 valeur refusée."
            )
            lines = report.locator("li")
            expect(lines).to_have_text(
                [
                    "C3 « Charges — 2024 » : ignorée — cellule calculée : sa formule donne la "
                    "valeur.",
                    "C4 « Autres — 2024 » : « douze » non collée — Montant attendu : des "
                    "chiffres, avec une virgule pour les décimales (ex. 1 234 567,89 ou -250).",
                ]
            )
            expect(cell("LOY_N1")).to_have_value(f"1{NNBSP}234,56")
            expect(cell("LOY_N")).to_have_value(f"2{NNBSP}000,00")
            expect(cell("TAUX_LOY")).to_have_value(f"12,5{NBSP}%")
            expect(cell("CHG_N1")).to_have_value("300,00")
            expect(cell("TAUX_CHG")).to_have_value(f"7,0{NBSP}%")
            expect(cell("AUT_N1")).to_have_value("10,50")
            expect(cell("TAUX_AUT")).to_have_value(f"0,5{NBSP}%")
            # the computed cell kept its formula (C2 / 2), the totals followed
            expect(computed("CHG_MOITIE")).to_have_text(f"1{NNBSP}000,00")
            expect(computed("TOTAL_N1")).to_have_text(f"1{NNBSP}545,06")
            expect(computed("TOTAL_N")).to_have_text(f"3{NNBSP}000,00")
            expect(page.get_by_test_id("step")).to_have_text("2 — En cours de saisie")
            # the refused cell is marked and described by its line of the report
            refused = cell("AUT_N")
            expect(refused).to_have_value("")
            expect(refused).to_have_attribute("aria-invalid", "true")
            line_id = lines.nth(1).get_attribute("id")
            assert line_id in refused.get_attribute("aria-describedby").split()
            expect(cell("LOY_N1")).to_be_focused()  # the cursor stays where the paste was
            shot(page, "sheet-pasted")

            # one save: one revision, one history row per pasted cell
            def stored():
                with schema_context("dhup"):
                    dossier = Dossier.objects.get(form_version_id=version.pk)
                    changes = ValueChange.objects.filter(dossier=dossier).count()
                    return dossier.values, dossier.revision, changes

            values, revision, changes = beside(app, stored)
            assert values == {
                "LOY_N1": 1234.56, "LOY_N": 2000.0, "TAUX_LOY": 0.125,
                "CHG_N1": 300.0, "TAUX_CHG": 0.07, "AUT_N1": 10.5, "TAUX_AUT": 0.005,
            }  # fmt: skip
            assert (revision, changes) == (1, 7)

            # the refused cell corrected by typing: saved, its mark gone
            refused.click()
            page.keyboard.type("20")
            page.keyboard.press("Enter")
            expect(computed("TOTAL_N")).to_have_text(f"3{NNBSP}020,00")
            expect(refused).not_to_have_attribute("aria-invalid", "true")

            # a colleague changes D2 meanwhile: pasted over B2:D2, D2 keeps the colleague's value
            def colleague_types():
                from accounts.models import User
                from declarations.services import dossier_values_save

                with schema_context("dhup"):
                    dossier = Dossier.objects.get(form_version_id=version.pk)
                    colleague = User.objects.get(username="organisme2")
                    dossier_values_save(
                        dossier=dossier, entries={"TAUX_LOY": "33 %"}, acting_user=colleague
                    )

            beside(app, colleague_types)
            page.evaluate("text => navigator.clipboard.writeText(text)", "5\t6\t7 %\r\n")
            cell("LOY_N1").click()
            page.keyboard.press("Control+V")
            expect(report).to_contain_text("2 valeurs collées ; 1 valeur refusée.")
            expect(report.locator("li")).to_contain_text(
                ["D2 « Loyers — Taux » : « 7 % » non collée — Modifié entre-temps par"]
            )
            expect(cell("TAUX_LOY")).to_have_value(f"33,0{NBSP}%")
            expect(cell("LOY_N")).to_have_value("6,00")
            expect(cell("TAUX_LOY")).to_have_attribute("aria-invalid", "true")
            shot(page, "sheet-pasted-conflict")

            # a single value pastes as typed (nothing sent before the cell is left)
            page.evaluate("text => navigator.clipboard.writeText(text)", "42\r\n")
            cell("CHG_N1").click()
            page.keyboard.press("Control+V")
            expect(cell("CHG_N1")).to_have_value("42")

            # a block wider than the sheet, pasted on the last column: what fits is pasted
            page.evaluate("text => navigator.clipboard.writeText(text)", "31/12/2024\t1\t2\t3\r\n")
            cell("DATE_LOY").click()
            page.keyboard.press("Control+V")
            expect(report).to_contain_text(
                "3 colonnes au-delà de la feuille n'ont pas été collées."
            )
            expect(cell("DATE_LOY")).to_have_value("31/12/2024")
            expect(refused).not_to_have_attribute("aria-invalid", "true")
            shot(page, "sheet-pasted-wide")
            page.get_by_role("button", name="Masquer ce compte rendu").click()
            expect(report).to_be_empty()
        finally:
            browser.close()


def test_the_paste_without_javascript(version):
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = sign_in(browser, base, "organisme", java_script_enabled=False)
            page.goto(f"{base}/declarations/")
            page.click("text=Commencer")
            page.get_by_text("Coller un bloc copié d'Excel").click()
            page.get_by_label("Cellule en haut à gauche du bloc").fill("B2")
            page.get_by_label("Cellules copiées dans Excel").fill(BLOCK)
            shot(page, "sheet-paste-form-nojs")
            page.get_by_role("button", name="Coller dans la feuille").click()
            messages = page.locator(".messages")
            expect(messages).to_contain_text(
                "7 valeurs collées ; 1 cellule ignorée (calculée ou en lecture seule) ; "
                "1 valeur refusée."
            )
            expect(messages).to_contain_text("C4 « Autres — 2024 » : « douze » non collée")
            expect(page.locator('input[data-n="LOY_N1"]')).to_have_value(f"1{NNBSP}234,56")
            expect(page.locator('td[data-n="CHG_MOITIE"]')).to_have_text(f"1{NNBSP}000,00")
            shot(page, "sheet-pasted-nojs")
        finally:
            browser.close()
