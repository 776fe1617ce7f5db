"""Two platforms in a real Chromium: each host shows its own name and its own organisms.

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
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from organisms.demo import DEMO_PASSWORD
from organisms.models import Organism
from tenants.platforms import platform_spec
from tests.browser.live import serve_on_test_connection

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
            name=platform_spec(code).name,
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
            expect(page.locator("nav.user-nav")).to_contain_text("Gestionnaire")

            page.goto(f"{origin(code, live_port)}/organismes/")
            expect(page.get_by_test_id("platform-name")).to_have_text(expected.name)
            expect(page.get_by_text(re.compile(r"organisme\(s\)$"))).to_have_text(
                f"{expected.count} organisme(s)"
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
