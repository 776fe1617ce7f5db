"""An organisme user fills a multivalued table in a real Chromium: types three rows (the
calculated column and the total below the table follow), inserts a row above, moves one,
deletes two (the one holding values after a confirmation), pastes two lines copied from
Excel, and meets the table's cap. Served on the test's connection (tests/browser/live.py):
nothing is committed."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from fixtures.parity_corpus.tables import table_workbook
from tests.browser.live import ARGS, CHROMIUM, beside, serve_on_test_connection, shot, sign_in
from tests.forms_cms.test_versions import upload
from workflow.models import Dossier

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

NNBSP = "\u202f"
NBSP = "\u00a0"


@pytest.fixture
def version(demo_user):
    """The form with table « Filiales » (4 rows at most) and totals below it."""
    return upload("dhup", table_workbook([], max_rows=4), user=demo_user("dhup", "gestionnaire"))


def test_an_organisme_user_fills_a_table(version):
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = sign_in(browser, base, "organisme", viewport={"width": 1280, "height": 900})
            page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page.goto(f"{base}/declarations/")
            page.click("text=Commencer")
            status = page.get_by_test_id("status")
            room = page.locator(".tb-room")
            expect(room).to_have_text("0 ligne · encore 4 possibles (4 au plus).")

            def cell(index: int, field: str):
                return page.locator(f'tr[data-tb="Filiales"][data-i="{index}"] [data-f="{field}"]')

            def names():
                return page.locator('input[data-f="FIL_NOM"]').evaluate_all(
                    "els => els.map(e => e.value)"
                )

            total = page.locator('td[data-n="OUT_BELOW_CAPITAL"]')
            total_part = page.locator('td[data-n="OUT_BELOW_PART"]')
            total_head = total.locator("xpath=../th")
            expect(total_head).to_have_text("6")
            shot(page, "table-blank")

            # the blank row: typing moves from cell to cell, the first value adds the row
            cell(0, "FIL_NOM").click()
            page.keyboard.type("Alpha")
            page.keyboard.press("Tab")
            page.keyboard.type("1000")
            page.keyboard.press("Tab")
            page.keyboard.type("50")
            page.keyboard.press("Enter")  # the cell is left: saved
            expect(cell(0, "FIL_PART")).to_have_text("500,00")
            expect(total).to_have_text(f"1{NNBSP}000")
            expect(total_part).to_have_text("500")
            expect(cell(0, "FIL_CAPITAL")).to_have_value(f"1{NNBSP}000,00")
            expect(room).to_have_text("1 ligne · encore 3 possibles (4 au plus).")
            expect(page.get_by_test_id("step")).to_have_text("2 — En cours de saisie")

            # Ctrl+Entrée: a row below, the cursor in its first cell
            cell(0, "FIL_NOM").click()
            page.keyboard.press("Control+Enter")
            expect(cell(1, "FIL_NOM")).to_be_focused()
            page.keyboard.type("Beta")
            page.keyboard.press("Tab")
            page.keyboard.type("2 000,50")
            page.keyboard.press("Tab")
            page.keyboard.type("10")
            # « Ajouter une ligne »: at the end
            page.get_by_role("button", name="+ Ajouter une ligne").click()
            expect(cell(2, "FIL_NOM")).to_be_focused()
            page.keyboard.type("Gamma")
            page.keyboard.press("Tab")
            page.keyboard.type("300")
            page.keyboard.press("Tab")
            expect(total).to_have_text(f"3{NNBSP}300,50")
            expect(cell(1, "FIL_PART")).to_have_text("200,05")
            expect(cell(0, "FIL_RATIO")).to_have_text(f"15,15{NBSP}%")  # 500 / 3 300,50
            expect(total_head).to_have_text("8")  # the rows below the table moved down
            shot(page, "table-three-rows")

            # insert above Beta (its row's « + »), then the table is full
            page.get_by_role("button", name="Insérer une ligne au-dessus de la ligne 2").click()
            expect(cell(1, "FIL_NOM")).to_be_focused()
            assert names() == ["Alpha", "", "Beta", "Gamma"]
            expect(room).to_have_text("Tableau complet : 4 lignes au plus.")
            expect(total_head).to_have_text("9")

            # Alt+↓ moves Alpha below the empty row; the calculated column follows its row
            cell(0, "FIL_CAPITAL").click()
            page.keyboard.press("Alt+ArrowDown")
            expect(cell(1, "FIL_CAPITAL")).to_be_focused()
            assert names() == ["", "Alpha", "Beta", "Gamma"]
            expect(cell(1, "FIL_PART")).to_have_text("500,00")
            expect(cell(0, "FIL_PART")).to_have_text("0,00")

            # Ctrl+Suppr on the empty row: gone at once
            cell(0, "FIL_NOM").click()
            page.keyboard.press("Control+Delete")
            expect(room).to_have_text("3 lignes · encore 1 possible (4 au plus).")
            assert names() == ["Alpha", "Beta", "Gamma"]

            # a row holding values: deleted once confirmed (refused first, then accepted)
            answers = iter([False, True])
            questions = []

            def answer(dialog):
                questions.append(dialog.message)
                if next(answers):
                    dialog.accept()
                else:
                    dialog.dismiss()

            page.on("dialog", answer)
            page.get_by_role("button", name="Supprimer la ligne 3").click()
            expect(status).to_contain_text("Suppression annulée")
            assert names() == ["Alpha", "Beta", "Gamma"]
            page.get_by_role("button", name="Supprimer la ligne 3").click()
            expect(room).to_have_text("2 lignes · encore 2 possibles (4 au plus).")
            assert questions[0] == (
                "Supprimer la ligne 3 du tableau « Filiales » (Nom : Gamma ; Capital : 300,00) ?"
            )
            expect(total).to_have_text(f"3{NNBSP}000,50")

            # two lines of the organism's own list (Nom, Capital, Pourcentage, Catégorie) copied
            # from Excel, pasted on Beta's name: Beta replaced, a row added
            page.evaluate(
                "text => navigator.clipboard.writeText(text)",
                "Delta\t4 000\t25 %\tSA\r\nEpsilon\t1234.5\t\tSCI\r\n",
            )
            cell(1, "FIL_NOM").click()
            page.keyboard.press("Control+V")
            expect(room).to_have_text("3 lignes · encore 1 possible (4 au plus).")
            expect(status).to_contain_text("2 lignes collées.")
            assert names() == ["Alpha", "Delta", "Epsilon"]
            expect(cell(2, "FIL_CATEGORIE")).to_have_value("SCI")
            expect(cell(2, "FIL_POURCENTAGE")).to_have_value("")
            expect(cell(1, "FIL_PART")).to_have_text(f"1{NNBSP}000,00")
            expect(total).to_have_text(f"6{NNBSP}234,50")
            shot(page, "table-pasted")

            # a refused paste names the row and the column; nothing changes
            page.evaluate("text => navigator.clipboard.writeText(text)", "Zeta\tdouze\n")
            cell(0, "FIL_NOM").click()
            page.keyboard.press("Control+V")
            expect(status).to_contain_text("Ligne 1, colonne « Capital » : Montant attendu")
            assert names() == ["Alpha", "Delta", "Epsilon"]

            # the cap: one more row, then « Ajouter une ligne » is refused with the reason
            add = page.get_by_role("button", name="+ Ajouter une ligne")
            add.click()
            expect(room).to_have_text("Tableau complet : 4 lignes au plus.")
            expect(add).to_have_attribute("aria-disabled", "true")  # said, still reachable
            add.focus()
            page.keyboard.press("Enter")
            expect(status).to_have_text(
                "Le tableau « Filiales » compte au plus 4 lignes : supprimez des lignes avant "
                "d'en ajouter (ou regroupez-les)."
            )
            shot(page, "table-full")

            # what the page shows is what is stored
            def stored():
                with schema_context("dhup"):
                    return Dossier.objects.get(form_version_id=version.pk).values["Filiales"]

            rows = beside(app, stored)
            assert [r.get("FIL_NOM") for r in rows] == ["Alpha", "Delta", "Epsilon", None]
            assert rows[2] == {"FIL_NOM": "Epsilon", "FIL_CAPITAL": 1234.5, "FIL_CATEGORIE": "SCI"}
            page.reload()
            assert names() == ["Alpha", "Delta", "Epsilon", ""]
            expect(total).to_have_text(f"6{NNBSP}234,50")
        finally:
            browser.close()


def test_the_table_works_without_javascript(version):
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = sign_in(browser, base, "organisme", java_script_enabled=False)
            page.goto(f"{base}/declarations/")
            page.click("text=Commencer")
            room = page.locator(".tb-room")

            def cell(index: int, field: str):
                return page.locator(f'tr[data-tb="Filiales"][data-i="{index}"] [data-f="{field}"]')

            # typed in the blank row, Enter submits the table's form: its save button
            cell(0, "FIL_NOM").fill("Alpha")
            cell(0, "FIL_CAPITAL").fill("1 000")
            cell(0, "FIL_CAPITAL").press("Enter")
            expect(page.locator(".fr-alert--success")).to_have_text(
                "Saisies du tableau enregistrées."
            )
            expect(cell(0, "FIL_PART")).to_have_text("0,00")
            expect(page.locator('td[data-n="OUT_BELOW_CAPITAL"]')).to_have_text(f"1{NNBSP}000")
            # a row added while a cell was changed: both kept
            cell(0, "FIL_POURCENTAGE").fill("10")
            page.get_by_role("button", name="+ Ajouter une ligne").click()
            expect(room).to_have_text("2 lignes · encore 2 possibles (4 au plus).")
            expect(cell(0, "FIL_PART")).to_have_text("100,00")
            page.get_by_role("button", name="Monter la ligne 2").click()
            expect(cell(1, "FIL_NOM")).to_have_value("Alpha")
            # a row holding values: a page asks first
            page.get_by_role("button", name="Supprimer la ligne 2").click()
            expect(page.get_by_test_id("confirm-page")).to_contain_text("Nom : Alpha")
            shot(page, "table-nojs-confirm")
            page.get_by_test_id("confirm-yes").click()
            expect(room).to_have_text("1 ligne · encore 3 possibles (4 au plus).")
            expect(page.locator('td[data-n="OUT_BELOW_CAPITAL"]')).to_have_text("0")
            shot(page, "table-nojs")
        finally:
            browser.close()
