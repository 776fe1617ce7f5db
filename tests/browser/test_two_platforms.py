"""Two platforms in a real Chromium: each host shows its own name and its own organisms, and
« Rapatrier » crosses from one to the other only with the organism's consent.

The app is served from a thread on 127.0.0.1 and Chromium reaches it as
``http://<code>.localhost:<port>`` (Chromium resolves every ``*.localhost`` to loopback).

Every request runs on the test's own database connection, inside the transaction that
pytest-django's ``db`` rolls back at the end: the sessions, ``last_login`` and django-axes
access logs that signing in writes never reach the shared, committed test database.
(pytest-django's ``live_server`` would force ``transactional_db``, whose flush empties the
public schema's platform table and breaks every later test.) Requests are therefore
handled one at a time, and the test body itself makes no database query while Chromium
runs: Playwright's sync API keeps an event loop running in the test's thread, where
Django refuses database access.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db.models import Q
from django_tenants.utils import schema_context
from harmonia.french import counted
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from declarations.services import dossier_open, dossier_values_save
from forms_cms.models import DocumentType
from forms_cms.services.runtime import compiled_form, dossier_evaluate
from organisms.demo import DEMO_PASSWORD
from organisms.models import Organism
from tenants.platforms import platform_spec
from tests.browser.live import serve_on_test_connection
from tests.declarations.test_sync import ER, QDIS
from tests.forms_cms.engine.helpers import workbook_bytes
from tests.forms_cms.test_versions import upload
from workflow.models import Campaign, Dossier

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHROMIUM = os.environ.get("HARMONIA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
PLATFORMS = ("oph", "esh")  # each one's "other" platform is the other of the pair


# --- What each platform should show, read from the database before Chromium starts ----------


@dataclass(frozen=True)
class Shown:
    name: str  # the platform's name, in the header
    count: int  # organisms in its registry
    first: Organism  # first organism of its list, by name
    own: Organism  # an organism of this platform that the other platform does not have
    foreign: Organism  # an organism of the other platform that this one does not have


def _matches(query: str):
    """The organism list's own search filter (organisms.views.organism_list)."""
    return Organism.objects.filter(Q(name__icontains=query) | Q(siren__startswith=query))


@pytest.fixture
def shown() -> dict[str, Shown]:
    registries = {}
    for code in PLATFORMS:
        with schema_context(code):
            registries[code] = {o.siren: o for o in Organism.objects.order_by("name")}
    result = {}
    for code in PLATFORMS:
        (other,) = (c for c in PLATFORMS if c != code)
        mine, theirs = registries[code], registries[other]
        own = next((o for s, o in mine.items() if s not in theirs), None)
        foreign = next((o for s, o in theirs.items() if s not in mine), None)
        assert own is not None, f"every organism of {code} is also on {other}"
        assert foreign is not None, f"every organism of {other} is also on {code}"
        names = {o.name for o in mine.values()}
        assert foreign.name not in names
        with schema_context(code):
            # Searching for the foreign organism must find nothing here, by SIREN or name.
            assert not _matches(foreign.siren).exists()
            assert not _matches(foreign.name).exists()
            assert list(_matches(own.siren)) == [own]
        result[code] = Shown(
            name=platform_spec(code).name.removeprefix("Harmonia — "),  # the tagline
            count=len(mine),
            first=next(iter(mine.values())),
            own=own,
            foreign=foreign,
        )
    return result


# --- The app, served from a thread on the test's connection (tests/browser/live.py) ---------


@pytest.fixture
def live_port(shown) -> Iterator[int]:
    """Port of the app on 127.0.0.1 (after ``shown``: no query runs once it is up)."""
    with serve_on_test_connection() as (port, _app):
        yield port


