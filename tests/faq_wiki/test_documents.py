"""Wagtail documents: served to the platform's signed-in users only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django_tenants.utils import schema_context
from wagtail.documents.models import Document
from wagtail.models import Collection, CollectionViewRestriction

pytestmark = pytest.mark.django_db

SECRET_BYTES = b"%PDF-1.4 notice confidentielle du ministere"


@pytest.fixture(autouse=True)
def _remove_files(db):  # after db: runs before the rollback
    """The files are real (MEDIA_ROOT); the rows go with the transaction, the files here."""
    yield
    with schema_context("dhup"):
        for document in Document.objects.filter(title="Notice"):
            document.file.delete(save=False)


def make_document(collection=None) -> Document:
    with schema_context("dhup"):
        collection = collection or Collection.get_first_root_node()
        document = Document(title="Notice", collection=collection)
        document.file.save("notice-harden.pdf", ContentFile(SECRET_BYTES), save=False)
        document.save()
        return document


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_a_document_is_served_to_signed_in_users_of_its_platform_only(client_for, demo_user):
    document = make_document()
    url = document.url
    assert url.startswith("/documents/")

    anonymous = client_for("dhup").get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/comptes/connexion/")
    assert SECRET_BYTES not in body(anonymous)

    for username in ("gestionnaire", "organisme"):
        response = client_for("dhup", demo_user("dhup", username)).get(url)
        assert response.status_code == 200, username
        assert body(response) == SECRET_BYTES

    # a session of another platform is worth nothing here: sent to sign in, no bytes
    oph = client_for("oph", demo_user("oph", "gestionnaire"))
    dhup = client_for("dhup")
    dhup.cookies = oph.cookies
    elsewhere = dhup.get(url)
    assert elsewhere.status_code == 302 and SECRET_BYTES not in body(elsewhere)
    # and the other platform has no such document
    assert oph.get(url).status_code == 404


def test_a_collection_restricted_to_a_group_keeps_its_restriction(client_for, demo_user):
    with schema_context("dhup"):
        root = Collection.get_first_root_node()
        private = root.add_child(name="Réservé")
        group = Group.objects.create(name="Comité")
        restriction = CollectionViewRestriction.objects.create(
            collection=private, restriction_type=CollectionViewRestriction.GROUPS
        )
        restriction.groups.add(group)
    document = make_document(private)
    gestionnaire = demo_user("dhup", "gestionnaire")
    refused = client_for("dhup", gestionnaire).get(document.url)
    assert refused.status_code in (302, 403) and SECRET_BYTES not in body(refused)
    with schema_context("dhup"):
        gestionnaire.groups.add(group)
    allowed = client_for("dhup", gestionnaire).get(document.url)
    assert allowed.status_code == 200 and body(allowed) == SECRET_BYTES
