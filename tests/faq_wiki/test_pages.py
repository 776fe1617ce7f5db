"""Content pages: access on every page type, the editors' section, manuals' PDF, search."""

from __future__ import annotations

import io

import pytest
from django_tenants.utils import schema_context
from pypdf import PdfReader

from faq_wiki.models import (
    EditorsIndexPage,
    FaqIndexPage,
    FaqPage,
    ManagerPage,
    ManualPage,
    PlatformHomePage,
    WikiPage,
)
from tests.forms_cms.engine.helpers import workbook_bytes
from tests.forms_cms.test_versions import NAMES, SHEETS, upload

pytestmark = pytest.mark.django_db

CHAPTERS = [
    ("chapter", {"heading": "Se connecter à la plateforme", "body": "<p>Ouvrez la page.</p>"}),
    ("chapter", {"heading": "Remplir le formulaire en ligne", "body": "<p>La grille.</p>"}),
]


def publish(parent, page):
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page.specific_class.objects.get(pk=page.pk)


def build_tree(code: str) -> dict:
    """One page of every type under the platform's home; returns their URLs by type."""
    with schema_context(code):
        home = PlatformHomePage.objects.get()
        faq = publish(home, FaqIndexPage(title="Foire aux questions", slug="faq"))
        question = publish(
            faq,
            FaqPage(
                title="Comment transmettre mon dossier ?",
                slug="transmettre",
                answer="<p>Utilisez le bouton « Transmettre » une fois la vérification faite.</p>",
                theme="Transmission",
            ),
        )
        wiki = publish(
            home,
            WikiPage(
                title="Informations générales",
                slug="informations",
                body=[("text", "<p>Calendrier de la campagne.</p>")],
            ),
        )
        editors = publish(home, EditorsIndexPage(title="Espace des éditeurs", slug="editeurs"))
        manager = publish(home, ManagerPage(title="Supports du gestionnaire", slug="supports"))
        manual = publish(
            home,
            ManualPage(title="Manuel des organismes", slug="manuel-organismes", chapters=CHAPTERS),
        )
        pages = {
            "home": home,
            "faq": faq,
            "question": question,
            "wiki": wiki,
            "editors": editors,
            "manager": manager,
            "manual": manual,
        }
        return {name: page.url for name, page in pages.items()}


def test_every_page_type_needs_a_platform_user(client_for, demo_user, platforms):
    urls = build_tree("oph")
    urls["pdf"] = urls["manual"] + "pdf/"
    urls["print"] = urls["manual"] + "?imprimer=1"
    anonymous = client_for("oph")
    for name, url in urls.items():
        response = anonymous.get(url)
        assert response.status_code == 302, name
        assert "/comptes/" in response["Location"] and "next=" in response["Location"], name
    for username in ("gestionnaire", "organisme", "partenaire-cdc", "editeur"):
        client = client_for("oph", demo_user("oph", username))
        for name, url in urls.items():
            assert client.get(url).status_code == 200, (username, name)
    # another platform's users: an oph session means nothing on esh's host, esh has no such page
    esh_host = platforms["esh"].get_primary_domain().domain
    oph_user = client_for("oph", demo_user("oph", "gestionnaire"))
    for name, url in urls.items():
        response = oph_user.get(url, HTTP_HOST=esh_host)
        assert response.status_code in (302, 404), name  # sign in, or no such page there
        assert "Comment transmettre" not in response.content.decode(), name
    esh_user = client_for("esh", demo_user("esh", "gestionnaire"))
    for name in ("faq", "question", "wiki", "editors", "manager", "manual", "pdf"):
        assert esh_user.get(urls[name]).status_code == 404, name


def test_audience_restriction(client_for, demo_user):
    urls = build_tree("oph")
    with schema_context("oph"):
        for model in (FaqPage, WikiPage, ManualPage):
            page = model.objects.get()
            page.audiences = ["partenaire"]
            page.save_revision().publish()
    restricted = [urls["question"], urls["wiki"], urls["manual"], urls["manual"] + "pdf/"]
    organisme = client_for("oph", demo_user("oph", "organisme"))
    partner = client_for("oph", demo_user("oph", "partenaire-cdc"))
    manager = client_for("oph", demo_user("oph", "gestionnaire"))
    for url in restricted:
        assert organisme.get(url).status_code == 403, url
        assert partner.get(url).status_code == 200, url
        assert manager.get(url).status_code == 200, url
    # the FAQ index hides the question from those outside its audience
    assert "Comment transmettre" not in organisme.get(urls["faq"]).content.decode()
    assert "Comment transmettre" in partner.get(urls["faq"]).content.decode()


