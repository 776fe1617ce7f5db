"""The legal pages (footer links): fixed addresses on every platform and on the public host,
readable without signing in, the CMS page when published, else the default text."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape
from django_tenants.utils import schema_context

from faq_wiki.demo import demo_content_for
from faq_wiki.legal import LEGAL_KINDS, MINISTRY_PUBLISHER
from faq_wiki.models import LegalPage, PlatformHomePage
from faq_wiki.services import legal_pages_seed
from tenants.platforms import platform_spec
from workflow.services.retention import KEPT_EXERCISES

pytestmark = pytest.mark.django_db

URLS = {"accessibility": "/accessibilite/", "legal_notice": "/mentions-legales/"}
URLS["personal_data"] = "/donnees-personnelles/"


def test_url_names_give_the_fixed_addresses():
    for kind in LEGAL_KINDS:
        assert reverse(f"legal:{kind.url_name}", urlconf="harmonia.urls_tenant") == URLS[kind.code]
        assert reverse(f"legal:{kind.url_name}", urlconf="harmonia.urls_public") == URLS[kind.code]


def test_a_new_platform_gets_its_three_pages_with_its_own_texts():
    """platforms_sync (the test database's build) seeded them, naming each publisher."""
    for code, publisher in (("dhup", MINISTRY_PUBLISHER), ("oph", "Fédération des OPH")):
        with schema_context(code):
            pages = {p.kind: p for p in LegalPage.objects.live()}
            assert set(pages) == {kind.code for kind in LEGAL_KINDS}
            assert escape(publisher) in pages["legal_notice"].body
            assert escape(publisher) in pages["accessibility"].body
            assert f"{code}.localhost" in pages["accessibility"].body
    with schema_context("platform_template"):
        assert not LegalPage.objects.exists()  # its texts could not name the platform


@pytest.mark.parametrize("code", ["dhup", "esh", "public"])
def test_every_page_is_french_and_open_to_visitors(client_for, code):
    client = client_for(code)
    for kind, url in URLS.items():
        response = client.get(url)
        assert response.status_code == 200, (code, url)
        html = response.content.decode()
        assert 'lang="fr"' in html
        assert f'data-testid="legal-{kind}"' in html
    accessibility = client.get(URLS["accessibility"]).content.decode()
    assert "partiellement conforme" in accessibility
    assert "RGAA" in accessibility and "4.1" in accessibility
    assert "Défenseur des droits" in accessibility  # recourse, as the DINUM model says
    assert "Retour d'information et contact" in accessibility
    notice = client.get(URLS["legal_notice"]).content.decode()
    assert "Directeur de la publication" in notice and "Hébergement" in notice
    data = client.get(URLS["personal_data"]).content.decode()
    for heading in ("Données traitées", "Finalités", "Base légale", "Durées de conservation"):
        assert heading in data
    assert "Vos droits" in data and "CNIL" in data


def test_retention_and_session_figures_come_from_the_code(client_for, settings):
    html = client_for("oph").get(URLS["personal_data"]).content.decode()
    assert f"les {KEPT_EXERCISES} derniers exercices" in html.replace("\xa0", " ")
    # the CMS copy was seeded with the settings of the build; the default text follows them
    with schema_context("oph"):
        LegalPage.objects.filter(kind="personal_data").delete()
    settings.SESSION_COOKIE_AGE = 17 * 60
    html = client_for("oph").get(URLS["personal_data"]).content.decode()
    assert "après 17 minutes d'inactivité" in html
    assert "Fédération des OPH" in html and "intérêt légitime" in html
    public = client_for("public").get(URLS["personal_data"]).content.decode()
    assert "hotline" in public and "mission d'intérêt public" in public


def test_the_cms_page_is_shown_once_edited_and_published(client_for, demo_user):
    with schema_context("esh"):
        page = LegalPage.objects.get(kind="legal_notice")
        page.body = "<h2>Éditeur</h2><p>Fédération des ESH, 14 rue Lord Byron, Paris.</p>"
        page.save_revision().publish()
    html = client_for("esh").get(URLS["legal_notice"]).content.decode()
    assert "14 rue Lord Byron" in html
    assert "Dernière mise à jour" in html
    assert "Modifier cette page" not in html  # visitors do not edit
    manager = client_for("esh", demo_user("esh", "gestionnaire"))
    assert f"/cms/pages/{page.pk}/edit/" in manager.get(URLS["legal_notice"]).content.decode()
    # another platform keeps its own text
    assert "14 rue Lord Byron" not in client_for("coop").get(URLS["legal_notice"]).content.decode()
    # unpublished: the default text comes back
    with schema_context("esh"):
        LegalPage.objects.get(kind="legal_notice").unpublish()
    html = client_for("esh").get(URLS["legal_notice"]).content.decode()
    assert "14 rue Lord Byron" not in html and "Fédération des ESH" in html


def test_the_page_under_contenus_leads_to_the_fixed_address(client_for):
    with schema_context("coop"):
        url = LegalPage.objects.get(kind="accessibility").url
    response = client_for("coop").get(url)
    assert response.status_code == 302
    assert response["Location"] == URLS["accessibility"]


def test_seeding_is_idempotent_and_keeps_edits(platforms):
    with schema_context("epl"):
        page = LegalPage.objects.get(kind="personal_data")
        page.body = "<p>Texte revu par le délégué.</p>"
        page.save_revision().publish()
        assert legal_pages_seed(platform=platforms["epl"]) == []
        demo_content_for(platform_spec("epl"))
        assert LegalPage.objects.count() == 3
        assert LegalPage.objects.get(kind="personal_data").body == page.body
        LegalPage.objects.filter(kind="accessibility").delete()
        created = legal_pages_seed(platform=platforms["epl"])
        assert [p.kind for p in created] == ["accessibility"]


def test_legal_pages_are_not_listed_as_help_sections(client_for, demo_user):
    with schema_context("dhup"):
        home_url = PlatformHomePage.objects.get().url
    html = client_for("dhup", demo_user("dhup", "organisme")).get(home_url).content.decode()
    assert "Déclaration d'accessibilité" not in html.split("<footer")[0]
