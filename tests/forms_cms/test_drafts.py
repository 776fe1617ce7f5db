"""Draft form versions (brouillons): uploaded as drafts, seen by gestionnaires and editors only
— every route that lists or serves versions, dossier opening, the editors' check, the editors'
wiki listing, the subscribers' e-mails —, published once (a second time is refused with the
reason), and only then current and offered for the dossiers' migration."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from declarations.models import ApiToken
from faq_wiki.models import EditorsIndexPage, ManagerPage, PlatformHomePage
from forms_cms.models import DocumentType, FormVersion
from forms_cms.selectors import current_version
from forms_cms.services import FormPublishRefused, form_version_import, form_version_publish
from subscriptions.models import PendingNotification, Scope
from subscriptions.services import subscription_create
from tests.conftest import run_queued_jobs
from tests.declarations.test_online_form import declarant, open_dossier, version  # noqa: F401
from tests.declarations.test_xml import document
from workflow.models import Campaign
from workflow.selectors import offers_for

from .engine.helpers import workbook_bytes
from .test_versions import NAMES, SHEETS

pytestmark = pytest.mark.django_db

# the draft adds a field: its name must never reach an organism or a partner
DRAFT_NAMES = {**NAMES, "ACT_BROUILLON": "Actif!$C$3"}
DRAFT_SHEETS = {**SHEETS, "Actif": {**SHEETS["Actif"], "C3": 5}}
HIDDEN_FROM = ("organisme", "organisme2", "partenaire-cdc", "partenaire-prefecture")
DRAFT_READERS = ("gestionnaire", "editeur")


def upload_draft(user, *, draft=True) -> FormVersion:
    with schema_context("dhup"):
        return form_version_import(
            document_type=DocumentType.objects.get(code="ER_SOCIAUX"),
            campaign=Campaign.objects.get(exercise=2024),
            file_name="bilan-brouillon.xlsx",
            content=workbook_bytes(DRAFT_SHEETS, DRAFT_NAMES),
            acting_user=user,
            draft=draft,
        )


@pytest.fixture
def draft(version, demo_user):  # noqa: F811
    """ER_SOCIAUX v1 published (the fixture ``version``), v2 a draft."""
    return upload_draft(demo_user("dhup", "gestionnaire"))


def test_a_draft_is_stored_but_not_current(draft, version, declarant):  # noqa: F811
    assert draft.number == 2 and draft.is_draft and not version.is_draft
    assert "ACT_BROUILLON" in draft.changes["added"]  # the change list against v1
    with schema_context("dhup"):
        assert current_version(draft.document_type, draft.campaign) == version
    dossier = open_dossier(declarant)  # a new dossier opens on the published version
    assert dossier.form_version_id == version.pk


def test_only_a_draft_offers_nothing_to_organisms(demo_user, declarant):  # noqa: F811
    upload_draft(demo_user("dhup", "gestionnaire"))  # v1, a draft
    with schema_context("dhup"):
        organism = declarant.membership.organism
        offered = [o.document_type.code for o in offers_for(organism)]
    assert "ER_SOCIAUX" not in offered
    from workflow.actions import NoFormVersion

    with pytest.raises(NoFormVersion):
        open_dossier(declarant)


def version_routes(pk: int) -> list[str]:
    base = f"/formulaires/{pk}/"
    return [base, *(f"{base}fichiers/{k}/" for k in ("source", "specification", "xsd"))]


def test_draft_routes_by_role(draft, version, client_for, demo_user):  # noqa: F811
    """Every route that lists or serves versions, every role: a draft exists only for
    gestionnaires and editors; the published version stays served to everyone."""
    clients = {role: client_for("dhup", demo_user("dhup", role)) for role in
               (*HIDDEN_FROM, *DRAFT_READERS)}  # fmt: skip
    for role, client in clients.items():
        listing = client.get("/formulaires/").content.decode()
        assert f"/formulaires/{version.pk}/" in listing, role
        shown = role in DRAFT_READERS
        assert (f"/formulaires/{draft.pk}/" in listing) is shown, role
        for url in version_routes(draft.pk):
            response = client.get(url)
            assert response.status_code == (200 if shown else 404), (role, url)
            if not shown:
                assert b"ACT_BROUILLON" not in response.content, (role, url)
        for url in version_routes(version.pk):
            assert client.get(url).status_code == 200, (role, url)
        # the check without saving offers the draft to the same readers only
        check = client.get("/declarations/verifier/").content.decode()
        assert (f'value="{draft.pk}"' in check) is shown, role
    anonymous = client_for("dhup")
    for url in ["/formulaires/", *version_routes(draft.pk)]:
        response = anonymous.get(url)
        assert response.status_code == 302 and b"ACT_BROUILLON" not in response.content
    other_platform = client_for("oph", demo_user("oph", "gestionnaire"))
    with schema_context("oph"):
        clash = FormVersion.objects.filter(pk=draft.pk).exists()
    if not clash:
        for url in version_routes(draft.pk):
            assert other_platform.get(url).status_code == 404, url


def test_an_organism_cannot_check_a_file_against_a_draft(draft, declarant, client_for):  # noqa: F811
    client = client_for("dhup", declarant)
    upload = SimpleUploadedFile("d.xml", document("<ACT_IMMO>1</ACT_IMMO>", siren="552081317"))
    page = client.post("/declarations/verifier/", {"version": draft.pk, "file": upload})
    assert "seraient appliquées" not in page.content.decode()
    assert page.context["form"].errors["version"]


def test_the_api_serves_drafts_to_editors_only(draft, declarant, demo_user, client_for):  # noqa: F811
    client = client_for("dhup")
    with schema_context("dhup"):
        editor_key = ApiToken.issue(user=demo_user("dhup", "editeur"), name="banc")[1]
        organism_key = ApiToken.issue(user=declarant, name="erp")[1]
    body = document(
        "<ACT_BROUILLON>3</ACT_BROUILLON>",
        siren=declarant.membership.organism.siren,
        ns="urn:harmonia:formulaire:ER_SOCIAUX:2",
        version_attr="2",
    )

    def post(key):
        return client.post(
            "/api/v1/declarations/verifier", body, content_type="application/xml",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )  # fmt: skip

    checked = post(editor_key)
    assert checked.status_code == 200, checked.content
    assert checked.json()["rapport"]["applique"][0]["champ"] == "ACT_BROUILLON"
    # the organism's dossier opens (and is checked) on the published version only
    refused = post(organism_key)
    assert refused.status_code == 422
    assert "version 1" in refused.json()["rapport"]["erreurs"][0]
    imported = client.post(
        "/api/v1/declarations/import", body, content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {organism_key}",
    )  # fmt: skip
    assert imported.status_code == 422


def test_the_editors_wiki_listing_hides_drafts_from_organisms(draft, version, client_for,  # noqa: F811
                                                              demo_user):  # fmt: skip
    with schema_context("dhup"):
        home = PlatformHomePage.objects.get()
        pages = []
        for page in (EditorsIndexPage(title="Éditeurs", slug="editeurs"),
                     ManagerPage(title="Supports", slug="supports")):  # fmt: skip
            home.add_child(instance=page)
            page.save_revision().publish()
            pages.append(page.url)
    for role in (*HIDDEN_FROM, *DRAFT_READERS):
        client = client_for("dhup", demo_user("dhup", role))
        for url in pages:
            body = client.get(url).content.decode()
            assert f"/formulaires/{version.pk}/fichiers/" in body, (role, url)
            shown = role in DRAFT_READERS
            assert (f"/formulaires/{draft.pk}/fichiers/" in body) is shown, (role, url)


def test_publishing_once_notifies_and_offers_the_migration(version, declarant, demo_user,  # noqa: F811
                                                           client_for):  # fmt: skip
    gestionnaire = demo_user("dhup", "gestionnaire")
    organisme = demo_user("dhup", "organisme")
    editeur = demo_user("dhup", "editeur")
    dossier = open_dossier(declarant)  # on v1
    with schema_context("dhup"):
        for user in (editeur, organisme):
            subscription_create(user=user, scope=Scope.EDITORS)
        PendingNotification.objects.all().delete()
    draft = upload_draft(gestionnaire)
    with schema_context("dhup"):
        assert not PendingNotification.objects.exists()  # nobody hears of a draft
    page = client_for("dhup", gestionnaire)
    detail = page.get(f"/formulaires/{draft.pk}/").content.decode()
    assert 'data-testid="publish"' in detail and 'data-testid="to-migrate"' not in detail
    assert page.get(f"/campagnes/versions/{draft.pk}/migration/").status_code == 404
    # only a gestionnaire publishes
    for role in ("editeur", "organisme", "partenaire-cdc"):
        other = client_for("dhup", demo_user("dhup", role))
        assert other.post(f"/formulaires/{draft.pk}/publier/").status_code == 403, role
    with schema_context("dhup"), pytest.raises(PermissionDenied):
        form_version_publish(version=draft, acting_user=editeur)
    published = page.post(f"/formulaires/{draft.pk}/publier/", follow=True).content.decode()
    assert "publiée" in published and 'data-testid="to-migrate"' in published
    with schema_context("dhup"):
        draft.refresh_from_db()
        assert not draft.is_draft and draft.published_by == gestionnaire
        assert current_version(draft.document_type, draft.campaign) == draft
        assert PendingNotification.objects.filter(subscription__user=editeur).exists()
    run_queued_jobs()
    # a second publication is refused with the reason, nothing changed
    with schema_context("dhup"):
        stamp, pending = draft.published_at, PendingNotification.objects.count()
        with pytest.raises(FormPublishRefused) as caught:
            form_version_publish(version=draft, acting_user=gestionnaire)
        assert "déjà publiée" in str(caught.value) and "rien n'a changé" in str(caught.value)
        draft.refresh_from_db()
        assert draft.published_at == stamp
        assert PendingNotification.objects.count() == pending
    again = page.post(f"/formulaires/{draft.pk}/publier/", follow=True).content.decode()
    assert "déjà publiée" in again
    assert page.get(f"/campagnes/versions/{draft.pk}/migration/").status_code == 200
    with schema_context("dhup"):
        dossier.refresh_from_db()
        assert dossier.form_version_id == version.pk  # moved only when the gestionnaire migrates


def test_uploading_published_stays_the_default(version):  # noqa: F811
    assert not version.is_draft and version.published_by_id == version.uploaded_by_id


def test_change_lists_compare_with_the_published_version(draft, version, demo_user):  # noqa: F811
    """A version uploaded after a draft is compared with the published one: the draft's
    number and fields appear in no published change list."""
    from .test_versions import upload

    third = upload("dhup", workbook_bytes(SHEETS, NAMES), user=demo_user("dhup", "gestionnaire"))
    assert third.number == 3 and third.previous_id == version.pk
    assert "ACT_BROUILLON" not in str(third.changes)
