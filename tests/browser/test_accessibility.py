"""Accessibility in a real Chromium (RGAA through axe-core, run from the project's own copy of
axe by axe-playwright-python: no outside call): every main page of every role has no critical
and no serious violation; a declaration can be made up to « Transmettre » with the keyboard
alone; pages hold in a 390 px wide phone (the grid scrolls inside its own frame); the stepper
and the status badges say the step the database holds.

Served on the test's connection (tests/browser/live.py): nothing is committed."""

from __future__ import annotations

import json
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from declarations.services import dossier_open, dossier_values_save
from fixtures.form_workbooks import form_workbook_build
from forms_cms.models import DocumentType
from organisms.demo import DEMO_PASSWORD
from organisms.models import Partner
from tests.browser.live import ARGS, CHROMIUM, beside, serve_on_test_connection, shot, sign_in
from tests.forms_cms.engine.helpers import workbook_bytes
from tests.forms_cms.test_versions import NAMES, SHEETS, upload
from tests.helpers import transmit
from workflow.models import Campaign, Dossier

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

BLOCKING = ("critical", "serious")
# the six fields the MOI workbook requires (its data validations refuse blanks)
# the required fields left to type (MOI_ID_RAISON_SOCIALE, MOI_ID_SIREN and
# MOI_ID_DATE_CLOTURE come from the registry when the dossier opens)
REQUIRED = {
    "MOI_ID_AGREMENT": "Oui",
    "MOI_ID_NB_LOGEMENTS": "38",
    "MOI_ACT_NB_MES": "6",
}


@pytest.fixture
def declared(demo_user, tmp_path):
    """On the ministry platform: the real-looking MOI workbook as the ER form (two sheets,
    merged titles, a list, dates, required cells), the organism's ER dossier being entered,
    and its ER_SAC dossier (the small test workbook, filed voluntarily) transmitted, for the
    other roles' pages."""
    gestionnaire = demo_user("dhup", "gestionnaire")
    declarant = demo_user("dhup", "organisme")
    moi = form_workbook_build("er_moi", tmp_path / "moi.xlsx").read_bytes()
    upload("dhup", moi, user=gestionnaire)
    upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire, document="ER_SAC")
    with schema_context("dhup"):
        campaign = Campaign.objects.get(exercise=2024)
        organism = declarant.membership.organism
        entering = dossier_open(
            organism=organism,
            campaign=campaign,
            document_type=DocumentType.objects.get(code="ER_SOCIAUX"),
            acting_user=declarant,
        )
        dossier_values_save(
            dossier=entering, entries={"MOI_ACT_LOYERS": "184 500"}, acting_user=declarant
        )
        # the coopérative files the SAC form too, voluntarily (a « facultatif » line)
        DocumentType.objects.filter(code="ER_SAC").update(voluntary=True)
        sent = dossier_open(
            organism=organism,
            campaign=campaign,
            document_type=DocumentType.objects.get(code="ER_SAC"),
            acting_user=declarant,
        )
        dossier_values_save(
            dossier=sent,
            entries={"ACT_IMMO": "1000", "PAS_CAPITAL": "500"},
            acting_user=declarant,
        )
    transmit(sent, declarant)
    return {"campaign": campaign.pk, "entering": entering.pk, "sent": sent.pk}