def test_faq_grouped_by_theme_and_home_shows_banner_and_campaign(client_for, demo_user):
    urls = build_tree("oph")
    with schema_context("oph"):
        home = PlatformHomePage.objects.get()
        home.maintenance_banner = "<p>Maintenance prévue samedi de 8 h à 12 h.</p>"
        home.save_revision().publish()
        faq = FaqIndexPage.objects.get()
        publish(
            faq,
            FaqPage(
                title="Qui crée mon compte ?",
                slug="compte",
                answer="<p>Le gestionnaire.</p>",
                theme="Comptes",
            ),
        )
    client = client_for("oph", demo_user("oph", "organisme"))
    page = client.get(urls["faq"]).content.decode()
    assert page.index("<h2>Comptes</h2>") < page.index("<h2>Transmission</h2>")
    assert "Qui crée mon compte" in client.get(urls["faq"] + "?q=compte").content.decode()
    home_page = client.get(urls["home"]).content.decode()
    assert "Maintenance prévue samedi" in home_page
    assert "Campagne 2024" in home_page


def test_editors_section_lists_an_uploaded_version(client_for, demo_user):
    urls = build_tree("dhup")
    version = upload("dhup", workbook_bytes(SHEETS, NAMES), user=demo_user("dhup", "gestionnaire"))
    editor = client_for("dhup", demo_user("dhup", "editeur"))
    page = editor.get(urls["editors"]).content.decode()
    xsd = f"/formulaires/{version.pk}/fichiers/xsd/"
    assert xsd in page
    assert f"/formulaires/{version.pk}/fichiers/specification/" in page
    assert f"/formulaires/{version.pk}/fichiers/source/" in page
    assert f"/formulaires/{version.pk}/" in page
    assert editor.get(xsd).status_code == 200
    supports = editor.get(urls["manager"]).content.decode()
    assert f"/formulaires/{version.pk}/fichiers/source/" in supports and "bilan.xlsx" in supports


def test_manual_pdf_contains_its_chapters(client_for, demo_user):
    urls = build_tree("oph")
    client = client_for("oph", demo_user("oph", "organisme"))
    response = client.get(urls["manual"] + "pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Manuel des organismes" in text
    assert "Se connecter à la plateforme" in text
    assert "Remplir le formulaire en ligne" in text
    printable = client.get(urls["manual"] + "?imprimer=1").content.decode()
    assert "Sommaire" in printable and "Remplir le formulaire en ligne" in printable


def test_search_finds_an_answer_and_hides_restricted_pages(client_for, demo_user):
    build_tree("oph")
    organisme = client_for("oph", demo_user("oph", "organisme"))
    found = organisme.get("/aide/recherche/", {"q": "vérification"}).content.decode()
    assert "Comment transmettre mon dossier" in found
    with schema_context("oph"):
        page = FaqPage.objects.get()
        page.audiences = ["editeur"]
        page.save_revision().publish()
    hidden = organisme.get("/aide/recherche/", {"q": "vérification"}).content.decode()
    assert "Comment transmettre mon dossier" not in hidden
    manager = client_for("oph", demo_user("oph", "gestionnaire"))
    assert "Comment transmettre" in manager.get("/aide/recherche/?q=vérification").content.decode()
    assert client_for("oph").get("/aide/recherche/?q=x").status_code == 302


def test_demo_content_runs_twice_without_duplicating(client_for, demo_user):
    from django.core.management import call_command

    call_command("demo_content")
    with schema_context("esh"):
        counts = {m: m.objects.count() for m in (FaqPage, WikiPage, ManualPage, EditorsIndexPage)}
        assert counts[FaqPage] >= 20 and counts[ManualPage] == 3
    call_command("demo_content")
    with schema_context("esh"):
        assert {m: m.objects.count() for m in counts} == counts
        manual = ManualPage.objects.get(slug="manuel-organismes")
        url = manual.url
        assert "Rapatrier le tronc commun" in [b.value["heading"] for b in manual.chapters]
    organisme = client_for("esh", demo_user("esh", "organisme"))
    assert organisme.get(url).status_code == 200
    found = organisme.get("/aide/recherche/", {"q": "mot de passe"}).content.decode()
    assert "oublié mon mot de passe" in found


def test_gestionnaire_edits_every_page_type_in_the_admin(client_for, demo_user):
    build_tree("oph")
    client = client_for("oph", demo_user("oph", "gestionnaire"))
    with schema_context("oph"):
        pages = {
            model: model.objects.get().pk
            for model in (PlatformHomePage, FaqIndexPage, FaqPage, WikiPage, ManualPage)
        }
        pages[EditorsIndexPage] = EditorsIndexPage.objects.get().pk
        pages[ManagerPage] = ManagerPage.objects.get().pk
    for model, pk in pages.items():
        response = client.get(f"/cms/pages/{pk}/edit/")
        assert response.status_code == 200, model
    edit = client.get(f"/cms/pages/{pages[FaqPage]}/edit/").content.decode()
    assert 'name="audiences"' in edit and 'value="partenaire"' in edit
