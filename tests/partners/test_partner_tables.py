"""A partner reads the lists (« champs dynamiques ») transmitted to it as tables: each row's
declared and calculated columns, labelled and formatted the French way; a dossier without rows
says so."""

from __future__ import annotations

import pytest
from django.utils.html import escape
from django_tenants.utils import schema_context

from declarations.services import dossier_table_save
from fixtures.parity_corpus.tables import table_workbook
from partners.models import Transmission
from tests.declarations.test_online_form import open_dossier

from ..forms_cms.test_versions import upload
from .conftest import transmit

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(demo_user):
    return upload("dhup", table_workbook([], max_rows=4), user=demo_user("dhup", "gestionnaire"))


@pytest.fixture
def declarant(demo_user):
    return demo_user("dhup", "organisme")


def detail_page(dossier, client_for, demo_user) -> str:
    with schema_context("dhup"):
        transmission = Transmission.objects.get(dossier=dossier, partner__kind="CDC")
    client = client_for("dhup", demo_user("dhup", "partenaire-cdc"))
    response = client.get(f"/partenaires/{transmission.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_partner_reads_the_rows_with_their_calculated_columns(
    version, declarant, client_for, demo_user
):
    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        for index, entries in enumerate(
            [
                {"FIL_NOM": "Alpha SA", "FIL_CAPITAL": "1 000", "FIL_POURCENTAGE": "50 %"},
                {"FIL_NOM": "Béta & fils", "FIL_CAPITAL": "3 000,50"},
            ]
        ):
            dossier_table_save(
                dossier=dossier, table="Filiales", action="insert", index=index,
                seen_count=index, entries=entries, acting_user=declarant,
            )  # fmt: skip
    transmit(dossier, declarant)
    page = detail_page(dossier, client_for, demo_user)
    assert "Liste « Filiales »" in page and "(2 lignes)" in page
    for label in ("Nom", "Capital", "Pourcentage", "Part"):
        assert f">{label}" in page
    assert "Alpha SA" in page and escape("Béta & fils") in page
    assert "1\u202f000" in page or "1\xa0000" in page or "1 000" in page
    assert "500" in page  # the calculated share: 1 000 × 50 %
    assert "[{" not in page and "FIL_NOM&#x27;" not in page  # no raw stored rows


def test_a_list_without_rows_says_so(version, declarant, client_for, demo_user):
    dossier = open_dossier(declarant)
    transmit(dossier, declarant)
    page = detail_page(dossier, client_for, demo_user)
    assert "Liste « Filiales »" in page and "Aucune ligne déclarée." in page


@pytest.mark.browser
def test_a_partner_reads_the_list_in_a_browser(version, declarant, client_for, demo_user):
    """The transmitted list as a CDC user sees it in Chromium: a table with its header, the
    French amounts right-aligned, the calculated column marked."""
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.live import ARGS, CHROMIUM, serve_on_test_connection, shot, sign_in

    dossier = open_dossier(declarant)
    with schema_context("dhup"):
        dossier_table_save(
            dossier=dossier, table="Filiales", action="insert", index=0, seen_count=0,
            entries={"FIL_NOM": "Alpha SA", "FIL_CAPITAL": "12 500", "FIL_POURCENTAGE": "40 %"},
            acting_user=declarant,
        )  # fmt: skip
    transmit(dossier, declarant)
    with schema_context("dhup"):
        pk = Transmission.objects.get(dossier=dossier, partner__kind="CDC").pk
    with serve_on_test_connection() as (port, _app), sync_playwright() as playwright:
        base = f"http://dhup.localhost:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = sign_in(browser, base, "partenaire-cdc")
            page.goto(f"{base}/partenaires/{pk}/")
            table = page.locator("table", has=page.locator("caption", has_text="Filiales"))
            expect(table.locator("thead th").first).to_have_text("Nom")
            expect(table.locator("thead")).to_contain_text("Part (calculé)")
            row = table.locator("tbody tr").first
            expect(row.locator("td").first).to_have_text("Alpha SA")
            capital = row.locator("td.num").first
            expect(capital).to_have_text("12\u202f500,00")
            assert capital.evaluate("e => getComputedStyle(e).textAlign") == "right"
            shot(page, "partner-list")
        finally:
            browser.close()