@pytest.fixture
def browser(live_port) -> Iterator[Browser]:
    """Chromium, closed before the server stops and before the transaction rolls back."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/favicon.ico", lambda route: route.abort())
    return context


def origin(code: str, port: int) -> str:
    return f"http://{code}.localhost:{port}"


def sign_in(page: Page, code: str, port: int, username: str = "gestionnaire") -> None:
    page.goto(f"{origin(code, port)}/comptes/connexion/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.login button[type=submit]")
    expect(page).to_have_url(f"{origin(code, port)}/")  # the home page: signed in


def screenshot_path(code: str, tmp_path: Path) -> Path:
    """``HARMONIA_SCREENSHOT_DIR`` keeps the pictures; by default they go to tmp_path."""
    directory = Path(os.environ.get("HARMONIA_SCREENSHOT_DIR") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"browser-{code}.png"


def search(page: Page, query: str) -> None:
    """Filter the organism list, and wait for the page that answers this very query."""
    page.fill("#id_q", query)
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("q") == [query])


# --- Tests -------------------------------------------------------------------------------------


def test_each_platform_shows_its_own_name_and_organisms(browser, live_port, shown, tmp_path):
    expect.set_options(timeout=TIMEOUT_MS)
    context = new_context(browser)
    try:
        for code in PLATFORMS:
            expected = shown[code]
            page = context.new_page()
            sign_in(page, code, live_port)
            expect(page.get_by_test_id("platform-name")).to_have_text(expected.name)
            expect(page.locator(".fr-header__tools .user-identity")).to_contain_text("Gestionnaire")

            page.goto(f"{origin(code, live_port)}/organismes/")
            expect(page.get_by_test_id("platform-name")).to_have_text(expected.name)
            expect(page.get_by_text(re.compile(r"organismes?$"))).to_have_text(
                counted(expected.count, "organisme", "organismes")
            )
            table = page.get_by_test_id("organism-table")
            expect(table.locator("tbody tr").first).to_contain_text(expected.first.siren)
            expect(table.locator("tbody tr").first).to_contain_text(expected.first.name)
            page.screenshot(path=screenshot_path(code, tmp_path), full_page=False)

            search(page, expected.own.siren)
            expect(table.locator("tbody tr")).to_have_count(1)
            expect(table.locator("tbody tr")).to_contain_text(expected.own.name)

            search(page, expected.foreign.siren)
            expect(table.locator("tbody tr")).to_have_text("Aucun organisme.")
            expect(page.locator("main")).not_to_contain_text(expected.foreign.name)

            search(page, expected.foreign.name)
            expect(table.locator("tbody tr")).to_have_text("Aucun organisme.")
            page.close()
    finally:
        context.close()


def test_signing_in_on_one_host_does_not_sign_in_on_the_other(browser, live_port, shown):
    expect.set_options(timeout=TIMEOUT_MS)
    context = new_context(browser)
    try:
        page = context.new_page()
        sign_in(page, "oph", live_port)
        expect(page.get_by_test_id("platform-name")).to_have_text(shown["oph"].name)

        esh_login = re.compile(re.escape(f"{origin('esh', live_port)}/comptes/connexion/?next=/"))
        page.goto(f"{origin('esh', live_port)}/")
        expect(page).to_have_url(esh_login)
        expect(page.get_by_test_id("platform-name")).to_have_text(shown["esh"].name)
        expect(page.locator("#id_username")).to_be_visible()

        # Even oph's session cookie, handed to the esh host, opens nothing there: sessions
        # live in each platform's own schema.
        (session,) = (c for c in context.cookies() if c["name"] == "sessionid")
        assert session["domain"] == "oph.localhost"
        context.add_cookies(
            [{"name": "sessionid", "value": session["value"], "url": origin("esh", live_port)}]
        )
        page.goto(f"{origin('esh', live_port)}/organismes/")
        expect(page).to_have_url(
            re.compile(re.escape(f"{origin('esh', live_port)}/comptes/connexion/?next="))
        )

        # ...while oph still knows its session.
        page.goto(f"{origin('oph', live_port)}/organismes/")
        expect(page).to_have_url(f"{origin('oph', live_port)}/organismes/")
        expect(page.get_by_test_id("platform-name")).to_have_text(shown["oph"].name)
    finally:
        context.close()


# --- « Rapatrier » across the two platforms, with the organism's consent ----------------------


@dataclass(frozen=True)
class Bridge:
    er: int  # the ER dossier on dhup (the source)
    qdis: int  # the QDIS dossier on oph (the pulling side)
    puller_email: str  # the oph organisme account


@pytest.fixture
def bridge(demo_user) -> Bridge:
    """The oph organisme user's organism with its ER on dhup (capital and stocks entered, no
    closing date) and its QDIS on oph (capital and closing date typed); dhup's organisme2
    belongs to it. Made before the server starts: no query runs while Chromium does."""
    upload("dhup", workbook_bytes(*ER), user=demo_user("dhup", "gestionnaire"))
    upload("oph", workbook_bytes(*QDIS), user=demo_user("oph", "gestionnaire"), document="QDIS_OPH")
    puller = demo_user("oph", "organisme")
    owner = demo_user("dhup", "organisme2")
    with schema_context("dhup"):
        organism = Organism.objects.get(siren=puller.membership.organism.siren)
        owner.membership.organism = organism
        owner.membership.save()
        version = DocumentType.objects.get(code="ER_SOCIAUX").versions.get()
        values = {"TC_CAPITAL": 1000.0, "TC_STOCKS": 50.0, "ER_SEUL": 7.0}
        er = Dossier.objects.create(
            organism=organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=version.document_type,
            form_version=version,
            values=values,
            computed=dossier_evaluate(compiled_form(version), values),
        )
    with schema_context("oph"):
        qdis = dossier_open(
            organism=puller.membership.organism,
            campaign=Campaign.objects.get(exercise=2024),
            document_type=DocumentType.objects.get(code="QDIS_OPH"),
            acting_user=puller,
        )
        dossier_values_save(
            dossier=qdis,
            entries={"TC_CAPITAL": "900", "TC_CLOTURE": "31/12/2024"},
            acting_user=puller,
        )
    return Bridge(er=er.pk, qdis=qdis.pk, puller_email=puller.email)


def test_the_organism_consents_on_the_ministry_then_pulls_on_its_federation(bridge, tmp_path):
    expect.set_options(timeout=TIMEOUT_MS)
    with serve_on_test_connection() as (port, _app), sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            oph, dhup = new_context(chromium).new_page(), new_context(chromium).new_page()
            sync_url = f"{origin('oph', port)}/declarations/dossiers/{bridge.qdis}/rapatrier/"

            # Without the organism's consent on dhup, oph reads nothing and says what to do.
            sign_in(oph, "oph", port, "organisme")
            oph.goto(sync_url)
            refusal = oph.get_by_test_id("sync-nothing")
            expect(refusal).to_contain_text("n'est pas autorisé")
            expect(refusal).to_contain_text("Autoriser la fédération à rapatrier mon tronc commun")
            expect(refusal).to_contain_text(bridge.puller_email)
            expect(oph.get_by_test_id("sync-preview")).to_have_count(0)

            # On dhup, the organism opens its ER and names its oph account.
            sign_in(dhup, "dhup", port, "organisme2")
            dhup.goto(f"{origin('dhup', port)}/declarations/dossiers/{bridge.er}/")
            dhup.get_by_test_id("tc-link").get_by_role("link").click()
            expect(dhup.locator("h1")).to_contain_text("Tronc commun")
            grant = dhup.get_by_role(
                "button", name="Autoriser la fédération à rapatrier mon tronc commun"
            )
            dhup.fill("#id_account_email", "pas une adresse")
            grant.click()
            expect(dhup.get_by_test_id("tc-grant")).to_contain_text(
                "n'est pas une adresse e-mail valide"
            )
            expect(dhup.get_by_test_id("tc-active")).to_have_count(0)
            dhup.fill("#id_account_email", bridge.puller_email)
            grant.click()
            expect(dhup.get_by_test_id("tc-active")).to_contain_text(bridge.puller_email)
            expect(dhup.get_by_test_id("tc-journal")).to_contain_text("autorisation donnée")
            dhup.screenshot(path=screenshot_path("tc-pairing", tmp_path), full_page=True)

            # Now oph pulls: what brings a value is ticked, what would erase is apart, unticked.
            oph.goto(sync_url)
            preview = oph.get_by_test_id("sync-preview")
            expect(preview.locator("input[name=champ]:checked")).to_have_count(2)
            erasing = oph.get_by_test_id("sync-erasing")
            expect(erasing).to_contain_text("les rapatrier effacerait votre saisie")
            expect(erasing).to_contain_text("31/12/2024")
            expect(erasing.locator("input[name=effacer]")).not_to_be_checked()
            oph.screenshot(path=screenshot_path("tc-preview", tmp_path), full_page=True)
            oph.get_by_role("button", name="Confirmer le rapatriement").click()
            expect(oph.locator("div.messages")).to_contain_text(
                "2 valeurs du tronc commun rapatriées"
            )
            expect(oph.locator('input[data-n="TC_CLOTURE"]')).to_have_value("31/12/2024")
            expect(oph.locator('input[data-n="TC_CAPITAL"]')).to_have_attribute(
                "data-seen", "1000.0"
            )

            # The organism withdraws its consent on dhup: the next pull is refused at once.
            dhup.reload()
            expect(dhup.get_by_test_id("tc-journal").locator("[data-kind=pulled]")).to_have_count(2)
            dhup.get_by_role("button", name="Retirer l'autorisation").click()
            expect(dhup.get_by_test_id("tc-active")).to_have_count(0)
            oph.goto(sync_url)
            expect(oph.get_by_test_id("sync-nothing")).to_contain_text("n'est pas autorisé")
        finally:
            chromium.close()
