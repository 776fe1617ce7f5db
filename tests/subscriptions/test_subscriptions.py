"""Subscriptions: batching per subscriber, scopes, the unsubscribe link, editors' updates."""

from __future__ import annotations

import re

import pytest
from django.core import mail, signing
from django.db import connection
from django_tenants.utils import schema_context
from wagtail.models import Page

from faq_wiki.models import PlatformHomePage
from subscriptions.models import PendingNotification, Scope, Subscription
from subscriptions.services import UNSUBSCRIBE_SALT, subscription_create, unsubscribe_token
from tests.conftest import run_queued_jobs
from tests.forms_cms.engine.helpers import workbook_bytes
from tests.forms_cms.test_versions import NAMES, SHEETS, upload

pytestmark = pytest.mark.django_db


def home() -> Page:
    return PlatformHomePage.objects.get()


def publish_child(parent: Page, title: str) -> Page:
    page = parent.add_child(instance=Page(title=title, slug=re.sub(r"\W+", "-", title.lower())))
    page.save_revision().publish()
    return page


def digest_jobs() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM public.procrastinate_jobs "
            "WHERE task_name = 'subscriptions.send_digest' AND status = 'todo'"
        )
        return cursor.fetchone()[0]


def mails_to(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


def test_fifty_publications_make_one_email_per_subscriber(demo_user):
    editeur = demo_user("oph", "editeur")
    organisme = demo_user("oph", "organisme")
    with schema_context("oph"):
        subscription_create(user=editeur, scope=Scope.WIKI)
        subscription_create(user=organisme, scope=Scope.WIKI)
        root = home()
        for i in range(50):
            publish_child(root, f"Page numéro {i}")
        assert PendingNotification.objects.filter(subscription__user=editeur).count() == 50
        assert digest_jobs() == 2  # one waiting job per subscriber, not one per publication
    run_queued_jobs()
    for user in (editeur, organisme):
        (message,) = mails_to(user)
        assert message.subject.startswith("Harmonia — 50 mises à jour sur la plateforme ")
        assert message.body.count("Nouvelle page : Page numéro") == 50
        assert "http://oph.localhost/" in message.body
        assert "/abonnements/desabonnement/" in message.body
    with schema_context("oph"):
        assert not PendingNotification.objects.exists()
    # a second run finds nothing and sends nothing
    mail.outbox.clear()
    with schema_context("oph"):
        from subscriptions.tasks import send_digest

        assert send_digest(user_id=editeur.pk) == 0
    assert mail.outbox == []


def test_republishing_keeps_one_line_and_says_updated(demo_user):
    editeur = demo_user("oph", "editeur")
    with schema_context("oph"):
        subscription_create(user=editeur, scope=Scope.WIKI)
        page = publish_child(home(), "Calendrier")
    run_queued_jobs()
    mail.outbox.clear()
    with schema_context("oph"):
        page.title = "Calendrier 2025"
        page.save_revision().publish()
        page.save_revision().publish()
        assert PendingNotification.objects.count() == 1
    run_queued_jobs()
    (message,) = mails_to(editeur)
    assert "1 mise à jour" in message.subject
    assert "Page mise à jour : Calendrier 2025" in message.body


def test_wiki_and_section_subscriptions_of_one_person_make_one_line(demo_user):
    editeur = demo_user("oph", "editeur")
    with schema_context("oph"):
        section = publish_child(home(), "Rubrique")
        subscription_create(user=editeur, scope=Scope.WIKI)
        subscription_create(user=editeur, scope=Scope.SECTION, page=section)
        publish_child(section, "Sous-page")
        assert PendingNotification.objects.count() == 1
        assert PendingNotification.objects.get().subscription.scope == Scope.SECTION
    run_queued_jobs()
    assert len(mails_to(editeur)) == 1


def test_section_scope_covers_only_the_section_and_its_descendants(demo_user):
    editeur = demo_user("esh", "editeur")
    with schema_context("esh"):
        section = publish_child(home(), "Guide")
        other = publish_child(home(), "Actualités")
        subscription_create(user=editeur, scope=Scope.SECTION, page=section)
        chapter = publish_child(section, "Chapitre un")
        publish_child(chapter, "Paragraphe")
        publish_child(other, "Hors rubrique")
        section.save_revision().publish()
    run_queued_jobs()
    (message,) = mails_to(editeur)
    assert "3 mises à jour" in message.subject
    assert "Nouvelle page : Chapitre un" in message.body
    assert "Nouvelle page : Paragraphe" in message.body
    assert "Page mise à jour : Guide" in message.body
    assert "Hors rubrique" not in message.body


def test_other_platforms_subscribers_get_nothing(demo_user):
    oph = demo_user("oph", "editeur")
    esh = demo_user("esh", "editeur")
    with schema_context("oph"):
        subscription_create(user=oph, scope=Scope.WIKI)
        subscription_create(user=oph, scope=Scope.EDITORS)
    with schema_context("esh"):
        subscription_create(user=esh, scope=Scope.WIKI)
        publish_child(home(), "Seulement sur ESH")
    run_queued_jobs()
    assert mails_to(oph) == []
    assert len(mails_to(esh)) == 1


def test_section_must_belong_to_the_platform_content(demo_user):
    from django.core.exceptions import ValidationError

    editeur = demo_user("oph", "editeur")
    with schema_context("oph"):
        with pytest.raises(ValidationError):
            subscription_create(user=editeur, scope=Scope.SECTION, page=Page.objects.get(depth=1))
        with pytest.raises(ValidationError):
            subscription_create(user=editeur, scope=Scope.SECTION)
        subscription_create(user=editeur, scope=Scope.WIKI)
        with pytest.raises(ValidationError):
            subscription_create(user=editeur, scope=Scope.WIKI)


# --- the unsubscribe link -------------------------------------------------------------------


def unsubscribe_link(message) -> str:
    (url,) = re.findall(r"http://[^\s]+/abonnements/desabonnement/[^\s]+/", message.body)
    return url.split("://", 1)[1].split("/", 1)[1]


def test_unsubscribe_link_works_once_without_login(demo_user, client_for):
    editeur = demo_user("oph", "editeur")
    with schema_context("oph"):
        subscription_create(user=editeur, scope=Scope.WIKI)
        publish_child(home(), "Nouveauté")
    run_queued_jobs()
    (message,) = mails_to(editeur)
    path = "/" + unsubscribe_link(message)
    assert message.extra_headers["List-Unsubscribe"].endswith(path + ">")
    client = client_for("oph")  # not signed in
    page = client.get(path)
    assert page.status_code == 200
    assert "Confirmer le désabonnement" in page.content.decode()
    with schema_context("oph"):
        assert Subscription.objects.filter(user=editeur).exists()  # a GET removes nothing
    done = client.post(path)
    assert done.status_code == 200
    assert 'data-testid="unsubscribed"' in done.content.decode()
    with schema_context("oph"):
        assert not Subscription.objects.filter(user=editeur).exists()
    again = client.post(path)
    assert "déjà été effectué" in again.content.decode()
    assert "déjà été effectué" in client.get(path).content.decode()


def test_unsubscribe_token_only_for_its_owner(demo_user, client_for):
    editeur = demo_user("oph", "editeur")
    organisme = demo_user("oph", "organisme")
    with schema_context("oph"):
        mine = subscription_create(user=editeur, scope=Scope.WIKI)
        theirs = subscription_create(user=organisme, scope=Scope.WIKI)
        token = unsubscribe_token(mine)
    client = client_for("oph")
    # tampered: another subscription's id in a token signed by someone else
    payload, _, signature = token.rpartition(":")
    forged_payload = signing.dumps(
        {"p": "oph", "s": theirs.pk, "u": organisme.pk}, salt="not-the-salt", compress=True
    )
    for bad in (
        payload + ":" + signature[:-2] + "xx",
        forged_payload,
        token[:-1],
        signing.dumps({"p": "oph", "s": theirs.pk, "u": organisme.pk}),  # no salt
    ):
        response = client.post(f"/abonnements/desabonnement/{bad}/")
        assert response.status_code == 400
    # a validly signed token naming someone else's subscription with my id removes nothing
    with schema_context("oph"):
        crossed = signing.dumps(
            {"p": "oph", "s": theirs.pk, "u": editeur.pk}, salt=UNSUBSCRIBE_SALT, compress=True
        )
    assert (
        "déjà été effectué"
        in client.post(f"/abonnements/desabonnement/{crossed}/").content.decode()
    )
    # the token of one platform does nothing on another
    response = client_for("esh").post(f"/abonnements/desabonnement/{token}/")
    assert response.status_code == 400
    with schema_context("oph"):
        assert Subscription.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2
    client.post(f"/abonnements/desabonnement/{token}/")
    with schema_context("oph"):
        assert list(Subscription.objects.values_list("pk", flat=True)) == [theirs.pk]


# --- editors' updates -----------------------------------------------------------------------


def test_new_form_version_notifies_subscribed_editors(demo_user):
    gestionnaire = demo_user("dhup", "gestionnaire")
    editeur = demo_user("dhup", "editeur")
    wiki_only = demo_user("dhup", "organisme")
    with schema_context("dhup"):
        subscription_create(user=editeur, scope=Scope.EDITORS)
        subscription_create(user=wiki_only, scope=Scope.WIKI)
    version = upload("dhup", workbook_bytes(SHEETS, NAMES), user=gestionnaire)
    run_queued_jobs()
    (message,) = mails_to(editeur)
    assert "1 mise à jour" in message.subject
    assert f"ER sociaux — version {version.number}".lower() in message.body.lower() or (
        f"version {version.number}" in message.body
    )
    assert f"/formulaires/{version.pk}/" in message.body
    assert f"/formulaires/{version.pk}/fichiers/xsd/" in message.body
    assert f"/formulaires/{version.pk}/fichiers/specification/" in message.body
    assert mails_to(wiki_only) == []  # the wiki scope is the CMS content, not form versions


def test_refused_upload_notifies_nobody(demo_user):
    from forms_cms.services import FormImportError

    gestionnaire = demo_user("dhup", "gestionnaire")
    editeur = demo_user("dhup", "editeur")
    with schema_context("dhup"):
        subscription_create(user=editeur, scope=Scope.EDITORS)
    with pytest.raises(FormImportError):
        upload("dhup", b"not a workbook", user=gestionnaire)
    with schema_context("dhup"):
        assert not PendingNotification.objects.exists()
    assert digest_jobs() == 0


# --- the management page --------------------------------------------------------------------


def test_manage_page_subscribe_list_remove(demo_user, client_for):
    partenaire = demo_user("coop", "partenaire-cdc")
    with schema_context("coop"):
        section = publish_child(home(), "Manuels")
    client = client_for("coop", partenaire)
    page = client.get("/abonnements/")
    assert page.status_code == 200
    assert "Manuels" in page.content.decode()
    assert client.post("/abonnements/", {"scope": "wiki"}).status_code == 302
    assert client.post("/abonnements/", {"scope": "section", "page": section.pk}).status_code == 302
    assert client.post("/abonnements/", {"scope": "editors"}).status_code == 302
    refused = client.post("/abonnements/", {"scope": "section"})
    assert "Choisissez la rubrique" in refused.content.decode()
    listing = client.get("/abonnements/").content.decode()
    assert listing.count('data-testid="subscription"') == 3
    assert "Rubrique « Manuels »" in listing
    with schema_context("coop"):
        wiki = Subscription.objects.get(user=partenaire, scope=Scope.WIKI)
    assert client.post(f"/abonnements/{wiki.pk}/supprimer/").status_code == 302
    with schema_context("coop"):
        assert Subscription.objects.filter(user=partenaire).count() == 2


def test_manage_page_needs_login_and_removes_only_ones_own(demo_user, client_for):
    assert client_for("oph").get("/abonnements/").status_code == 302
    editeur = demo_user("oph", "editeur")
    with schema_context("oph"):
        theirs = subscription_create(user=demo_user("oph", "organisme"), scope=Scope.WIKI)
    client_for("oph", editeur).post(f"/abonnements/{theirs.pk}/supprimer/")
    with schema_context("oph"):
        assert Subscription.objects.filter(pk=theirs.pk).exists()


def test_pages_restricted_to_other_roles_are_not_announced(demo_user, client_for):
    from faq_wiki.models import WikiPage

    editeur = demo_user("oph", "editeur")
    gestionnaire = demo_user("oph", "gestionnaire")
    with schema_context("oph"):
        subscription_create(user=editeur, scope=Scope.WIKI)
        subscription_create(user=gestionnaire, scope=Scope.WIKI)
        restricted = home().add_child(
            instance=WikiPage(
                title="Note interne", slug="note-interne-abonnes", audiences=["gestionnaire"]
            )
        )
        restricted.save_revision().publish()
        publish_child(restricted, "Annexe de la note")
    run_queued_jobs()
    assert mails_to(editeur) == []
    (message,) = mails_to(gestionnaire)
    assert "2 mises à jour" in message.subject
    # nor offered as a section to follow
    listing = client_for("oph", editeur).get("/abonnements/").content.decode()
    assert "Note interne" not in listing
    assert "Note interne" in client_for("oph", gestionnaire).get("/abonnements/").content.decode()
