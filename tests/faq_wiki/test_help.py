"""« Aide sur cette page »: the mapping from main pages to help sections, its link and where
the link leads each role."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.template import Context, Template
from django.urls import Resolver404, get_resolver
from django_tenants.utils import schema_context
from wagtail.models import Page

from faq_wiki.demo import demo_content_for
from faq_wiki.help import HELP_TOPICS
from faq_wiki.models import ManualPage
from tenants.platforms import platform_spec

pytestmark = pytest.mark.django_db

TAG = Template("{% load help_tags %}{% help_link %}")


def render_tag(view_name: str, user) -> str:
    request = SimpleNamespace(resolver_match=SimpleNamespace(view_name=view_name), user=user)
    return TAG.render(Context({"request": request})).strip()


def test_every_mapped_url_name_exists():
    resolver = get_resolver("harmonia.urls_tenant")
    names = {key for key in resolver.reverse_dict if isinstance(key, str)}
    for namespace, (_prefix, sub) in resolver.namespace_dict.items():
        names.update(f"{namespace}:{n}" for n in sub.reverse_dict if isinstance(n, str))
    missing = [name for name in HELP_TOPICS if name not in names]
    assert missing == []


@pytest.mark.parametrize("code", ["dhup", "oph"])
def test_the_demo_content_has_every_section_the_mapping_points_to(code):
    with schema_context(code):
        demo_content_for(platform_spec(code))
        for view_name, topic in HELP_TOPICS.items():
            for slug, heading in topic.targets:
                page = Page.objects.live().filter(slug=slug).specific().first()
                assert page is not None, (view_name, slug)
                if heading:
                    assert isinstance(page, ManualPage), (view_name, slug)
                    assert heading in [c["heading"] for c in page.toc()], (view_name, heading)


def test_the_tag_links_mapped_pages_only_for_platform_users(demo_user, platforms):
    organisme = demo_user("oph", "organisme")
    with schema_context("oph"):
        html = render_tag("declarations:sheet", organisme)
        assert "Aide sur cette page" in html and "fr-link" in html
        assert 'href="/aide/sur-cette-page/?vue=declarations%3Asheet"' in html
        assert render_tag("accounts:password_change", organisme) == ""  # not a mapped page
        assert render_tag("declarations:sheet", SimpleNamespace(is_authenticated=False)) == ""
    # the public host has no help pages
    assert render_tag("declarations:sheet", organisme) == ""


def test_the_link_leads_each_role_to_a_section_it_may_read(client_for, demo_user):
    with schema_context("oph"):
        demo_content_for(platform_spec("oph"))
        manuals = {p.slug: p.url for p in ManualPage.objects.live()}
        editors_info = Page.objects.get(slug="informations-editeurs").url

    def follow(username, view_name):
        client = client_for("oph", demo_user("oph", username))
        response = client.get("/aide/sur-cette-page/", {"vue": view_name})
        assert response.status_code == 302
        return response["Location"]

    assert follow("organisme", "declarations:sheet") == (
        manuals["manuel-organismes"] + "#chapitre-3"
    )
    assert follow("gestionnaire", "forms_cms:version_upload") == (
        manuals["manuel-ministere-federations"] + "#chapitre-2"
    )
    assert (
        follow("partenaire-cdc", "partners:list") == manuals["manuel-partenaires"] + "#chapitre-2"
    )
    # the managers' manual is not the editor's to read: the editors' page instead
    assert follow("editeur", "forms_cms:version_list") == editors_info
    # the target is followed: 200 for the role it was chosen for
    client = client_for("oph", demo_user("oph", "organisme"))
    assert client.get(manuals["manuel-organismes"]).status_code == 200


def test_without_the_section_the_link_searches_the_help(client_for, demo_user):
    """The test platforms have no demo content: the help search, with the topic's words."""
    client = client_for("esh", demo_user("esh", "gestionnaire"))
    location = client.get("/aide/sur-cette-page/", {"vue": "workflow:workspace"})["Location"]
    parts = urlsplit(location)
    assert parts.path == "/aide/recherche/"
    assert parse_qs(parts.query)["q"] == [HELP_TOPICS["workflow:workspace"].search]
    assert client.get(location).status_code == 200
    unknown = client.get("/aide/sur-cette-page/", {"vue": "nulle:part"})["Location"]
    assert unknown == "/aide/recherche/"


def test_the_link_needs_a_signed_in_platform_user(client_for):
    response = client_for("oph").get("/aide/sur-cette-page/", {"vue": "declarations:sheet"})
    assert response.status_code == 302 and "/comptes/" in response["Location"]
    with pytest.raises(Resolver404):
        get_resolver("harmonia.urls_public").resolve("/aide/sur-cette-page/")
