"""A dossier's exchange space: posting, attachments, unread markers, e-mails, who reads it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.html import escape
from django_tenants.utils import schema_context

from exchanges.models import Attachment, Message, ReadMark
from exchanges.services import MessageRefused, message_post, thread_mark_read, unread_count
from tests.conftest import run_queued_jobs

from ..declarations.test_online_form import declarant, open_dossier, outsider, version  # noqa: F401
from . import samples

pytestmark = pytest.mark.django_db


@pytest.fixture
def dossier(version, declarant):  # noqa: F811
    return open_dossier(declarant)


@pytest.fixture
def gestionnaire(demo_user):
    return demo_user("dhup", "gestionnaire")


def post(dossier, author, body="Bonjour", files=None):
    with schema_context("dhup"):
        return message_post(dossier=dossier, author=author, body=body, files=files or [])


def thread_url(dossier):
    return f"/echanges/dossiers/{dossier.pk}/"


# --- posting ----------------------------------------------------------------------------------


def test_post_with_attachments_stores_detected_types(dossier, declarant):  # noqa: F811
    files = [
        ("bilan.pdf", samples.pdf(), "document"),
        ("annexe.xlsx", samples.xlsx(), "document"),
        ("note.odt", samples.odt(), "document"),
        ("scan.jpg", samples.jpeg(), "prorogation"),
    ]
    message = post(dossier, declarant, "  Voici nos pièces.\r\nCordialement  ", files)
    with schema_context("dhup"):
        message = Message.objects.get(pk=message.pk)
        assert message.body == "Voici nos pièces.\nCordialement"
        assert message.author == declarant and message.dossier_id == dossier.pk
        stored = {a.filename: a for a in message.attachments.all()}
        assert set(stored) == {"bilan.pdf", "annexe.xlsx", "note.odt", "scan.jpg"}
        assert stored["bilan.pdf"].content_type == "application/pdf"
        assert stored["annexe.xlsx"].content_type.endswith("spreadsheetml.sheet")
        assert stored["note.odt"].content_type == "application/vnd.oasis.opendocument.text"
        assert stored["scan.jpg"].kind == Attachment.Kind.PROROGATION
        assert bytes(stored["bilan.pdf"].content) == samples.pdf()
        assert stored["bilan.pdf"].size == len(samples.pdf())
        assert len(stored["bilan.pdf"].sha256) == 64
        assert list(dossier.messages.all()) == [message]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ([("rapport.pdf", samples.executable(), "document")], "« rapport.pdf » n'est pas"),
        ([("rapport.pdf", samples.html(), "document")], "« rapport.pdf » n'est pas"),
        ([("bilan.pdf", samples.pdf(), "document")] * 6, "5 fichiers au plus par message"),
        ([("comptes.xlsx", samples.xlsx(), "prorogation")], "doit être un PDF ou une image"),
        ([], "Écrivez un message ou joignez au moins un fichier"),
    ],
)
def test_refused_posts_store_nothing(dossier, declarant, files, expected):  # noqa: F811
    body = "" if not files else "Pièces"
    with schema_context("dhup"):
        before = (Message.objects.count(), Attachment.objects.count())
    with pytest.raises(MessageRefused) as caught:
        post(dossier, declarant, body, [("bon.pdf", samples.pdf(), "document"), *files][1:])
    assert any(expected in error for error in caught.value.errors), caught.value.errors
    with schema_context("dhup"):
        assert (Message.objects.count(), Attachment.objects.count()) == before


def test_one_bad_file_refuses_the_whole_message(dossier, declarant):  # noqa: F811
    files = [
        ("bon.pdf", samples.pdf(), "document"),
        ("virus.pdf", samples.executable(), "document"),
    ]
    with pytest.raises(MessageRefused) as caught:
        post(dossier, declarant, "Deux fichiers", files)
    assert len(caught.value.errors) == 1 and "virus.pdf" in caught.value.errors[0]
    with schema_context("dhup"):
        assert not Message.objects.filter(dossier=dossier).exists()


def test_oversized_file_refused(dossier, declarant, settings):  # noqa: F811
    settings.HARMONIA_ATTACHMENT_MAX_BYTES = 1024
    big = samples.pdf() + b"%" * 2048
    with pytest.raises(MessageRefused) as caught:
        post(dossier, declarant, "Gros fichier", [("gros.pdf", big, "document")])
    assert "« gros.pdf » pèse" in caught.value.errors[0]
    assert "au-delà de la limite" in caught.value.errors[0]
    with schema_context("dhup"):
        assert not Message.objects.filter(dossier=dossier).exists()


def test_message_body_is_capped(dossier, declarant):  # noqa: F811
    with pytest.raises(MessageRefused) as caught:
        post(dossier, declarant, "x" * 10_001)
    assert "dépasse 10 000 caractères" in caught.value.errors[0]
    assert post(dossier, declarant, "x" * 10_000).pk


# --- unread markers ---------------------------------------------------------------------------


def test_unread_markers(dossier, declarant, gestionnaire, demo_user):  # noqa: F811
    colleague = demo_user("dhup", "organisme2")
    with schema_context("dhup"):
        assert unread_count(dossier, gestionnaire) == 0
        assert thread_mark_read(dossier=dossier, user=gestionnaire) is None  # nothing yet
    post(dossier, declarant, "Premier")
    post(dossier, declarant, "Second")
    with schema_context("dhup"):
        assert unread_count(dossier, gestionnaire) == 2
        assert unread_count(dossier, colleague) == 2  # a colleague's messages are news too
        assert unread_count(dossier, declarant) == 0  # one's own messages never are
        thread_mark_read(dossier=dossier, user=gestionnaire)
        assert unread_count(dossier, gestionnaire) == 0
    post(dossier, gestionnaire, "Réponse")
    with schema_context("dhup"):
        assert unread_count(dossier, declarant) == 1
        assert unread_count(dossier, gestionnaire) == 0
        mark = ReadMark.objects.get(user=gestionnaire, dossier=dossier)
        assert mark.last_read_at == Message.objects.get(body="Réponse").created_at


def test_opening_the_thread_marks_it_read(dossier, declarant, gestionnaire, client_for):  # noqa: F811
    post(dossier, declarant, "Une question sur la ligne 12")
    client = client_for("dhup", gestionnaire)
    page = client.get(thread_url(dossier)).content.decode()
    assert "Une question sur la ligne 12" in page and "nouveau" in page
    with schema_context("dhup"):
        assert unread_count(dossier, gestionnaire) == 0
    assert "nouveau" not in client.get(thread_url(dossier)).content.decode()


def test_dossier_sheet_links_to_the_exchange_space_with_unread_count(
    dossier,
    declarant,  # noqa: F811
    gestionnaire,
    client_for,
):
    post(dossier, gestionnaire, "Merci de compléter")
    post(dossier, gestionnaire, "Relance")
    page = client_for("dhup", declarant).get(f"/declarations/dossiers/{dossier.pk}/")
    assert f'href="{thread_url(dossier)}"' in page.content.decode()
    assert "Espace d'échange (2 non lus)" in page.content.decode()


# --- e-mails ----------------------------------------------------------------------------------


def test_organism_message_notifies_the_gestionnaires(
    dossier,
    declarant,  # noqa: F811
    gestionnaire,
    mailoutbox,
):
    post(dossier, declarant, "Secret du message", [("decision.pdf", samples.pdf(), "prorogation")])
    run_queued_jobs()
    assert [m.to for m in mailoutbox] == [[gestionnaire.email]]
    mail = mailoutbox[0]
    assert mail.subject.startswith("[Harmonia] Nouveau message")
    assert dossier.organism.name in mail.subject and " 2024 " in mail.subject
    assert "&#x27;" not in mail.subject + mail.body  # plain text, not HTML-escaped
    assert "a écrit le" in mail.body and "décision de prorogation" in mail.body
    assert f"/echanges/dossiers/{dossier.pk}/" in mail.body
    assert "Secret du message" not in mail.body  # the content stays on the platform


def test_gestionnaire_message_notifies_the_organism_users_only(
    dossier,
    declarant,  # noqa: F811
    outsider,  # noqa: F811
    gestionnaire,
    mailoutbox,
):
    with schema_context("dhup"):
        message_post(dossier=dossier, author=gestionnaire, body="Il manque l'annexe")
    run_queued_jobs()
    recipients = sorted(address for m in mailoutbox for address in m.to)
    assert recipients == [declarant.email]  # not the other organism's user, nor partners
    assert f"http://dhup.localhost/echanges/dossiers/{dossier.pk}/" in mailoutbox[0].body
    assert "Gaëlle Gestionnaire (gestionnaire)" in mailoutbox[0].body


def test_each_organism_user_gets_their_own_email(dossier, gestionnaire, mailoutbox):
    post(dossier, gestionnaire, "À tous")
    run_queued_jobs()
    assert sorted(m.to[0] for m in mailoutbox) == [
        "organisme2@dhup.harmonia.test",
        "organisme@dhup.harmonia.test",
    ]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mailoutbox)


# --- pages ------------------------------------------------------------------------------------


def test_post_through_the_page_and_download(dossier, declarant, client_for):  # noqa: F811
    client = client_for("dhup", declarant)
    response = client.post(
        thread_url(dossier),
        {
            "body": "Nos comptes",
            "files": [
                SimpleUploadedFile("bilan.pdf", samples.pdf()),
                SimpleUploadedFile("annexe.docx", samples.docx()),
            ],
            "prorogation": SimpleUploadedFile("decision.png", samples.png()),
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Message envoyé." in page and "Nos comptes" in page
    assert page.count('data-testid="attachment"') == 3
    assert page.count("Décision de prorogation</span>") == 1
    with schema_context("dhup"):
        attachment = Attachment.objects.get(filename="bilan.pdf")
        message = attachment.message
    assert timezone.localtime(message.created_at).strftime("%d/%m/%Y %H:%M") in page
    download = client.get(f"{thread_url(dossier)}pieces/{attachment.pk}/")
    assert download.status_code == 200
    assert download.content == samples.pdf()
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert 'filename="bilan.pdf"' in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"


def test_refused_upload_through_the_page(dossier, declarant, client_for, settings):  # noqa: F811
    client = client_for("dhup", declarant)
    response = client.post(
        thread_url(dossier),
        {"body": "Voici", "files": [SimpleUploadedFile("rapport.pdf", samples.html())]},
    )
    assert response.status_code == 400
    assert "« rapport.pdf » n&#x27;est pas un fichier d&#x27;un type accepté" in (
        response.content.decode()
    )
    settings.HARMONIA_ATTACHMENT_MAX_BYTES = 100
    response = client.post(
        thread_url(dossier),
        {"body": "Voici", "files": [SimpleUploadedFile("gros.pdf", samples.pdf() * 10)]},
    )
    assert response.status_code == 400 and "« gros.pdf » pèse" in response.content.decode()
    many = [SimpleUploadedFile(f"f{i}.pdf", samples.pdf()) for i in range(6)]
    response = client.post(thread_url(dossier), {"body": "Voici", "files": many})
    assert response.status_code == 400
    assert "5 fichiers au plus par message (6 joints)" in response.content.decode()
    with schema_context("dhup"):
        assert not Message.objects.filter(dossier=dossier).exists()


def test_gestionnaires_overview_flags_prorogations(
    dossier,
    declarant,  # noqa: F811
    outsider,  # noqa: F811
    gestionnaire,
    client_for,
):
    other = open_dossier(outsider)
    post(dossier, declarant, "Report de l'AG", [("decision.pdf", samples.pdf(), "prorogation")])
    post(other, outsider, "Simple question")
    mine, theirs = escape(dossier.organism.name), escape(other.organism.name)
    client = client_for("dhup", gestionnaire)
    page = client.get("/echanges/").content.decode()
    assert mine in page and theirs in page
    assert page.count('data-testid="prorogation-badge"') == 1
    filtered = client.get("/echanges/?prorogation=1").content.decode()
    assert mine in filtered and theirs not in filtered
    client.get(thread_url(other))  # read: no longer unread
    unread = client.get("/echanges/?non_lus=1").content.decode()
    assert mine in unread and theirs not in unread
    # the organisme users have no such list
    assert client_for("dhup", declarant).get("/echanges/").status_code == 403


# --- who reads what ---------------------------------------------------------------------------


def test_nobody_else_reads_the_exchange_space(
    dossier,
    declarant,  # noqa: F811
    outsider,  # noqa: F811
    gestionnaire,
    client_for,
    demo_user,
    platforms,
):
    post(dossier, declarant, "Confidentiel", [("bilan.pdf", samples.pdf(), "document")])
    with schema_context("dhup"):
        attachment = Attachment.objects.get(message__dossier=dossier)
    thread = thread_url(dossier)
    download = f"{thread}pieces/{attachment.pk}/"
    form = {"body": "Intrusion"}

    # the dossier's organism and the gestionnaire read it
    assert client_for("dhup", declarant).get(download).status_code == 200
    assert "Confidentiel" in client_for("dhup", gestionnaire).get(thread).content.decode()

    # another organism's user: no such dossier
    other = client_for("dhup", outsider)
    assert other.get(thread).status_code == 404
    assert other.post(thread, form).status_code == 404
    assert other.get(download).status_code == 404
    # roles that never use an exchange space
    for username in ("partenaire-cdc", "partenaire-prefecture", "editeur"):
        client = client_for("dhup", demo_user("dhup", username))
        assert client.get(thread).status_code == 403, username
        assert client.post(thread, form).status_code == 403, username
        assert client.get(download).status_code == 403, username
        assert client.get("/echanges/").status_code == 403, username
    # another platform's users: the dossier does not exist there
    for username in ("organisme", "gestionnaire"):
        client = client_for("oph", demo_user("oph", username))
        for response in (client.get(thread), client.post(thread, form), client.get(download)):
            assert response.status_code == 404
            assert b"Confidentiel" not in response.content
    # a dhup session does not carry over to another platform's host
    oph_host = platforms["oph"].get_primary_domain().domain
    response = client_for("dhup", declarant).get(thread, HTTP_HOST=oph_host)
    assert response.status_code == 302 and "/comptes/" in response["Location"]
    # a visitor is sent to sign in
    assert client_for("dhup").get(download).status_code == 302
    # and an attachment is reached only through its own dossier
    other_dossier = open_dossier(outsider)
    wrong = f"/echanges/dossiers/{other_dossier.pk}/pieces/{attachment.pk}/"
    assert client_for("dhup", gestionnaire).get(wrong).status_code == 404
    with schema_context("dhup"):
        assert Message.objects.filter(dossier=dossier).count() == 1  # no intrusion stored


def test_services_refuse_outsiders(dossier, outsider, demo_user):  # noqa: F811
    for user in (outsider, demo_user("dhup", "partenaire-cdc"), demo_user("dhup", "editeur")):
        with pytest.raises(PermissionDenied):
            post(dossier, user, "Intrusion")
        with schema_context("dhup"), pytest.raises(PermissionDenied):
            thread_mark_read(dossier=dossier, user=user)
