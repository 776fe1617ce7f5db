"""The Content-Security-Policy in a real Chromium: the ER sheet and the other main pages load
without a single violation (no blocked inline script, style or style attribute), and work:
the grid keeps its fills and widths, which now come from the sheet's stylesheet. Served on the
test's connection (tests/browser/live.py): nothing is committed."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from fixtures.form_workbooks import form_workbook_build
from tests.browser.live import ARGS, CHROMIUM, serve_on_test_connection, shot, sign_in
from tests.declarations.test_online_form import open_dossier
from tests.forms_cms.test_versions import upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

# each security policy violation, recorded by the page itself (Playwright's init scripts are
# not subject to the policy)
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def er_dossier(demo_user, tmp_path):
    gestionnaire = demo_user("dhup", "gestionnaire")
    declarant = demo_user("dhup", "organisme")
    er = form_workbook_build("er_sociaux", tmp_path / "er.xlsx").read_bytes()
    upload("dhup", er, user=gestionnaire)
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        sheets = list(dossier.form_version.sheets.all())
    largest = max(sheets, key=lambda s: len(s.layout["cells"]))
    return dossier, largest.position


def visit(page, base: str, path: str, problems: list[str]) -> None:
    response = page.goto(f"{base}{path}")
    assert response is not None and response.status == 200, (path, response)
    page.wait_for_load_state("load")
    found = page.evaluate("window.__csp")
    problems.extend(f"{path}: {violation}" for violation in found)


def test_the_main_pages_load_without_a_policy_violation(er_dossier):
    dossier, largest = er_dossier
    problems: list[str] = []
    console: list[str] = []
    with serve_on_test_connection() as (port, _app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            visitor = browser.new_context(locale="fr-FR")
            visitor.add_init_script(LISTEN)
            page = visitor.new_page()
            page.on("console", lambda m: console.append(m.text))
            visit(page, base, "/comptes/connexion/", problems)

            organisme = sign_in(browser, base, "organisme")
            organisme.context.add_init_script(LISTEN)
            organisme.on("console", lambda m: console.append(m.text))
            sheet = f"/declarations/dossiers/{dossier.pk}/feuilles"
            for path in [
                f"{sheet}/0/",
                f"{sheet}/1/",
                f"{sheet}/{largest}/",
                f"/declarations/dossiers/{dossier.pk}/verification/",
                f"/echanges/dossiers/{dossier.pk}/",
                "/api/v1/docs",
            ]:
                visit(organisme, base, path, problems)
            # the grid still looks like the workbook: its widths and fills apply
            visit(organisme, base, f"{sheet}/1/", problems)
            grid = organisme.get_by_test_id("sheet")
            expect(grid).to_be_visible()
            drawn = float(grid.evaluate("t => getComputedStyle(t).width").removesuffix("px"))
            wanted = float(grid.evaluate("t => t.className.match(/tw-(\\d+)/)[1]"))
            assert abs(drawn - wanted) < 3  # the collapsed borders add a pixel or so
            filled = organisme.locator("table.sheet td[class*='bg-']").first
            colour = filled.evaluate("td => getComputedStyle(td).backgroundColor")
            assert colour not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
            shot(organisme, "csp-sheet")

            gestionnaire = sign_in(browser, base, "gestionnaire")
            gestionnaire.context.add_init_script(LISTEN)
            gestionnaire.on("console", lambda m: console.append(m.text))
            for path in ["/", "/organismes/", "/formulaires/", "/cms/"]:
                visit(gestionnaire, base, path, problems)
        finally:
            browser.close()
    assert problems == []
    assert not [m for m in console if "Content Security Policy" in m], console