def violations(page) -> list[str]:
    """The critical and serious axe violations of the page, one line each."""
    found = []
    for violation in Axe().run(page).response["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


def audit(page, base: str, paths: list, role: str) -> dict[str, list[str]]:
    """The violations of each page; a path may come with the status it must answer (a refusal
    page is a page too)."""
    report = {}
    for path in paths:
        path, status = path if isinstance(path, tuple) else (path, 200)
        response = page.goto(base + path)
        assert response is not None and response.status == status, (role, path, response)
        page.wait_for_load_state("load")
        found = violations(page)
        if found:
            report[f"{role} {path}"] = found
        shot(page, f"a11y-{role}-{re.sub(r'[^a-z0-9]+', '-', path).strip('-') or 'accueil'}")
    return report


def test_no_critical_or_serious_violation_on_the_main_pages(declared):
    entering, sent, campaign = declared["entering"], declared["sent"], declared["campaign"]
    dossier = f"/declarations/dossiers/{entering}"
    with schema_context("dhup"):
        dreal = Partner.objects.get(kind="DREAL").pk
        entering_dossier = Dossier.objects.get(pk=entering)
        deadline = (
            f"/declarations/echeances/{campaign}/{entering_dossier.document_type_id}/"
            f"{entering_dossier.organism_id}/"
        )
    with serve_on_test_connection() as (port, _app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            report = {}
            anonymous = browser.new_page(locale="fr-FR")
            report |= audit(
                anonymous,
                base,
                ["/comptes/connexion/", "/accessibilite/", ("/nulle-part/", 404)],
                "visiteur",
            )

            organisme = sign_in(browser, base, "organisme")
            organisme.goto(f"{base}{dossier}/")
            organisme.click("text=Télécharger en PDF")
            expect(organisme.get_by_test_id("pdf-export")).to_be_visible()
            pdf_status = organisme.url.removeprefix(base)
            report |= audit(
                organisme,
                base,
                [
                    "/",
                    "/declarations/",
                    f"{dossier}/",
                    f"{dossier}/feuilles/1/",
                    f"{dossier}/verification/",
                    f"{dossier}/xml/",
                    pdf_status,
                    f"{dossier}/historique/",
                    f"/declarations/dossiers/{sent}/",
                    f"/echanges/dossiers/{sent}/",
                    "/partenaires/choix/",
                    "/abonnements/",
                    deadline,
                ],
                "organisme",
            )
            gestionnaire = sign_in(browser, base, "gestionnaire")
            report |= audit(
                gestionnaire,
                base,
                [
                    "/",
                    "/campagnes/",
                    f"/campagnes/{campaign}/dossiers/",
                    f"/declarations/dossiers/{sent}/",
                    f"/declarations/dossiers/{sent}/modifications/",
                    f"/declarations/dossiers/{sent}/etape/finalise/confirmer/",
                    (f"{dossier}/", 403),  # being entered: the organism's alone
                    "/echanges/",
                    f"/echanges/dossiers/{sent}/",
                    "/organismes/",
                    "/formulaires/",
                    "/formulaires/deposer/",
                    "/partenaires/regles/",
                    "/declarations/tronc-commun/",
                    "/partenaires/gestion/",
                    "/partenaires/gestion/nouveau/",
                    f"/partenaires/gestion/{dreal}/",
                    f"/partenaires/gestion/{dreal}/comptes/nouveau/",
                    "/campagnes/echeances/",
                    f"/campagnes/{campaign}/",
                    deadline,
                ],
                "gestionnaire",
            )
            partenaire = sign_in(browser, base, "partenaire-cdc")
            report |= audit(partenaire, base, ["/", "/partenaires/"], "partenaire")
            editeur = sign_in(browser, base, "editeur")
            report |= audit(
                editeur,
                base,
                ["/", "/formulaires/", "/declarations/verifier/", "/declarations/jetons/"],
                "editeur",
            )

            # a federation platform, in its own colours
            federation = sign_in(browser, f"http://oph.localhost:{port}", "organisme")
            report |= audit(
                federation, f"http://oph.localhost:{port}", ["/", "/declarations/"], "oph"
            )
            # the operator's space on the public host
            operator = sign_in(browser, f"http://localhost:{port}", "hotline", "/operateur/")
            report |= audit(
                operator,
                f"http://localhost:{port}",
                [
                    "/operateur/",
                    "/operateur/hotline/",
                    "/operateur/hotline/nouveau/",
                    "/operateur/anomalies/",
                    "/operateur/evolutions/",
                    "/operateur/formulaires/temps/",
                    "/operateur/formulaires/temps/rapport/",
                    "/operateur/versions/suivi/",
                    "/operateur/maintenances/",
                    "/operateur/reversibilite/",
                ],
                "hotline",
            )
            assert report == {}
        finally:
            browser.close()


def tab_to(page, selector: str, *, limit: int = 300) -> None:
    """Press Tab until the focus is on ``selector`` (fails if it never comes)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_a_declaration_up_to_transmit_with_the_keyboard_alone(declared):
    entering = declared["entering"]
    with serve_on_test_connection() as (port, app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(locale="fr-FR")
            page.set_default_timeout(10_000)
            page.goto(f"{base}/comptes/connexion/")
            tab_to(page, "#id_username")
            page.keyboard.type("organisme")
            page.keyboard.press("Tab")
            page.keyboard.type(DEMO_PASSWORD)
            page.keyboard.press("Enter")
            expect(page).to_have_url(f"{base}/")

            # from the home page to the dossier
            tab_to(page, f'a[href="/declarations/dossiers/{entering}/"]')
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(rf"/declarations/dossiers/{entering}/"))

            # « Valider » is refused: one alert, with a link to the list of what is missing
            tab_to(page, "button[data-action=validate]")
            page.keyboard.press("Enter")
            expect(page.locator("div.messages")).to_contain_text(
                f"{len(REQUIRED)} champs obligatoires vides"
            )
            tab_to(page, "[data-testid=refusal-link]")
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"/verification/#a-completer$"))

            # each line of the summary opens its sheet with the cursor in the cell
            for _ in range(len(REQUIRED)):
                link = page.locator("[data-testid=checklist] a[href*='#']").first
                name = link.get_attribute("href").rsplit("#", 1)[1]
                tab_to(page, f"[data-testid=checklist] a[href$='#{name}']")
                page.keyboard.press("Enter")
                cell = page.locator(f'[data-n="{name}"]')
                expect(cell).to_be_focused()
                if cell.evaluate("e => e.tagName") == "SELECT":
                    cell.press(REQUIRED[name][0])  # a list: type-ahead picks the choice
                    page.keyboard.press("Tab")
                else:
                    page.keyboard.type(REQUIRED[name])
                    page.keyboard.press("Enter")
                expect(page.get_by_test_id("status")).to_contain_text("Enregistré")
                page.goto(f"{base}/declarations/dossiers/{entering}/verification/")
            expect(page.locator("[data-testid=checklist] a[href*='#']")).to_have_count(0)

            page.goto(f"{base}/declarations/dossiers/{entering}/")
            tab_to(page, "button[data-action=validate]")
            page.keyboard.press("Enter")
            expect(page.get_by_test_id("step")).to_have_text("3 — Validé par l'organisme")
            tab_to(page, "button[data-action=transmit]")
            page.keyboard.press("Enter")
            dialog = page.locator("dialog[open]")
            expect(dialog.locator("[data-confirm-no]")).to_be_focused()
            page.keyboard.press("Escape")  # Escape cancels
            expect(dialog).to_have_count(0)
            expect(page.locator("button[data-action=transmit]")).to_be_focused()
            page.keyboard.press("Enter")
            page.keyboard.press("Tab")
            expect(dialog.locator("[data-confirm-yes]")).to_be_focused()
            page.keyboard.press("Enter")
            expect(page.get_by_test_id("step")).to_contain_text("4 — Fiabilisation")
            shot(page, "keyboard-transmitted")

            # the stepper and the list's badge say what the database holds
            step, substep = beside(app, lambda: _step_of(entering))
            stepper = page.get_by_test_id("stepper")
            expect(stepper).to_have_attribute("data-step", step)
            if substep:
                expect(page.get_by_test_id("stepper-substep")).to_contain_text(substep)
            else:
                expect(page.get_by_test_id("stepper-substep")).to_have_count(0)
            page.goto(f"{base}/declarations/")
            badge = page.locator(f"[data-dossier='{entering}'] [data-testid=step-badge]")
            expect(badge).to_have_attribute("data-step", step)
        finally:
            browser.close()


def _step_of(pk: int) -> tuple[str, str]:
    with schema_context("dhup"):
        dossier = Dossier.objects.select_related("substep").get(pk=pk)
        return dossier.step, dossier.substep.label if dossier.substep else ""


# the outermost elements that stick out of the viewport, to say what widens the page
WIDEST = """() => {
  const clipped = e => { for (let p = e.parentElement; p; p = p.parentElement)
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true;
    return false; };
  const out = e => e.getBoundingClientRect().right > 391
    && getComputedStyle(e).position != 'fixed';
  return [...document.querySelectorAll('body *')]
    .filter(e => out(e) && !clipped(e) && !(e.parentElement && out(e.parentElement)))
    .slice(0, 5)
    .map(e => e.outerHTML.slice(0, 120) + ' → ' + Math.round(e.getBoundingClientRect().right));
}"""


def test_pages_hold_in_a_phone_390_px_wide(declared):
    dossier = f"/declarations/dossiers/{declared['entering']}"
    with serve_on_test_connection() as (port, _app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
            too_wide = {}
            for username, paths in (
                ("organisme", ["/", "/declarations/", f"{dossier}/", f"{dossier}/verification/"]),
                (
                    "gestionnaire",
                    ["/", f"/campagnes/{declared['campaign']}/dossiers/", "/organismes/"],
                ),
            ):
                page = sign_in(browser, base, username, **phone)
                for path in paths:
                    page.goto(base + path)
                    width = page.evaluate("document.documentElement.scrollWidth")
                    if width > 390:
                        too_wide[f"{username} {path}"] = (width, page.evaluate(WIDEST))
                    # a table scrolling in its frame is reachable with the keyboard (axe)
                    if found := violations(page):
                        too_wide[f"{username} {path} (axe)"] = found
                    shot(page, f"phone-{username}-{re.sub(r'[^a-z0-9]+', '-', path)}")
            assert too_wide == {}, json.dumps(too_wide, indent=1, ensure_ascii=False)
            # the grid scrolls inside its own frame: wider than the frame, the frame holds
            page = sign_in(browser, base, "organisme", **phone)
            page.goto(f"{base}{dossier}/")
            frame = page.locator(".sheet-wrap", has=page.get_by_test_id("sheet"))
            inner, shown, right = frame.evaluate(
                "e => [e.scrollWidth, e.clientWidth, e.getBoundingClientRect().right]"
            )
            assert inner > shown and right <= 390
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        finally:
            browser.close()
