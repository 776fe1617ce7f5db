"""French error pages (403, 404, 500) on the platforms and on the public host, DEBUG off:
each says why and where to go (home, help on a platform, contact)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext
from django.urls import include, path

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("unexpected")


def refused(request):
    raise PermissionDenied("Ce dossier appartient à un autre organisme.")


# this module is also the URL conf of the tests that need a failing view on both hosts
urlpatterns = [
    path("test-boom/", boom),
    path("test-refused/", refused),
    path("", include("harmonia.urls_tenant")),
]
public_urlpatterns = [
    path("test-boom/", boom),
    path("", include("harmonia.urls_public")),
]


class PublicUrls:
    urlpatterns = public_urlpatterns


def french_page_with_home_link(html: str) -> None:
    assert '<html lang="fr"' in html
    assert 'href="/"' in html and "Revenir à l'accueil" in html
    assert "/mentions-legales/#contact" in html and "Nous contacter" in html
    for english in ("Not Found", "Forbidden", "Server Error", "Page not found"):
        assert english not in html


@pytest.fixture
def no_debug(settings):
    settings.DEBUG = False
    return settings


@pytest.mark.parametrize("code", ["oph", "public"])
def test_404_in_french_on_both_hosts(client_for, code, no_debug):
    response = client_for(code).get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    html = response.content.decode()
    french_page_with_home_link(html)
    assert "Page non trouvée" in html and 'data-testid="error-404"' in html
    assert ("Consulter l'aide" in html) is (code != "public")  # the public host has no help


def test_404_of_a_content_page_and_of_a_missing_object(client_for, demo_user, no_debug):
    client = client_for("dhup", demo_user("dhup", "gestionnaire"))
    for url in ("/contenus/nulle-part/", "/formulaires/999999/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page non trouvée" in response.content.decode(), url


def test_403_shows_the_views_french_reason(client_for, demo_user, no_debug):
    organisme = client_for("oph", demo_user("oph", "organisme"))
    response = organisme.get("/formulaires/deposer/")
    assert response.status_code == 403
    html = response.content.decode()
    french_page_with_home_link(html)
    assert "Accès refusé" in html
    assert "Votre rôle ne donne pas accès à cette page." in html
    assert "Consulter l'aide" in html


@pytest.mark.urls("tests.test_error_pages")
def test_403_message_of_any_view(client_for, demo_user, no_debug):
    response = client_for("esh", demo_user("esh", "organisme")).get("/test-refused/")
    assert response.status_code == 403
    assert "Ce dossier appartient à un autre organisme." in response.content.decode()


def test_403_on_the_public_host(client_for, demo_user, no_debug):
    correspondant = client_for("public", demo_user("public", "correspondant"))
    response = correspondant.get("/operateur/hotline/")
    assert response.status_code == 403
    html = response.content.decode()
    french_page_with_home_link(html)
    assert "Accès refusé" in html


@pytest.mark.parametrize("code", ["coop", "public"])
def test_500_in_french_without_database(client_for, code, no_debug):
    no_debug.ROOT_URLCONF = "tests.test_error_pages"
    no_debug.PUBLIC_SCHEMA_URLCONF = PublicUrls  # a URL conf may be any object with patterns
    client = client_for(code)
    client.raise_request_exception = False
    response = client.get("/test-boom/")
    assert response.status_code == 500
    html = response.content.decode()
    french_page_with_home_link(html)
    assert "Erreur inattendue" in html and 'data-testid="error-500"' in html


def test_500_renders_without_context_nor_database():
    """Django renders 500.html with an empty context: no context processor, no query."""
    with CaptureQueriesContext(connection) as rendering:
        html = get_template("500.html").render()
    assert rendering.captured_queries == []
    assert "Erreur inattendue" in html and "dsfr.min.css" in html
